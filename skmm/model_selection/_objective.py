"""The objective each Optuna trial runs: suggest parameters, cross-validate, store scores."""

import sys
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import cross_validate

from skmm._deps import import_optional
from skmm.model_selection._context import trial_scope
from skmm.model_selection._heartbeat import TrialHeartbeat


class SearchSpaceError(ValueError, TypeError):
    """``param_distributions`` (or what its callable returned) is not a valid search space."""


# The user attribute each trial's fold scores are stored under (JSON, so any storage keeps it).
CV_ATTR = "skmm_cv"
# ... and the distinct errors of its failed folds, quoted when no trial succeeds.
ERRORS_ATTR = "skmm_errors"


def check_space(space):
    """Validate ``param_distributions``: a callable, or a dict of optuna distributions."""
    if callable(space):
        return
    distributions = import_optional("optuna.distributions", "hyperparameter search")
    if not isinstance(space, dict) or not space:
        raise SearchSpaceError(
            "param_distributions must be a non-empty dict {param name: optuna distribution} "
            f"or a callable (trial) -> dict of params; got {type(space).__name__}."
        )
    for name, dist in space.items():
        if not isinstance(dist, distributions.BaseDistribution):
            raise SearchSpaceError(
                f"param_distributions[{name!r}] is {dist!r}, not an optuna distribution. Use "
                "e.g. optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True), "
                "IntDistribution(8, 256) or CategoricalDistribution(['a', 'b'])."
            )


def suggest_params(space, trial):
    """Ask ``trial`` for one value per entry of ``space`` (or call the callable space)."""
    if callable(space):
        params = space(trial)
        if not isinstance(params, dict):
            raise SearchSpaceError(
                f"The search-space callable must return a dict of params, got {type(params)}."
            )
        return params
    distributions = import_optional("optuna.distributions", "hyperparameter search")
    params = {}
    for name, dist in space.items():
        # The public suggest_* API, so trials record the same distribution the user gave.
        if isinstance(dist, distributions.FloatDistribution):
            params[name] = trial.suggest_float(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif isinstance(dist, distributions.IntDistribution):
            params[name] = trial.suggest_int(
                name, dist.low, dist.high, step=dist.step, log=dist.log
            )
        elif isinstance(dist, distributions.CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
        else:
            raise SearchSpaceError(f"Unsupported distribution for {name!r}: {dist!r}.")
    return params


def params_of_trial(space, frozen):
    """The estimator params a finished trial used (a callable space is replayed on them)."""
    if not callable(space):
        return {name: frozen.params[name] for name in space if name in frozen.params}
    optuna = import_optional("optuna", "hyperparameter search")
    return space(optuna.trial.FixedTrial(frozen.params, frozen.number))


def _is_prunable(obj):
    if isinstance(obj, type) or not hasattr(obj, "get_params"):
        return False
    skorch = sys.modules.get("skorch")  # a net in the estimator means skorch is imported
    is_net = skorch is not None and isinstance(obj, skorch.NeuralNet)
    return (is_net or getattr(obj, "_skmm_supports_pruning", False)) and (
        "callbacks" in obj.get_params(deep=False)
    )


def inject_pruning(estimator, monitor):
    """Add an :class:`OptunaPruningCallback` to every skorch net / skmm head in ``estimator``.

    Nets that already carry one, or whose callbacks are ``"disable"``, are left alone;
    a net nested inside an injected one is skipped so no epoch is reported twice.
    Returns the parameter paths that were changed.
    """
    found = [("", estimator)] if _is_prunable(estimator) else []
    found += [(k, v) for k, v in estimator.get_params(deep=True).items() if _is_prunable(v)]
    done = []
    for path, net in sorted(found, key=lambda item: item[0].count("__")):
        if any(path == p or path.startswith(p + "__") for p in done if p) or "" in done:
            continue
        from skmm.model_selection._pruning import OptunaPruningCallback

        existing = net.get_params(deep=False)["callbacks"]
        if existing == "disable":
            continue
        existing = list(existing or [])
        cbs = [c[1] if isinstance(c, (tuple, list)) else c for c in existing]
        if not any(isinstance(c, OptunaPruningCallback) for c in cbs):
            key = f"{path}__callbacks" if path else "callbacks"
            new = existing + [("optuna_pruning", OptunaPruningCallback(monitor=monitor))]
            estimator.set_params(**{key: new})
        done.append(path)
    return done


def metric_names(scoring):
    """Metric names as ``cross_validate`` suffixes them: ``["score"]`` for one metric."""
    if isinstance(scoring, dict):
        return list(scoring)
    if isinstance(scoring, (list, tuple, set)):
        return list(scoring)
    return ["score"]


class Objective:
    """Cross-validated score of one trial's parameters; picklable for process workers.

    Each fold is one ``cross_validate`` call on a precomputed split, inside a
    :func:`trial_scope` naming the fold, so pruning callbacks know where they are.
    With ``heartbeat_interval`` set, the trial records that it is alive while it runs
    (:class:`~skmm.model_selection._heartbeat.TrialHeartbeat`).
    """

    heartbeat_interval = None

    def __init__(
        self,
        estimator,
        space,
        X,
        y,
        splits,
        scoring,
        refit_metric,
        fit_params,
        return_train_score,
        error_score,
        pruning_monitor,
        maximize,
    ):
        self.estimator = estimator
        self.space = space
        self.X = X
        self.y = y
        self.splits = splits
        self.scoring = scoring
        self.refit_metric = refit_metric
        self.fit_params = fit_params
        self.return_train_score = return_train_score
        self.error_score = error_score
        self.pruning_monitor = pruning_monitor
        self.maximize = maximize

    def keys(self):
        parts = ["test", "train"] if self.return_train_score else ["test"]
        names = metric_names(self.scoring)
        return ["fit_time", "score_time"] + [f"{p}_{m}" for p in parts for m in names]

    def _fold(self, estimator, fold, train, test, trial):
        try:
            out = cross_validate(
                estimator,
                self.X,
                self.y,
                cv=[(train, test)],
                scoring=self.scoring,
                params=self.fit_params,
                return_train_score=self.return_train_score,
                error_score="raise",
            )
        except import_optional("optuna").TrialPruned:
            raise
        except Exception as exc:
            if isinstance(self.error_score, str) and self.error_score == "raise":
                raise
            errors = trial.user_attrs.get(ERRORS_ATTR, [])
            message = f"{type(exc).__name__}: {exc}"
            if message not in errors:
                trial.set_user_attr(ERRORS_ATTR, [*errors, message])
            warnings.warn(
                f"Fold {fold} of trial {trial.number} failed; its scores are set to "
                f"error_score={self.error_score}. Error: {exc!r}",
                FitFailedWarning,
                stacklevel=2,
            )
            return {k: (np.nan if k.endswith("_time") else self.error_score) for k in self.keys()}
        return {k: float(np.asarray(out[k])[0]) for k in self.keys()}

    def __call__(self, trial):
        if self.heartbeat_interval is None:
            return self._evaluate(trial)
        with TrialHeartbeat(trial, self.heartbeat_interval):
            return self._evaluate(trial)

    def _evaluate(self, trial):
        optuna = import_optional("optuna", "hyperparameter search")
        params = suggest_params(self.space, trial)
        estimator = clone(self.estimator).set_params(**params)
        if self.pruning_monitor is not None:
            inject_pruning(estimator, self.pruning_monitor)
        scores = {k: [] for k in self.keys()}
        try:
            for fold, (train, test) in enumerate(self.splits):
                with trial_scope(trial, fold, self.maximize):
                    out = self._fold(estimator, fold, train, test, trial)
                for key, value in out.items():
                    scores[key].append(float(value))
        except optuna.TrialPruned:
            trial.set_user_attr(CV_ATTR, scores)
            raise
        trial.set_user_attr(CV_ATTR, scores)
        return float(np.mean(scores[f"test_{self.refit_metric}"]))
