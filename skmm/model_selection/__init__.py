"""Hyperparameter search with Optuna: :class:`OptunaSearchCV`, pruning of skorch heads, plots.

``OptunaPruningCallback`` subclasses skorch's ``Callback``, so it is imported on first
access: importing this package never imports skorch or torch.
"""

from skmm.model_selection._plots import plot_optimization_history, plot_param_importances
from skmm.model_selection._search import OptunaSearchCV

__all__ = [
    "OptunaPruningCallback",
    "OptunaSearchCV",
    "plot_optimization_history",
    "plot_param_importances",
]


def __getattr__(name):
    if name == "OptunaPruningCallback":
        from skmm.model_selection._pruning import OptunaPruningCallback

        return OptunaPruningCallback
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
