"""What FusionClassifier and FusionRegressor share: parameters, checks, the skorch net."""

import logging

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from skmm._deps import import_optional
from skmm._device import resolve_device, seeded_torch
from skmm._threads import torch_threads
from skmm.heads._checks import OPTIMIZERS, check_params
from skmm.heads._inputs import resolve_blocks
from skmm.heads._routing import check_routed, extra_params, is_routed, unexpected_name_message

logger = logging.getLogger(__name__)

_DEFAULT_PATIENCE = 10
_DEFAULT_VALIDATION_FRACTION = 0.1


def attention_width(hidden_size, n_heads):
    """``hidden_size`` rounded up to a multiple of ``n_heads``: every head gets equal width."""
    return -(-hidden_size // n_heads) * n_heads


class _BaseFusionHead(BaseEstimator):
    """Parameters and fit/predict plumbing of the skorch heads.

    Subclasses define the targets and the net class. FusionRegressor takes exactly
    these parameters; FusionClassifier adds its class options. Their docstrings say
    ``%(shared_parameters)s`` where :data:`~skmm.heads._docstrings.SHARED_PARAMETERS`
    goes.
    """

    _task = None
    # OptunaSearchCV adds its pruning callback to estimators that say so (``callbacks``)
    _skmm_supports_pruning = True

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
        n_threads=1,
        **kwargs,
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
        self.n_threads = n_threads
        # skorch's routed parameters live as attributes, as on a skorch NeuralNet;
        # fit checks their names
        vars(self).update(kwargs)

    def get_params(self, deep=True):
        """Get the parameters of this head, the routed ones (``optimizer__...``) included.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of contained estimators.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        return {**super().get_params(deep=deep), **extra_params(self)}

    def set_params(self, **params):
        """Set the parameters of this head, routed ones (``optimizer__momentum``) included.

        Parameters
        ----------
        **params : dict
            Head parameters and skorch's routed parameters.

        Returns
        -------
        self : estimator instance
        """
        own = {}
        for name, value in params.items():
            if is_routed(name):
                setattr(self, name, value)
            elif "__" in name:
                raise ValueError(unexpected_name_message(type(self).__name__, name))
            else:
                own[name] = value
        return super().set_params(**own)

    def _check_params(self):
        check_params(self)

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

    def _set_by_head(self, n_outputs, seed):
        """Routed net parameters the head sets from its own: name -> (value, what to do)."""
        classes = "it follows from the estimator (classifier or regressor)"
        return {
            "module__blocks": (self.blocks_, "set blocks instead"),
            "module__n_outputs": (n_outputs, "it follows from y"),
            "module__head": (self.head, "set head instead"),
            "module__hidden_size": (self.hidden_size_, "set hidden_size instead"),
            "module__n_layers": (self.n_layers, "set n_layers instead"),
            "module__n_heads": (self.n_heads, "set n_heads instead"),
            "module__dropout": (self.dropout, "set dropout instead"),
            "module__modality_dropout": (self.modality_dropout, "set modality_dropout instead"),
            "module__return_embeddings": (self.alignment_weight > 0, "set alignment_weight"),
            "criterion__task": (self._task, classes),
            "criterion__alignment": (self.alignment, "set alignment instead"),
            "criterion__alignment_weight": (self.alignment_weight, "set alignment_weight"),
            "criterion__temperature": (self.temperature, "set temperature instead"),
            "optimizer__lr": (self.lr, "set lr instead"),
            "optimizer__weight_decay": (self.weight_decay, "set weight_decay instead"),
            "iterator_train__balanced": (
                bool(getattr(self, "balanced_sampler", False)),
                "set balanced_sampler instead (FusionClassifier)",
            ),
            "iterator_train__seed": (seed, "set random_state instead"),
            "iterator_train__device": (self.device_, "set device instead"),
            "iterator_valid__device": (self.device_, "set device instead"),
        }

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
        defaults = {
            "iterator_train__shuffle": True,
            "iterator_valid__batch_size": (
                self.batch_size if self.batch_size == -1 else max(self.batch_size, 1024)
            ),
        }
        if isinstance(optimizer, str):
            if optimizer.lower() == "sgd":
                defaults["optimizer__momentum"] = 0.9
            optimizer = getattr(torch.optim, OPTIMIZERS[optimizer.lower()])
        set_by_head = self._set_by_head(n_outputs, seed)
        routed = extra_params(self)  # all routed: _check_params has run
        net = net_cls(
            module=FusionModule,
            criterion=FusionLoss,
            optimizer=optimizer,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=TensorBatches,
            iterator_valid=TensorBatches,
            train_split=train_split,
            callbacks=callbacks,
            device=self.device_,
            predict_nonlinearity=softmax if self._task == "classification" else None,
            verbose=self.verbose,
            # a routed name the head sets itself is refused by check_routed below
            **{**defaults, **{name: value for name, (value, _) in set_by_head.items()}, **routed},
        )
        hints = {name: hint for name, (_, hint) in set_by_head.items()}
        check_routed(type(self).__name__, net, routed, hints)
        return net

    def _fit_net(self, X, y, weights, n_outputs, net_cls, stratified):
        """Fit ``net_`` on float32 ``X`` and encoded ``y``; ``weights`` may be None."""
        import_optional("torch", "the neural fusion heads")  # a clear error when missing
        names = getattr(self, "feature_names_in_", None)
        self.blocks_ = resolve_blocks(self.blocks, X.shape[1], names)
        if self.alignment_weight > 0 and len(self.blocks_) < 2:
            logger.warning(
                "alignment_weight > 0 has no effect with a single block %r.", self.blocks_[0][0]
            )
        self.hidden_size_ = self.hidden_size
        if self.head == "attention":
            self.hidden_size_ = attention_width(self.hidden_size, self.n_heads)
            if self.hidden_size_ != self.hidden_size:
                logger.info(
                    "hidden_size %d rounded up to %d, a multiple of n_heads=%d.",
                    self.hidden_size,
                    self.hidden_size_,
                    self.n_heads,
                )
        self.device_ = resolve_device(self.device)
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.net_ = self._build_net(net_cls, n_outputs, stratified, seed)
        X_dict = {"X": X}
        if weights is not None:
            X_dict["sample_weight"] = (weights / weights.mean()).astype(np.float32)
        with torch_threads(self.n_threads), seeded_torch(seed, self.device_):
            self.net_.fit(X_dict, y)
        self.n_epochs_ = len(self.net_.history)
        return self

    def _forward(self, X):
        X = self._validate_X(X)
        with torch_threads(self.n_threads):
            return self.net_.predict_proba({"X": X})

    def _per_batch(self, X, method):
        torch = import_optional("torch", "the neural fusion heads")
        from skorch.utils import to_tensor

        net = self.net_
        batches = net.get_iterator(net.get_dataset({"X": X}), training=False)
        net.module_.eval()
        with torch_threads(self.n_threads), torch.no_grad():
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
