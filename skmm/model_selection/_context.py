"""Where a running trial is published to the code it fits (pruning callbacks).

Each trial runs wholly in one thread of one process (threads and process workers
alike), so a :class:`contextvars.ContextVar` set by the search around each fold is
visible to every callback that fold's fit calls, and to nothing else.
"""

import contextlib
import contextvars
from dataclasses import dataclass

_CURRENT = contextvars.ContextVar("skmm_optuna_trial", default=None)


@dataclass(frozen=True)
class TrialSlot:
    """The trial being evaluated and the cross-validation fold being fitted.

    Attributes
    ----------
    trial : optuna.trial.Trial
        The live trial; callbacks call ``report`` and ``should_prune`` on it.
    fold : int
        Index of the fold being fitted, from 0.
    maximize : bool
        Whether the study maximizes its objective; intermediate values are
        reported in that orientation.
    """

    trial: object
    fold: int
    maximize: bool


def current_trial():
    """The :class:`TrialSlot` of the fit in progress, or None outside a search.

    Examples
    --------
    >>> from skmm.model_selection._context import current_trial
    >>> current_trial() is None
    True
    """
    return _CURRENT.get()


@contextlib.contextmanager
def trial_scope(trial, fold, maximize):
    """Publish ``trial`` and ``fold`` to pruning callbacks for the duration of a block.

    Examples
    --------
    >>> from skmm.model_selection._context import current_trial, trial_scope
    >>> with trial_scope("a trial", 2, True):
    ...     current_trial().fold
    2
    >>> current_trial() is None
    True
    """
    token = _CURRENT.set(TrialSlot(trial, fold, maximize))
    try:
        yield
    finally:
        _CURRENT.reset(token)
