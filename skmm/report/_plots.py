"""PNG figures of a report: confusion matrix, score bars, modality weights, search history.

Figures are built on :class:`matplotlib.figure.Figure` with the Agg canvas, never through
``pyplot``, so writing a report changes no global matplotlib state and needs no display.
"""

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .._deps import import_optional

logger = logging.getLogger(__name__)


def _figure(width, height):
    figure_mod = import_optional("matplotlib.figure", "drawing report figures")
    agg = import_optional("matplotlib.backends.backend_agg", "drawing report figures")
    fig = figure_mod.Figure(figsize=(width, height), layout="constrained")
    agg.FigureCanvasAgg(fig)
    return fig


def metric_label(metric):
    """How a figure names a metric: short names in capitals ("UAR"), others spelled out.

    Examples
    --------
    >>> from skmm.report._plots import metric_label
    >>> metric_label("uar"), metric_label("macro_f1")
    ('UAR', 'macro f1')
    """
    return metric.replace("_", " ").upper() if len(metric) <= 4 else metric.replace("_", " ")


def _save(fig, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    logger.info("Wrote %s", path)
    return path


def plot_confusion_matrix(y_true, y_pred, path, *, labels=None, normalize="true", title=None):
    """Draw the confusion matrix with scikit-learn's ``ConfusionMatrixDisplay`` and save a PNG.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
    path : path-like
        Where to write the PNG.
    labels : array-like, optional
        Class order; default the sorted union of both.
    normalize : {"true", "pred", "all"} or None, default="true"
        As in :func:`sklearn.metrics.confusion_matrix`: with ``"true"`` each row shows
        the recall of its class, so the diagonal's mean is the UAR.
    title : str, optional

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.report import plot_confusion_matrix
    >>> png = plot_confusion_matrix(["a", "b", "b"], ["a", "b", "a"],
    ...                             pathlib.Path(tempfile.mkdtemp()) / "cm.png")
    >>> png.stat().st_size > 0
    True
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    n = (
        len(np.unique(np.concatenate([np.asarray(y_true), np.asarray(y_pred)])))
        if labels is None
        else len(labels)
    )
    side = 2.5 + 0.6 * n
    fig = _figure(side + 0.8, side)
    ax = fig.add_subplot()
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=labels,
        normalize=normalize,
        ax=ax,
        cmap="Blues",
        colorbar=False,
        values_format=".2f" if normalize else "d",
        xticks_rotation=45,
    )
    ax.set_title(
        title
        or (
            "Confusion matrix (rows: true class, normalised)"
            if normalize == "true"
            else "Confusion matrix"
        )
    )
    return _save(fig, path)


def plot_scores(table, path, *, metric="uar", label="model", group=None, title=None):
    """Horizontal bars of one metric per row of ``table``, with ``metric + "_std"`` error bars.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per model (or ablation); columns ``label``, ``metric`` and optionally
        ``metric + "_std"`` and ``group``.
    path : path-like
    metric : str, default="uar"
    label : str, default="model"
        Column naming each bar.
    group : str, optional
        Column whose values colour the bars (e.g. "kind": fusion, single modality...).
    title : str, optional

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from skmm.report import plot_scores
    >>> table = pd.DataFrame({"model": ["text", "all"], "uar": [0.6, 0.8], "uar_std": [0.1, 0.05]})
    >>> plot_scores(table, pathlib.Path(tempfile.mkdtemp()) / "s.png").suffix
    '.png'
    """
    if metric not in table or label not in table:
        raise ValueError(
            f"table needs the columns {label!r} and {metric!r}; has {list(table.columns)}."
        )
    table = table.reset_index(drop=True)
    fig = _figure(7.0, 1.2 + 0.45 * len(table))
    ax = fig.add_subplot()
    positions = np.arange(len(table))[::-1]
    errors = table.get(f"{metric}_std")
    palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"]
    if group is not None and group in table:
        kinds = list(dict.fromkeys(table[group]))
        colours = [palette[kinds.index(k) % len(palette)] for k in table[group]]
    else:
        kinds, colours = [], palette[0]
    ax.barh(positions, table[metric], xerr=errors, color=colours, capsize=3)
    offsets = errors.fillna(0).to_numpy() if errors is not None else np.zeros(len(table))
    for y, value, offset in zip(positions, table[metric], offsets):
        if pd.notna(value):
            ax.text(value + offset + 0.01, y, f"{value:.3f}", va="center", fontsize=8)
    ax.set_yticks(positions, table[label])
    ax.set_xlim(0, 1.08)
    ax.set_xlabel(metric_label(metric))
    if kinds:
        patches = import_optional("matplotlib.patches", "drawing report figures")
        ax.legend(
            handles=[
                patches.Patch(color=palette[i % len(palette)], label=k) for i, k in enumerate(kinds)
            ],
            loc="lower right",
            fontsize=8,
        )
    ax.set_title(title or f"{metric} by model")
    return _save(fig, path)


def plot_modality_weights(weights, path, *, by=None, sort=True, title=None):
    """Stacked bars of the mean modality weight, overall or per value of ``by`` (e.g. true class).

    Parameters
    ----------
    weights : pandas.DataFrame of shape (n_samples, n_modalities)
        Per-sample weights whose rows sum to 1, e.g. ``FusionClassifier.modality_weights(X)``.
    path : path-like
    by : array-like of shape (n_samples,), optional
        Groups rows (one bar per group); one bar for all rows when None.
    sort : bool, default=True
        Bars in sorted group order, else in order of first appearance.
    title : str, optional

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from skmm.report import plot_modality_weights
    >>> w = pd.DataFrame({"text": [0.7, 0.2], "audio": [0.3, 0.8]})
    >>> plot_modality_weights(w, pathlib.Path(tempfile.mkdtemp()) / "w.png", by=["a", "b"]).exists()
    True
    """
    means = modality_weight_table(weights, by=by, sort=sort).set_index("group")
    fig = _figure(7.0, 1.4 + 0.45 * len(means))
    ax = fig.add_subplot()
    positions = np.arange(len(means))[::-1]
    left = np.zeros(len(means))
    palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3"]
    for i, modality in enumerate(means.columns):
        values = means[modality].to_numpy()
        ax.barh(positions, values, left=left, label=modality, color=palette[i % len(palette)])
        for y, x0, v in zip(positions, left, values):
            if v >= 0.08:
                ax.text(
                    x0 + v / 2, y, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white"
                )
        left += values
    ax.set_yticks(positions, [str(g) for g in means.index])
    ax.set_xlim(0, 1)
    ax.set_xlabel("mean modality weight")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=len(means.columns), fontsize=8)
    ax.set_title(title or "Modality weights of the fusion head")
    return _save(fig, path)


def modality_weight_table(weights, *, by=None, sort=True):
    """Mean modality weights per group (a ``group`` column, then one column per modality).

    ``by`` labels the rows (e.g. their true class); groups come sorted, or in order of
    first appearance with ``sort=False``.

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.report import modality_weight_table
    >>> modality_weight_table(pd.DataFrame({"text": [0.6, 0.8], "audio": [0.4, 0.2]})).round(2)
      group  text  audio
    0   all   0.7    0.3
    """
    weights = pd.DataFrame(weights).reset_index(drop=True)
    if by is None:
        means = weights.mean().to_frame("all").T
    else:
        means = weights.groupby(np.asarray(by), sort=sort).mean()
    means.index.name = "group"
    return means.reset_index()


def plot_search_history(search, path):
    """Each completed trial's cross-validated score and the best so far, the metric on the axis.

    Parameters
    ----------
    search : fitted :class:`skmm.model_selection.OptunaSearchCV`
        Its ``cv_results_`` give the scores; with several metrics, the one named by
        ``refit`` is drawn.
    path : path-like

    Returns
    -------
    path : pathlib.Path
    """
    results = search.cv_results_
    metric = search.refit if getattr(search, "multimetric_", False) else "score"
    scores = np.asarray(results[f"mean_test_{metric}"], dtype=float)
    trials = np.asarray(results.get("trial_number", np.arange(len(scores))))
    done = np.asarray(results.get("state", ["COMPLETE"] * len(scores))) == "COMPLETE"
    done &= ~np.isnan(scores)
    maximize = getattr(search, "direction", "maximize") == "maximize"
    name = search.scoring if metric == "score" and isinstance(search.scoring, str) else metric
    over = "validation split" if search.n_splits_ == 1 else f"mean over {search.n_splits_} folds"
    label = f"{metric_label(name)} ({over})"
    fig = _figure(7.0, 3.6)
    ax = fig.add_subplot()
    ax.plot(trials[done], scores[done], "o", color="#4C72B0", label=label)
    if done.any():
        best = (np.maximum if maximize else np.minimum).accumulate(scores[done])
        ax.step(trials[done], best, where="post", color="#C44E52", label="best so far")
    if (~done).any():
        n = int((~done).sum())
        ax.plot([], [], " ", label=f"{n} trial{'s' * (n > 1)} pruned or failed (no score)")
    ax.set_xlabel("trial")
    if len(trials):
        ax.set_xlim(trials.min() - 0.5, trials.max() + 0.5)
    ax.set_ylabel(label)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(f"Optuna history: {metric_label(name)} of each trial")
    return _save(fig, path)


def plot_search(search, directory):
    """Write ``optuna_history.png`` and, with two or more completed trials, ``optuna_importances.png``.

    The history is :func:`plot_search_history` (its axis names the metric); the
    importances are Optuna's.

    Parameters
    ----------
    search : fitted :class:`skmm.model_selection.OptunaSearchCV`
    directory : path-like

    Returns
    -------
    paths : dict of str to pathlib.Path
        ``{"history": ..., "importances": ...}`` for the figures written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pyplot = import_optional("matplotlib.pyplot", "plotting a search")
    paths = {"history": plot_search_history(search, directory / "optuna_history.png")}
    try:
        importances = directory / "optuna_importances.png"
        search.plot_param_importances(importances)
        paths["importances"] = importances
    except (ValueError, RuntimeError) as exc:  # too few completed trials to rank parameters
        logger.info("No parameter importances: %s", exc)
    pyplot.close("all")
    return paths
