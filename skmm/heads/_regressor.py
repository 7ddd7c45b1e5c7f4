"""FusionRegressor: a skorch neural head for (multi-output) continuous targets."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import validate_data

from skmm.heads._base import _BaseFusionHead
from skmm.heads._docstrings import shared_docstring
from skmm.heads._inputs import check_sample_weight


@shared_docstring
class FusionRegressor(RegressorMixin, _BaseFusionHead):
    """Neural regressor over modality blocks, e.g. valence and arousal, built on skorch.

    Same fusion heads, missing-modality handling and training options as
    :class:`FusionClassifier` (its parameters less the class options); the targets
    are standardised inside ``fit`` and predictions are returned on the original
    scale. The loss is the squared error averaged over targets, weighted by
    ``sample_weight``.

    Parameters
    ----------
    %(shared_parameters)s
    %(routed_parameters)s

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
    n_outputs_ : int
        Number of targets; predictions are 1-D when it is 1.
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,)
        Target standardisation.
    blocks_ : list of (str, list of int, int or None)
        ``(modality, columns, missing_column)`` per modality.
    hidden_size_ : int
        Width of the embeddings trained (see ``hidden_size``).
    device_ : str
    n_epochs_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.heads import FusionRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(300, 6))
    >>> y = np.c_[X[:, 0] - X[:, 3], X[:, 1] + X[:, 4]]  # valence, arousal
    >>> reg = FusionRegressor(blocks={"text": [0, 1, 2], "audio": [3, 4, 5]},
    ...                       hidden_size=32, max_epochs=40, random_state=0).fit(X, y)
    >>> reg.predict(X[:3]).shape
    (3, 2)
    >>> reg.score(X, y) > 0.8
    True
    """

    _task = "regression"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y, sample_weight=None):
        """Fit the head.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : FusionRegressor
        """
        from skmm.heads._net import FusionNetRegressor

        self._check_params()
        X, y = validate_data(
            self, X, y, multi_output=True, y_numeric=True, dtype=(np.float64, np.float32)
        )
        y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        self.n_outputs_ = y.shape[1]
        self.y_mean_ = y.mean(axis=0)
        scale = y.std(axis=0)
        self.y_scale_ = np.where(scale > 0, scale, 1.0)
        weights = check_sample_weight(sample_weight, len(y))
        y_scaled = ((y - self.y_mean_) / self.y_scale_).astype(np.float32)
        return self._fit_net(
            self._as_float32(X),
            y_scaled,
            weights,
            self.n_outputs_,
            FusionNetRegressor,
            stratified=False,
        )

    def predict(self, X):
        """Predicted targets on their original scale.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs_)
        """
        y = self._forward(X).astype(np.float64) * self.y_scale_ + self.y_mean_
        return y.ravel() if self.n_outputs_ == 1 else y
