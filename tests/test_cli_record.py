"""`skmm fit` flags for messy tables, and the training record a saved model carries."""

import shutil
from collections import Counter

import joblib
import numpy as np
import pandas as pd
import pytest

from skmm.cli import build_parser, main
from skmm.datasets import make_multimodal_emotion
from skmm.report import count_training_rows, record_training, training_record


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """32 rows: text, audio files (absolute paths), a word column, labels and speakers."""
    root = tmp_path_factory.mktemp("record")
    frame = make_multimodal_emotion(
        n_samples=32, n_classes=2, n_speakers=8, missing_rate=0.0, directory=root, random_state=1
    )
    data = pd.DataFrame(
        {
            "utterance": frame["text"],
            "voice": frame["audio"],
            "city": ["Lyon", "Oslo", None, "Lima"] * 8,
            "emotion": frame["label"],
            "speaker": frame["group"],
        }
    )
    data.to_csv(root / "data.csv", index=False)
    return root


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def fit(capsys, root, model, tiny_text_model, *extra):
    return run(
        capsys,
        "fit",
        "--manifest",
        root / "data.csv",
        "--label",
        "emotion",
        "--head",
        "logreg",
        "--text-model",
        tiny_text_model,
        "-o",
        model,
        *extra,
    )


def test_fit_records_how_the_model_was_made_and_report_reads_it(
    table, tiny_text_model, tmp_path, capsys
):
    model_path = tmp_path / "m.joblib"
    code, out, err = fit(
        capsys,
        table,
        model_path,
        tiny_text_model,
        *("--text", "utterance", "--audio", "voice", "--group", "speaker", "--cv", "2"),
    )
    assert code == 0, err
    record = training_record(joblib.load(model_path))
    assert record["table"]["name"] == str(table / "data.csv")
    assert record["table"]["n_rows"] == 32 and len(record["table"]["hash"]) == 32
    assert record["table"]["columns"] == ["utterance", "voice"]
    assert record["labels"] == dict(
        sorted(Counter(pd.read_csv(table / "data.csv")["emotion"]).items())
    )
    assert record["cv"] == "2-fold CV grouped by 'speaker'"
    assert f"{record['cv_scores']['uar']:.3f} ± {record['cv_scores']['uar_std']:.3f}" in out
    assert [e["encoder"] for e in record["encoders"]] == ["TextEncoder", "MelEncoder"]
    assert record["encoders"][1]["licence"].startswith("none needed")
    assert {"skmm", "scikit-learn", "numpy", "torch"} <= set(record["versions"])
    assert record["date"].endswith("+00:00") and record["command"].startswith("skmm fit")
    assert len(record["row_hashes"]) == 32

    # the same rows, listed by a copy of the table in another folder with the files moved
    moved = tmp_path / "copy"
    shutil.copytree(table / "audio", moved / "audio")
    frame = pd.read_csv(table / "data.csv")
    frame["voice"] = [str(moved / "audio" / p.rsplit("/", 1)[1]) for p in frame["voice"]]
    frame.iloc[:10].to_csv(moved / "eval.csv", index=False)
    report = tmp_path / "report"
    code, _, err = run(
        capsys, "report", model_path, moved / "eval.csv", "--label", "emotion", "-o", report
    )
    assert code == 0, err
    assert "10 of the 10 evaluation rows are training rows" in err
    card = (report / "model_card.md").read_text()
    training = card.split("## Training data")[1].split("##")[0]
    assert str(table / "data.csv") in training and "32 rows" in training
    assert "eval.csv" not in training  # the evaluation file is not called the training data
    assert "eval.csv" in card.split("## Evaluation data")[1].split("##")[0]
    assert "**Warning: 10 of these 10 rows are training rows**" in card
    assert "2-fold CV grouped by 'speaker'" in card.split("## Cross-validation")[1]
    assert "## Provenance" in card and "scikit-learn" in card

    # rows the model never saw: no warning
    fresh = tmp_path / "fresh.csv"
    frame.iloc[:4].assign(utterance=["a new sentence", "another one", "so calm", "very sad"])[
        ["utterance", "emotion"]
    ].to_csv(fresh, index=False)
    code, _, err = run(
        capsys, "report", model_path, fresh, "--label", "emotion", "-o", tmp_path / "r2"
    )
    assert code == 0, err
    assert "training rows" not in err
    assert "training rows" not in (tmp_path / "r2" / "model_card.md").read_text()


def test_record_training_is_a_python_helper_too():
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"age": [20.0, 30, 40, 50, 60, 70]})
    y = np.array(["a", "b"] * 3)
    model = LogisticRegression().fit(X, y)
    assert training_record(model) is None and count_training_rows(model, X) is None
    record = record_training(model, X, y, name="people.csv")
    assert record is training_record(model) and record["cv"] is None
    assert count_training_rows(model, X.iloc[::-1]) == 6  # order does not matter
    assert count_training_rows(model, pd.DataFrame({"age": [21.0, 30]})) == 1
    with pytest.raises(ValueError, match="6 rows but y has 2"):
        record_training(model, X, y[:2])


def test_categorical_columns_are_one_hot_and_threads_are_restored(
    table, tiny_text_model, tmp_path, capsys, monkeypatch
):
    import sklearn.model_selection
    import torch

    seen_n_jobs, cross_validate = [], sklearn.model_selection.cross_validate

    def one_process(*args, n_jobs=None, **kwargs):  # worker processes are slow to start here
        seen_n_jobs.append(n_jobs)
        return cross_validate(*args, **kwargs)

    monkeypatch.setattr(sklearn.model_selection, "cross_validate", one_process)
    before = torch.get_num_threads()
    model_path = tmp_path / "m.joblib"
    code, out, err = fit(
        capsys,
        table,
        model_path,
        tiny_text_model,
        *("--text", "utterance", "--categorical", "city", "--cv", "2", "--n-jobs", "2"),
        *("--threads", "1"),
    )
    assert code == 0, err
    assert "2-fold CV:" in out and torch.get_num_threads() == before
    model = joblib.load(model_path)
    union = model.named_steps["fusion"]
    names = [c for c in union.get_feature_names_out() if c.startswith("categorical__")]
    # one column per city; a row without a city is a missing modality, not a category
    assert names == [
        "categorical__city_Lima",
        "categorical__city_Lyon",
        "categorical__city_Oslo",
        "categorical__missing",
    ]
    assert union.n_missing_["categorical"] == 8
    assert seen_n_jobs == [2]
    new = tmp_path / "new.csv"
    pd.DataFrame({"utterance": ["so happy", "so sad"], "city": ["Paris", "Oslo"]}).to_csv(
        new, index=False
    )
    code, out, err = run(capsys, "predict", model_path, new)
    assert code == 0, err
    assert len(out.splitlines()) == 3  # an unseen city is no error


def test_missing_files_and_rows_without_inputs_are_counted(
    table, tiny_text_model, tmp_path, capsys
):
    from skmm.cli._fit import build_model

    frame = pd.read_csv(table / "data.csv")
    frame.loc[[1, 4, 6], "voice"] = str(tmp_path / "gone.wav")
    frame.loc[[4, 9], "utterance"] = None
    messy = tmp_path / "messy.csv"
    frame.to_csv(messy, index=False)
    argv = ["fit", "--manifest", messy, "--text", "utterance", "--audio", "voice"]
    argv += ["--label", "emotion", "--head", "logreg", "--text-model", tiny_text_model]
    argv += ["-o", tmp_path / "m.joblib"]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "3 row(s) of" in err and "rows 1, 4, 6" in err and "--on-error missing" in err

    code, _, err = run(capsys, *argv, "--on-error", "missing", "--check-files")
    assert code == 0, err
    assert "3 of the 32 files named in" in err and "--on-error missing applies" in err
    assert "3 row(s) name voice files that do not exist (rows 1, 4, 6)" in err
    assert "Dropping 1 of 32 labelled row(s)" in err and "(rows 4)" in err
    record = training_record(joblib.load(tmp_path / "m.joblib"))
    assert record["table"]["n_rows"] == 31
    encoders = joblib.load(tmp_path / "m.joblib").named_steps["fusion"].named_transformers_
    assert encoders["audio"].on_error == "nan" and encoders["text"].on_error == "nan"

    parser_args = build_parser().parse_args(
        ["fit", "--text", "t", "--audio", "a", "--on-error", "zero", "--threads", "2"]
    )
    built = build_model(parser_args)
    audio = dict((n, t) for n, t, _ in built.named_steps["fusion"].transformers)["audio"]
    assert audio.on_error == "zero" and audio.n_threads == 2


def test_predict_allow_missing_leaves_the_prediction_empty(
    table, tiny_text_model, tmp_path, capsys
):
    model_path = tmp_path / "m.joblib"
    assert fit(capsys, table, model_path, tiny_text_model, "--text", "utterance")[0] == 0
    new = tmp_path / "new.csv"
    pd.DataFrame({"utterance": ["so happy", None, "so sad"], "id": [1, 2, 3]}).to_csv(
        new, index=False
    )
    assert run(capsys, "predict", model_path, new)[0] == 2
    code, out, err = run(capsys, "predict", model_path, new, "--allow-missing", "--proba")
    assert code == 0, err
    assert "1 row(s) have none of the inputs (utterance) (rows 1)" in err
    lines = out.splitlines()
    assert lines[0].startswith("utterance,id,prediction,proba_")
    assert lines[2].startswith(",2,,") and lines[1].split(",")[2] != ""


def test_cache_info_prints_one_row_per_namespace(tmp_path, capsys, monkeypatch):
    import skmm.cache

    namespaces = {
        "a" * 32: {"entries": 3, "bytes": 2**20, "meta": {"encoder": "TextEncoder"}},
        "b" * 32: {
            "entries": 5,
            "bytes": 2**21,
            "meta": None,
            "encoder": "MelEncoder",
            "model": "logmel-stats",
            "summary": "n_mels=64",
        },
    }
    info = {
        "path": str(tmp_path),
        "disk_entries": 8,
        "disk_bytes": 3 * 2**20,
        "memory_entries": 0,
        "memory_bytes": 0,
        "namespaces": namespaces,
    }
    monkeypatch.setattr(skmm.cache, "cache_info", lambda cache_dir=None: info)
    code, out, _ = run(capsys, "cache", "info", "--cache-dir", tmp_path)
    assert code == 0
    lines = out.splitlines()
    assert "in 2 encoder configurations" in lines[1]
    assert lines[2].split() == ["namespace", "encoder", "model", "entries", "MiB", "settings"]
    assert lines[3].split()[:4] == ["a" * 12, "TextEncoder", "3", "1.0"]
    assert lines[4].split() == ["b" * 12, "MelEncoder", "logmel-stats", "5", "2.0", "n_mels=64"]


def test_predict_on_error_overrides_the_fitted_policy(table, tiny_text_model, tmp_path, capsys):
    model_path = tmp_path / "m.joblib"
    assert fit(capsys, table, model_path, tiny_text_model, "--audio", "voice")[0] == 0
    (tmp_path / "broken.wav").write_bytes(b"RIFF....WAVEfmt not really audio")
    new = tmp_path / "new.csv"
    voices = [str(tmp_path / "broken.wav"), pd.read_csv(table / "data.csv")["voice"].iloc[0]]
    pd.DataFrame({"voice": voices}).to_csv(new, index=False)
    code, _, err = run(capsys, "predict", model_path, new)
    assert code == 2
    assert "row 0" in err and "--on-error missing or --on-error zero." in err
    code, out, err = run(capsys, "predict", model_path, new, "--on-error", "zero")
    assert code == 0, err
    assert len(out.splitlines()) == 3 and "1 of 2 rows failed" in err
