"""A skorch callback that lets Optuna prune a trial from per-epoch validation scores."""

import logging

from skmm._deps import import_optional
from skmm.model_selection._context import current_trial

# Subclassing needs the base at definition time; ``skmm.model_selection`` imports this
# module lazily, so plain ``import skmm`` never pulls in skorch (and torch).
_Callback = import_optional("skorch.callbacks", "pruning skorch nets").Callback

logger = logging.getLogger(__name__)
_WARNED = set()  # monitors already warned about in this process: one line, not one per fold


class OptunaPruningCallback(_Callback):
    """Report a per-epoch score to the running Optuna trial; stop the fit when it is pruned.

    :class:`~skmm.model_selection.OptunaSearchCV` adds one to every skorch net (and
    every skmm head) of the estimator it tunes, so nets are pruned without any set-up.
    Add one yourself only to change what it monitors; the search then leaves the net
    alone. Outside a search (e.g. in ``best_estimator_``) the callback does nothing.

    Step scheme: by default only the first cross-validation fold reports, at step
    ``epoch - 1``. Pruning then saves the most (the remaining folds of a bad trial never
    run), a step means the same epoch of the same fold in every trial, and pruner
    warm-ups (``n_warmup_steps``) mean epochs. With ``all_folds=True`` fold ``k``
    reports at ``k * fold_stride + epoch - 1`` too, so a trial can also be stopped in a
    later fold; warm-ups then only cover the first fold.

    Parameters
    ----------
    monitor : str, default="valid_loss"
        Column of ``net.history`` to report: ``"valid_loss"`` or the name of an
        ``EpochScoring`` callback such as ``"valid_acc"``.
    lower_is_better : bool, optional
        Whether smaller values of ``monitor`` are better. By default it is read from
        the ``EpochScoring`` callback of that name, else True for names ending in
        ``"loss"``. Values are reported in the study's orientation (a loss is negated
        in a maximizing study), so pruners such as ``MedianPruner`` and
        ``ThresholdPruner`` see "larger is better" when the study maximizes.
    all_folds : bool, default=False
        Report (and allow pruning) in every fold, not only the first.
    fold_stride : int, optional
        With ``all_folds``, steps reserved per fold. Defaults to the net's
        ``max_epochs``; set it to the largest value searched when ``max_epochs`` itself
        is tuned, so steps of later folds line up across trials.

    See Also
    --------
    skmm.model_selection.OptunaSearchCV : injects this callback automatically.

    Examples
    --------
    >>> from skmm.model_selection import OptunaPruningCallback
    >>> cb = OptunaPruningCallback(monitor="valid_acc")
    >>> cb.get_params()["monitor"]
    'valid_acc'
    """

    def __init__(
        self, monitor="valid_loss", lower_is_better=None, all_folds=False, fold_stride=None
    ):
        self.monitor = monitor
        self.lower_is_better = lower_is_better
        self.all_folds = all_folds
        self.fold_stride = fold_stride

    def _lower_is_better(self, net):
        if self.lower_is_better is not None:
            return bool(self.lower_is_better)
        scoring = dict(getattr(net, "callbacks_", []) or []).get(self.monitor)
        if scoring is not None and hasattr(scoring, "lower_is_better"):
            return bool(scoring.lower_is_better)
        return self.monitor.endswith("loss")

    def on_epoch_end(self, net, **kwargs):
        slot = current_trial()
        if slot is None or (slot.fold > 0 and not self.all_folds):
            return
        row = net.history[-1]
        if self.monitor not in row:
            if self.monitor not in _WARNED:
                logger.warning(
                    "OptunaPruningCallback: the net's history has no %r column, so this "
                    "trial cannot be pruned. Columns: %s. Give the net a validation split "
                    "(train_split) or pick another monitor.",
                    self.monitor,
                    sorted(row),
                )
                _WARNED.add(self.monitor)
            return
        value = float(row[self.monitor])
        epoch = len(net.history)
        stride = self.fold_stride or net.max_epochs
        step = slot.fold * int(stride) + epoch - 1
        oriented = -value if self._lower_is_better(net) == slot.maximize else value
        # NaN is reported too: MedianPruner prunes a diverged trial on it.
        slot.trial.report(oriented, step)
        if slot.trial.should_prune():
            optuna = import_optional("optuna", "pruning")
            raise optuna.TrialPruned(
                f"pruned at fold {slot.fold}, epoch {epoch} ({self.monitor}={value:.6g})"
            )
