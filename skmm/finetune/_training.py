"""The training loop: a skorch net over the encoder's own forward pass and a linear head.

skorch runs the epochs, the validation split, early stopping, progress and callbacks
(OptunaSearchCV's pruning callback among them). This module adds what fine-tuning needs
on top: gradient accumulation, clipping and a warm-up schedule stepped per optimizer
step, mixed precision on a GPU, and a snapshot of the trained parameters at the best
finished epoch, restored at the end of training and when a fit is interrupted.

It imports skorch and torch at the top: the estimators import it only inside ``fit``.
"""

import logging
import math

import numpy as np

from .._deps import import_optional
from ._methods import trainable_state

torch = import_optional("torch", "fine-tuning")
skorch = import_optional("skorch", "fine-tuning (pip install 'skmm[finetune]')")
import_optional("skorch.helper")  # predefined_split

logger = logging.getLogger("skmm")


class TunedModule(torch.nn.Module):
    """The encoder's forward pass (``_embed_batch``) on a loaded model, then a linear head.

    With ``frozen=True`` the batch holds the frozen encoder's vectors already (method
    ``"head"``) and only the head runs.
    """

    def __init__(self, encoder, model, backbone, width, n_outputs, dropout, amp_dtype=None):
        super().__init__()
        self.backbone = backbone  # registered: its trainable parameters reach the optimizer
        self.head = torch.nn.Sequential(
            torch.nn.Dropout(dropout), torch.nn.Linear(width, n_outputs)
        )
        self.register_buffer("scale", torch.ones(()))
        self._encoder = encoder
        self._model = model
        self._amp_dtype = amp_dtype

    def train(self, mode=True):
        """Train mode; frozen normalisation layers keep their running statistics."""
        super().train(mode)
        if self.backbone is not None:
            for layer in self.backbone.modules():
                if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm) and not any(
                    p.requires_grad for p in layer.parameters(recurse=False)
                ):
                    layer.eval()
        return self

    def embed(self, batch):
        """The pooled vectors of a batch of prepared items."""
        batch = list(batch)
        device = self.head[1].weight.device
        if self.backbone is None:
            return torch.as_tensor(np.stack(batch), device=device)
        with torch.autocast(
            device.type, dtype=self._amp_dtype, enabled=self._amp_dtype is not None
        ):
            return self._encoder._embed_batch(self._model, batch).float()

    def set_scale(self, items, n=64):
        """Scale the head's input to unit root-mean-square, measured on ``n`` items.

        Sentence embeddings are unit vectors (coordinates near ``1/sqrt(D)``) and image or
        audio features have their own magnitudes; a linear head starting from small
        weights then passes the encoder almost no gradient. Rescaled inputs give logits of
        order one from the start, whatever the backbone. The scale is folded into the
        head's weights after training.
        """
        with torch.no_grad():
            was_training = self.training
            self.eval()
            z = self.embed(items[:n])
            self.train(was_training)
        rms = float(z.float().pow(2).mean().sqrt())
        self.scale.fill_(1.0 / rms if rms > 0 else 1.0)

    def forward(self, batch):
        return self.head(self.embed(batch) * self.scale)


def warmup_schedule(warmup, total, kind):
    """Learning-rate factor per optimizer step: linear warm-up, then linear/cosine/constant.

    Examples
    --------
    >>> from skmm.finetune._training import warmup_schedule
    >>> f = warmup_schedule(0.2, 10, "linear")
    >>> [round(f(s), 2) for s in (0, 1, 2, 6, 10)]
    [0.33, 0.67, 1.0, 0.5, 0.0]
    """
    n_warm = int(round(warmup * total))

    def factor(step):
        if step < n_warm:
            return (step + 1) / (n_warm + 1)
        if kind == "constant":
            return 1.0
        done = min(1.0, (step - n_warm) / max(1, total - n_warm))
        return 1.0 - done if kind == "linear" else 0.5 * (1.0 + math.cos(math.pi * done))

    return factor


class KeepBestEpoch(skorch.callbacks.Callback):
    """Snapshot the trained parameters at the best finished epoch; restore them at the end.

    "Best" is the lowest ``monitor`` (validation loss) when the history has it, else
    the latest epoch. The snapshot holds the trainable parameters only (LoRA adapters,
    the top blocks, the head), never the frozen weights.
    """

    def __init__(self, names, monitor="valid_loss"):
        self.names = names
        self.monitor = monitor

    def initialize(self):
        self.best_epoch_, self.best_score_, self.state_ = 0, math.inf, None
        return self

    def on_epoch_end(self, net, **kwargs):
        row = net.history[-1]
        score = float(row[self.monitor]) if self.monitor in row else -row["epoch"]
        if score < self.best_score_ or math.isnan(self.best_score_):
            self.best_epoch_, self.best_score_ = row["epoch"], score
            self.state_ = trainable_state(net.module_, self.names)

    def on_train_end(self, net, **kwargs):
        if self.state_ is not None:
            params = dict(net.module_.named_parameters())
            with torch.no_grad():
                for name, value in self.state_.items():
                    params[name].copy_(torch.from_numpy(value))


class TuningNet(skorch.NeuralNet):
    """skorch's NeuralNet with gradient accumulation, clipping and a per-step schedule.

    Extra parameters: ``accumulation_steps``, ``max_grad_norm`` (None: no clipping),
    ``schedule`` (a function of the optimizer step) and ``loss_scaling`` (float16
    autocast on a GPU).
    """

    def __init__(
        self,
        *args,
        accumulation_steps=1,
        max_grad_norm=1.0,
        schedule=None,
        loss_scaling=False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.accumulation_steps = accumulation_steps
        self.max_grad_norm = max_grad_norm
        self.schedule = schedule
        self.loss_scaling = loss_scaling
        self.interrupted_ = False

    def initialize_optimizer(self, *args, **kwargs):
        super().initialize_optimizer(*args, **kwargs)
        factor = self.schedule or (lambda step: 1.0)
        self.scheduler_ = torch.optim.lr_scheduler.LambdaLR(self.optimizer_, factor)
        # float16 autocast needs its gradients scaled (bfloat16 and float32 do not)
        self.scaler_ = torch.amp.GradScaler("cuda", enabled=self.loss_scaling)
        self._pending = 0
        return self

    def infer(self, x, **fit_params):
        # the batch is prepared items, which the encoder's forward pass takes as they are
        return self.module_(x, **fit_params)

    def get_all_learnable_params(self):
        for name, param in super().get_all_learnable_params():
            if param.requires_grad:
                yield name, param

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        Xi, yi = skorch.dataset.unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.get_loss(y_pred, yi, X=Xi, training=True)
        self.scaler_.scale(loss / self.accumulation_steps).backward()
        return {"loss": loss, "y_pred": y_pred}

    def train_step(self, batch, **fit_params):
        step = self.train_step_single(batch, **fit_params)
        self._pending += 1
        if self._pending == self.accumulation_steps:
            self._optimizer_step()
        return step

    def _optimizer_step(self):
        if self.max_grad_norm is not None:
            self.scaler_.unscale_(self.optimizer_)
            params = [p for _, p in self.get_all_learnable_params()]
            torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
        self.scaler_.step(self.optimizer_)
        self.scaler_.update()
        self.optimizer_.zero_grad(set_to_none=True)
        self.scheduler_.step()
        self._pending = 0

    def on_epoch_end(self, net, **kwargs):
        if self._pending:  # the epoch's last, partial accumulation
            self._optimizer_step()
        super().on_epoch_end(net, **kwargs)

    def fit_loop(self, X, y=None, epochs=None, **fit_params):
        try:
            return super().fit_loop(X, y, epochs=epochs, **fit_params)
        except KeyboardInterrupt:
            self.interrupted_ = True  # skorch catches it and ends training cleanly
            raise
