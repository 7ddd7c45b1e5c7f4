"""Tests of the `skmm` command line: fit, predict, report and cache on a tiny manifest."""

import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest

from skmm.cli import main
from skmm.datasets import make_multimodal_emotion


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    """A 40-row manifest with the user's own column names and relative paths."""
    root = tmp_path_factory.mktemp("data")
    frame = make_multimodal_emotion(
        n_samples=40, n_classes=2, n_speakers=8, missing_rate=0.1, directory=root, random_state=0
    )
    table = pd.DataFrame(
        {
            "utterance": frame["text"],
            "face": [None if p is None else p.split(str(root) + "/")[1] for p in frame["image"]],
            "voice": [None if p is None else p.split(str(root) + "/")[1] for p in frame["audio"]],
            "emotion": frame["label"],
            "speaker": frame["group"],
        }
    )
    table.to_csv(root / "data.csv", index=False)
    return root / "data.csv"


def fit_args(manifest, tiny_text_model, output, *extra):
    return [
        "fit",
        "--manifest",
        str(manifest),
        "--text",
        "utterance",
        "--audio",
        "voice",
        "--label",
        "emotion",
        "--text-model",
        str(tiny_text_model),
        "-o",
        str(output),
        *extra,
    ]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_explains_every_command(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for command in ("demo", "fit", "predict", "report", "cache", "--debug"):
        assert command in text
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    text = capsys.readouterr().out
    for flag in (
        "--manifest",
        "--text",
        "--image",
        "--audio",
        "--label",
        "--group",
        "--head",
        "--config",
        "--rebalance",
        "--cv",
        "--output",
    ):
        assert flag in text


def test_python_dash_m_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "skmm", "--version"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and done.stdout.startswith("skmm ")


def test_fit_predict_report_round_trip(manifest, tiny_text_model, tmp_path, capsys):
    model_path = tmp_path / "model.joblib"
    code, out, err = run(
        capsys,
        *fit_args(
            manifest,
            tiny_text_model,
            model_path,
            "--head",
            "logreg",
            "--group",
            "speaker",
            "--cv",
            "2",
        ),
    )
    assert code == 0, err
    assert "2-fold CV grouped by 'speaker'" in out and "uar" in out
    assert model_path.is_file()
    model = joblib.load(model_path)
    assert list(model.named_steps["fusion"].feature_names_in_) == ["utterance", "voice"]

    predictions = tmp_path / "out" / "predictions.csv"
    code, _, err = run(
        capsys, "predict", str(model_path), str(manifest), "-o", str(predictions), "--proba"
    )
    assert code == 0, err
    table = pd.read_csv(predictions)
    source = pd.read_csv(manifest)
    assert len(table) == len(source) and table["voice"].equals(source["voice"])  # as given
    assert set(table["prediction"]) <= set(source["emotion"])
    proba = table[[f"proba_{c}" for c in model.classes_]].to_numpy()
    assert proba.sum(axis=1) == pytest.approx(np.ones(len(table)))

    report_dir = tmp_path / "report"
    code, out, err = run(
        capsys,
        "report",
        str(model_path),
        str(manifest),
        "--label",
        "emotion",
        "-o",
        str(report_dir),
    )
    assert code == 0, err
    assert "uar" in out and str(report_dir.resolve()) in out
    for name in ("metrics.csv", "metrics.md", "confusion_matrix.png", "model_card.md", "index.md"):
        assert (report_dir / name).is_file(), name
    assert (report_dir / "confusion_matrix.png").stat().st_size > 2000
    metrics = pd.read_csv(report_dir / "metrics.csv")
    assert 0.5 <= metrics["accuracy"].iloc[0] <= 1.0
    assert "MelEncoder" in (report_dir / "model_card.md").read_text()


def test_predict_to_stdout_treats_an_absent_modality_column_as_missing(
    manifest, tiny_text_model, tmp_path, capsys
):
    model_path = tmp_path / "model.joblib"
    assert run(capsys, *fit_args(manifest, tiny_text_model, model_path, "--head", "logreg"))[0] == 0
    texts_only = tmp_path / "texts.csv"
    pd.DataFrame({"utterance": ["I am so happy", "what a sad day"]}).to_csv(texts_only, index=False)
    code, out, err = run(capsys, "predict", str(model_path), str(texts_only))
    assert code == 0
    assert out.splitlines()[0] == "utterance,prediction" and len(out.splitlines()) == 3
    assert "'voice' is not in" in err


def test_config_files_and_flags_that_override_them(manifest, tiny_text_model, tmp_path, capsys):
    from skmm.heads import FusionClassifier

    config = tmp_path / "cfg.yaml"
    config.write_text(
        f"manifest: {manifest}\ntext: utterance\naudio: voice\nlabel: emotion\n"
        f"text_model: {tiny_text_model}\nhead: logreg\nmax-epochs: 3\n"
        "hidden-size: 8\nrebalance: oversample\n"
    )
    model_path = tmp_path / "m.joblib"
    code, _, err = run(
        capsys, "fit", "--config", str(config), "--head", "attention", "-o", str(model_path)
    )
    assert code == 0, err
    model = joblib.load(model_path)
    head = model.named_steps["head"]
    assert isinstance(head, FusionClassifier)  # the flag won over the file
    assert (head.head, head.max_epochs, head.hidden_size) == ("attention", 3, 8)
    assert "sampler" in model.named_steps

    toml = tmp_path / "cfg.toml"
    toml.write_text(
        f'[fit]\nmanifest = "{manifest}"\ntext = "utterance"\nlabel = "emotion"\n'
        f'text-model = "{tiny_text_model}"\nhead = "logreg"\n'
        'rebalance = "class-weight"\n'
    )
    code, _, err = run(capsys, "fit", "--config", str(toml), "-o", str(model_path))
    assert code == 0, err
    assert joblib.load(model_path).named_steps["head"].class_weight == "balanced"


def _bad_wav_manifest(tmp_path):
    (tmp_path / "broken.wav").write_bytes(b"RIFF....WAVEfmt not really audio")
    table = tmp_path / "bad.csv"
    pd.DataFrame(
        {
            "utterance": ["hi", "bye"],
            "voice": ["broken.wav", "broken.wav"],
            "emotion": ["happy", "sad"],
        }
    ).to_csv(table, index=False)
    return table


@pytest.mark.parametrize(
    "case, needle",
    [
        ("missing manifest", "does not exist"),
        ("unknown column", "column 'transcript' is not in"),
        ("bad config key", "unknown key 'max_epoch'"),
        ("unreadable row", "row 0"),
        ("missing model", "model file"),
        ("no modality", "name at least one modality column"),
        ("too many folds", "needs at least 9 different values"),
    ],
)
def test_user_mistakes_are_one_sentence_and_exit_2(
    case, needle, manifest, tiny_text_model, tmp_path, capsys
):
    model = tmp_path / "m.joblib"
    base = [
        "fit",
        "--manifest",
        str(manifest),
        "--label",
        "emotion",
        "--head",
        "logreg",
        "--text-model",
        str(tiny_text_model),
        "-o",
        str(model),
    ]
    if case == "missing manifest":
        argv = fit_args(tmp_path / "nope.csv", tiny_text_model, model)
    elif case == "unknown column":
        argv = base + ["--text", "transcript"]
    elif case == "bad config key":
        (tmp_path / "c.yaml").write_text("max_epoch: 3\n")
        argv = base + ["--text", "utterance", "--config", str(tmp_path / "c.yaml")]
    elif case == "unreadable row":
        argv = base[:2] + [str(_bad_wav_manifest(tmp_path))] + base[3:] + ["--audio", "voice"]
    elif case == "missing model":
        argv = ["predict", str(tmp_path / "absent.joblib"), str(manifest)]
    elif case == "no modality":
        argv = base
    else:
        argv = base + ["--text", "utterance", "--group", "speaker", "--cv", "9"]
    code, _, err = run(capsys, *argv)
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("skmm: error: ")]
    assert len(errors) == 1 and needle in errors[0] and errors[0].endswith(".")
    assert "Traceback" not in err and err.strip().splitlines()[-1] == errors[0]


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError):
        main(["--debug", "predict", str(tmp_path / "absent.joblib"), str(tmp_path / "x.csv")])


def test_cache_info_and_clear(tmp_path, tiny_text_model, capsys):
    from skmm.encoders import TextEncoder

    cache_dir = tmp_path / "cache"
    texts = ["one", "two", "three"]
    TextEncoder(str(tiny_text_model), cache_dir=cache_dir).fit(texts).transform(texts)
    code, out, _ = run(capsys, "cache", "info", "--cache-dir", str(cache_dir))
    assert code == 0
    assert f"cache: {cache_dir}" in out and "on disk: 3 embeddings" in out and "TextEncoder" in out
    code, out, _ = run(capsys, "cache", "clear", "--cache-dir", str(cache_dir))
    assert code == 0 and "Removed 3 cached embeddings" in out
    assert "on disk: 0 embeddings" in run(capsys, "cache", "info", "--cache-dir", str(cache_dir))[1]


def test_a_missing_extra_is_a_user_error_but_a_broken_skmm_import_is_a_bug():
    from skmm.cli import _is_user_error

    assert _is_user_error(ImportError("skmm needs the optional package 'optuna' ..."))
    assert _is_user_error(ModuleNotFoundError("No module named 'yaml'", name="yaml"))
    assert not _is_user_error(ModuleNotFoundError("No module named 'skmm.x'", name="skmm.x"))


@pytest.mark.slow
def test_fit_and_predict_from_video_clips(tmp_path, capsys):
    pytest.importorskip("av")
    frame = make_multimodal_emotion(
        n_samples=12, n_classes=2, n_speakers=4, directory=tmp_path, video=True, random_state=0
    )
    table = pd.DataFrame({"clip": frame["video"], "emotion": frame["label"]}).dropna()
    table.to_csv(tmp_path / "clips.csv", index=False)
    model = tmp_path / "model.joblib"
    code, out, err = run(
        capsys,
        "fit",
        "--manifest",
        str(tmp_path / "clips.csv"),
        "--video",
        "clip",
        "--label",
        "emotion",
        "--cv",
        "0",
        "-o",
        str(model),
    )
    assert code == 0, err
    union = joblib.load(model).named_steps["fusion"]
    assert set(union.blocks_) == {"face", "voice"}
    assert type(union.named_transformers_["face"]).__name__ == "VideoEncoder"
    code, out, err = run(capsys, "predict", str(model), str(tmp_path / "clips.csv"))
    assert code == 0, err
    assert len(out.strip().splitlines()) == len(table) + 1  # a header and one line per clip
