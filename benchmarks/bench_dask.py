"""Dask benchmarks (issue 12): the cost of the Dask path, and encodes during searches.

1. ``--n-texts`` texts: ``TextEncoder.transform`` in this process (torch on 2 threads)
   against ``skmm.dask.transform`` on a 2-worker LocalCluster (1 thread per worker),
   both warm (model loaded) and without the cache, so both measure encoding alone.
   Then the models each worker loaded (target: 1). ``--keep-malloc`` races a second
   cluster whose workers keep the malloc setting Dask gives them (``SKMM_KEEP_MALLOC=1``:
   the mmap threshold fixed at 128 KiB, see ``skmm/_allocator.py``), as before the fix.
2. ``GridSearchCV(cv=5, 4 values of C)`` over TextEncoder -> LogisticRegression with
   joblib's ``loky`` backend, the ``dask`` backend (both as users run them: no
   pre-warm; the shared cache's claims keep two fits from encoding the same text), and
   ``dask`` after the optional ``skmm.dask.fill_cache``: texts encoded in total across
   all processes (target: each text once). Each fit's scorer reads its process's cache counter, so the counts cover
   every worker process of either backend; the refit's encodes are read in this process.

Usage::

    python benchmarks/bench_dask.py                     # 20 000 texts, search on 200
    python benchmarks/bench_dask.py --n-texts 2000      # a quick look
    python benchmarks/bench_dask.py --keep-malloc --n-search-texts 20   # with the A/B

Prints a Markdown table per part; asserts nothing.
"""

import argparse
import contextlib
import logging
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _texts import make_sentences  # noqa: E402


def encoded_in_this_process(estimator, X, y):
    """A "score": texts this process encoded since the last call (runs where the fit ran)."""
    from skmm.cache import cache_stats

    return cache_stats(reset=True)["misses"]


def bench_transform(clients, n, words, repeat=1):
    """``clients``: [(label, client)], the Dask paths to race against in-process."""
    import dask.dataframe as dd
    import pandas as pd
    import torch

    import skmm.dask
    from skmm import TextEncoder

    texts = make_sentences(n, 3, words, seed=2)
    encoder = TextEncoder(cache=False, progress=False)
    fitted = encoder.fit(texts)
    series = {}
    for label, client in clients:
        warm = dd.from_pandas(pd.Series(texts[:64]), npartitions=2)
        skmm.dask.transform(encoder, warm).compute(scheduler=client.get)  # each worker loads
        series[label] = client.persist(dd.from_pandas(pd.Series(texts), npartitions=16))
    in_process, on_dask = np.inf, dict.fromkeys(series, np.inf)
    for _ in range(repeat):  # the paths take turns: a busy spell slows all alike
        previous = torch.get_num_threads()
        torch.set_num_threads(2)
        try:
            fitted.transform(texts[:64])  # warm: model loaded
            start = time.perf_counter()
            local = fitted.transform(texts)
            in_process = min(in_process, time.perf_counter() - start)
        finally:
            torch.set_num_threads(previous)
        for label, client in clients:
            start = time.perf_counter()
            remote = skmm.dask.transform(encoder, series[label]).compute(scheduler=client.get)
            on_dask[label] = min(on_dask[label], time.perf_counter() - start)
            assert np.allclose(remote.to_numpy(), local, atol=1e-4)

    print(f"\n## {n} texts of 3-{words} words, 16 partitions, no cache, warm, best of {repeat}\n")
    print("| path | wall s | texts/s | ratio |")
    print("|---|---|---|---|")
    print(
        f"| in-process transform, torch 2 threads | {in_process:.1f} | {n / in_process:.0f} | 1.00 |"
    )
    for label, took in on_dask.items():
        print(
            f"| skmm.dask.transform, {label} | {took:.1f} | {n / took:.0f} | {took / in_process:.2f} |"
        )
    for label, client in clients:
        loads = {a: len(keys) for a, keys in skmm.dask.worker_models(client).items()}
        print(f"\nModels loaded per worker ({label}): {sorted(loads.values())}")


def bench_search(client, n, n_jobs):
    import joblib
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline

    import skmm.dask
    from skmm import TextEncoder
    from skmm.cache import cache_stats, clear_cache

    texts = make_sentences(n, 3, 20, seed=3)
    y = np.arange(n) % 2
    rows = []
    for backend, warm in (("loky", False), ("dask", False), ("dask", True)):
        with tempfile.TemporaryDirectory() as folder:
            # each round starts cold: no embedding in any process's memory
            clear_cache(disk=False)
            client.run(clear_cache, disk=False)
            pipe = make_pipeline(
                TextEncoder(cache_dir=folder, progress=False), LogisticRegression(max_iter=300)
            )
            search = GridSearchCV(
                pipe,
                {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]},
                cv=5,
                n_jobs=n_jobs,
                scoring={"accuracy": "accuracy", "encoded": encoded_in_this_process},
                refit="accuracy",
            )
            client.run(cache_stats, reset=True)
            start = time.perf_counter()
            with joblib.parallel_backend(backend):
                if warm:
                    skmm.dask.fill_cache(pipe[0], texts)
                stats = skmm.dask.worker_cache_stats(client, reset=True)
                filled = sum(s["misses"] for s in stats.values())
                cache_stats(reset=True)
                search.fit(texts, y)
            wall = time.perf_counter() - start
            results = search.cv_results_
            in_fits = int(sum(results[f"split{i}_test_encoded"].sum() for i in range(5)))
            refit = cache_stats()["misses"]
            name = f"{backend}" + (" + fill_cache" if warm else "")
            rows.append((name, wall, filled, in_fits, refit))

    print(f"\n## GridSearchCV(cv=5, 4 values of C), {n} texts, n_jobs={n_jobs}\n")
    print(
        "| backend | wall s | encoded by fill_cache | encoded in the 20 fits | in the refit | total / texts |"
    )
    print("|---|---|---|---|---|---|")
    for name, wall, filled, in_fits, refit in rows:
        total = filled + in_fits + refit
        print(f"| {name} | {wall:.1f} | {filled} | {in_fits} | {refit} | {total / n:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-texts", type=int, default=20_000)
    parser.add_argument("--words", type=int, default=30, help="longest text, in words")
    parser.add_argument("--n-search-texts", type=int, default=200)
    parser.add_argument("--skip-transform", action="store_true")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds, best kept")
    parser.add_argument(
        "--keep-malloc",
        action="store_true",
        help="also race a cluster whose workers keep Dask's malloc setting (SKMM_KEEP_MALLOC=1)",
    )
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)

    def cluster(**env):
        return LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            env=env,  # the nanny's environment for its worker, beside Dask's own settings
        )

    with contextlib.ExitStack() as stack:
        client = stack.enter_context(Client(stack.enter_context(cluster()), set_as_default=False))
        clients = [("2 workers x 1 thread", client)]
        if args.keep_malloc:
            kept = Client(stack.enter_context(cluster(SKMM_KEEP_MALLOC="1")), set_as_default=False)
            stack.enter_context(kept)
            clients.append(("2 workers x 1 thread, SKMM_KEEP_MALLOC=1 (before the fix)", kept))
        if not args.skip_transform:
            bench_transform(clients, args.n_texts, args.words, args.repeat)
        with client.as_current():
            bench_search(client, args.n_search_texts, n_jobs=2)


if __name__ == "__main__":  # dask starts workers by spawning: keep the entry point guarded
    main()
