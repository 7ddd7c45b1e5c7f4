"""FusionClassifier: a skorch neural head over modality blocks."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from skmm.heads._base import _BaseFusionHead, _check_sample_weight


class FusionClassifier(ClassifierMixin, _BaseFusionHead):
    """Neural classifier over modality blocks (mlp, gated or attention fusion), built on skorch.

    Each modality block (e.g. the text, image and audio embeddings a
    :class:`~skmm.fusion.ModalityUnion` outputs) is projected to ``hidden_size``; a
    modality marked absent by its ``"{modality}__missing"`` column gets a learned
    "missing" embedding instead, and modality dropout trains that case, so a model
    trained on three modalities still predicts when one is absent.

    Parameters
    ----------
    head : {"mlp", "gated", "attention"}, default="mlp"
        ``"mlp"``: concatenate the modality embeddings, then an MLP. ``"gated"``: a
        softmax gate per modality and sample weights a sum of the embeddings.
        ``"attention"``: modality embeddings as tokens, ``n_layers`` transformer layers
        and a learned-query attention pool; the pool's weights are the modality weights.
    blocks : dict or None, default=None
        Which columns form which modality: ``{modality: columns}`` where columns is a
        slice, a list of positions or of DataFrame column names, or ``{"features": ...,
        "missing": indicator_column}``. None reads ``"{modality}__{feature}"`` column
        names of a DataFrame (with ``"{modality}__missing"`` indicators); a plain array
        is one block ``"all"``.
    hidden_size : int, default=128
        Width of the modality embeddings and hidden layers.
    n_layers : int, default=1
        Hidden layers after fusion (mlp, gated) or transformer layers (attention).
    n_heads : int, default=4
        Attention heads of the attention head; must divide ``hidden_size``.
    dropout : float, default=0.1
        Dropout in projections and hidden layers.
    modality_dropout : float, default=0.1
        While training, probability of marking a present modality absent for a sample.
    alignment : {"cosine", "infonce"}, default="cosine"
        Cross-modal alignment loss between the projected embeddings of the present
        modalities of a sample: cosine matching, or InfoNCE (other samples are negatives).
    alignment_weight : float, default=0.0
        Weight of the alignment loss; 0 turns it off.
    temperature : float, default=0.1
        InfoNCE temperature.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``.
    balanced_sampler : bool, default=False
        Draw training batches class-balanced (sampling with replacement).
    max_epochs : int, default=50
    lr : float, default=1e-3
    batch_size : int, default=64
    optimizer : {"adamw", "adam", "sgd"} or torch optimizer class, default="adamw"
    weight_decay : float, default=1e-2
    early_stopping : bool or int, default=False
        Patience in epochs on the validation loss (True means 10); the best epoch's
        weights are restored.
    validation_fraction : float or None, default=None
        Stratified share of the training data held out for validation. None means 0.1
        when early stopping is on and no validation otherwise; set it to record
        ``valid_loss``/``valid_acc`` (e.g. for pruning) without early stopping.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, shuffling, dropout and the validation split; torch's global RNG
        state is restored after ``fit``.
    callbacks : list of skorch callbacks or None, default=None
        Extra callbacks, passed to the skorch net unchanged (e.g. a pruning callback).
    verbose : int, default=0
        Log skorch's per-epoch table to the ``skmm.heads._net`` logger.

    Attributes
    ----------
    net_ : skorch.NeuralNetClassifier
        The fitted net; ``net_.history`` holds the per-epoch losses and scores.
    classes_ : ndarray of shape (n_classes,)
    blocks_ : list of (str, list of int, int or None)
        ``(modality, columns, missing_column)`` per modality.
    device_ : str
    n_epochs_ : int
        Epochs trained (fewer than ``max_epochs`` after early stopping).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when ``X`` is a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.heads import FusionClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 8)).astype("float32")
    >>> y = np.where(X[:, 0] + X[:, 4] > 0, "pos", "neg")
    >>> clf = FusionClassifier(head="gated", blocks={"text": slice(0, 4), "audio": slice(4, 8)},
    ...                        hidden_size=16, max_epochs=20, lr=1e-2, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    >>> clf.modality_weights(X[:2]).columns.tolist()
    ['text', 'audio']
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
        class_weight=None,
        balanced_sampler=False,
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
        self.class_weight = class_weight
        self.balanced_sampler = balanced_sampler
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

    _task = "classification"

    def fit(self, X, y, sample_weight=None):
        """Fit the head.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Class labels of any type (ints, strings, ...).
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample loss weights.

        Returns
        -------
        self : FusionClassifier
        """
        from skmm.heads._net import FusionNetClassifier

        self._check_params()
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        self.classes_, y_encoded = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes; "
                f"got 1 class ({self.classes_[0]!r})."
            )
        weights = _check_sample_weight(sample_weight, len(y))
        if self.class_weight is not None:
            per_class = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
            weights = per_class[y_encoded] * (1.0 if weights is None else weights)
        if weights is not None:
            weighted = np.unique(y_encoded[weights > 0])
            if len(weighted) < 2:
                raise ValueError(
                    "Only samples of 1 class have a non-zero weight; a classifier "
                    "needs at least 2 classes with positive sample_weight."
                )
        return self._fit_net(
            self._as_float32(X),
            y_encoded.astype(np.int64),
            weights,
            len(self.classes_),
            FusionNetClassifier,
            stratified=True,
        )

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        proba = self._forward(X).astype(np.float64)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores = self._forward(X)
        return self.classes_[np.argmax(scores, axis=1)]
