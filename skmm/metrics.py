"""Metrics and scorers for emotion recognition: UAR, F1, ROC-AUC (one-vs-rest) and CCC.

Every metric has a ready scorer for ``cross_validate``, ``GridSearchCV`` and
:class:`skmm.model_selection.OptunaSearchCV`; :func:`emotion_scoring` returns
the usual set as a ``scoring`` dict.
"""

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import balanced_accuracy_score, f1_score, make_scorer, roc_auc_score
from sklearn.utils import check_array, check_consistent_length, column_or_1d

__all__ = [
    "ccc_scorer",
    "concordance_correlation_coefficient",
    "emotion_scoring",
    "macro_f1",
    "macro_f1_scorer",
    "roc_auc_ovr",
    "roc_auc_ovr_scorer",
    "uar_scorer",
    "unweighted_average_recall",
    "weighted_f1",
    "weighted_f1_scorer",
]


def unweighted_average_recall(y_true, y_pred, *, sample_weight=None, adjusted=False):
    """Unweighted average recall (UAR): the mean of per-class recalls.

    The usual headline metric of emotion recognition on imbalanced classes;
    the same as :func:`sklearn.metrics.balanced_accuracy_score` (macro recall
    over the classes present in ``y_true``).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    adjusted : bool, default=False
        Rescale so that chance scores 0 and perfect scores 1.

    Returns
    -------
    uar : float

    Examples
    --------
    >>> from skmm.metrics import unweighted_average_recall
    >>> unweighted_average_recall(["a", "a", "a", "b"], ["a", "a", "a", "a"])
    0.5
    """
    return float(
        balanced_accuracy_score(y_true, y_pred, sample_weight=sample_weight, adjusted=adjusted)
    )


def macro_f1(y_true, y_pred, *, labels=None, sample_weight=None, zero_division="warn"):
    """F1 averaged over classes with equal weight (``f1_score(average="macro")``).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like, default=None
        Classes to average over; by default those in ``y_true`` or ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value of a class's F1 when it is undefined, as in sklearn.

    Returns
    -------
    f1 : float

    Examples
    --------
    >>> from skmm.metrics import macro_f1
    >>> round(macro_f1([0, 0, 1, 1], [0, 0, 1, 0]), 3)
    0.733
    """
    return float(
        f1_score(
            y_true,
            y_pred,
            labels=labels,
            average="macro",
            sample_weight=sample_weight,
            zero_division=zero_division,
        )
    )


def weighted_f1(y_true, y_pred, *, labels=None, sample_weight=None, zero_division="warn"):
    """F1 averaged over classes weighted by their support (``f1_score(average="weighted")``).

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like, default=None
        Classes to average over; by default those in ``y_true`` or ``y_pred``.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    zero_division : {"warn", 0.0, 1.0, np.nan}, default="warn"
        Value of a class's F1 when it is undefined, as in sklearn.

    Returns
    -------
    f1 : float

    Examples
    --------
    >>> from skmm.metrics import weighted_f1
    >>> round(weighted_f1([0, 0, 1, 1], [0, 0, 1, 0]), 3)
    0.733
    """
    return float(
        f1_score(
            y_true,
            y_pred,
            labels=labels,
            average="weighted",
            sample_weight=sample_weight,
            zero_division=zero_division,
        )
    )


def roc_auc_ovr(y_true, y_score, *, labels=None, average="macro", sample_weight=None):
    """One-vs-rest ROC-AUC that survives classes missing from ``y_true``.

    Each class ``c`` scores the binary AUC of ``y_true == c`` against column
    ``c`` of ``y_score``; the classes averaged are those of ``labels`` present
    in ``y_true``: a class absent from a test fold has no AUC, so it is left
    out with an ``UndefinedMetricWarning`` (sklearn's ``roc_auc_score`` makes
    the whole average NaN). If no class has both positives and negatives the
    result is NaN, with a warning. Rows whose true class has no score column
    count as negatives for every class. For two classes this equals the
    binary AUC.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_score : array-like of shape (n_samples, n_classes) or (n_samples,)
        Scores (e.g. ``predict_proba``), column ``k`` for ``labels[k]``; a 1-D
        array is the score of ``labels[1]`` in a binary problem.
    labels : array-like of shape (n_classes,), default=None
        Class of each column of ``y_score``; the sorted classes of ``y_true``
        if None (then there must be one column per class of ``y_true``).
    average : {"macro", "weighted"}, default="macro"
        Plain mean over classes, or weighted by each class's support.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    auc : float

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.metrics import roc_auc_ovr
    >>> proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]])
    >>> roc_auc_ovr([0, 1, 2, 0], proba)
    1.0
    >>> roc_auc_ovr([0, 1, 1, 0], proba, labels=[0, 1, 2])  # class 2 absent: skipped
    0.9375
    """
    if average not in ("macro", "weighted"):
        raise ValueError(f"average must be 'macro' or 'weighted', got {average!r}.")
    y_true = column_or_1d(y_true)
    y_score = check_array(y_score, ensure_2d=False, dtype=np.float64)
    check_consistent_length(y_true, y_score, sample_weight)
    labels = np.unique(y_true) if labels is None else np.asarray(labels)
    if y_score.ndim == 1:
        if len(labels) != 2:
            raise ValueError("A 1-D y_score is only valid for two classes.")
        y_score = np.c_[-y_score, y_score]
    if y_score.shape[1] != len(labels):
        raise ValueError(
            f"y_score has {y_score.shape[1]} columns for {len(labels)} labels {labels}."
        )
    scores, supports, skipped = [], [], []
    for k, label in enumerate(labels):
        positive = y_true == label
        if positive.all() or not positive.any():
            skipped.append(label)
            continue
        scores.append(roc_auc_score(positive, y_score[:, k], sample_weight=sample_weight))
        supports.append(
            positive.sum() if sample_weight is None else np.sum(np.asarray(sample_weight)[positive])
        )
    if not scores:
        warnings.warn(
            "Fewer than two classes in y_true: ROC-AUC is undefined.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
        return float("nan")
    if skipped:
        warnings.warn(
            f"Classes {np.asarray(skipped).tolist()} absent from y_true are left out "
            "of the ROC-AUC.",
            UndefinedMetricWarning,
            stacklevel=2,
        )
    return float(np.average(scores, weights=supports if average == "weighted" else None))


def concordance_correlation_coefficient(
    y_true, y_pred, *, sample_weight=None, multioutput="uniform_average"
):
    """Lin's concordance correlation coefficient (CCC), for dimensional targets.

    ``2 cov(t, p) / (var(t) + var(p) + (mean(t) - mean(p))**2)`` with population
    (1/n) moments: 1 for perfect agreement, 0 for none, -1 for perfect
    inversion. It penalises bias and scale errors that Pearson's r ignores; it
    is the usual metric for valence/arousal. When the denominator is 0 (truth
    and prediction constant and equal) the CCC is 1.0; a constant prediction of
    a varying target scores 0.0.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True values.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Predicted values.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    multioutput : {"uniform_average", "raw_values"} or array-like of shape (n_outputs,), \
default="uniform_average"
        Average over outputs, per-output values, or a weighted average.

    Returns
    -------
    ccc : float or ndarray of shape (n_outputs,)

    Examples
    --------
    >>> from skmm.metrics import concordance_correlation_coefficient
    >>> concordance_correlation_coefficient([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    1.0
    >>> round(concordance_correlation_coefficient([1.0, 2.0, 3.0], [2.0, 3.0, 4.0]), 3)
    0.571
    >>> y = [[1.0, 0.0], [2.0, 0.0]]
    >>> concordance_correlation_coefficient(y, y, multioutput="raw_values")
    array([1., 1.])
    """
    y_true = check_array(y_true, ensure_2d=False, dtype=np.float64)
    y_pred = check_array(y_pred, ensure_2d=False, dtype=np.float64)
    check_consistent_length(y_true, y_pred, sample_weight)
    y_true = y_true.reshape(len(y_true), -1)
    y_pred = y_pred.reshape(len(y_pred), -1)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred have different shapes: {y_true.shape} and {y_pred.shape}."
        )
    w = None if sample_weight is None else column_or_1d(sample_weight).astype(np.float64)
    mean_t = np.average(y_true, axis=0, weights=w)
    mean_p = np.average(y_pred, axis=0, weights=w)
    var_t = np.average((y_true - mean_t) ** 2, axis=0, weights=w)
    var_p = np.average((y_pred - mean_p) ** 2, axis=0, weights=w)
    cov = np.average((y_true - mean_t) * (y_pred - mean_p), axis=0, weights=w)
    denominator = var_t + var_p + (mean_t - mean_p) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ccc = np.where(denominator > 0, 2 * cov / np.where(denominator > 0, denominator, 1.0), 1.0)
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return ccc
        if multioutput != "uniform_average":
            raise ValueError(
                "multioutput must be 'uniform_average', 'raw_values' or weights, "
                f"got {multioutput!r}."
            )
        return float(np.mean(ccc))
    return float(np.average(ccc, weights=np.asarray(multioutput, dtype=np.float64)))


def roc_auc_ovr_scorer(estimator, X, y_true, sample_weight=None):
    """Scorer: one-vs-rest ROC-AUC of ``estimator.predict_proba(X)`` against ``y_true``.

    Aligns columns with ``estimator.classes_``, so a test fold lacking a class,
    or holding one the fitted estimator never saw, still gets the AUC of the
    classes that are defined (see :func:`roc_auc_ovr`); sklearn's
    ``"roc_auc_ovr"`` scorer gives NaN there, or, when the fold holds two
    classes, pairs them with the wrong probability columns.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
    X : array-like
        Test inputs.
    y_true : array-like of shape (n_samples,)
        True labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    auc : float

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from skmm.metrics import roc_auc_ovr_scorer
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500)
    >>> scores = cross_val_score(model, X, y, cv=3, scoring=roc_auc_ovr_scorer)
    >>> bool(scores.min() > 0.9)
    True
    """
    proba = estimator.predict_proba(X)
    return roc_auc_ovr(y_true, proba, labels=estimator.classes_, sample_weight=sample_weight)


uar_scorer = make_scorer(unweighted_average_recall)
macro_f1_scorer = make_scorer(macro_f1, zero_division=0.0)
weighted_f1_scorer = make_scorer(weighted_f1, zero_division=0.0)
ccc_scorer = make_scorer(concordance_correlation_coefficient)


def emotion_scoring(task="classification", *, proba=True):
    """A ``scoring`` dict with the usual emotion-recognition metrics.

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"
        Categorical emotions (accuracy, UAR, macro and weighted F1, ROC-AUC) or
        dimensional ones such as valence/arousal (CCC, R², MAE).
    proba : bool, default=True
        Include ``roc_auc_ovr`` (needs ``predict_proba``).

    Returns
    -------
    scoring : dict of str to scorer
        A new dict; use it as ``scoring=`` and name one key in ``refit=``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_validate
    >>> from skmm.metrics import emotion_scoring
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500)
    >>> res = cross_validate(model, X, y, cv=3, scoring=emotion_scoring())
    >>> sorted(k for k in res if k.startswith("test_"))
    ['test_accuracy', 'test_macro_f1', 'test_roc_auc_ovr', 'test_uar', 'test_weighted_f1']
    """
    if task == "classification":
        scoring = {
            "accuracy": "accuracy",
            "uar": uar_scorer,
            "macro_f1": macro_f1_scorer,
            "weighted_f1": weighted_f1_scorer,
        }
        if proba:
            scoring["roc_auc_ovr"] = roc_auc_ovr_scorer
        return scoring
    if task == "regression":
        return {"ccc": ccc_scorer, "r2": "r2", "neg_mean_absolute_error": "neg_mean_absolute_error"}
    raise ValueError(f"task must be 'classification' or 'regression', got {task!r}.")
