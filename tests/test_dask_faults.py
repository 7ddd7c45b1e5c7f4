"""A worker killed by its pid in the middle of the work: only the unfinished work is redone."""

import os
import signal
import threading
import time

import numpy as np
import pytest

pytest.importorskip("dask", reason="skmm.dask needs dask: pip install 'skmm[dask]'")
pytest.importorskip("distributed", reason="skmm.dask needs distributed: pip install 'skmm[dask]'")

import dask.dataframe as dd
import joblib
import pandas as pd
from dask_cluster import cluster_misses, local_cluster, make_texts
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

import skmm.dask
from skmm import TextEncoder
from skmm.cache import cache_info, cache_stats

PARTITION = 32
TIMEOUT = 300  # seconds; generous for a loaded 2-core machine, never reached when all goes well


def _wait_for(condition, what):
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _busy_worker(client):
    """Address of a worker executing a task now, or None."""
    processing = client.processing()
    busy = [address for address, keys in processing.items() if keys]
    return busy[0] if busy else None


def _kill(client, address):
    """SIGKILL a worker process; returns the address of the other one."""
    pid = client.run(os.getpid, workers=[address])[address]
    os.kill(pid, signal.SIGKILL)
    (survivor,) = set(client.nthreads()) - {address}
    return survivor


def _misses(client, workers=None):
    stats = client.run(cache_stats, workers=workers)
    return sum(s["misses"] for s in stats.values())


def _wait_until_gone(client, address):
    """The scheduler has dropped the killed worker (its nanny starts a new one)."""
    _wait_for(lambda: address not in client.nthreads(), f"the scheduler to drop {address}")


@pytest.mark.slow
def test_killed_worker_costs_only_its_unfinished_partition(tmp_path):
    texts = make_texts(6 * PARTITION)
    expected = TextEncoder(cache=False).fit(texts).transform(texts)
    with local_cluster() as client:
        series = dd.from_pandas(pd.Series(texts), npartitions=6)
        future = client.compute(skmm.dask.transform(TextEncoder(cache_dir=tmp_path), series))

        def one_partition_done_and_one_running():
            assert not future.done(), "the encode ended before a worker could be killed"
            entries = cache_info(tmp_path)["disk_entries"]
            return entries >= PARTITION and _busy_worker(client) is not None

        _wait_for(one_partition_done_and_one_running, "a finished and a running partition")
        victim = _busy_worker(client)
        survivor = _kill(client, victim)
        on_disk = cache_info(tmp_path)["disk_entries"]
        before = _misses(client, [survivor])  # the restarted worker starts from zero

        result = future.result(timeout=TIMEOUT)

        _wait_until_gone(client, victim)
        encoded_after_kill = _misses(client) - before
        assert encoded_after_kill <= len(texts) - on_disk  # nothing on disk was encoded again
        np.testing.assert_allclose(result.to_numpy(), expected, atol=1e-5)
        assert cache_info(tmp_path)["disk_entries"] == len(texts)


@pytest.mark.slow
def test_killed_search_worker_loses_only_its_running_fit(tmp_path):
    X, y = make_texts(40), np.arange(40) % 2
    pipe = make_pipeline(TextEncoder(cache_dir=tmp_path), LogisticRegression(max_iter=200))
    with local_cluster() as client:
        skmm.dask.fill_cache(pipe[0], X)
        encoded_by_fill = cluster_misses(client)
        grid = {"logisticregression__C": np.logspace(-2, 2, 8)}
        search = GridSearchCV(pipe, grid, cv=5, n_jobs=-1, error_score="raise")
        errors = []

        def run():
            try:
                with joblib.parallel_backend("dask"):
                    search.fit(X, y)
            except Exception as exc:  # reported by the assertion below
                errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        _wait_for(lambda: _busy_worker(client) is not None, "a fit running on a worker")
        victim = _busy_worker(client)
        _kill(client, victim)
        thread.join(timeout=TIMEOUT)
        _wait_until_gone(client, victim)

        assert not thread.is_alive(), "the search did not finish after the worker died"
        assert errors == []
        assert len(search.cv_results_["mean_test_score"]) == 8
        assert np.isfinite(search.cv_results_["mean_test_score"]).all()
        # The fits redone after the kill found every text in the shared cache.
        assert encoded_by_fill == 40
        assert cluster_misses(client) <= encoded_by_fill
