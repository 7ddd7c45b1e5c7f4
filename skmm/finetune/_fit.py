"""One fine-tuning run: load a private copy of the backbone, apply the method, train."""

import logging
from dataclasses import dataclass

import numpy as np

from .._device import resolve_device, resolve_dtype, seeded_torch, torch_dtype
from .._threads import torch_threads
from ._data import BucketLoaders, PreparedRows, validation_rows
from ._methods import DEFAULT_LR, apply_method, torch_module, trainable_state
from ._training import KeepBestEpoch, TunedModule, TuningNet, skorch, torch, warmup_schedule

logger = logging.getLogger("skmm")


@dataclass
class Result:
    """What a fit learned: trained parameters, the head, the history."""

    state: dict | None
    head: tuple
    history: list
    best_epoch: int
    interrupted: bool


def train(estimator, encoder, items, targets, probe=None):
    """Fine-tune ``encoder``'s backbone and a head on prepared ``items``; return a Result.

    ``probe``: the frozen encoder's vectors of the same rows, to start the head from a
    linear model fitted on them (``head_init="probe"``), or None.
    """
    device = resolve_device(estimator.device)
    seed = estimator._seed()
    with torch_threads(estimator._threads()), seeded_torch(seed, device):
        return _train(estimator, encoder, items, targets, probe, device, seed)


def _train(estimator, encoder, items, targets, probe, device, seed):
    method = estimator.method
    if method == "head":
        model = module = None
        names = []
    else:
        model = encoder.backbone_.load(device, "float32")  # a private copy: training changes it
        module = torch_module(model)
        names = apply_method(module, method, **estimator._method_options())
    n_outputs = len(estimator.classes_) if estimator._task == "classification" else targets.shape[1]
    net_module = TunedModule(
        encoder, model, module, encoder.n_features_out_, n_outputs, estimator.dropout,
        _amp_dtype(estimator.precision, device),
    )  # fmt: skip
    net_module.set_scale(items)
    if probe is not None:
        _probe_head(net_module, probe, targets, estimator)
    sizes = _sizes(encoder, items)
    data = PreparedRows(items, targets, sizes)
    train_split = None
    train_rows = np.arange(len(items))
    if estimator.early_stopping:
        train_rows, valid_rows = validation_rows(
            targets,
            estimator.validation_fraction,
            seed,
            stratify=estimator._task == "classification",
        )
        train_split = skorch.helper.predefined_split(data.subset(valid_rows))
        data = data.subset(train_rows)
    keep = KeepBestEpoch(
        [f"backbone.{n}" for n in names] + ["head.1.weight", "head.1.bias"],
        monitor="valid_loss",
    )
    net = _net(estimator, net_module, device, seed, len(data), train_split, keep, targets)
    net.set_params(
        loss_scaling=device.startswith("cuda") and net_module._amp_dtype == torch.float16
    )
    net.fit(data, y=None)
    if net.interrupted_:
        if keep.state_ is None:
            raise KeyboardInterrupt(
                f"{type(estimator).__name__}.fit was interrupted before its first epoch "
                "ended; the estimator is not fitted."
            )
        logger.warning(
            "%s: fit interrupted during epoch %d; keeping epoch %d.",
            type(estimator).__name__,
            len(net.history),
            keep.best_epoch_,
        )
    head = net.module_.head[1]
    history = [
        {k: row[k] for k in ("epoch", "train_loss", "valid_loss", "dur") if k in row}
        for row in net.history
    ]
    return Result(
        state=trainable_state(module, names) if names else None,
        head=(  # the input scale folded in: predict applies the head to transform's vectors
            (head.weight * net.module_.scale).detach().float().cpu().numpy().copy(),
            head.bias.detach().float().cpu().numpy().copy(),
        ),
        history=history,
        best_epoch=int(keep.best_epoch_),
        interrupted=bool(net.interrupted_),
    )


def _net(estimator, module, device, seed, n_train, train_split, keep, targets):
    n_batches = -(-n_train // estimator.batch_size)
    steps_per_epoch = -(-n_batches // estimator.accumulation_steps)
    total = steps_per_epoch * estimator.max_epochs
    lr = estimator.lr if estimator.lr is not None else DEFAULT_LR[estimator.method]
    callbacks = [("keep_best", keep)]
    if estimator.early_stopping:
        callbacks.append(
            (
                "early_stopping",
                skorch.callbacks.EarlyStopping(monitor="valid_loss", patience=estimator.patience),
            )
        )
    if estimator.progress is True or (estimator.progress == "auto" and _on_terminal()):
        callbacks.append(("progress", skorch.callbacks.ProgressBar()))
    callbacks += list(estimator.callbacks or [])
    weights = estimator._loss_weights(targets)
    if estimator._task == "classification":
        criterion = torch.nn.CrossEntropyLoss
        criterion_args = {}
        if weights is not None:
            criterion_args["criterion__weight"] = torch.as_tensor(weights, dtype=torch.float32)
    else:
        criterion, criterion_args = torch.nn.MSELoss, {}
    return TuningNet(
        module,
        criterion=criterion,
        optimizer=torch.optim.AdamW,
        lr=lr,
        optimizer__weight_decay=estimator.weight_decay,
        optimizer__param_groups=[("head.*", {"lr": estimator.head_lr})],
        max_epochs=estimator.max_epochs,
        batch_size=estimator.batch_size,
        iterator_train=BucketLoaders(seed),
        iterator_train__shuffle=True,
        iterator_valid=BucketLoaders(seed),
        train_split=train_split,
        callbacks=callbacks,
        device=device,
        verbose=estimator.verbose,
        accumulation_steps=estimator.accumulation_steps,
        max_grad_norm=estimator.max_grad_norm,
        schedule=warmup_schedule(estimator.warmup, total, estimator.schedule),
        **criterion_args,
    )


def _probe_head(module, vectors, targets, estimator):
    """Start the head from a linear model on the frozen vectors (linear probing, then tuning).

    Fine-tuning then starts where the frozen encoder with a linear model ends, instead of
    from random logits whose gradients would first push the encoder anywhere: Kumar et
    al., "Fine-Tuning can Distort Pretrained Features and Underperform
    Out-of-Distribution" (ICLR 2022). A logistic regression for a classifier (with its
    class weights), a ridge regression on the standardised targets for a regressor.
    """
    from sklearn.linear_model import LogisticRegression, Ridge

    # fitted on the vectors as they are (the regularisation then means what it means for
    # the frozen encoder + LogisticRegression), then rescaled to the head's input scale
    x = np.asarray(vectors, dtype=np.float64)
    if estimator._task == "classification" and len(np.unique(targets)) < 2:
        return  # nothing to separate: the head keeps its random start
    if estimator._task == "classification":
        weights = estimator._loss_weights(targets)
        class_weight = None if weights is None else dict(enumerate(weights))
        linear = LogisticRegression(max_iter=1000, class_weight=class_weight).fit(x, targets)
        coef, bias = linear.coef_, linear.intercept_
        if len(linear.classes_) == 2 and coef.shape[0] == 1:  # one logit difference
            coef, bias = np.vstack([-coef / 2, coef / 2]), np.array([-bias[0] / 2, bias[0] / 2])
        full_coef = np.zeros((len(estimator.classes_), x.shape[1]))
        full_bias = np.full(len(estimator.classes_), -1e4 if len(linear.classes_) > 1 else 0.0)
        full_coef[linear.classes_], full_bias[linear.classes_] = coef, bias
    else:
        linear = Ridge(alpha=1.0).fit(x, targets)
        full_coef, full_bias = linear.coef_.reshape(targets.shape[1], -1), linear.intercept_
    head = module.head[1]
    with torch.no_grad():
        head.weight.copy_(torch.as_tensor(full_coef / float(module.scale), dtype=torch.float32))
        head.bias.copy_(torch.as_tensor(np.ravel(full_bias), dtype=torch.float32))


def _sizes(encoder, items):
    if not items or encoder._size(items[0]) is None:
        return None
    return np.asarray([encoder._size(item) for item in items], dtype=np.int64)


def _amp_dtype(precision, device):
    """Autocast dtype by the encoders' rule (``resolve_dtype``); None for float32."""
    name = resolve_dtype(precision, device)
    return None if name == "float32" else torch_dtype(name)


def _on_terminal():
    import sys

    return sys.stderr.isatty()
