"""Tests of the demo: its helpers (fast) and `skmm demo --quick` end to end (slow)."""

import importlib.util
import time

import numpy as np
import pandas as pd
import pytest
from html_report import check_html_report, check_in_chromium, chromium_binary
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from skmm.demo import (
    QUICK,
    Candidate,
    DemoConfig,
    ModelSelection,
    describe_winner,
    make_demo_data,
    torch_threads,
)
from skmm.metrics import emotion_scoring


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


def _separable(n=120, seed=0):
    rng = np.random.RandomState(seed)
    y = np.array(["a", "b", "c"])[rng.randint(0, 3, n)]
    codes = pd.factorize(y, sort=True)[0]
    X = pd.DataFrame(
        codes[:, None] + rng.normal(scale=0.6, size=(n, 3)), columns=["x0", "x1", "x2"]
    )
    return X, y, np.arange(n) // 6  # 20 groups of 6 rows


class _RecordingSelection(ModelSelection):
    """Records the row labels each choice was made on."""

    def choose(self, X, y, groups):
        self.seen = [*getattr(self, "seen", []), set(X.index)]
        return super().choose(X, y, groups)


def test_choice_never_sees_the_test_fold_and_every_candidate_is_scored():
    X, y, groups = _separable()
    selection = _RecordingSelection(
        [
            Candidate("majority", DummyClassifier()),
            Candidate("logistic", LogisticRegression()),
            Candidate("x0 only", LogisticRegression(), kind="single", choosable=False),
        ],
        scoring=emotion_scoring(),
    )
    cv = GroupKFold(4)
    nested = selection.nested(X, y, groups, cv)
    tests = [set(X.index[test]) for _, test in cv.split(X, y, groups)]
    assert len(selection.seen) == 4
    for seen, test in zip(selection.seen, tests):
        assert seen and not seen & test  # the choice saw training rows only
        assert len(seen | test) == len(X)
    assert nested.chosen == ["logistic"] * 4
    for name in ("majority", "logistic", "x0 only", "chosen"):
        assert len(nested.results[name]["test_uar"]) == 4
    assert (
        nested.results["chosen"]["test_uar"].tolist()
        == nested.results["logistic"]["test_uar"].tolist()
    )
    assert nested.results["majority"]["test_uar"].tolist() == pytest.approx([1 / 3] * 4)
    for choice in nested.choices:
        assert "x0 only" not in choice.scores  # references are scored, never chosen
        assert choice.scores["logistic"] > choice.scores["majority"]


def test_choice_tunes_on_the_validation_split_and_says_who_won():
    optuna = pytest.importorskip("optuna")
    X, y, groups = _separable()
    selection = ModelSelection(
        [
            Candidate(
                "logistic (tuned)",
                LogisticRegression(),
                space={"C": optuna.distributions.FloatDistribution(1e-4, 1e-3, log=True)},
            ),
            Candidate("majority", DummyClassifier()),
            Candidate("logistic", LogisticRegression(C=10.0)),
        ],
        scoring=emotion_scoring(),
        n_trials=2,
    )
    final = selection.choose(X, y, groups)
    search = final.searches["logistic (tuned)"]
    assert search.n_splits_ == 1 and len(search.cv_results_["params"]) == 2
    assert final.scores["logistic (tuned)"] == search.best_score_
    assert final.fitted["logistic (tuned)"].C == final.params["logistic (tuned)"]["C"] < 1e-3
    assert len(final.validation) < len(X) / 2
    assert final.winner == max(final.scores, key=final.scores.get)
    nested = selection.nested(X, y, groups, GroupKFold(3))
    text = describe_winner(nested, final)
    assert text.startswith(f"**Winner: {final.winner}.**")
    runner = max((n for n in final.scores if n != final.winner), key=final.scores.get)
    margin = final.scores[final.winner] - final.scores[runner]
    assert f"{margin:+.3f} over the next, {runner}" in text
    chosen = nested.results["chosen"]["test_uar"]
    assert f"UAR {chosen.mean():.3f} ± {chosen.std():.3f}" in text


@pytest.mark.slow
def test_quick_demo_writes_the_report(tmp_path, capsys):
    from skmm.cli import main

    start = time.perf_counter()
    assert main(["demo", "--quick", "-o", str(tmp_path / "rep")]) == 0
    seconds = time.perf_counter() - start
    captured = capsys.readouterr()
    out = captured.out
    report = tmp_path / "rep"
    assert f"The report is in {report.resolve()}/" in out
    for name in (
        "index.md",
        "index.html",
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
    assert "faces_found" in index  # the share of images where the face crop found a face
    for png in (
        "confusion_matrix.png",
        "comparison.png",
        "ablation.png",
        "modality_weights.png",
        "optuna_history.png",
    ):
        assert f"]({png})" in index
    sections = [
        "Which model won",
        "Metrics of the model chosen in each fold",
        "Confusion matrix",
        "Per-modality ablation",
        "Optuna history",
        "Model card",
        "Fitted model",
    ]
    check_html_report(report, sections)
    if chromium_binary():
        seen = check_in_chromium(report / "index.html")
        assert seen["images"] >= 5 and seen["broken"] == [] and seen["errors"] == [], seen
        assert seen["console"] == [], seen

    # every candidate scored on the same test folds; the winner chosen without them
    comparison = pd.read_csv(report / "comparison.csv").set_index("model")
    assert len(comparison) == 7 and comparison["uar"].between(0, 1).all()
    chosen = comparison.loc["chosen in each fold (nested CV)"]
    choosable = comparison[comparison["validation_uar"].notna()]
    assert len(choosable) == 3 and choosable["chosen_in_folds"].sum() == QUICK.n_splits
    assert comparison["winner"].sum() == 1
    winner = comparison.index[comparison["winner"]][0]
    assert comparison.loc[winner, "validation_uar"] == choosable["validation_uar"].max()
    chance = 1 / QUICK.n_classes
    assert chosen["uar"] > chance + 0.15  # the synthetic signal is strong enough to learn
    singles = [f"{m} only, attention head" for m in ("text", "image", "audio")]
    assert chosen["uar"] >= comparison.loc[singles, "uar"].min()
    assert comparison.loc[singles, "validation_uar"].isna().all()  # references, never chosen
    for text in (index, (report / "index.html").read_text(), captured.err):
        assert f"Winner: {winner}." in text
    best_other = choosable.drop(index=winner)["uar"].max()
    gap = comparison.loc[winner, "uar"] - best_other
    assert f"{gap:+.3f} {'ahead of' if gap >= 0 else 'behind'} the best other candidate" in index
    metrics = pd.read_csv(report / "metrics.csv").set_index("fold")
    assert metrics.loc["mean", "uar"] == pytest.approx(chosen["uar"])
    assert set(metrics["chosen"].dropna()) <= set(choosable.index)
    weights = pd.read_csv(report / "modality_weights.csv")
    assert weights[["text", "image", "audio"]].sum(axis=1).to_numpy() == pytest.approx(1, abs=1e-3)
    trials = pd.read_csv(report / "optuna_trials.csv")
    assert len(trials) == QUICK.n_trials
    card = (report / "model_card.md").read_text()
    assert "all-MiniLM-L6-v2" in card and "EfficientNet-Lite0" in card and "Apache-2.0" in card
    assert f"{winner} was chosen" in card
    assert "0 items encoded again" in index  # every stage after encoding read the cache

    # the saved model is the winner, and predicts the demo's manifest through the CLI
    import joblib

    head = joblib.load(report / "model.joblib").steps[-1][1]
    expected = {
        "fusion, attention head (tuned)": "FusionClassifier",
        "early fusion, logistic regression": "LogisticRegression",
        "late fusion (LateFusionClassifier)": "LateFusionClassifier",
    }
    assert type(head).__name__ == expected[winner]
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
    # `skmm report` writes the HTML page too
    manifest = str(report / "data" / "manifest.csv")
    assert main(["report", str(report / "model.joblib"), manifest, "-o", str(tmp_path / "ev")]) == 0
    check_html_report(tmp_path / "ev", ["Metrics", "Confusion matrix", "Model card"])
    print(f"quick demo: {seconds:.0f} s")

    # and its encoders export as ONNX graphs (issue 11)
    if importlib.util.find_spec("onnxruntime") is not None:
        assert main(["export", str(report / "model.joblib"), str(tmp_path / "onnx")]) == 0
        exported = sorted(p.stem for p in (tmp_path / "onnx").glob("*.onnx"))
        assert len(exported) >= 2, exported  # text and image at least


@pytest.mark.slow
def test_video_demo_runs_the_clip_path_end_to_end(tmp_path):
    pytest.importorskip("av")
    import pandas as pd

    from skmm.demo import DemoConfig, run_demo

    config = DemoConfig(n_samples=60, n_classes=2, n_splits=2, n_trials=2, max_epochs=3, n_frames=2)
    result = run_demo(tmp_path / "rep", config=config, video=True)
    manifest = pd.read_csv(tmp_path / "rep" / "data" / "manifest.csv")
    assert list(manifest.columns[:3]) == ["text", "face", "voice"]
    assert manifest["face"].dropna().str.endswith(".mp4").all()
    fusion = result.model.named_steps["fusion"]
    assert set(fusion.blocks_) == {"text", "face", "voice"}
    assert type(fusion.named_transformers_["face"]).__name__ == "VideoEncoder"
    ablation = pd.read_csv(tmp_path / "rep" / "ablation.csv")
    assert {"without face", "without voice", "face only", "voice only"} <= set(
        ablation["condition"]
    )
    assert "video clips" in (tmp_path / "rep" / "model_card.md").read_text()
