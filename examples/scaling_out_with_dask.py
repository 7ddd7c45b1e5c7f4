"""Scaling out with dask: worker processes encode chunks and share one on-disk cache.

Each dask worker (a separate process, possibly on another machine with a shared file
system) runs TextEncoder.transform on its chunks; embeddings land in the on-disk cache
that every worker reads. After restarting the workers (empty memory), a second pass
finds every embedding on disk and encodes nothing.
Run: python examples/scaling_out_with_dask.py
"""

import logging
import tempfile

import numpy as np


def encode_chunk(texts, cache_dir):
    """Runs in a worker: encode a chunk, return its embeddings and what the cache did."""
    from skmm.cache import cache_stats
    from skmm.encoders import TextEncoder

    before = cache_stats()
    vectors = TextEncoder(cache_dir=cache_dir, progress=False).fit(texts).transform(texts)
    after = cache_stats()
    return vectors, {k: after[k] - before[k] for k in ("misses", "disk_hits", "memory_hits")}


def run_pass(client, chunks, cache_dir):
    results = client.gather(client.map(encode_chunk, chunks, cache_dir=cache_dir, pure=False))
    vectors = np.vstack([v for v, _ in results])
    totals = {k: sum(s[k] for _, s in results) for k in ("misses", "disk_hits", "memory_hits")}
    return vectors, totals


def main(n_texts=64, n_chunks=4):
    from dask.distributed import Client, LocalCluster

    from skmm.datasets import load_vader_sentences

    logging.getLogger("distributed").setLevel(logging.ERROR)  # no "restarting worker" lines
    texts = load_vader_sentences("movie_reviews")["text"].head(n_texts).tolist()
    chunks = [texts[i::n_chunks] for i in range(n_chunks)]
    with (
        tempfile.TemporaryDirectory() as cache_dir,
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        first, stats1 = run_pass(client, chunks, cache_dir)
        print(f"first pass: {stats1['misses']} texts encoded by 2 workers")
        client.restart()  # new worker processes: nothing in memory, the disk cache stays
        second, stats2 = run_pass(client, chunks, cache_dir)
        print(
            f"second pass: {stats2['disk_hits']} read from the shared disk cache, "
            f"{stats2['misses']} encoded"
        )
    assert np.array_equal(first, second)
    print(
        f"Result: {n_texts} texts encoded once by 2 dask workers; second pass "
        f"{stats2['disk_hits']} disk-cache hits, {stats2['misses']} encoded"
    )


if __name__ == "__main__":  # dask starts workers by spawning: keep the entry point guarded
    main()
