"""OptunaSearchCV: search spaces, multi-metric refit, groups, shared storage, processes,
pruning of skorch nets, plots."""

import os
import pickle
from typing import ClassVar

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

optuna = pytest.importorskip("optuna")
from optuna.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from skmm.model_selection import OptunaSearchCV
from skmm.model_selection._objective import SearchSpaceError

C_SPACE = {"clf__C": FloatDistribution(1e-3, 1e2, log=True)}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=60, n_features=5, n_informative=3, n_redundant=0, random_state=0
    )
    return X, y


def _pipe():
    return Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=200))])


def test_basic_search_over_pipeline_param(data):
    X, y = data
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    search = OptunaSearchCV(_pipe(), C_SPACE, n_trials=5, cv=cv, random_state=0).fit(X, y)

    res = search.cv_results_
    assert len(res["params"]) == 5 and search.n_trials_ == 5
    assert list(res["state"]) == ["COMPLETE"] * 5
    for key in (
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "split2_test_score",
        "mean_fit_time",
        "param_clf__C",
    ):
        assert len(res[key]) == 5, key
    assert res["rank_test_score"][search.best_index_] == 1
    assert search.best_score_ == res["mean_test_score"][search.best_index_]
    assert 1e-3 <= search.best_params_["clf__C"] <= 1e2
    # The reported score is an honest 3-fold CV score of the best params on the same folds.
    again = cross_val_score(clone(_pipe()).set_params(**search.best_params_), X, y, cv=cv)
    assert search.best_score_ == pytest.approx(again.mean())
    # Refit on all data; predict/predict_proba/score delegate to it.
    assert search.best_estimator_.named_steps["clf"].C == search.best_params_["clf__C"]
    assert search.predict(X).shape == (60,)
    assert search.predict_proba(X).shape == (60, 2)
    assert search.score(X, y) == pytest.approx(search.best_estimator_.score(X, y))
    assert list(search.classes_) == [0, 1]
    assert search.study_.best_value == pytest.approx(search.best_score_)


def test_clone_and_pickle_round_trip(data, tmp_path):
    X, y = data
    search = OptunaSearchCV(_pipe(), C_SPACE, n_trials=2, cv=2, random_state=0)
    assert clone(search).get_params()["n_trials"] == 2
    search.fit(X, y)
    for storage in (None, f"sqlite:///{tmp_path / 'p.db'}"):
        fitted = clone(search).set_params(storage=storage).fit(X, y)
        restored = pickle.loads(pickle.dumps(fitted))
        np.testing.assert_array_equal(restored.predict_proba(X), fitted.predict_proba(X))
        assert len(restored.study_.trials) == 2
    # The same seed proposes the same trials.
    again = clone(search).fit(X, y)
    assert again.cv_results_["params"] == search.cv_results_["params"]


def test_delegation_follows_the_estimator(data):
    X, _ = data
    search = OptunaSearchCV(_pipe(), C_SPACE, n_trials=1, cv=2)
    assert hasattr(search, "predict_proba") and not hasattr(search, "transform")
    assert not hasattr(OptunaSearchCV(_pipe(), C_SPACE, refit=False), "predict")
    with pytest.raises(ValueError, match="not fitted"):
        search.predict(X)


def test_callable_conditional_space(data):
    X, y = data

    def space(trial):
        kind = trial.suggest_categorical("kind", ["lr", "knn"])
        if kind == "lr":
            return {"clf": LogisticRegression(C=trial.suggest_float("C", 0.01, 10, log=True))}
        return {"clf": KNeighborsClassifier(trial.suggest_int("k", 1, 9))}

    sampler = optuna.samplers.RandomSampler(seed=1)
    search = OptunaSearchCV(_pipe(), space, n_trials=8, cv=3, sampler=sampler).fit(X, y)
    res = search.cv_results_
    kinds = [type(p["clf"]).__name__ for p in res["params"]]
    assert set(kinds) == {"LogisticRegression", "KNeighborsClassifier"}
    # Replayed params are the objects the trials used; absent ones are masked, as in sklearn.
    assert "param_clf" in res
    assert list(res["param_clf"].mask) == [False] * 8
    best_clf = search.best_estimator_.named_steps["clf"]
    assert type(best_clf) is type(search.best_params_["clf"])
    assert best_clf.get_params() == search.best_params_["clf"].get_params()


def test_multi_metric_with_refit(data):
    X, y = data
    scoring = {"acc": "accuracy", "f1": "f1_macro"}
    search = OptunaSearchCV(
        _pipe(),
        C_SPACE,
        n_trials=4,
        cv=3,
        scoring=scoring,
        refit="f1",
        random_state=0,
        return_train_score=True,
    ).fit(X, y)
    res = search.cv_results_
    for key in (
        "mean_test_acc",
        "rank_test_acc",
        "mean_test_f1",
        "rank_test_f1",
        "split0_train_f1",
        "mean_train_acc",
    ):
        assert key in res
    assert "mean_test_score" not in res
    assert search.best_index_ == int(np.argmax(res["mean_test_f1"]))
    assert search.best_score_ == res["mean_test_f1"][search.best_index_]
    assert search.study_.best_value == pytest.approx(search.best_score_)
    assert search.multimetric_ and set(search.scorer_) == {"acc", "f1"}
    # score() uses the refit metric.
    from sklearn.metrics import f1_score

    assert search.score(X, y) == pytest.approx(f1_score(y, search.predict(X), average="macro"))
    with pytest.raises(ValueError, match="refit must name"):
        OptunaSearchCV(_pipe(), C_SPACE, n_trials=1, scoring=scoring, refit=True).fit(X, y)


class GroupSpy(ClassifierMixin, BaseEstimator):
    """Column 0 of X is a group id; records (train groups, test groups) of every fold."""

    log: ClassVar[list] = []

    def __init__(self, c=1.0):
        self.c = c

    def fit(self, X, y):
        self.train_groups_ = set(np.asarray(X)[:, 0].tolist())
        self.classes_ = np.unique(y)
        self.major_ = np.bincount(y).argmax()
        return self

    def predict(self, X):
        GroupSpy.log.append((self.train_groups_, set(np.asarray(X)[:, 0].tolist())))
        return np.full(len(X), self.major_)


def test_groups_reach_the_splitter():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(6), 5)  # e.g. six speakers, five clips each
    X = np.column_stack([groups, rng.normal(size=30)])
    y = rng.integers(0, 2, size=30)
    GroupSpy.log.clear()
    space = {"c": FloatDistribution(0.1, 1.0)}
    search = OptunaSearchCV(GroupSpy(), space, n_trials=2, cv=GroupKFold(3), refit=False)
    search.fit(X, y, groups=groups)
    assert len(GroupSpy.log) == 2 * 3
    for train, test in GroupSpy.log:
        assert train and test and not train & test
    with pytest.raises(ValueError, match="groups"):
        OptunaSearchCV(GroupSpy(), space, n_trials=1, cv=GroupKFold(3)).fit(X, y)


def test_sqlite_storage_resumes_the_same_study(data, tmp_path):
    X, y = data
    url = f"sqlite:///{tmp_path / 'study.db'}"
    kw = {"cv": 3, "storage": url, "study_name": "shared"}
    first = OptunaSearchCV(_pipe(), C_SPACE, n_trials=3, random_state=0, **kw).fit(X, y)
    second = OptunaSearchCV(_pipe(), C_SPACE, n_trials=2, random_state=1, **kw).fit(X, y)
    assert first.n_trials_ == 3 and second.n_trials_ == 5
    assert len(second.cv_results_["params"]) == 5
    assert list(second.cv_results_["trial_number"]) == [0, 1, 2, 3, 4]
    stored = optuna.load_study(study_name="shared", storage=url)
    assert len(stored.trials) == 5
    assert second.best_score_ >= first.best_score_


@pytest.mark.parametrize("form", ["url", "path"])
def test_journal_file_storage(data, tmp_path, form):
    X, y = data
    path = tmp_path / "runs" / "study.log"
    storage = f"journal://{path}" if form == "url" else str(path)
    kw = {"cv": 2, "storage": storage, "study_name": "j", "random_state": 0}
    OptunaSearchCV(_pipe(), C_SPACE, n_trials=2, **kw).fit(X, y)
    search = OptunaSearchCV(_pipe(), C_SPACE, n_trials=1, **kw).fit(X, y)
    assert search.n_trials_ == 3
    assert path.stat().st_size > 0


class PidRecorder:
    """A study callback (picklable, so it runs in worker processes) noting each trial's pid."""

    def __init__(self, folder):
        self.folder = folder

    def __call__(self, study, trial):
        open(os.path.join(self.folder, f"{os.getpid()}-{trial.number}"), "w").close()


def _worker_pids(folder):
    return {int(name.split("-")[0]) for name in os.listdir(folder)}


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["sqlite", None])
def test_n_jobs_processes(data, tmp_path, storage):
    X, y = data
    url = f"sqlite:///{tmp_path / 'p.db'}" if storage else None
    marks = tmp_path / "pids"
    marks.mkdir()
    search = OptunaSearchCV(
        _pipe(),
        C_SPACE,
        n_trials=4,
        cv=2,
        storage=url,
        n_jobs=2,
        random_state=0,
        callbacks=[PidRecorder(str(marks))],
    ).fit(X, y)
    assert search.n_trials_ == 4
    assert list(search.cv_results_["state"]) == ["COMPLETE"] * 4
    pids = _worker_pids(marks)
    assert pids and os.getpid() not in pids
    # Worker samplers are seeded differently: no two trials propose the same C.
    assert len(set(search.cv_results_["param_clf__C"].tolist())) == 4
    if storage is None:  # the temporary journal was copied back into memory
        assert type(search.study_._storage).__name__ == "InMemoryStorage"


def test_in_memory_study_with_processes_is_refused(data):
    X, y = data
    study = optuna.create_study(direction="maximize")
    search = OptunaSearchCV(_pipe(), C_SPACE, n_trials=2, study=study, n_jobs=2)
    with pytest.raises(ValueError, match="worker processes"):
        search.fit(X, y)
    # Threads share memory: the same study runs with backend="threads".
    search.set_params(backend="threads", cv=2).fit(X, y)
    assert len(study.trials) == 2


def test_bad_parameters_fail_clearly(data, tmp_path):
    X, y = data
    with pytest.raises(SearchSpaceError, match="not an optuna distribution"):
        OptunaSearchCV(_pipe(), {"clf__C": [0.1, 1.0]}).fit(X, y)
    with pytest.raises(ValueError, match="either study"):
        OptunaSearchCV(_pipe(), C_SPACE, study=optuna.create_study(), storage="x.db").fit(X, y)
    with pytest.raises(ValueError, match="journal"):
        OptunaSearchCV(_pipe(), C_SPACE, storage="no-scheme-here").fit(X, y)
    url = f"sqlite:///{tmp_path / 'm.db'}"
    optuna.create_study(storage=url, study_name="min", direction="minimize")
    with pytest.raises(ValueError, match="minimize"):
        OptunaSearchCV(_pipe(), C_SPACE, storage=url, study_name="min").fit(X, y)


def test_failed_fits_are_scored_with_error_score(data):
    X, y = data
    space = {"clf__C": CategoricalDistribution([-1.0, 1.0])}  # C=-1 makes fit raise
    sampler = optuna.samplers.GridSampler({"clf__C": [-1.0, 1.0]})
    with pytest.warns(Warning, match="failed"):
        search = OptunaSearchCV(_pipe(), space, n_trials=2, cv=2, sampler=sampler).fit(X, y)
    states = dict(zip(search.cv_results_["param_clf__C"].tolist(), search.cv_results_["state"]))
    assert states == {-1.0: "FAIL", 1.0: "COMPLETE"}
    assert search.best_params_ == {"clf__C": 1.0}
    with pytest.raises(ValueError, match="C"):
        OptunaSearchCV(_pipe(), space, n_trials=2, cv=2, sampler=sampler, error_score="raise").fit(
            X, y
        )


def test_plots_write_png(data, tmp_path):
    pytest.importorskip("matplotlib")
    X, y = data
    space = {
        **C_SPACE,
        "clf__tol": FloatDistribution(1e-5, 1e-2, log=True),
        "scale__with_mean": CategoricalDistribution([True, False]),
    }
    search = OptunaSearchCV(_pipe(), space, n_trials=6, cv=2, random_state=0).fit(X, y)
    for name in ("plot_optimization_history", "plot_param_importances"):
        path = tmp_path / f"{name}.png"
        getattr(search, name)(path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
    one = OptunaSearchCV(_pipe(), {"clf__max_iter": IntDistribution(50, 100)}, n_trials=1, cv=2)
    with pytest.raises(ValueError, match="at least 2 completed trials"):
        one.fit(X, y).plot_param_importances(tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


class FakeHead(ClassifierMixin, BaseEstimator):
    """Stands in for an skmm head: declares pruning support and has a ``callbacks`` list."""

    _skmm_supports_pruning = True

    def __init__(self, callbacks=None, width=4):
        self.callbacks = callbacks
        self.width = width


def test_pruning_callback_is_injected_once_per_net():
    pytest.importorskip("skorch")
    from skmm.model_selection import OptunaPruningCallback
    from skmm.model_selection._objective import inject_pruning

    pipe = Pipeline([("scale", StandardScaler()), ("head", FakeHead(callbacks=[("x", object())]))])
    assert inject_pruning(pipe, "valid_acc") == ["head"]
    callbacks = pipe.named_steps["head"].callbacks
    assert callbacks[0][0] == "x" and isinstance(callbacks[1][1], OptunaPruningCallback)
    assert callbacks[1][1].monitor == "valid_acc"
    inject_pruning(pipe, "valid_loss")  # a net that already has one is left alone
    assert len(pipe.named_steps["head"].callbacks) == 2
    assert inject_pruning(Pipeline([("clf", LogisticRegression())]), "valid_loss") == []


def test_pruning_callback_orients_and_prunes():
    pytest.importorskip("skorch")
    from types import SimpleNamespace

    from skmm.model_selection import OptunaPruningCallback
    from skmm.model_selection._context import trial_scope

    study = optuna.create_study(direction="maximize", pruner=optuna.pruners.ThresholdPruner(-0.5))
    trial = study.ask()
    net = SimpleNamespace(history=[{"valid_loss": 0.9}], max_epochs=10, callbacks_=[])
    cb = OptunaPruningCallback().initialize()
    cb.on_epoch_end(net)  # outside a search: nothing happens
    with trial_scope(trial, 0, True), pytest.raises(optuna.TrialPruned, match="epoch 1"):
        cb.on_epoch_end(net)
    assert study.trials[0].intermediate_values == {0: -0.9}  # a loss is negated when maximizing
    # Later folds report only with all_folds, at fold * max_epochs + epoch - 1.
    trial = study.ask()
    net.history = [{"valid_loss": 0.1}] * 3
    with trial_scope(trial, 1, True):
        cb.on_epoch_end(net)
        OptunaPruningCallback(all_folds=True).initialize().on_epoch_end(net)
    assert study.trials[1].intermediate_values == {12: -0.1}


@pytest.mark.slow
def test_skorch_net_trials_are_pruned():
    torch = pytest.importorskip("torch")
    skorch = pytest.importorskip("skorch")
    from functools import partial

    from sklearn.preprocessing import FunctionTransformer

    from skmm.model_selection import OptunaPruningCallback

    X, y = make_classification(
        n_samples=80, n_features=4, n_informative=2, n_redundant=0, class_sep=2.0, random_state=0
    )
    net = skorch.NeuralNetClassifier(
        torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2)),
        criterion=torch.nn.CrossEntropyLoss,
        max_epochs=8,
        batch_size=8,
        verbose=0,
        train_split=skorch.dataset.ValidSplit(4, stratified=True),
    )
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("f32", FunctionTransformer(partial(np.asarray, dtype=np.float32))),
            ("net", net),
        ]
    )
    space = {"net__lr": CategoricalDistribution([1e-6, 0.3])}
    search = OptunaSearchCV(
        pipe,
        space,
        n_trials=2,
        cv=3,
        sampler=optuna.samplers.GridSampler({"net__lr": [1e-6, 0.3]}, seed=0),
        pruner=optuna.pruners.ThresholdPruner(lower=-0.5, n_warmup_steps=3),
    )
    torch.manual_seed(0)
    search.fit(X, y.astype(np.int64))
    by_lr = {t.params["net__lr"]: t for t in search.study_.trials}
    slow, fast = by_lr[1e-6], by_lr[0.3]
    assert slow.state == optuna.trial.TrialState.PRUNED
    assert sorted(slow.intermediate_values) == [0, 1, 2, 3]  # pruned at the end of warm-up
    assert all(v < -0.5 for v in slow.intermediate_values.values())
    assert fast.state == optuna.trial.TrialState.COMPLETE
    assert sorted(fast.intermediate_values) == list(range(8))  # first fold's epochs
    res = search.cv_results_
    row = list(res["trial_number"]).index(slow.number)
    assert res["state"][row] == "PRUNED" and np.isnan(res["mean_test_score"][row])
    assert res["rank_test_score"][row] == 2
    assert search.best_params_ == {"net__lr": 0.3}
    # The refitted model carries no pruning callback.
    refit_cbs = search.best_estimator_.named_steps["net"].callbacks or []
    assert not any(isinstance(c, OptunaPruningCallback) for c in refit_cbs)
    assert search.score(X, y.astype(np.int64)) > 0.8


# As scikit-learn checks its own searches: with error_score="raise", so that input errors
# reach the caller instead of becoming failed trials.
@pytest.mark.slow
@parametrize_with_checks(
    [
        OptunaSearchCV(
            LogisticRegression(),
            {"C": FloatDistribution(0.1, 10.0, log=True)},
            n_trials=2,
            cv=2,
            random_state=0,
            error_score="raise",
        ),
        OptunaSearchCV(
            Pipeline([("scale", StandardScaler()), ("ridge", Ridge())]),
            {"ridge__alpha": FloatDistribution(0.1, 10.0, log=True)},
            n_trials=2,
            cv=2,
            random_state=0,
            error_score="raise",
        ),
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.slow
def test_trials_after_the_first_encode_nothing(tiny_text_model):
    """End to end with a real TextEncoder (tiny model): the cache serves every later fit."""
    pytest.importorskip("transformers")
    from skmm import TextEncoder
    from skmm.cache import cache_stats

    rng = np.random.default_rng(0)
    words = ["happy", "sad", "calm", "angry", "good", "bad", "day", "night"]
    texts = [" ".join(rng.choice(words, size=4)) + f" {i}" for i in range(24)]
    y = np.array([("happy" in t or "good" in t) for t in texts], dtype=int)
    pipe = Pipeline(
        [
            ("text", TextEncoder(str(tiny_text_model), cache="memory", progress=False)),
            ("clf", LogisticRegression()),
        ]
    )
    misses = []
    cache_stats(reset=True)
    OptunaSearchCV(
        pipe,
        C_SPACE,
        n_trials=3,
        cv=3,
        random_state=0,
        callbacks=[lambda study, trial: misses.append(cache_stats(reset=True)["misses"])],
    ).fit(texts, y)
    assert misses[0] == len(set(texts))
    assert misses[1:] == [0, 0]
    assert cache_stats()["misses"] == 0  # the refit too


class Boom(ClassifierMixin, BaseEstimator):
    """Fails to fit, naming its ``tag``."""

    def __init__(self, tag="a"):
        self.tag = tag

    def fit(self, X, y):
        raise ValueError(f"cannot fit with tag={self.tag}")


def test_when_no_trial_completes_the_error_names_the_first_trials_error(data):
    X, y = data
    study = optuna.create_study(direction="maximize")
    for tag in ["first", "second", "first"]:
        study.enqueue_trial({"tag": tag})
    space = {"tag": CategoricalDistribution(["first", "second"])}
    search = OptunaSearchCV(Boom(), space, n_trials=3, cv=2, study=study)
    with pytest.warns(Warning, match="failed"), pytest.raises(ValueError) as info:
        search.fit(X, y)
    message = str(info.value)
    assert "{'FAIL': 3}" in message
    assert (
        "first failed trial, number 0, failed with ValueError: cannot fit with tag=first" in message
    )
    assert message.count("tag=second") == 1 and message.count("tag=first") == 1
