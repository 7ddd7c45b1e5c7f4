"""OptunaSearchCV: scikit-learn's search API driven by an Optuna study."""

import copy
import logging
import numbers
import tempfile
import time

import numpy as np
from joblib import effective_n_jobs
from sklearn import get_config
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state, get_tags, indexable
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.validation import check_is_fitted

from skmm._deps import import_optional
from skmm.model_selection import _plots
from skmm.model_selection._delegation import BestEstimatorMixin
from skmm.model_selection._heartbeat import FailStaleTrials, beat_interval, fail_stale_trials
from skmm.model_selection._objective import ERRORS_ATTR, Objective, check_space, metric_names
from skmm.model_selection._parallel import (
    copy_to_memory,
    default_sampler,
    open_study,
    optimize_in_processes,
    optuna_verbosity,
)
from skmm.model_selection._results import best_row, build_cv_results

logger = logging.getLogger(__name__)


class OptunaSearchCV(BestEstimatorMixin, MetaEstimatorMixin, BaseEstimator):
    """Cross-validated hyperparameter search whose candidates an Optuna study proposes.

    Works like :class:`~sklearn.model_selection.RandomizedSearchCV` (``cv_results_``,
    ``best_params_``, ``refit``, multi-metric ``scoring``, ``groups``), with Optuna's
    samplers and pruners, a study that can live in a shared database or journal file,
    and trials that run in worker processes. skorch nets and skmm heads inside the
    estimator get an :class:`~skmm.model_selection.OptunaPruningCallback` so
    unpromising trials stop early, from their per-epoch validation scores.

    Parameters
    ----------
    estimator : estimator object
        A pipeline or estimator; any of its parameters can be searched.
    param_distributions : dict or callable
        ``{param name: optuna distribution}`` (e.g. ``"clf__C":
        FloatDistribution(1e-3, 1e2, log=True)``), or a callable ``(trial) -> dict`` of
        params for conditional spaces; it may return any values (objects, tuples) and is
        replayed on each trial's suggestions to rebuild ``params``.
    n_trials : int or None, default=20
        Trials to run in this ``fit`` (added to those already in a resumed study).
    timeout : float, optional
        Stop starting new trials after this many seconds (per worker).
    cv : int, cross-validation generator or iterable, default=5
        As in scikit-learn; stratified for classifiers. The splits are drawn once, so
        every trial sees the same folds. Pass ``GroupKFold`` and ``groups`` for
        speaker-grouped CV.
    scoring : str, callable, list or dict, optional
        One metric, or several; with several, ``refit`` names the one optimized.
    refit : bool or str, default=True
        Refit the best parameters on all data. With multi-metric scoring give the
        metric name: the study optimizes it and ``best_*`` refer to it.
    study : optuna.Study, optional
        Continue this study (its sampler, pruner and storage are used; the
        ``storage``, ``study_name``, ``sampler`` and ``pruner`` params must be None).
    storage : str, path or optuna storage, optional
        Where the study lives, so several processes or machines share it:
        ``"sqlite:///study.db"``, ``"postgresql://user:pw@host/db"``,
        ``"journal:///path/study.log"`` or a path ending in ``.log`` (a
        ``JournalFileBackend``, the safest choice for many processes on one file
        system). None keeps it in memory.
    study_name : str, optional
        Name of the study in ``storage``; an existing study of that name is resumed
        (``load_if_exists``), so several runs add trials to one study.
    sampler, pruner : optuna sampler and pruner, optional
        Default: ``TPESampler`` seeded from ``random_state``; Optuna's default pruner
        (``MedianPruner``).
    direction : {"maximize", "minimize"}, default="maximize"
        scikit-learn scorers are "greater is better"; use "minimize" only with a
        scorer that returns a loss.
    n_jobs : int, default=1
        Trials run in parallel. -1 uses all cores.
    backend : {"processes", "threads"}, default="processes"
        How ``n_jobs > 1`` runs. ``"processes"``: joblib workers (loky, or any backend
        set with ``joblib.parallel_config``, e.g. dask) each run ``study.optimize`` on
        the shared storage; without a ``storage``, a temporary journal file is used and
        the study is copied back into memory afterwards. ``"threads"``: Optuna's own
        thread pool (fine when fitting releases the GIL, as torch does).
    random_state : int, RandomState or None
        Seeds the default sampler (worker ``i`` uses seed + i).
    return_train_score : bool, default=False
        Also score each fold's training part.
    error_score : "raise" or float, default=np.nan
        Score of a fold whose fit fails. A trial whose objective is NaN is marked FAIL.
    callbacks : list of callables, optional
        Passed to ``study.optimize``; each gets ``(study, frozen_trial)``.
    heartbeat_interval : int or None, default=60
        Seconds between the "still alive" records of a running trial, when the study
        lives in a storage (a database or journal file). A trial whose worker was
        killed (``kill -9``, out of memory, a lost machine) stops beating; after
        ``2 * heartbeat_interval`` seconds the next search on that study (or a live
        worker, before its next trial) marks it FAIL and runs its parameters again.
        On databases this is Optuna's own ``RDBStorage`` heartbeat; on journal files
        and given studies skmm records the beat as the trial's ``skmm_heartbeat`` user
        attribute. None turns it off (a killed trial then stays RUNNING).
    max_retry : int, default=1
        How many times the parameters of a trial whose worker died are run again.
    pruning_monitor : str or None, default="valid_loss"
        History column the injected pruning callback reports each epoch (see
        :class:`~skmm.model_selection.OptunaPruningCallback` for the step scheme).
        None injects nothing.
    verbose : int, default=0
        > 0 shows Optuna's per-trial log lines.

    Attributes
    ----------
    cv_results_ : dict of numpy arrays
        One row per finished trial of the study (including trials from earlier runs
        that used this objective): sklearn's keys (``params``, ``param_<name>``,
        ``split<i>_test_<metric>``, ``mean_test_<metric>``, ``std_test_<metric>``,
        ``rank_test_<metric>``, times) plus ``trial_number`` and ``state``.
        ``<metric>`` is ``score`` for single-metric scoring. Pruned and failed trials
        have NaN means and rank last.
    best_index_ : int
        Row of ``cv_results_`` of the best completed trial.
    best_params_ : dict
    best_score_ : float
        Mean cross-validated score of the best trial (the ``refit`` metric).
    best_estimator_ : estimator
        Refitted on all data (when ``refit``); without pruning callbacks.
    study_ : optuna.Study
    n_trials_ : int
        Trials in the study, all states, including earlier runs.
    n_splits_ : int
    multimetric_ : bool
    scorer_ : callable or dict
    refit_time_ : float

    See Also
    --------
    skmm.model_selection.OptunaPruningCallback
    skmm.model_selection.plot_optimization_history
    skmm.model_selection.plot_param_importances

    Examples
    --------
    >>> import optuna
    >>> from optuna.distributions import FloatDistribution
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmm.model_selection import OptunaSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> search = OptunaSearchCV(
    ...     LogisticRegression(max_iter=500),
    ...     {"C": FloatDistribution(1e-2, 1e2, log=True)},
    ...     n_trials=4, cv=3, random_state=0,
    ... ).fit(X, y)
    >>> len(search.cv_results_["params"]), search.best_score_ > 0.9
    (4, True)
    >>> search.predict(X[:2]).shape
    (2,)
    """

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_trials=20,
        timeout=None,
        cv=5,
        scoring=None,
        refit=True,
        study=None,
        storage=None,
        study_name=None,
        sampler=None,
        pruner=None,
        direction="maximize",
        n_jobs=1,
        backend="processes",
        random_state=None,
        return_train_score=False,
        error_score=np.nan,
        callbacks=None,
        heartbeat_interval=60,
        max_retry=1,
        pruning_monitor="valid_loss",
        verbose=0,
    ):
        self.estimator = estimator
        self.param_distributions = param_distributions
        self.n_trials = n_trials
        self.timeout = timeout
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.study = study
        self.storage = storage
        self.study_name = study_name
        self.sampler = sampler
        self.pruner = pruner
        self.direction = direction
        self.n_jobs = n_jobs
        self.backend = backend
        self.random_state = random_state
        self.return_train_score = return_train_score
        self.error_score = error_score
        self.callbacks = callbacks
        self.heartbeat_interval = heartbeat_interval
        self.max_retry = max_retry
        self.pruning_monitor = pruning_monitor
        self.verbose = verbose

    def _refit_metric(self):
        """The metric the study optimizes; validates ``refit`` against ``scoring``."""
        names = metric_names(self.scoring)
        if not isinstance(self.scoring, (list, tuple, set, dict)):
            return "score"
        if isinstance(self.refit, str) and self.refit in names:
            return self.refit
        raise ValueError(
            f"With several metrics ({names}), refit must name the one the study optimizes "
            f"and the best model is chosen by, e.g. refit={names[0]!r}; got {self.refit!r}."
        )

    def _check_params(self):
        check_space(self.param_distributions)
        if self.direction not in ("maximize", "minimize"):
            raise ValueError(f"direction must be 'maximize' or 'minimize', got {self.direction!r}.")
        if self.backend not in ("processes", "threads"):
            raise ValueError(f"backend must be 'processes' or 'threads', got {self.backend!r}.")
        interval = self.heartbeat_interval
        if interval is not None and not (isinstance(interval, numbers.Integral) and interval > 0):
            raise ValueError(
                f"heartbeat_interval must be a whole number of seconds >= 1, or None; got {interval!r}."
            )
        if not (isinstance(self.max_retry, numbers.Integral) and self.max_retry >= 0):
            raise ValueError(f"max_retry must be an int >= 0, got {self.max_retry!r}.")
        if self.study is not None and any(
            p is not None for p in (self.storage, self.study_name, self.sampler, self.pruner)
        ):
            raise ValueError(
                "Pass either study= or storage/study_name/sampler/pruner, not both: a given "
                "study already has its storage, name, sampler and pruner."
            )

    def fit(self, X, y=None, groups=None, **fit_params):
        """Run ``n_trials`` trials, build ``cv_results_`` and refit the best parameters.

        Parameters
        ----------
        X : array-like or DataFrame
            Anything the estimator accepts (raw paths, texts, numeric blocks).
        y : array-like, optional
        groups : array-like, optional
            Group labels for the CV splitter (e.g. speaker ids with ``GroupKFold``).
            With metadata routing enabled, also passed to the estimator's ``fit``
            wherever a step requests them (a :class:`~skmm.fusion.LateFusionClassifier`
            does by default, for its inner folds).
        **fit_params
            Passed to the estimator's ``fit`` (sample-aligned ones are split per fold);
            with metadata routing enabled, routed as the estimator requests them.

        Returns
        -------
        self : OptunaSearchCV
        """
        import_optional("optuna", "hyperparameter search")
        self._check_params()
        for stale in ("best_estimator_", "refit_time_"):  # from an earlier fit with refit
            self.__dict__.pop(stale, None)
        refit_metric = self._refit_metric()
        if y is None and get_tags(self.estimator).target_tags.required:
            raise ValueError(
                f"{type(self.estimator).__name__} requires y to be passed, but the target y is None."
            )
        X, y, groups = indexable(X, y, groups)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        split_params = {"groups": groups}
        if get_config()["enable_metadata_routing"]:
            # groups go wherever they are requested: the splitter, and e.g. a
            # LateFusionClassifier's inner folds inside the estimator.
            params = {**fit_params, **({} if groups is None else {"groups": groups})}
            routed = process_routing(self, "fit", **params)
            split_params, fit_params = routed.splitter.split, routed.estimator.fit
        splits = list(cv.split(X, y, **split_params))
        self.n_splits_ = len(splits)
        maximize = self.direction == "maximize"
        objective = Objective(
            self.estimator,
            self.param_distributions,
            X,
            y,
            splits,
            self.scoring,
            refit_metric,
            fit_params,
            self.return_train_score,
            self.error_score,
            self.pruning_monitor,
            maximize,
        )
        n_workers = effective_n_jobs(self.n_jobs)
        with (
            tempfile.TemporaryDirectory(prefix="skmm-study-") as tmpdir,
            optuna_verbosity(self.verbose),
        ):
            processes = n_workers > 1 and self.backend == "processes"
            # Worker samplers are re-seeded from this only when the search makes them.
            if self.study is None and self.sampler is None and self.random_state is not None:
                seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
            else:
                seed = None
            study, temporary = open_study(
                self.study,
                storage=self.storage,
                study_name=self.study_name,
                sampler=self.sampler if self.sampler is not None else default_sampler(seed),
                pruner=self.pruner,
                direction=self.direction,
                processes=processes,
                tmpdir=tmpdir,
                heartbeat_interval=self.heartbeat_interval,
                max_retry=self.max_retry,
            )
            callbacks = list(self.callbacks or [])
            objective.heartbeat_interval = beat_interval(study, self.heartbeat_interval)
            if objective.heartbeat_interval is not None:
                fail_stale_trials(study, objective.heartbeat_interval, self.max_retry)
                callbacks.append(FailStaleTrials(objective.heartbeat_interval, self.max_retry))
            if processes:
                optimize_in_processes(
                    study,
                    objective,
                    n_workers=n_workers,
                    n_trials=self.n_trials,
                    timeout=self.timeout,
                    callbacks=callbacks,
                    base_seed=seed,
                    verbose=self.verbose,
                )
            else:
                study.optimize(
                    objective,
                    n_trials=self.n_trials,
                    timeout=self.timeout,
                    n_jobs=n_workers,
                    callbacks=callbacks,
                )
            if temporary is not None:  # bring the study into memory before tmpdir goes
                study = copy_to_memory(study, temporary)
        self.study_ = study
        self.n_trials_ = len(study.trials)
        self.multimetric_ = isinstance(self.scoring, (list, tuple, set, dict))
        self.cv_results_ = build_cv_results(
            study.trials,
            self.param_distributions,
            self.scoring,
            self.n_splits_,
            self.return_train_score,
            maximize,
        )
        errors = [(t.number, e) for t in study.trials for e in t.user_attrs.get(ERRORS_ATTR, [])]
        self.best_index_ = best_row(self.cv_results_, refit_metric, maximize, errors)
        self.best_score_ = float(self.cv_results_[f"mean_test_{refit_metric}"][self.best_index_])
        self.best_params_ = self.cv_results_["params"][self.best_index_]
        self.scorer_ = self._make_scorer()
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(
                **copy.deepcopy(self.best_params_)
            )
            start = time.perf_counter()
            self.best_estimator_.fit(X, y, **fit_params)
            self.refit_time_ = time.perf_counter() - start
            logger.info("Refitted the best parameters in %.2f s", self.refit_time_)
        return self

    def get_metadata_routing(self):
        """Where ``fit``'s metadata go when metadata routing is enabled.

        ``groups`` and fit params reach the CV splitter's ``split`` and the estimator's
        ``fit`` (each fold gets its rows), as in scikit-learn's searches; the scorers get
        no metadata.

        Returns
        -------
        routing : MetadataRouter
        """
        splitter = check_cv(self.cv, classifier=is_classifier(self.estimator))
        return (
            MetadataRouter(owner=self)
            .add(
                estimator=self.estimator,
                method_mapping=MethodMapping().add(caller="fit", callee="fit"),
            )
            .add(
                splitter=splitter, method_mapping=MethodMapping().add(caller="fit", callee="split")
            )
        )

    def plot_optimization_history(self, path=None):
        """Plot the history of the study; see :func:`plot_optimization_history`."""
        check_is_fitted(self, "study_")
        return _plots.plot_optimization_history(self.study_, path)

    def plot_param_importances(self, path=None):
        """Plot parameter importances; see :func:`plot_param_importances`."""
        check_is_fitted(self, "study_")
        return _plots.plot_param_importances(self.study_, path)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        sub = get_tags(self.estimator)
        tags.estimator_type = sub.estimator_type
        tags.classifier_tags = copy.deepcopy(sub.classifier_tags)
        tags.regressor_tags = copy.deepcopy(sub.regressor_tags)
        tags.target_tags = copy.deepcopy(sub.target_tags)
        tags.input_tags = copy.deepcopy(sub.input_tags)
        return tags
