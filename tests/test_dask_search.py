"""Searches on a 2-process LocalCluster through joblib's Dask backend, and one study shared by processes."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("dask", reason="searches on Dask need dask: pip install 'skmm[dask]'")
pytest.importorskip(
    "distributed", reason="searches on Dask need distributed: pip install 'skmm[dask]'"
)
optuna = pytest.importorskip(
    "optuna", reason="OptunaSearchCV needs optuna: pip install 'skmm[tune]'"
)

import joblib
from dask_cluster import cluster_misses, local_cluster, make_texts, reset_workers
from optuna.distributions import FloatDistribution
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline

import skmm.dask
from skmm import TextEncoder
from skmm.cache import cache_stats
from skmm.model_selection import OptunaSearchCV

N_TEXTS = 30


@pytest.fixture(scope="module")
def client():
    with local_cluster() as client:
        yield client


@pytest.fixture(scope="module")
def data():
    return make_texts(N_TEXTS), np.arange(N_TEXTS) % 2


def _search(kind, pipe, X, y):
    if kind == "grid":
        grid = {"logisticregression__C": [0.1, 1.0, 10.0, 100.0]}
        search = GridSearchCV(pipe, grid, cv=5, n_jobs=-1).fit(X, y)
        return search.cv_results_["mean_test_score"]
    if kind == "cross_validate":
        return cross_validate(pipe, X, y, cv=5, n_jobs=-1)["test_score"]
    space = {"logisticregression__C": FloatDistribution(1e-2, 1e2, log=True)}
    search = OptunaSearchCV(pipe, space, n_trials=4, cv=3, n_jobs=2, random_state=0).fit(X, y)
    assert len(search.study_.trials) == 4
    return search.cv_results_["mean_test_score"]


@pytest.mark.parametrize("kind", ["grid", "cross_validate", "optuna"])
def test_search_on_the_workers_encodes_each_text_once(client, data, kind, tmp_path):
    """Without a pre-warm: fits that need the same texts at once encode each once between them."""
    reset_workers(client)
    X, y = data
    pipe = make_pipeline(TextEncoder(cache_dir=tmp_path), LogisticRegression(max_iter=200))
    cache_stats(reset=True)

    with joblib.parallel_backend("dask"):
        scores = _search(kind, pipe, X, y)

    assert np.isfinite(scores).all()
    stats = skmm.dask.worker_cache_stats(client)
    assert sum(s["memory_hits"] + s["disk_hits"] for s in stats.values()) > 0  # fits ran there
    assert cluster_misses(client) + cache_stats()["misses"] == N_TEXTS  # workers and refit


def test_a_search_after_fill_cache_encodes_nothing(client, data, tmp_path):
    reset_workers(client)
    X, y = data
    pipe = make_pipeline(TextEncoder(cache_dir=tmp_path), LogisticRegression(max_iter=200))
    assert skmm.dask.fill_cache(pipe[0], X) == N_TEXTS
    cache_stats(reset=True)

    with joblib.parallel_backend("dask"):
        _search("grid", pipe, X, y)

    assert cluster_misses(client) == N_TEXTS  # fill_cache's encodes, none by the search
    assert cache_stats()["misses"] == 0  # nor by the refit in this process


_STUDY_WORKER = textwrap.dedent(
    """
    import json, sys
    from optuna.distributions import FloatDistribution
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from skmm.model_selection import OptunaSearchCV

    storage, out = sys.argv[1], sys.argv[2]
    X, y = load_iris(return_X_y=True)
    ran = []
    OptunaSearchCV(
        LogisticRegression(max_iter=300),
        {"C": FloatDistribution(1e-2, 1e2, log=True)},
        n_trials=4, cv=3, storage=storage, study_name="shared", refit=False,
        callbacks=[lambda study, trial: ran.append(trial.number)],
    ).fit(X, y)
    with open(out, "w") as handle:
        json.dump(ran, handle)
    """
)


def test_three_processes_share_one_journal_study(tmp_path):
    storage = str(tmp_path / "study.log")
    outs = [tmp_path / f"ran{i}.json" for i in range(3)]
    procs = [
        subprocess.Popen([sys.executable, "-c", _STUDY_WORKER, storage, str(out)]) for out in outs
    ]
    for proc in procs:
        assert proc.wait(timeout=600) == 0

    ran = [json.loads(out.read_text()) for out in outs]
    assert [len(numbers) for numbers in ran] == [4, 4, 4]
    every = sorted(n for numbers in ran for n in numbers)
    assert every == list(range(12))  # each trial ran in exactly one process
    study = optuna.load_study(
        study_name="shared", storage=skmm.model_selection._parallel.resolve_storage(storage)
    )
    assert len(study.trials) == 12
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
