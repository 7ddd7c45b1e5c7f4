"""skorch nets behind FusionClassifier / FusionRegressor, with a fast in-memory iterator.

skorch's default ``DataLoader`` fetches and collates one sample at a time; for data that
is already a matrix in memory that costs more than the model. :class:`TensorBatches`
builds the tensors once and yields shuffled slices, and the nets drop the per-epoch
table printing when ``verbose=0``. History, scoring, early stopping, checkpointing and
device handling stay skorch's own.
"""

import logging
import math

import numpy as np
import torch
from skorch import NeuralNetClassifier, NeuralNetRegressor
from skorch.callbacks import PrintLog
from skorch.utils import data_from_dataset, to_tensor

logger = logging.getLogger(__name__)

# above this size the data stays on the CPU and skorch moves each batch
_MAX_DEVICE_BYTES = 2**30


def softmax(logits):
    """Class probabilities from logits (the classifier's ``predict_nonlinearity``)."""
    return torch.softmax(logits, dim=-1)


class TensorBatches:
    """Mini-batches sliced from tensors built once, for skorch's ``iterator_train/valid``.

    Parameters
    ----------
    dataset : skorch.dataset.Dataset or torch.utils.data.Subset of one
        Holds ``X`` (a dict of arrays) and ``y`` (or None).
    batch_size : int, default=128
    shuffle : bool, default=False
        New permutation every epoch (every ``iter``).
    balanced : bool, default=False
        Draw each epoch's samples with replacement, with probability inverse to
        their class frequency, so batches are class-balanced on average.
    seed : int or None, default=None
        Seed of the shuffling generator; None draws one from torch's global RNG.
    device : str or None, default=None
        Move the tensors there once, when they are small enough.
    """

    def __init__(
        self, dataset, batch_size=128, shuffle=False, balanced=False, seed=None, device=None
    ):
        X, y = data_from_dataset(dataset)
        self.X = {key: torch.as_tensor(np.asarray(value)) for key, value in X.items()}
        self.y = None if y is None else torch.as_tensor(np.asarray(y))
        nbytes = sum(t.element_size() * t.nelement() for t in self.X.values())
        if device is not None and str(device) != "cpu" and nbytes <= _MAX_DEVICE_BYTES:
            self.X = {key: value.to(device) for key, value in self.X.items()}
            self.y = None if self.y is None else self.y.to(device)
        self.n_samples = len(next(iter(self.X.values())))
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.balanced = balanced
        self.generator = None
        if shuffle or balanced:
            if seed is None:
                seed = int(torch.randint(2**62, (1,)))
            self.generator = torch.Generator().manual_seed(int(seed))
        self.sample_probs = None
        if balanced:
            if self.y is None:
                raise ValueError("A class-balanced sampler needs the training targets y.")
            labels = self.y.cpu().long()
            counts = torch.bincount(labels).double()
            self.sample_probs = (1.0 / counts)[labels]

    def __len__(self):
        return math.ceil(self.n_samples / self.batch_size)

    def _order(self):
        if self.sample_probs is not None:
            return torch.multinomial(
                self.sample_probs, self.n_samples, replacement=True, generator=self.generator
            )
        if self.shuffle:
            return torch.randperm(self.n_samples, generator=self.generator)
        return None

    def __iter__(self):
        order = self._order()
        device = self.y.device if self.y is not None else next(iter(self.X.values())).device
        if order is not None:
            order = order.to(device)
        for start in range(0, self.n_samples, self.batch_size):
            if order is None:
                rows = slice(start, start + self.batch_size)
                Xb = {key: value[rows] for key, value in self.X.items()}
                yb = None if self.y is None else self.y[rows]
            else:
                rows = order[start : start + self.batch_size]
                Xb = {key: value.index_select(0, rows) for key, value in self.X.items()}
                yb = None if self.y is None else self.y.index_select(0, rows)
            yield Xb, yb


class _FusionNetMixin:
    """What both nets share: X is ``{"X": matrix, "sample_weight": weights}``."""

    @property
    def _default_callbacks(self):
        callbacks = [(name, cb) for name, cb in super()._default_callbacks if name != "print_log"]
        if self.verbose:
            callbacks.append(("print_log", PrintLog(sink=logger.info)))
        return callbacks

    def _set_training(self, training=True):
        # skorch calls this every batch; walking the module tree each time is measurable
        names = self._modules + self._criteria
        if any(getattr(getattr(self, n + "_"), "training", training) != training for n in names):
            super()._set_training(training)

    def infer(self, x, **fit_params):
        X = to_tensor(x["X"], device=self.device)
        return self.module_(X, **fit_params)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_true = to_tensor(y_true, device=self.device)
        weight = None
        if isinstance(X, dict) and X.get("sample_weight") is not None:
            weight = to_tensor(X["sample_weight"], device=self.device)
        return self.criterion_(y_pred, y_true, sample_weight=weight)


class FusionNetClassifier(_FusionNetMixin, NeuralNetClassifier):
    """skorch classifier net of :class:`skmm.heads.FusionClassifier` (``net_``)."""


class FusionNetRegressor(_FusionNetMixin, NeuralNetRegressor):
    """skorch regressor net of :class:`skmm.heads.FusionRegressor` (``net_``)."""
