"""Tests of the demo: its helpers (fast) and `skmm demo --quick` end to end (slow)."""

import importlib.util
import time

import pandas as pd
import pytest

from skmm.demo import QUICK, DemoConfig, make_demo_data, torch_threads


def test_torch_threads_restores_the_previous_count():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with torch_threads(None):
        assert torch.get_num_threads() == before


def test_demo_data_has_a_relative_manifest(tmp_path):
    config = DemoConfig(n_samples=12, n_classes=2, missing_rate=0.2)
    frame = make_demo_data(tmp_path, config, random_state=0)
    manifest = pd.read_csv(tmp_path / "manifest.csv")
    assert manifest.columns.tolist() == ["text", "image", "audio", "label", "group"]
    assert manifest["label"].tolist() == frame["label"].tolist()
    present = manifest["image"].dropna()
    assert len(present) < 12 and all(p.startswith("images/") for p in present)
    assert all((tmp_path / p).is_file() for p in manifest["audio"].dropna())


@pytest.mark.slow
def test_quick_demo_writes_the_report(tmp_path, capsys):
    from skmm.cli import main

    start = time.perf_counter()
    assert main(["demo", "--quick", "-o", str(tmp_path / "rep")]) == 0
    seconds = time.perf_counter() - start
    out = capsys.readouterr().out
    report = tmp_path / "rep"
    assert f"The report is in {report.resolve()}/" in out
    for name in (
        "index.md",
        "metrics.csv",
        "metrics.md",
        "confusion_matrix.png",
        "comparison.csv",
        "comparison.png",
        "ablation.csv",
        "ablation.png",
        "modality_weights.csv",
        "modality_weights.png",
        "optuna_history.png",
        "optuna_trials.csv",
        "model_card.md",
        "model.joblib",
        "timings.csv",
        "data/manifest.csv",
    ):
        assert (report / name).is_file(), name
    for png in report.glob("*.png"):
        assert png.read_bytes()[:4] == b"\x89PNG" and png.stat().st_size > 5000, png.name
    index = (report / "index.md").read_text()
    for png in (
        "confusion_matrix.png",
        "comparison.png",
        "ablation.png",
        "modality_weights.png",
        "optuna_history.png",
    ):
        assert f"]({png})" in index

    comparison = pd.read_csv(report / "comparison.csv").set_index("model")
    assert len(comparison) == 6 and comparison["uar"].between(0, 1).all()
    fusion = comparison.loc["fusion, attention head (tuned)"]
    chance = 1 / QUICK.n_classes
    assert fusion["uar"] > chance + 0.15  # the synthetic signal is strong enough to learn
    assert (
        fusion["uar"]
        >= comparison.loc[
            [f"{m} only, attention head" for m in ("text", "image", "audio")], "uar"
        ].min()
    )
    metrics = pd.read_csv(report / "metrics.csv").set_index("fold")
    assert metrics.loc["mean", "uar"] == pytest.approx(fusion["uar"])
    weights = pd.read_csv(report / "modality_weights.csv")
    assert weights[["text", "image", "audio"]].sum(axis=1).to_numpy() == pytest.approx(1, abs=1e-3)
    trials = pd.read_csv(report / "optuna_trials.csv")
    assert len(trials) == QUICK.n_trials
    card = (report / "model_card.md").read_text()
    assert "all-MiniLM-L6-v2" in card and "EfficientNet-Lite0" in card and "Apache-2.0" in card
    assert "0 items encoded again" in index  # every stage after encoding read the cache

    # the saved model predicts the demo's manifest through the CLI
    predictions = tmp_path / "pred.csv"
    assert (
        main(
            [
                "predict",
                str(report / "model.joblib"),
                str(report / "data" / "manifest.csv"),
                "-o",
                str(predictions),
            ]
        )
        == 0
    )
    assert len(pd.read_csv(predictions)) == QUICK.n_samples
    print(f"quick demo: {seconds:.0f} s")

    # and its encoders export as ONNX graphs (issue 11)
    if importlib.util.find_spec("onnxruntime") is not None:
        assert main(["export", str(report / "model.joblib"), str(tmp_path / "onnx")]) == 0
        exported = sorted(p.stem for p in (tmp_path / "onnx").glob("*.onnx"))
        assert len(exported) >= 2, exported  # text and image at least
