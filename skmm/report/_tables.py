"""Metric tables: compute the usual emotion-recognition metrics, write them as CSV and Markdown."""

import math
import numbers
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, classification_report

from ..metrics import macro_f1, roc_auc_ovr, unweighted_average_recall, weighted_f1

#: Metric names in the order reports show them.
METRICS = ("accuracy", "macro_f1", "uar", "weighted_f1", "roc_auc_ovr")


def classification_metrics(y_true, y_pred, y_proba=None, *, classes=None):
    """Accuracy, macro-F1, UAR, weighted F1 and (with probabilities) one-vs-rest ROC-AUC.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    y_proba : array-like of shape (n_samples, n_classes), optional
        Class probabilities, columns in the order of ``classes``; without them
        ``roc_auc_ovr`` is left out.
    classes : array-like of shape (n_classes,), optional
        The classifier's ``classes_``; needed with ``y_proba``.

    Returns
    -------
    metrics : dict of str to float
        Keys from :data:`METRICS`, in that order.

    Examples
    --------
    >>> from skmm.report import classification_metrics
    >>> m = classification_metrics(["a", "a", "b", "b"], ["a", "b", "b", "b"])
    >>> m["accuracy"], m["uar"]
    (0.75, 0.75)
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1": macro_f1(y_true, y_pred, zero_division=0.0),
        "uar": unweighted_average_recall(y_true, y_pred),
        "weighted_f1": weighted_f1(y_true, y_pred, zero_division=0.0),
    }
    if y_proba is not None:
        if classes is None:
            raise ValueError("Pass classes= (the classifier's classes_) together with y_proba.")
        out["roc_auc_ovr"] = roc_auc_ovr(y_true, y_proba, labels=classes)
    return out


def per_class_table(y_true, y_pred):
    """Precision, recall, F1 and support of each class (sklearn's classification report).

    Examples
    --------
    >>> from skmm.report import per_class_table
    >>> per_class_table(["a", "b", "b"], ["a", "b", "a"])["recall"].tolist()
    [1.0, 0.5]
    """
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0.0)
    rows = {k: v for k, v in report.items() if isinstance(v, dict) and "avg" not in k}
    frame = pd.DataFrame(rows).T
    frame.index.name = "class"
    frame["support"] = frame["support"].astype(int)
    return frame.reset_index()


def summarize_cv(results, metrics=METRICS):
    """Mean and standard deviation over folds of ``cross_validate``'s ``test_<metric>`` arrays.

    Parameters
    ----------
    results : dict
        The output of :func:`sklearn.model_selection.cross_validate` (or any dict of
        per-fold arrays keyed ``test_<metric>``).
    metrics : sequence of str, default=METRICS
        Metrics to keep; those absent from ``results`` are skipped.

    Returns
    -------
    summary : dict
        ``{metric: mean, metric + "_std": std}`` for each metric found, plus ``n_folds``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.report import summarize_cv
    >>> summarize_cv({"test_uar": np.array([0.5, 0.7])})
    {'uar': 0.6, 'uar_std': 0.1, 'n_folds': 2}
    """
    out, n_folds = {}, 0
    for name in metrics:
        scores = results.get(f"test_{name}")
        if scores is None:
            continue
        scores = np.asarray(scores, dtype=float)
        out[name] = round(float(np.nanmean(scores)), 12)
        out[f"{name}_std"] = round(float(np.nanstd(scores)), 12)
        n_folds = len(scores)
    out["n_folds"] = n_folds
    return out


def mean_std_columns(frame, metrics=METRICS, digits=3):
    """A copy of ``frame`` where each ``metric``/``metric_std`` pair becomes one "0.712 ± 0.031" text.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.report import mean_std_columns
    >>> mean_std_columns(pd.DataFrame({"uar": [0.7], "uar_std": [0.05]}))["uar"].tolist()
    ['0.700 ± 0.050']
    """
    shown = frame.copy()
    for name in metrics:
        if name in shown and f"{name}_std" in shown:
            shown[name] = [
                _mean_std(m, s, digits) for m, s in zip(shown[name], shown[f"{name}_std"])
            ]
            shown = shown.drop(columns=f"{name}_std")
    return shown


def _mean_std(mean, std, digits):
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def markdown_table(frame, *, digits=3, index=False):
    """Render a DataFrame as a GitHub-flavoured Markdown table (floats with ``digits`` decimals).

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.report._tables import markdown_table
    >>> print(markdown_table(pd.DataFrame({"model": ["text"], "uar": [0.71234]})))
    | model | uar |
    |---|---|
    | text | 0.712 |
    """
    if index:
        frame = frame.reset_index()
    header = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v, digits) for v in row) + " |")
    return "\n".join(lines)


def _cell(value, digits):
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        return "n/a" if math.isnan(value) else f"{value:.{digits}f}"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_table(frame, directory, name, *, markdown=None, digits=3):
    """Write ``name.csv`` (full precision) and ``name.md`` (rounded, or ``markdown`` as given).

    Parameters
    ----------
    frame : pandas.DataFrame
        The numbers.
    directory : path-like
        Created if needed.
    name : str
        File stem.
    markdown : pandas.DataFrame, optional
        What the Markdown file shows instead (e.g. :func:`mean_std_columns` of ``frame``).
    digits : int, default=3
        Decimals of floats in the Markdown file.

    Returns
    -------
    csv_path, md_path : pathlib.Path

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> from skmm.report._tables import write_table
    >>> csv, md = write_table(pd.DataFrame({"uar": [0.5]}), tempfile.mkdtemp(), "metrics")
    >>> csv.name, md.read_text().splitlines()[2]
    ('metrics.csv', '| 0.500 |')
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    csv_path, md_path = directory / f"{name}.csv", directory / f"{name}.md"
    frame.to_csv(csv_path, index=False)
    md_path.write_text(
        markdown_table(frame if markdown is None else markdown, digits=digits) + "\n"
    )
    return csv_path, md_path
