"""Scaling out with dask: workers encode a Dask Series and share one on-disk cache.

``skmm.dask.transform`` encodes a Dask collection partition by partition on the
workers and returns a lazy Dask DataFrame of embeddings. The encoder travels as its
parameters; each worker process loads the model once. Embeddings land in the on-disk
cache that every worker reads (on a cluster: a folder on a shared file system). After
restarting the workers (empty memory), a second pass finds every embedding on disk and
encodes nothing.
Run: python examples/scaling_out_with_dask.py
"""

import logging
import tempfile

import numpy as np


def main(n_texts=64, n_partitions=4):
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    import skmm.dask
    from skmm import TextEncoder
    from skmm.datasets import load_vader_sentences

    logging.getLogger("distributed").setLevel(logging.ERROR)  # no "restarting worker" lines
    texts = load_vader_sentences("movie_reviews")["text"].head(n_texts)
    series = dd.from_pandas(texts, npartitions=n_partitions)
    with (
        tempfile.TemporaryDirectory() as cache_dir,
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        encoder = TextEncoder(cache_dir=cache_dir)
        embeddings = skmm.dask.transform(encoder, series)  # lazy: nothing runs yet
        print(f"lazy result: {type(embeddings).__name__} with {len(embeddings.columns)} columns")
        first = embeddings.compute()
        stats1 = skmm.dask.worker_cache_stats(client)
        models = skmm.dask.worker_models(client)
        print(f"first pass: {sum(s['misses'] for s in stats1.values())} texts encoded")
        print(f"models loaded per worker: {[len(keys) for keys in models.values()]}")

        client.restart(timeout=600)  # new worker processes: empty memory; the disk cache stays
        second = skmm.dask.transform(encoder, series).compute()
        stats2 = skmm.dask.worker_cache_stats(client)
        disk_hits = sum(s["disk_hits"] for s in stats2.values())
        misses = sum(s["misses"] for s in stats2.values())
        print(f"second pass: {disk_hits} read from the shared disk cache, {misses} encoded")
    assert np.array_equal(first.to_numpy(), second.to_numpy())
    print(
        f"Result: {n_texts} texts encoded once by 2 dask workers; second pass "
        f"{disk_hits} disk-cache hits, {misses} encoded"
    )


if __name__ == "__main__":  # dask starts workers by spawning: keep the entry point guarded
    main()
