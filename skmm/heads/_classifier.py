"""FusionClassifier: a skorch neural head over modality blocks."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from skmm.heads._base import _BaseFusionHead
from skmm.heads._docstrings import shared_docstring
from skmm.heads._inputs import check_sample_weight


@shared_docstring
class FusionClassifier(ClassifierMixin, _BaseFusionHead):
    """Neural classifier over modality blocks (mlp, gated or attention fusion), built on skorch.

    Each modality block (e.g. the text, image and audio embeddings a
    :class:`~skmm.fusion.ModalityUnion` outputs) is projected to ``hidden_size``; a
    modality marked absent by its ``"{modality}__missing"`` column gets a learned
    "missing" embedding instead, and modality dropout trains that case, so a model
    trained on three modalities still predicts when one is absent.

    Parameters
    ----------
    %(shared_parameters)s
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, multiplied into ``sample_weight``.
    balanced_sampler : bool, default=False
        Draw training batches class-balanced (sampling with replacement).
    %(routed_parameters)s

    Attributes
    ----------
    net_ : skorch.NeuralNetClassifier
        The fitted net; ``net_.history`` holds the per-epoch losses and scores.
    classes_ : ndarray of shape (n_classes,)
    blocks_ : list of (str, list of int, int or None)
        ``(modality, columns, missing_column)`` per modality.
    hidden_size_ : int
        Width of the embeddings trained: ``hidden_size``, rounded up to a multiple of
        ``n_heads`` for the attention head.
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

    skorch's routed parameters reach the net, and are parameters like the others:

    >>> sgd = FusionClassifier(optimizer="sgd", optimizer__momentum=0.5, max_epochs=2).fit(X, y)
    >>> sgd.get_params()["optimizer__momentum"], sgd.net_.optimizer_.param_groups[0]["momentum"]
    (0.5, 0.5)
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
        n_threads=1,
        **kwargs,
    ):
        # the shared parameters are stored (and documented) once, by the base class
        super().__init__(
            head=head,
            blocks=blocks,
            hidden_size=hidden_size,
            n_layers=n_layers,
            n_heads=n_heads,
            dropout=dropout,
            modality_dropout=modality_dropout,
            alignment=alignment,
            alignment_weight=alignment_weight,
            temperature=temperature,
            max_epochs=max_epochs,
            lr=lr,
            batch_size=batch_size,
            optimizer=optimizer,
            weight_decay=weight_decay,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            device=device,
            random_state=random_state,
            callbacks=callbacks,
            verbose=verbose,
            n_threads=n_threads,
            **kwargs,
        )
        self.class_weight = class_weight
        self.balanced_sampler = balanced_sampler

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
        weights = check_sample_weight(sample_weight, len(y))
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
