"""Turn a study's trials into scikit-learn's ``cv_results_`` layout."""

import warnings

import numpy as np
from scipy.stats import rankdata

from skmm.model_selection._objective import CV_ATTR, metric_names, params_of_trial


def _rank(means, maximize):
    """Sklearn's ranking: 1 is best, ties share the smaller rank, NaN ranks last."""
    if np.isnan(means).all():
        return np.ones(len(means), dtype=np.int32)
    worst = np.nanmin(means) - 1 if maximize else np.nanmax(means) + 1
    filled = np.where(np.isnan(means), worst, means)
    return rankdata(-filled if maximize else filled, method="min").astype(np.int32)


def build_cv_results(trials, space, scoring, n_splits, return_train_score, maximize):
    """``cv_results_`` for every finished trial that this search's objective evaluated.

    One row per trial (complete, pruned or failed), in trial-number order. Besides
    sklearn's keys there are ``trial_number`` and ``state``. Pruned and failed trials
    keep the fold scores they reached in ``split<i>_*`` (NaN elsewhere); their means
    are NaN, so they rank last.
    """
    rows = [t for t in trials if t.state.is_finished() and CV_ATTR in t.user_attrs]
    rows.sort(key=lambda t: t.number)
    n = len(rows)
    results = {
        "trial_number": np.array([t.number for t in rows], dtype=int),
        "state": np.array([t.state.name for t in rows], dtype=object),
    }
    complete = np.array([t.state.name == "COMPLETE" for t in rows], dtype=bool)

    def table(key):
        arr = np.full((n, n_splits), np.nan)
        for i, t in enumerate(rows):
            values = t.user_attrs[CV_ATTR].get(key, [])
            arr[i, : len(values)] = np.asarray(values, dtype=float)[:n_splits]
        return arr

    def add_means(arr, key):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows of pruned trials
            mean = np.where(complete, arr.mean(axis=1), np.nan)
            std = np.where(complete, arr.std(axis=1), np.nan)
        results[f"mean_{key}"] = mean
        results[f"std_{key}"] = std
        return mean

    for key in ("fit_time", "score_time"):
        arr = table(key)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            results[f"mean_{key}"] = np.nanmean(arr, axis=1) if n else np.empty(0)
            results[f"std_{key}"] = np.nanstd(arr, axis=1) if n else np.empty(0)

    params = [params_of_trial(space, t) for t in rows]
    names = sorted({name for p in params for name in p})
    for name in names:
        column = np.ma.MaskedArray(np.empty(n, dtype=object), mask=True)
        for i, p in enumerate(params):
            if name in p:
                column[i] = p[name]
        results[f"param_{name}"] = column
    results["params"] = params

    parts = ["test", "train"] if return_train_score else ["test"]
    for metric in metric_names(scoring):
        for part in parts:
            key = f"{part}_{metric}"
            arr = table(key)
            for i in range(n_splits):
                results[f"split{i}_{key}"] = arr[:, i]
            mean = add_means(arr, key)
            if part == "test":
                results[f"rank_{key}"] = _rank(mean, maximize)
    return results


def best_row(results, metric, maximize, errors=()):
    """Row of the best completed trial with a finite mean ``metric`` (ties: lowest trial).

    When there is none, the ValueError leads with the first failed trial's error and
    lists the other distinct ones; ``errors`` holds ``(trial number, message)`` pairs of
    the failed folds.
    """
    means = np.asarray(results.get(f"mean_test_{metric}", np.empty(0)), dtype=float)
    usable = (results["state"] == "COMPLETE") & ~np.isnan(means)
    if not usable.any():
        states = {str(s): int((results["state"] == s).sum()) for s in set(results["state"])}
        first, others = _failure_summary(errors)
        raise ValueError(
            f"No trial completed with a finite score (trials by state: {states}).{first} "
            "Set error_score='raise' to see the full traceback, or relax the pruner." + others
        )
    if maximize:
        return int(np.argmax(np.where(usable, means, -np.inf)))
    return int(np.argmin(np.where(usable, means, np.inf)))


def _failure_summary(errors):
    """The first failed trial's error, and the other distinct errors ('' when none)."""
    errors = sorted(errors, key=lambda pair: pair[0])
    if not errors:
        return "", ""
    number, first = errors[0]
    others = list(dict.fromkeys(message for _, message in errors if message != first))
    listed = "".join(f"\n  {e}" for e in others)
    return (
        f" The first failed trial, number {number}, failed with {first.rstrip('.')}.",
        f" Other distinct errors ({len(others)}):{listed}" if others else "",
    )
