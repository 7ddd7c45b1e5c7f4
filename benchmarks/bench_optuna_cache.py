"""An Optuna search over a pipeline with a text encoder: trials 2..N encode nothing.

The pipeline is ``TextEncoder -> LogisticRegression``; the search tunes the classifier
with k-fold CV. The encoder's embedding cache is keyed by content and configuration,
so the first trial runs the model once per distinct text and every later fit (other
folds, other trials, the final refit) finds its embeddings in the cache.

The counts come from ``skmm.cache.cache_stats()`` (process-wide "misses" are items the
model had to encode), read after every trial by a study callback, so the search runs
in this process (``n_jobs=1``). ``--baseline`` runs the same search with ``cache=False``
for the time it would cost without the cache.

Usage::

    python benchmarks/bench_optuna_cache.py                       # 200 texts, 10 trials
    python benchmarks/bench_optuna_cache.py --n-texts 2000 --n-trials 30 --baseline

Exits with status 1 if any trial after the first encoded something.
"""

import argparse
import logging
import sys
import tempfile
import time

import numpy as np

POSITIVE = ["wonderful", "delightful", "great", "lovely", "superb", "charming", "brilliant"]
NEGATIVE = ["awful", "dreadful", "boring", "terrible", "dull", "annoying", "miserable"]
NOUNS = ["film", "song", "meal", "trip", "book", "show", "game", "talk", "class", "hotel"]
ADVERBS = ["truly", "quite", "really", "rather", "simply", "utterly"]


def make_texts(n, seed=0):
    """``n`` distinct short reviews and their labels (1 = positive)."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = int(rng.integers(2))
        words = POSITIVE if label else NEGATIVE
        texts.append(
            f"Review {i}: the {rng.choice(NOUNS)} was {rng.choice(ADVERBS)} "
            f"{rng.choice(words)}, {rng.choice(ADVERBS)} {rng.choice(words)}."
        )
        labels.append(label)
    return texts, np.array(labels)


class CacheRecorder:
    """Study callback: cache misses/hits and wall time of each trial."""

    def __init__(self, cache_stats):
        self.cache_stats = cache_stats
        self.rows = []
        self.start = time.perf_counter()

    def __call__(self, study, trial):
        stats = self.cache_stats(reset=True)
        now = time.perf_counter()
        hits = stats["memory_hits"] + stats["disk_hits"]
        self.rows.append((trial.number, stats["misses"], hits, now - self.start))
        self.start = now


def run_search(texts, y, args, cache, cache_dir):
    from optuna.distributions import FloatDistribution
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from skmm import TextEncoder
    from skmm.cache import cache_stats
    from skmm.model_selection import OptunaSearchCV

    pipe = Pipeline(
        [
            ("text", TextEncoder(cache=cache, cache_dir=cache_dir, progress=False)),
            ("clf", LogisticRegression(max_iter=1000)),
        ]
    )
    recorder = CacheRecorder(cache_stats)
    cache_stats(reset=True)
    start = time.perf_counter()
    search = OptunaSearchCV(
        pipe,
        {"clf__C": FloatDistribution(1e-2, 1e2, log=True)},
        n_trials=args.n_trials,
        cv=args.cv,
        random_state=0,
        callbacks=[recorder],
        refit=False,
    ).fit(texts, y)
    return search, recorder.rows, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-texts", type=int, default=200)
    parser.add_argument("--n-trials", type=int, default=10)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--baseline", action="store_true", help="also run with cache=False")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    import torch

    torch.set_num_threads(args.threads)
    texts, y = make_texts(args.n_texts)
    print(
        f"{args.n_texts} distinct texts, {args.n_trials} trials, {args.cv}-fold CV, "
        f"torch threads {args.threads}"
    )

    with tempfile.TemporaryDirectory(prefix="skmm-bench-cache-") as cache_dir:
        search, rows, total = run_search(texts, y, args, True, cache_dir)
    print(f"\ncached (fresh cache dir): {total:.1f} s, best CV accuracy {search.best_score_:.3f}")
    print(f"{'trial':>5} {'encoded':>8} {'from cache':>11} {'seconds':>8}")
    for number, misses, hits, seconds in rows:
        print(f"{number:>5} {misses:>8} {hits:>11} {seconds:>8.2f}")
    later = sum(misses for _, misses, _, _ in rows[1:])
    print(f"texts encoded by trial 0: {rows[0][1]}; by trials 1..{len(rows) - 1}: {later}")

    if args.baseline:
        _, base_rows, base_total = run_search(texts, y, args, False, None)
        per_trial = np.mean([r[3] for r in base_rows[1:]]) if len(base_rows) > 1 else base_total
        cached_per_trial = np.mean([r[3] for r in rows[1:]]) if len(rows) > 1 else total
        print(
            f"\nno cache: {base_total:.1f} s; a later trial costs {per_trial:.2f} s "
            f"without the cache, {cached_per_trial:.2f} s with it"
        )
    return 1 if later else 0


if __name__ == "__main__":
    sys.exit(main())
