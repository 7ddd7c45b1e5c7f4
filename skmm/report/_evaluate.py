"""Evaluate a fitted classifier on labelled data and write the report folder."""

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._card import write_model_card
from ._index import Report
from ._plots import modality_weight_table, plot_confusion_matrix, plot_modality_weights
from ._tables import classification_metrics, per_class_table


def head_input(model, X):
    """What the last step of ``model`` sees for ``X``: every earlier step's ``transform``.

    Samplers (steps with ``fit_resample``) are skipped, as imbalanced-learn's pipeline
    does outside ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmm.report._evaluate import head_input
    >>> X, y = np.arange(8.0).reshape(4, 2), [0, 0, 1, 1]
    >>> head_input(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y), X).shape
    (4, 2)
    """
    if not hasattr(model, "steps"):
        return X
    for _, step in model.steps[:-1]:
        if step is None or step == "passthrough" or hasattr(step, "fit_resample"):
            continue
        X = step.transform(X)
    return X


def modality_weights_of(model, X):
    """Per-sample modality weights of the model's head, or None when the head has none.

    Heads such as :class:`skmm.heads.FusionClassifier` with ``head="attention"`` or
    ``"gated"`` expose ``modality_weights``; this runs the earlier steps first.

    Returns
    -------
    weights : pandas.DataFrame of shape (n_samples, n_modalities) or None
    """
    head = model.steps[-1][1] if hasattr(model, "steps") else model
    if not hasattr(head, "modality_weights"):
        return None
    return head.modality_weights(head_input(model, X))


def evaluate_classifier(model, X, y, directory, *, title="Evaluation report", data=None):
    """Score a fitted classifier on labelled rows and write a report folder.

    The folder holds ``metrics.csv/.md`` (accuracy, macro-F1, UAR, weighted F1,
    ROC-AUC), ``per_class.csv/.md``, ``confusion_matrix.png``, ``predictions.csv``,
    the head's modality weights when it has them (``modality_weights.png``), a
    ``model_card.md``, and an ``index.md`` and a self-contained ``index.html`` that link
    everything.

    Parameters
    ----------
    model : fitted classifier or pipeline
    X : DataFrame or array-like
        Inputs the model accepts (e.g. a manifest table).
    y : array-like of shape (n_samples,)
        True labels.
    directory : path-like
    title : str, default="Evaluation report"
    data : str, optional
        Markdown describing the data, for the index and the model card.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``index`` (path of index.md), ``html`` (path of index.html), ``metrics`` (dict),
        ``report`` (:class:`Report`).

    Examples
    --------
    >>> import tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmm.report import evaluate_classifier
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500).fit(X, y)
    >>> result = evaluate_classifier(model, X, y, tempfile.mkdtemp())
    >>> result.index.name, result.metrics["accuracy"] > 0.9
    ('index.md', True)
    """
    y = np.asarray(y)
    report = Report(directory, title=title, intro=data)
    y_pred = model.predict(X)
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else None
    classes = getattr(model, "classes_", None)
    metrics = classification_metrics(
        y, y_pred, proba, classes=classes if proba is not None else None
    )
    table = pd.DataFrame([{"n_samples": len(y), **metrics}])
    report.add_table(
        "metrics",
        table,
        "Metrics",
        text="UAR is the mean of per-class recalls; macro-F1 weighs classes equally.",
    )
    report.add_table("per_class", per_class_table(y, y_pred), "Per class")
    labels = list(classes) if classes is not None else None
    if labels is not None and not set(np.unique(y)) <= set(labels):
        labels = None  # a true class the model never saw: let sklearn take the union
    plot_confusion_matrix(y, y_pred, report.path("confusion_matrix.png"), labels=labels)
    report.add_figure(
        "confusion_matrix.png",
        "Confusion matrix",
        text="Rows are true classes, normalised: the diagonal holds each recall.",
    )
    weights = modality_weights_of(model, X)
    if weights is not None:
        plot_modality_weights(weights, report.path("modality_weights.png"), by=y)
        report.add_table(
            "modality_weights",
            modality_weight_table(weights, by=y),
            "Modality weights",
            text="Mean weight the fusion head gives each modality, per true class.",
        )
        report.add_figure("modality_weights.png", "Modality weights by class")
    predictions = pd.DataFrame({"y_true": y, "y_pred": y_pred})
    if proba is not None and classes is not None:
        for k, name in enumerate(classes):
            predictions[f"proba_{name}"] = proba[:, k]
    predictions.to_csv(report.path("predictions.csv"), index=False)
    report.add_link("predictions.csv", "Predictions")
    write_model_card(report.path("model_card.md"), model, evaluation_data=data, metrics=table)
    report.add_link(
        "model_card.md",
        "Model card",
        text="Encoders, their weights and licences, data, metrics, intended use.",
    )
    index = report.write_index()
    return Bunch(index=index, html=index.with_suffix(".html"), metrics=metrics, report=report)
