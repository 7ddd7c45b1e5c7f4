"""PNG plots of a search: optimisation history and parameter importances (matplotlib)."""

import logging
import warnings

from skmm._deps import import_optional

logger = logging.getLogger(__name__)


def _study_of(search_or_study):
    study = getattr(search_or_study, "study_", search_or_study)
    if not hasattr(study, "trials"):
        raise ValueError("Expected a fitted OptunaSearchCV or an optuna Study; call fit() first.")
    return study


def _draw(plot, study, path, **kwargs):
    matplotlib = import_optional("matplotlib", "plotting a search")
    import_optional("matplotlib.pyplot", "plotting a search")
    vis = import_optional("optuna.visualization.matplotlib", "plotting a search")
    # optuna's plots call plt.style.use("ggplot"); rc_context keeps that out of the user's rcParams.
    with matplotlib.rc_context(), warnings.catch_warnings():
        warnings.simplefilter("ignore", import_optional("optuna").exceptions.ExperimentalWarning)
        ax = getattr(vis, plot)(study, **kwargs)
        if path is not None:
            ax.figure.savefig(path, dpi=120, bbox_inches="tight")
            matplotlib.pyplot.close(ax.figure)
            logger.info("Wrote %s", path)
    return ax


def plot_optimization_history(search_or_study, path=None):
    """Plot the objective value of every trial and the best value so far.

    Parameters
    ----------
    search_or_study : OptunaSearchCV or optuna.Study
        A fitted search, or its ``study_``.
    path : str or path-like, optional
        Write the figure there as PNG (and close it).

    Returns
    -------
    ax : matplotlib.axes.Axes

    Examples
    --------
    >>> import optuna
    >>> from skmm.model_selection import plot_optimization_history
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study()
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=3)
    >>> ax = plot_optimization_history(study)
    >>> ax.get_title()
    'Optimization History Plot'
    """
    return _draw("plot_optimization_history", _study_of(search_or_study), path)


def plot_param_importances(search_or_study, path=None):
    """Plot how much each searched parameter mattered (optuna's default evaluator).

    Parameters
    ----------
    search_or_study : OptunaSearchCV or optuna.Study
        A fitted search, or its ``study_``.
    path : str or path-like, optional
        Write the figure there as PNG (and close it).

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        With fewer than two completed trials, or when no parameter was searched:
        importances are then undefined.

    Examples
    --------
    >>> import optuna
    >>> from skmm.model_selection import plot_param_importances
    >>> optuna.logging.set_verbosity(optuna.logging.WARNING)
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) + t.suggest_int("n", 0, 3), n_trials=8)
    >>> ax = plot_param_importances(study)
    >>> sorted(label.get_text() for label in ax.get_yticklabels())
    ['n', 'x']
    """
    study = _study_of(search_or_study)
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    if len(complete) < 2:
        raise ValueError(
            f"Parameter importances need at least 2 completed trials; the study has "
            f"{len(complete)}. Run more trials (n_trials) before plotting them."
        )
    names = {name for t in complete for name in t.params}
    if not names:
        raise ValueError("Parameter importances need at least one searched parameter; none was.")
    if len(names) == 1:
        logger.warning(
            "Only one parameter (%s) was searched: its importance is 1 by definition.",
            next(iter(names)),
        )
    return _draw("plot_param_importances", study, path)
