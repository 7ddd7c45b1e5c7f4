"""FineTunedClassifier and FineTunedRegressor: an skmm encoder trained on the task."""

import copy
import logging
import os

import numpy as np
from scipy.special import softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .._threads import check_n_threads
from ._docstrings import fill
from ._methods import METHODS, state_fingerprint
from ._tuned import TunedBackbone, tuned_encoder

logger = logging.getLogger("skmm")

_SCHEDULES = ("linear", "cosine", "constant")


class _BaseFineTuned(BaseEstimator):
    """Parameters, fit and transform shared by the classifier and the regressor."""

    _skmm_supports_pruning = True  # OptunaSearchCV adds its pruning callback (callbacks)

    def __init__(
        self,
        encoder=None,
        *,
        method="lora",
        n_layers=2,
        lora_r=8,
        lora_alpha=16,
        lora_dropout=0.1,
        lora_target_modules=None,
        lr=None,
        head_lr=1e-3,
        weight_decay=0.01,
        max_epochs=3,
        batch_size=16,
        accumulation_steps=1,
        warmup=0.1,
        schedule="linear",
        max_grad_norm=1.0,
        dropout=0.1,
        head_init="probe",
        early_stopping=False,
        validation_fraction=0.1,
        patience=2,
        device="auto",
        precision="auto",
        random_state=None,
        n_threads=None,
        callbacks=None,
        progress="auto",
        verbose=0,
    ):
        self.encoder = encoder
        self.method = method
        self.n_layers = n_layers
        self.lora_r = lora_r
        self.lora_alpha = lora_alpha
        self.lora_dropout = lora_dropout
        self.lora_target_modules = lora_target_modules
        self.lr = lr
        self.head_lr = head_lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.accumulation_steps = accumulation_steps
        self.warmup = warmup
        self.schedule = schedule
        self.max_grad_norm = max_grad_norm
        self.dropout = dropout
        self.head_init = head_init
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.n_threads = n_threads
        self.callbacks = callbacks
        self.progress = progress
        self.verbose = verbose

    # -- fit -------------------------------------------------------------------------------
    def fit(self, X, y):
        """Fine-tune the encoder and a linear head on ``X`` and ``y``.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame
            Raw inputs of the encoder's modality (texts, image or audio paths...).
        y : array-like of shape (n_samples,)
            Targets.

        Returns
        -------
        self : object
        """
        self._check_params()
        for name in ("tuned_backbone_", "history_", "best_epoch_", "failed_rows_"):
            self.__dict__.pop(name, None)
        encoder = self._fit_encoder(X, y)
        targets = self._encode_targets(np.asarray(y))
        items, keep = self._training_items(encoder, X)
        probe = None
        if self.head_init == "probe":  # the frozen encoder's vectors, from its cache
            probe = np.stack(items) if self.method == "head" else encoder.transform(X)[keep]
        from ._fit import train

        result = train(self, encoder, items, targets[keep], probe)
        self.encoder_ = encoder
        self.history_ = result.history
        self.best_epoch_ = result.best_epoch
        self.interrupted_ = result.interrupted
        self.head_weights_, self.head_bias_ = result.head
        self.tuned_backbone_ = (
            None
            if result.state is None
            else TunedBackbone(
                encoder.backbone_,
                self.method,
                self._method_options(),
                result.state,
                state_fingerprint(result.state),
            )
        )
        self.n_features_out_ = encoder.n_features_out_
        return self

    def _check_params(self):
        if self.method not in METHODS:
            raise ValueError(f"method={self.method!r}; use one of {METHODS}.")
        if not isinstance(self.max_epochs, (int, np.integer)) or self.max_epochs < 1:
            raise ValueError(
                f"max_epochs={self.max_epochs!r}; use an integer >= 1 (a model that was "
                "never trained has nothing to predict with)."
            )
        for name in ("batch_size", "accumulation_steps", "patience", "lora_r", "n_layers"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name}={value!r}; use a positive integer.")
        if self.head_init not in ("probe", "random"):
            raise ValueError(f"head_init={self.head_init!r}; use 'probe' or 'random'.")
        if self.schedule not in _SCHEDULES:
            raise ValueError(f"schedule={self.schedule!r}; use one of {_SCHEDULES}.")
        if not 0 <= self.warmup < 1:
            raise ValueError(f"warmup={self.warmup!r}; use a fraction of the steps in [0, 1).")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(
                f"validation_fraction={self.validation_fraction!r}; use a fraction in (0, 1)."
            )
        if self.precision not in ("auto", "float32", "bfloat16", "float16"):
            raise ValueError(
                f"precision={self.precision!r}; use 'auto', 'float32', 'bfloat16' or 'float16'."
            )
        if self.progress not in (True, False, "auto"):
            raise ValueError(f"progress={self.progress!r}; use True, False or 'auto'.")
        check_n_threads(self.n_threads)

    def _fit_encoder(self, X, y):
        if self.encoder is None:
            from ..encoders import TextEncoder

            encoder = TextEncoder()
        else:
            encoder = clone(self.encoder)
        if "runtime" in encoder.get_params():  # training runs torch; no graph is exported
            encoder.set_params(runtime="torch")
        from ..encoders._base import BaseEncoder

        trainable = (
            encoder._fine_tunable and type(encoder)._embed_batch is not BaseEncoder._embed_batch
        )
        if self.method != "head" and not trainable:
            raise ValueError(
                f"{type(encoder).__name__} has no differentiable forward pass, so "
                f"method={self.method!r} cannot train it; use method='head' or another encoder"
            )
        encoder.fit(X, y)
        if self.method != "head" and encoder.backbone_.spec.weightless:
            raise ValueError(
                f"the {encoder.backbone_.name!r} backbone has no weights to fine-tune; use "
                "method='head' or a backbone with weights"
            )
        return encoder

    def _method_options(self):
        if self.method == "lora":
            return {
                "lora_r": self.lora_r,
                "lora_alpha": self.lora_alpha,
                "lora_dropout": self.lora_dropout,
                "lora_target_modules": self.lora_target_modules,
            }
        return {"n_layers": self.n_layers} if self.method == "last_layers" else {}

    def _training_items(self, encoder, X):
        """Prepared training rows, and which rows they are; failed rows raise or are left out."""
        from ..encoders._input import to_rows
        from ..encoders._run import EncodeRun

        if self.method == "head":  # the frozen encoder's vectors, from its cache
            vectors, report = encoder.transform(X, return_report=True)
            failed = report.failed_rows
            items = list(vectors)
        else:
            rows, index = to_rows(X, type(encoder).__name__, encoder._array_rows)
            items, failed = EncodeRun(encoder, rows, index).prepare_all()
        self.failed_rows_ = failed
        keep = np.ones(len(items), dtype=bool)
        keep[[f["row"] for f in failed]] = False
        if failed:
            logger.warning(
                "%s: %d of %d training rows could not be encoded and were left out of "
                "training (failed_rows_ lists them).",
                type(self).__name__,
                len(failed),
                len(items),
            )
        if not keep.any():
            raise ValueError(f"none of the {len(items)} training rows could be encoded.")
        return [item for item, k in zip(items, keep) if k], keep

    def _threads(self):
        if self.n_threads is not None:
            return self.n_threads
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)

    def _seed(self):
        return int(check_random_state(self.random_state).randint(2**31 - 1))

    # -- using the tuned model --------------------------------------------------------------
    def _encoder_view(self, on_error=None):
        """A copy of the fitted encoder running the tuned weights (the frozen ones for 'head')."""
        check_is_fitted(self, "encoder_")
        if self.tuned_backbone_ is None:
            view = copy.copy(self.encoder_)
        else:
            view = tuned_encoder(self.encoder_, self.tuned_backbone_)
        if on_error is not None:
            view.on_error = on_error
        return view

    def transform(self, X):
        """Embeddings of the fine-tuned encoder (before the head): features for a fusion.

        They are cached under the tuned weights' fingerprint, never mixed with the frozen
        encoder's. With ``method="head"`` the encoder did not change: these are its
        frozen embeddings.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame

        Returns
        -------
        embeddings : ndarray of shape (n_samples, n_features_out_)
        """
        return self._encoder_view().transform(X)

    def _head_outputs(self, X):
        """The head's outputs; a row that cannot be encoded is an error, never a made-up guess."""
        vectors = self._encoder_view(on_error="raise").transform(X)
        return vectors @ self.head_weights_.T + self.head_bias_

    def get_feature_names_out(self, input_features=None):
        """Names of the embedding columns: the encoder's own."""
        check_is_fitted(self, "encoder_")
        return self.encoder_.get_feature_names_out()

    def save_pretrained(self, path):
        """Write the tuned backbone, LoRA merged, as a Hugging Face model folder.

        The folder loads with ``transformers.AutoModel.from_pretrained`` (and the
        tokenizer or feature extractor is saved beside it); ``TextEncoder(model=path)``
        then gives the tuned embeddings without skmm's fine-tuning code. The head is
        written as ``skmm_head.npz`` (weights, bias and, for a classifier, the classes).

        Parameters
        ----------
        path : path-like

        Returns
        -------
        path : pathlib.Path
        """
        from ._save import save_tuned

        return save_tuned(self, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        encoder = self.encoder
        if encoder is None:
            from ..encoders import TextEncoder

            encoder = TextEncoder()
        tags.input_tags = encoder.__sklearn_tags__().input_tags
        return tags


class FineTunedClassifier(ClassifierMixin, _BaseFineTuned):
    __doc__ = fill(
        """Fine-tune a pretrained skmm encoder and a linear head to classify its inputs.

    The encoder is a parameter, as the regressor of ``TransformedTargetRegressor`` is:
    its preprocessing, backbone and pooling are reused unchanged, a linear head is put
    on its pooled vector, and both are trained with cross-entropy on skorch. Only the
    training rows of each fit are used, so ``cross_validate`` never leaks.

    Parameters
    ----------
%(parameters)s
    class_weight : None, "balanced" or dict, default=None
        Weights of the classes in the loss, as in scikit-learn.

    Attributes
    ----------
    classes_ : ndarray
        Class labels.
%(attributes)s

    Examples
    --------
    >>> from skmm import TextEncoder
    >>> from skmm.finetune import FineTunedClassifier
    >>> texts = ["a happy day", "so glad", "a sad night", "so gloomy"] * 4
    >>> y = ["pos", "pos", "neg", "neg"] * 4
    >>> clf = FineTunedClassifier(TextEncoder(cache=False), method="lora", max_epochs=1,
    ...                           random_state=0).fit(texts, y)
    >>> clf.predict(["a happy day"]).shape, clf.classes_.tolist()
    ((1,), ['neg', 'pos'])
    >>> clf.transform(["a happy day"]).shape
    (1, 384)
    """
    )

    def __init__(self, encoder=None, *, method="lora", n_layers=2, lora_r=8, lora_alpha=16,
                 lora_dropout=0.1, lora_target_modules=None, lr=None, head_lr=1e-3,
                 weight_decay=0.01, max_epochs=3, batch_size=16, accumulation_steps=1,
                 warmup=0.1, schedule="linear", max_grad_norm=1.0, dropout=0.1,
                 head_init="probe", early_stopping=False, validation_fraction=0.1,
                 patience=2, device="auto", precision="auto", random_state=None,
                 n_threads=None, callbacks=None, progress="auto", verbose=0,
                 class_weight=None):  # fmt: skip
        # scikit-learn reads the parameters from this signature: the base's, and one more
        params = {k: v for k, v in locals().items() if k not in ("self", "class_weight")}
        super().__init__(**{k: v for k, v in params.items() if k != "__class__"})
        self.class_weight = class_weight

    _task = "classification"

    def _encode_targets(self, y):
        if y.ndim != 1:
            raise ValueError(f"y must be 1-D class labels; got shape {y.shape}.")
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"y holds a single class ({encoder.classes_[0]!r}); a classifier needs at "
                "least 2. In cross-validation, use a stratified splitter so every training "
                "fold has each class."
            )
        self.classes_ = encoder.classes_
        return encoder.transform(y)

    def _loss_weights(self, targets):
        if self.class_weight is None:
            return None
        present = np.unique(targets)
        weights = np.ones(len(self.classes_))
        if self.class_weight == "balanced":
            weights[present] = compute_class_weight("balanced", classes=present, y=targets)
            return weights
        unknown = set(self.class_weight) - set(self.classes_)
        if unknown:
            raise ValueError(f"class_weight names classes not in y: {sorted(unknown)!r}.")
        for i, label in enumerate(self.classes_):
            weights[i] = self.class_weight.get(label, 1.0)
        return weights

    def decision_function(self, X):
        """The head's logits, one column per class."""
        return self._head_outputs(X)

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits), columns in ``classes_`` order.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        return softmax(self._head_outputs(X), axis=1)

    def predict(self, X):
        """The most probable class of each row.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        logits = self._head_outputs(X)
        return self.classes_[np.argmax(logits, axis=1)]


class FineTunedRegressor(RegressorMixin, _BaseFineTuned):
    __doc__ = fill(
        """Fine-tune a pretrained skmm encoder and a linear head to predict numbers.

    Targets are standardised for training (mean squared error on the standardised
    scale) and mapped back in ``predict``. One or several target columns.

    Parameters
    ----------
%(parameters)s

    Attributes
    ----------
%(attributes)s

    Examples
    --------
    >>> from skmm import TextEncoder
    >>> from skmm.finetune import FineTunedRegressor
    >>> texts = ["awful", "bad", "fine", "good", "great", "superb"] * 2
    >>> reg = FineTunedRegressor(TextEncoder(cache=False), method="head", max_epochs=2,
    ...                          random_state=0).fit(texts, [0, 1, 2, 3, 4, 5] * 2)
    >>> reg.predict(["good"]).shape
    (1,)
    """
    )

    _task = "regression"

    def _encode_targets(self, y):
        y = np.asarray(y, dtype=np.float64)
        if y.ndim not in (1, 2):
            raise ValueError(f"y must be 1-D or 2-D numbers; got shape {y.shape}.")
        if not np.isfinite(y).all():
            raise ValueError("y holds NaN or infinite values; a regressor needs finite targets.")
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self.y_mean_ = y.mean(axis=0)
        self.y_scale_ = np.where((scale := y.std(axis=0)) > 0, scale, 1.0)
        scaled = (y - self.y_mean_) / self.y_scale_
        return scaled.reshape(len(y), self.n_outputs_).astype(np.float32)

    def _loss_weights(self, targets):
        return None

    def predict(self, X):
        """Predicted targets, on the scale of ``y``.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        out = self._head_outputs(X) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self.n_outputs_ == 1 else out
