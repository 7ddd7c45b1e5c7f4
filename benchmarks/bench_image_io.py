"""Image decode + resize + centre-crop + normalise throughput: skmm (opencv) vs PIL.

Writes ``--n-images`` JPEGs of ``--width`` x ``--height`` (made from scikit-learn's
sample photos) to a temporary folder, then times, per image: decoding, resizing the
shorter side to ``--size``, centre-cropping ``--size`` x ``--size`` and normalising
to float32 CHW, single-threaded and with a thread pool.

    python benchmarks/bench_image_io.py --n-images 50
    python benchmarks/bench_image_io.py --n-images 500 --threads 1 2 4   # full run
"""

import argparse
import functools
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

MEAN = np.array([0.485, 0.456, 0.406], np.float32) * 255
STD = np.array([0.229, 0.224, 0.225], np.float32) * 255


def make_jpegs(folder, n, width, height):
    import cv2
    from sklearn.datasets import load_sample_images

    photos = load_sample_images().images
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        src = photos[i % len(photos)]
        # a different crop of the photo each time, so no two files are identical
        y, x = rng.integers(0, src.shape[0] // 4), rng.integers(0, src.shape[1] // 4)
        img = cv2.resize(src[y:, x:], (width, height), interpolation=cv2.INTER_AREA)
        path = Path(folder) / f"img_{i:05d}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def pil_one(path, size):
    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        w, h = im.size
        s = size / min(w, h)
        im = im.resize((max(size, round(w * s)), max(size, round(h * s))), Image.BILINEAR)
        w, h = im.size
        left, top = (w - size) // 2, (h - size) // 2
        im = im.crop((left, top, left + size, top + size))
        x = np.asarray(im, dtype=np.float32)
    return ((x - MEAN) / STD).transpose(2, 0, 1)


def skmm_batch(paths, size, n_threads, reduced=True):
    from skmm.io import load_images, preprocess_image

    prep = functools.partial(preprocess_image, size=size, mean=MEAN, std=STD)
    out = load_images(
        paths, preprocess=prep, target_size=size if reduced else None, n_threads=n_threads
    )
    assert not any(isinstance(o, Exception) for o in out)
    return out


def pil_batch(paths, size, n_threads):
    if n_threads <= 1:
        return [pil_one(p, size) for p in paths]
    with ThreadPoolExecutor(n_threads) as pool:
        return list(pool.map(lambda p: pil_one(p, size), paths))


def timed(fn, n, repeat):
    fn()  # warm-up: imports, page cache
    best = min(_clock(fn) for _ in range(repeat))
    return n / best


def _clock(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=50)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    import cv2

    cv2.setNumThreads(1)  # one core per worker: the thread pool does the scaling
    with tempfile.TemporaryDirectory() as folder:
        paths = make_jpegs(folder, args.n_images, args.width, args.height)
        a, b = skmm_batch(paths[:3], args.size, 1), pil_batch(paths[:3], args.size, 1)
        diff = float(np.mean([np.abs(x - y).mean() for x, y in zip(a, b)]))
        print(
            f"{args.n_images} JPEGs {args.width}x{args.height} -> {args.size}, "
            f"{os.cpu_count()} CPUs; mean |skmm - PIL| = {diff:.3f} (normalised units)"
        )
        print(
            f"{'threads':>7} {'PIL img/s':>10} {'skmm img/s':>11} {'ratio':>6} "
            f"{'skmm full-decode img/s':>23}"
        )
        for t in args.threads:
            n = args.n_images
            pil = timed(lambda t=t: pil_batch(paths, args.size, t), n, args.repeat)
            fast = timed(lambda t=t: skmm_batch(paths, args.size, t), n, args.repeat)
            full = timed(lambda t=t: skmm_batch(paths, args.size, t, reduced=False), n, args.repeat)
            print(f"{t:>7} {pil:>10.1f} {fast:>11.1f} {fast / pil:>6.2f} {full:>23.1f}")


if __name__ == "__main__":
    main()
