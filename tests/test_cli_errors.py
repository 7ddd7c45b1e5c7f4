"""Every user mistake on the `skmm` command line: one sentence on stderr, exit status 2.

Broken invocations of fit, predict, report and cache, several of them under
cross-validation, where scikit-learn would otherwise print "All the K fits failed"
with every fold's traceback.
"""

import pandas as pd
import pytest

from skmm.cli import main
from skmm.datasets import make_multimodal_emotion


@pytest.fixture(scope="module")
def data(tmp_path_factory, tiny_text_model):
    """A manifest with a text column, a word column, audio files and a model fitted on text."""
    root = tmp_path_factory.mktemp("broken")
    frame = make_multimodal_emotion(
        n_samples=24, n_classes=2, n_speakers=6, missing_rate=0.0, directory=root, random_state=0
    )
    table = pd.DataFrame(
        {
            "utterance": frame["text"],
            "voice": frame["audio"],
            "city": ["Lyon", "Oslo", "Lima"] * 8,
            "age": range(24),
            "emotion": frame["label"],
            "speaker": frame["group"],
        }
    )
    table.to_csv(root / "data.csv", index=False)
    model = root / "text.joblib"
    code = main(
        [
            "-q",
            "fit",
            "--manifest",
            str(root / "data.csv"),
            "--text",
            "utterance",
            "--label",
            "emotion",
            "--head",
            "logreg",
            "--text-model",
            str(tiny_text_model),
            "--cache-dir",
            str(root / "cache"),
            "-o",
            str(model),
        ]
    )
    assert code == 0
    return root


def _write(path, text):
    path.write_text(text)
    return str(path)


def _write_bytes(path, blob):
    path.write_bytes(blob)
    return str(path)


def _table(path, **columns):
    pd.DataFrame(columns).to_csv(path, index=False)
    return str(path)


def _fit(root, tiny_text_model, *extra, manifest=None):
    return [
        "fit",
        "--manifest",
        str(manifest or root / "data.csv"),
        "--label",
        "emotion",
        "--head",
        "logreg",
        "--text-model",
        str(tiny_text_model),
        "-o",
        str(root / "out.joblib"),
        *extra,
    ]


def _broken_wav_table(tmp):
    (tmp / "broken.wav").write_bytes(b"RIFF....WAVEfmt not really audio")
    return _table(
        tmp / "broken.csv",
        utterance=["hi", "bye", "so happy", "so sad"],
        voice=["broken.wav"] * 4,
        emotion=["happy", "sad"] * 2,
        speaker=["a", "b", "c", "d"],
    )


# (case, argv builder (root, tmp, tiny_text_model) -> argv, words the message must hold)
CASES = [
    (
        "manifest absent",
        lambda r, t, m: _fit(r, m, "--text", "utterance", manifest=t / "no.csv"),
        "does not exist",
    ),
    (
        "unknown column under CV",
        lambda r, t, m: _fit(r, m, "--text", "transcript", "--cv", "3"),
        "column 'transcript' is not in",
    ),
    (
        "words given to --tabular under CV",
        lambda r, t, m: _fit(r, m, "--tabular", "age,city", "--cv", "3"),
        "column 'city'",
    ),
    (
        "unknown --categorical column",
        lambda r, t, m: _fit(r, m, "--categorical", "town"),
        "column 'town' is not in",
    ),
    (
        "a column named twice",
        lambda r, t, m: _fit(r, m, "--text", "utterance", "--categorical", "utterance"),
        "named by two flags",
    ),
    ("no modality", lambda r, t, m: _fit(r, m), "name at least one modality column"),
    ("--cv 1", lambda r, t, m: _fit(r, m, "--text", "utterance", "--cv", "1"), "--cv"),
    (
        "--max-epochs 0",
        lambda r, t, m: _fit(r, m, "--text", "utterance", "--max-epochs", "0"),
        "--max-epochs",
    ),
    (
        "--lr 0 under CV",
        lambda r, t, m: _fit(r, m, "--text", "utterance", "--lr", "0", "--cv", "3"),
        "--lr",
    ),
    (
        "unknown --on-error",
        lambda r, t, m: _fit(r, m, "--text", "utterance", "--on-error", "skip"),
        "--on-error",
    ),
    (
        "unknown flag",
        lambda r, t, m: _fit(r, m, "--text", "utterance", "--epochs", "3"),
        "--epochs",
    ),
    (
        "too many folds for the groups",
        lambda r, t, m: _fit(r, m, "--text", "utterance", "--group", "speaker", "--cv", "9"),
        "needs at least 9 different values",
    ),
    (
        "too many folds for a label",
        lambda r, t, m: _fit(r, m, "--text", "utterance", "--cv", "20"),
        "rows of each label",
    ),
    (
        "bad config key",
        lambda r, t, m: _fit(
            r, m, "--text", "utterance", "--config", _write(t / "c.yaml", "max_epoch: 3\n")
        ),
        "unknown key 'max_epoch'",
    ),
    (
        "bad config value",
        lambda r, t, m: _fit(
            r, m, "--text", "utterance", "--config", _write(t / "c.toml", 'head = "transformer"\n')
        ),
        "transformer",
    ),
    (
        "one label only",
        lambda r, t, m: _fit(
            r,
            m,
            "--text",
            "utterance",
            "--label",
            "city",
            manifest=_table(t / "one.csv", utterance=["a", "b"], city=["x", "x"]),
        ),
        "at least 2 different labels",
    ),
    (
        "undecodable audio under grouped CV",
        lambda r, t, m: [
            "fit",
            "--manifest",
            _broken_wav_table(t),
            "--audio",
            "voice",
            "--label",
            "emotion",
            "--head",
            "logreg",
            "--group",
            "speaker",
            "--cv",
            "2",
            "-o",
            str(t / "m.joblib"),
        ],
        "row 0",
    ),
    (
        "files that do not exist",
        lambda r, t, m: [
            "fit",
            "--manifest",
            _table(t / "gone.csv", voice=["a.wav", "b.wav"], emotion=["x", "y"]),
            "--audio",
            "voice",
            "--label",
            "emotion",
            "-o",
            str(t / "m.joblib"),
        ],
        "2 row(s)",
    ),
    (
        "--check-files",
        lambda r, t, m: [
            "fit",
            "--manifest",
            _table(t / "gone.csv", voice=["a.wav", "b.wav"], emotion=["x", "y"]),
            "--audio",
            "voice",
            "--label",
            "emotion",
            "--check-files",
            "-o",
            str(t / "m.joblib"),
        ],
        "2 of the 2 files",
    ),
    (
        "predict: model absent",
        lambda r, t, m: ["predict", str(t / "absent.joblib"), str(r / "data.csv")],
        "model file",
    ),
    (
        "predict: arguments swapped",
        lambda r, t, m: ["predict", str(r / "data.csv"), str(r / "text.joblib")],
        "cannot read model file",
    ),
    (
        "predict: the model's only column is absent",
        lambda r, t, m: ["predict", str(r / "text.joblib"), _table(t / "v.csv", voice=["a.wav"])],
        "none of the columns the model reads",
    ),
    (
        "predict: rows with no input",
        lambda r, t, m: [
            "predict",
            str(r / "text.joblib"),
            _table(t / "e.csv", utterance=["hi", None, " "], speaker=["a", "b", "c"]),
        ],
        "2 of 3 rows",
    ),
    (
        "predict: an unclosed quote",
        lambda r, t, m: [
            "predict",
            str(r / "text.joblib"),
            _write(t / "q.csv", 'utterance\n"hi\nbye\n'),
        ],
        "is not a CSV table: the quote opened",
    ),
    (
        "predict: too many cells",
        lambda r, t, m: [
            "predict",
            str(r / "text.joblib"),
            _write(t / "w.csv", "utterance\nhi\nbye,there,you\n"),
        ],
        "is not a CSV table: line 3 has 3 cells",
    ),
    (
        "predict: an empty file",
        lambda r, t, m: ["predict", str(r / "text.joblib"), _write(t / "z.csv", "")],
        "is not a CSV table: it is empty",
    ),
    (
        "predict: a binary file",
        lambda r, t, m: [
            "predict",
            str(r / "text.joblib"),
            _write_bytes(t / "b.csv", b"\x89PNG\0\0"),
        ],
        "holds binary data",
    ),
    (
        "predict: not a Parquet file",
        lambda r, t, m: ["predict", str(r / "text.joblib"), _write(t / "p.parquet", "a,b\n")],
        "is not a Parquet table",
    ),
    (
        "predict: a missing argument",
        lambda r, t, m: ["predict", str(r / "text.joblib")],
        "required",
    ),
    (
        "report: label column absent",
        lambda r, t, m: [
            "report",
            str(r / "text.joblib"),
            str(r / "data.csv"),
            "--label",
            "mood",
            "-o",
            str(t / "rep"),
        ],
        "column 'mood' is not in",
    ),
    (
        "cache info on a file",
        lambda r, t, m: ["cache", "info", "--cache-dir", str(r / "data.csv")],
        "is a file, not a folder",
    ),
    (
        "cache clear on a file",
        lambda r, t, m: ["cache", "clear", "--cache-dir", str(r / "data.csv")],
        "is a file, not a folder",
    ),
]


def test_there_are_at_least_15_broken_invocations():
    assert len(CASES) >= 15 and len({c for c, *_ in CASES}) == len(CASES)


@pytest.mark.parametrize("case, argv, needle", CASES, ids=[c for c, *_ in CASES])
def test_a_user_mistake_is_one_line_and_exit_2(
    case, argv, needle, data, tiny_text_model, tmp_path, capsys
):
    code = main(argv(data, tmp_path, tiny_text_model))
    out, err = capsys.readouterr()
    assert code == 2, err
    lines = err.strip().splitlines()
    errors = [line for line in lines if line.startswith("skmm: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    assert needle in errors[0] and errors[0].endswith("."), errors[0]
    assert "Traceback" not in err and "fits failed" not in err and len(errors[0]) < 1000
