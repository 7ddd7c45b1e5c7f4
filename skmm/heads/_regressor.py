"""FusionRegressor: a skorch neural head for (multi-output) continuous targets."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import validate_data

from skmm.heads._base import _BaseFusionHead, _check_sample_weight


class FusionRegressor(RegressorMixin, _BaseFusionHead):
    """Neural regressor over modality blocks, e.g. valence and arousal, built on skorch.

    Same fusion heads, missing-modality handling and training options as
    :class:`FusionClassifier`; the targets are standardised inside ``fit`` and
    predictions are returned on the original scale. The loss is the squared error
    averaged over targets, weighted by ``sample_weight``.

    Parameters
    ----------
    head : {"mlp", "gated", "attention"}, default="mlp"
        How the modality embeddings are fused (see :class:`FusionClassifier`).
    blocks : dict or None, default=None
        Which columns form which modality (see :class:`FusionClassifier`).
    hidden_size : int, default=128
    n_layers : int, default=1
    n_heads : int, default=4
    dropout : float, default=0.1
    modality_dropout : float, default=0.1
    alignment : {"cosine", "infonce"}, default="cosine"
    alignment_weight : float, default=0.0
    temperature : float, default=0.1
    max_epochs : int, default=50
    lr : float, default=1e-3
    batch_size : int, default=64
    optimizer : {"adamw", "adam", "sgd"} or torch optimizer class, default="adamw"
    weight_decay : float, default=1e-2
    early_stopping : bool or int, default=False
        Patience in epochs on the validation loss (True means 10).
    validation_fraction : float or None, default=None
        Share of the training data held out for validation (random split); None means
        0.1 with early stopping and none otherwise.
    device : str, default="auto"
    random_state : int, RandomState instance or None, default=None
    callbacks : list of skorch callbacks or None, default=None
    verbose : int, default=0

    Attributes
    ----------
    net_ : skorch.NeuralNetRegressor
    n_outputs_ : int
        Number of targets; predictions are 1-D when it is 1.
    y_mean_, y_scale_ : ndarray of shape (n_outputs_,)
        Target standardisation.
    blocks_ : list of (str, list of int, int or None)
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

    def __init__(
        self,
        head="mlp",
        blocks=None,
        hidden_size=128,
        n_layers=1,
        n_heads=4,
        dropout=0.1,
        modality_dropout=0.1,
        alignment="cosine",
        alignment_weight=0.0,
        temperature=0.1,
        max_epochs=50,
        lr=1e-3,
        batch_size=64,
        optimizer="adamw",
        weight_decay=1e-2,
        early_stopping=False,
        validation_fraction=None,
        device="auto",
        random_state=None,
        callbacks=None,
        verbose=0,
    ):
        self.head = head
        self.blocks = blocks
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.dropout = dropout
        self.modality_dropout = modality_dropout
        self.alignment = alignment
        self.alignment_weight = alignment_weight
        self.temperature = temperature
        self.max_epochs = max_epochs
        self.lr = lr
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.device = device
        self.random_state = random_state
        self.callbacks = callbacks
        self.verbose = verbose

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
        weights = _check_sample_weight(sample_weight, len(y))
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
