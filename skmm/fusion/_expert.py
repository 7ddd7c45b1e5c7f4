"""One modality's classifier inside late fusion: fits on present rows, neutral elsewhere."""

import logging

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.dummy import DummyClassifier
from sklearn.utils import get_tags

logger = logging.getLogger(__name__)


def block_absent(X, features, missing, allow_nan=False):
    """Rows whose modality is absent: indicator set, all features NaN, or any NaN unless allowed."""
    nan = np.isnan(X[:, features])
    absent = nan.all(axis=1) if allow_nan else nan.any(axis=1)
    if missing is not None:
        absent |= X[:, missing] > 0.5
    return absent


class ModalityExpert(ClassifierMixin, BaseEstimator):
    """Classifier of one modality block that answers neutrally where the modality is absent.

    Used by :class:`LateFusionClassifier`: ``fit`` trains ``estimator`` on the
    rows where the block is present (indicator off and no NaN, or not all NaN if
    the estimator's tags allow NaN); ``predict_proba`` gives the class prior of
    the training rows (``decision_function``: 0) on rows where it is absent. With
    fewer than two classes among the present rows the block falls back to a
    prior-only :class:`~sklearn.dummy.DummyClassifier`.

    Parameters
    ----------
    estimator : classifier
        The modality's classifier.
    features : list of int
        Column positions of the block in X.
    missing : int, default=None
        Column position of the block's missing indicator.
    """

    # LateFusionClassifier hands it sample weights through cross_val_predict, which routes
    # them only to estimators that request them when metadata routing is on.
    __metadata_request__fit = {"sample_weight": True}

    def __init__(self, estimator, features, missing=None):
        self.estimator = estimator
        self.features = features
        self.missing = missing

    def fit(self, X, y, sample_weight=None):
        """Fit ``estimator`` on the present rows of the block; record the class prior."""
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        counts = np.bincount(y_index, weights=weight, minlength=len(self.classes_))
        self.prior_ = (
            counts / counts.sum() if counts.sum() > 0 else np.full(len(counts), 1 / len(counts))
        )
        present = ~self.absent(X)
        Xp, yp = X[present][:, self.features], y[present]
        kwargs = {} if sample_weight is None else {"sample_weight": weight[present]}
        if len(np.unique(yp)) >= 2:
            self.estimator_ = clone(self.estimator).fit(Xp, yp, **kwargs)
        else:
            logger.info(
                "Late fusion: fewer than two classes among present rows; using the class prior."
            )
            if not len(yp):  # absent everywhere: the prior of all rows
                Xp, yp, kwargs = X[:, self.features], y, {"sample_weight": weight}
            self.estimator_ = DummyClassifier(strategy="prior").fit(Xp, yp, **kwargs)
        self.n_present_ = int(present.sum())
        return self

    def absent(self, X):
        """Boolean mask of rows where this block counts as absent."""
        allow_nan = get_tags(self.estimator).input_tags.allow_nan
        return block_absent(X, self.features, self.missing, allow_nan)

    def _present_rows(self, X):
        X = np.asarray(X, dtype=np.float64)
        return X, ~self.absent(X)

    def predict_proba(self, X):
        """Class probabilities; the training prior on rows where the block is absent."""
        X, present = self._present_rows(X)
        out = np.tile(self.prior_, (len(X), 1))
        if present.any():
            proba = self.estimator_.predict_proba(X[present][:, self.features])
            cols = np.searchsorted(self.classes_, self.estimator_.classes_)
            rows = np.flatnonzero(present)
            out[rows] = 0.0
            out[np.ix_(rows, cols)] = proba
        return out

    def decision_function(self, X):
        """Decision values; 0 on rows where the block is absent."""
        X, present = self._present_rows(X)
        binary = len(self.classes_) == 2
        out = np.zeros(len(X)) if binary else np.zeros((len(X), len(self.classes_)))
        if not present.any() or isinstance(self.estimator_, DummyClassifier):
            return out
        if not np.array_equal(self.estimator_.classes_, self.classes_):
            raise ValueError(
                "stack_method='decision_function' needs every class among the rows where each "
                "modality is present in every training fold; use 'predict_proba' instead."
            )
        out[present] = self.estimator_.decision_function(X[present][:, self.features])
        return out

    def predict(self, X):
        """Most probable class."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
