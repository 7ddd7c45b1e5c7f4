"""Training a small FusionClassifier with torch's default thread count vs ``n_threads=1``.

torch starts one intra-op thread per core. A small head's matrix products are too short
to share out, and when another process holds a core the threads wait for each other at
every operation. This trains the same head twice per repeat, interleaved: with
``n_threads=None`` (torch's count, set to one thread per core) and with the heads'
default ``n_threads=1``, while ``--busy`` other processes each keep a core busy, then
without them. Nothing is asserted; the ratios go in benchmarks/RESULTS.md.

    python benchmarks/bench_head_threads.py                  # 400 x 480, 5 epochs, 3 repeats
    python benchmarks/bench_head_threads.py --busy 2 --repeats 5
"""

import argparse
import multiprocessing
import os
import statistics
import time

import numpy as np
import torch

from skmm.heads import FusionClassifier


def spin(stop):
    """Keep one core busy (pure Python, no threads) until ``stop`` is set."""
    x = 0
    while not stop.is_set():
        for _ in range(100_000):
            x += 1


def make_data(n_samples, seed=0):
    """Three modality blocks, as ModalityUnion outputs them (text 384, image 64, audio 32)."""
    rng = np.random.RandomState(seed)
    y = rng.randint(4, size=n_samples)
    blocks = []
    for width in (384, 64, 32):
        centers = rng.normal(size=(4, width))
        blocks.append(0.3 * centers[y] + rng.normal(size=(n_samples, width)))
    X = np.hstack(blocks).astype(np.float32)
    layout = {"text": slice(0, 384), "image": slice(384, 448), "audio": slice(448, 480)}
    return X, y, layout


def fit_seconds(X, y, layout, args, n_threads):
    clf = FusionClassifier(
        head=args.head,
        blocks=layout,
        hidden_size=args.hidden_size,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        device="cpu",
        random_state=0,
        n_threads=n_threads,
    )
    start = time.perf_counter()
    clf.fit(X, y)
    return time.perf_counter() - start


def measure(X, y, layout, args):
    runs = {"torch default": None, "n_threads=1": 1}
    times = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, n_threads in runs.items():  # interleaved: load changes hit both alike
            times[name].append(fit_seconds(X, y, layout, args, n_threads))
    return times


def report(title, times):
    median = {name: statistics.median(values) for name, values in times.items()}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n{title} (load average after: {load})\n")
    print("| | median s | min s | max s | speed-up over torch default (medians) |")
    print("|---|---|---|---|---|")
    for name, values in times.items():
        speed_up = median["torch default"] / median[name]
        print(
            f"| {name} | {median[name]:.2f} | {min(values):.2f} | {max(values):.2f} "
            f"| {speed_up:.1f}x |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--head", choices=["mlp", "gated", "attention"], default="attention")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--busy", type=int, default=1, help="busy processes during the run")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=os.cpu_count(),
        help="torch's default count to compare with (one per core)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    X, y, layout = make_data(args.n_samples)
    print(
        f"{args.head} head, hidden {args.hidden_size}, {args.n_samples} x {X.shape[1]}, "
        f"{args.epochs} epochs, batch {args.batch_size}, {os.cpu_count()} cores, "
        f"torch default = {torch.get_num_threads()} threads, {args.repeats} repeats"
    )
    fit_seconds(X[:128], y[:128], layout, argparse.Namespace(**{**vars(args), "epochs": 1}), 1)

    stop = multiprocessing.Event()
    busy = [multiprocessing.Process(target=spin, args=(stop,)) for _ in range(args.busy)]
    for process in busy:
        process.start()
    try:
        loaded = measure(X, y, layout, args)
    finally:
        stop.set()
        for process in busy:
            process.join()
    report(f"With {args.busy} busy process(es) holding a core each:", loaded)
    report("Without them (the machine's other load as it is):", measure(X, y, layout, args))


if __name__ == "__main__":
    main()
