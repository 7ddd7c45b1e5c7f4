"""A real Dask engine for the tests: a LocalCluster of 2 worker processes on loopback."""

import contextlib
import logging

from conftest import WORDS


def make_texts(n, start=0):
    """``n`` distinct short texts built from the tiny vocabulary."""
    return [
        f"{WORDS[i % len(WORDS)]} {WORDS[(7 * i + 3) % len(WORDS)]} number {i}"
        for i in range(start, start + n)
    ]


@contextlib.contextmanager
def local_cluster(n_workers=2):
    """A 2-process LocalCluster (one thread each, loopback, no dashboard) and its client."""
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # no "restarting worker" noise
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def reset_workers(client):
    """Empty each worker's memory cache, cache counters and model registry."""
    from skmm.cache import cache_stats, clear_cache
    from skmm.encoders import release_models

    client.run(clear_cache, disk=False)
    client.run(cache_stats, reset=True)
    client.run(release_models)


def cluster_misses(client):
    """Inputs the cluster's workers encoded since their counters were last reset."""
    from skmm.dask import worker_cache_stats

    return sum(stats["misses"] for stats in worker_cache_stats(client).values())
