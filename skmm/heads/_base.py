"""What FusionClassifier and FusionRegressor share: checks, block layout, the skorch net."""

import logging
import numbers
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from skmm._deps import import_optional
from skmm._device import resolve_device

logger = logging.getLogger(__name__)

_HEADS = ("mlp", "gated", "attention")
_ALIGNMENTS = ("cosine", "infonce")
_OPTIMIZERS = {"adamw": "AdamW", "adam": "Adam", "sgd": "SGD"}
_DEFAULT_PATIENCE = 10
_DEFAULT_VALIDATION_FRACTION = 0.1


def _columns(spec, n_features, feature_names, modality):
    """Column positions from a slice, positions, or column names."""
    if isinstance(spec, slice):
        columns = list(range(n_features))[spec]
    elif isinstance(spec, (str, numbers.Integral)):
        columns = [spec]
    else:
        columns = list(spec)
    names = {} if feature_names is None else {str(n): i for i, n in enumerate(feature_names)}
    out = []
    for col in columns:
        if isinstance(col, numbers.Integral) and not isinstance(col, bool):
            if not -n_features <= col < n_features:
                raise ValueError(
                    f"Block {modality!r}: column {col} is out of range for "
                    f"X with {n_features} features."
                )
            out.append(int(col) % n_features)
        elif isinstance(col, str) and col in names:
            out.append(names[col])
        else:
            raise ValueError(
                f"Block {modality!r}: {col!r} is neither a column position nor a "
                "column name of the DataFrame passed to fit."
            )
    if not out:
        raise ValueError(f"Block {modality!r} has no feature columns.")
    return out


def resolve_blocks(blocks, n_features, feature_names=None):
    """Turn the ``blocks`` parameter into ``[(modality, columns, missing_column), ...]``.

    ``None`` reads the layout from ``"{modality}__{feature}"`` column names (with an
    optional ``"{modality}__missing"`` indicator), or uses one block ``"all"``.
    """
    if blocks is None:
        if feature_names is None or not any("__" in str(n) for n in feature_names):
            return [("all", list(range(n_features)), None)]
        from skmm.fusion._layout import infer_blocks

        # columns without a modality prefix (e.g. tabular features) form one block
        layout = infer_blocks(list(feature_names), default="other")
    elif isinstance(blocks, Mapping):
        layout = blocks
    else:
        raise ValueError(
            "blocks must be None or a dict {modality: columns}, where columns is a "
            f"slice, a list of positions or names, or {{'features': ..., 'missing': "
            f"...}}; got {type(blocks).__name__}."
        )
    resolved = []
    for name, spec in layout.items():
        missing = None
        if isinstance(spec, Mapping):
            spec, missing = spec.get("features"), spec.get("missing")
        columns = _columns(spec, n_features, feature_names, name)
        if missing is not None:
            (missing,) = _columns([missing], n_features, feature_names, name)
        resolved.append((str(name), columns, missing))
    if not resolved:
        raise ValueError("blocks is empty: give at least one modality.")
    return resolved


def _check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(f"sample_weight has shape {sw.shape}; expected ({n_samples},).")
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    if not sw.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sw


class _BaseFusionHead(BaseEstimator):
    """Fit/predict plumbing of the skorch heads; subclasses define targets and the net class."""

    _task = None
    # OptunaSearchCV adds its pruning callback to estimators that say so (``callbacks``)
    _skmm_supports_pruning = True

    def _check_params(self):
        def bad(name, what):
            return ValueError(f"{name} must be {what}; got {getattr(self, name)!r}.")

        if self.head not in _HEADS:
            raise bad("head", f"one of {_HEADS}")
        for name, low in (("hidden_size", 1), ("n_layers", 0), ("n_heads", 1), ("max_epochs", 1)):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
                raise bad(name, f"an int >= {low}")
        if self.head == "attention" and self.hidden_size % self.n_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by n_heads "
                f"({self.n_heads}) for the attention head."
            )
        if not (
            isinstance(self.batch_size, numbers.Integral)
            and (self.batch_size >= 1 or self.batch_size == -1)
        ):
            raise bad("batch_size", "an int >= 1 (or -1 for full batch)")
        for name in ("dropout", "modality_dropout"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or not 0 <= value < 1:
                raise bad(name, "a float in [0, 1)")
        if self.alignment not in _ALIGNMENTS:
            raise bad("alignment", f"one of {_ALIGNMENTS}")
        for name, low in (("alignment_weight", 0), ("weight_decay", 0)):
            if not isinstance(getattr(self, name), numbers.Real) or getattr(self, name) < low:
                raise bad(name, "a float >= 0")
        for name in ("lr", "temperature"):
            if not isinstance(getattr(self, name), numbers.Real) or getattr(self, name) <= 0:
                raise bad(name, "a float > 0")
        es = self.early_stopping
        if not (es is None or (isinstance(es, numbers.Integral) and es >= 0)):
            raise bad("early_stopping", "False, True or a patience (int >= 1)")
        vf = self.validation_fraction
        if vf is not None and not (isinstance(vf, numbers.Real) and 0 < vf < 1):
            raise bad("validation_fraction", "None or a float in (0, 1)")
        if isinstance(self.optimizer, str) and self.optimizer.lower() not in _OPTIMIZERS:
            raise bad("optimizer", f"one of {tuple(_OPTIMIZERS)} or a torch optimizer class")
        if self.callbacks is not None and not isinstance(self.callbacks, (list, tuple)):
            raise bad("callbacks", "None or a list of skorch callbacks")

    def _patience(self):
        es = self.early_stopping
        if es is True:
            return _DEFAULT_PATIENCE
        return int(es) if es else 0

    def _as_float32(self, X):
        # C-contiguous and writable: rows are sliced per batch, torch wants writable memory
        return np.require(X, dtype=np.float32, requirements=["C", "W"])

    def _validate_X(self, X):
        check_is_fitted(self)
        return self._as_float32(validate_data(self, X, reset=False, dtype=(np.float64, np.float32)))

    def _build_net(self, net_cls, n_outputs, stratified, seed):
        torch = import_optional("torch", "the neural fusion heads")
        import_optional("skorch", "the neural fusion heads")
        from skorch.callbacks import EarlyStopping
        from skorch.dataset import ValidSplit

        from skmm.heads._losses import FusionLoss
        from skmm.heads._modules import FusionModule
        from skmm.heads._net import TensorBatches, softmax

        patience = self._patience()
        fraction = self.validation_fraction
        if fraction is None and patience:
            fraction = _DEFAULT_VALIDATION_FRACTION
        train_split = None
        if fraction:
            train_split = ValidSplit(fraction, stratified=stratified, random_state=seed)
        callbacks = list(self.callbacks or [])
        if patience:
            callbacks.append(
                (
                    "early_stopping",
                    EarlyStopping(
                        monitor="valid_loss", patience=patience, load_best=True, sink=logger.info
                    ),
                )
            )
        optimizer = self.optimizer
        extra = {}
        if isinstance(optimizer, str):
            if optimizer.lower() == "sgd":
                extra["optimizer__momentum"] = 0.9
            optimizer = getattr(torch.optim, _OPTIMIZERS[optimizer.lower()])
        valid_batch = self.batch_size if self.batch_size == -1 else max(self.batch_size, 1024)
        return net_cls(
            module=FusionModule,
            module__blocks=self.blocks_,
            module__n_outputs=n_outputs,
            module__head=self.head,
            module__hidden_size=self.hidden_size,
            module__n_layers=self.n_layers,
            module__n_heads=self.n_heads,
            module__dropout=self.dropout,
            module__modality_dropout=self.modality_dropout,
            module__return_embeddings=self.alignment_weight > 0,
            criterion=FusionLoss,
            criterion__task=self._task,
            criterion__alignment=self.alignment,
            criterion__alignment_weight=self.alignment_weight,
            criterion__temperature=self.temperature,
            optimizer=optimizer,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=TensorBatches,
            iterator_train__shuffle=True,
            iterator_train__balanced=bool(getattr(self, "balanced_sampler", False)),
            iterator_train__seed=seed,
            iterator_train__device=self.device_,
            iterator_valid=TensorBatches,
            iterator_valid__batch_size=valid_batch,
            iterator_valid__device=self.device_,
            train_split=train_split,
            callbacks=callbacks,
            device=self.device_,
            predict_nonlinearity=softmax if self._task == "classification" else None,
            verbose=self.verbose,
            **extra,
        )

    def _fit_net(self, X, y, weights, n_outputs, net_cls, stratified):
        """Fit ``net_`` on float32 ``X`` and encoded ``y``; ``weights`` may be None."""
        torch = import_optional("torch", "the neural fusion heads")
        names = getattr(self, "feature_names_in_", None)
        self.blocks_ = resolve_blocks(self.blocks, X.shape[1], names)
        if self.alignment_weight > 0 and len(self.blocks_) < 2:
            logger.warning(
                "alignment_weight > 0 has no effect with a single block %r.", self.blocks_[0][0]
            )
        self.device_ = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.net_ = self._build_net(net_cls, n_outputs, stratified, seed)
        X_dict = {"X": X}
        if weights is not None:
            X_dict["sample_weight"] = (weights / weights.mean()).astype(np.float32)
        # seed torch locally: the caller's global RNG state (CPU and every GPU, which
        # manual_seed touches) is restored afterwards
        on_cuda = torch.device(self.device_).type == "cuda"
        forked = list(range(torch.cuda.device_count())) if on_cuda else []
        with torch.random.fork_rng(devices=forked):
            torch.manual_seed(seed)
            self.net_.fit(X_dict, y)
        self.n_epochs_ = len(self.net_.history)
        return self

    def _forward(self, X):
        X = self._validate_X(X)
        return self.net_.predict_proba({"X": X})

    def _per_batch(self, X, method):
        torch = import_optional("torch", "the neural fusion heads")
        from skorch.utils import to_tensor

        net = self.net_
        batches = net.get_iterator(net.get_dataset({"X": X}), training=False)
        net.module_.eval()
        with torch.no_grad():
            return torch.cat(
                [
                    getattr(net.module_, method)(to_tensor(Xb["X"], device=net.device)).cpu()
                    for Xb, _ in batches
                ]
            ).numpy()

    @available_if(lambda self: self.head in ("gated", "attention"))
    def modality_weights(self, X):
        """Per-sample weight of each modality: the gates (gated) or attention-pool weights.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)

        Returns
        -------
        weights : pandas.DataFrame of shape (n_samples, n_modalities)
            One column per modality; each row sums to 1. Keeps ``X``'s index.
        """
        index = X.index if isinstance(X, pd.DataFrame) else None
        weights = self._per_batch(self._validate_X(X), "modality_weights")
        return pd.DataFrame(weights, columns=[name for name, _, _ in self.blocks_], index=index)
