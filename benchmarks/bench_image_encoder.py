"""End-to-end ImageEncoder throughput: JPEG files in, embeddings out, per backbone and device.

Writes ``--n-images`` JPEGs (scikit-learn's sample photos, cropped differently each
time, plus scikit-image's astronaut so the face models have faces to find), then times
``ImageEncoder(...).fit_transform(paths)`` with the cache off.

    python benchmarks/bench_image_encoder.py --n-images 64
    python benchmarks/bench_image_encoder.py --n-images 2000 --device cuda --batch-size 128
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def make_jpegs(folder, n, width, height):
    import cv2
    from skimage import data
    from sklearn.datasets import load_sample_images

    photos = [*load_sample_images().images, data.astronaut()]
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        src = photos[i % len(photos)]
        y, x = rng.integers(0, src.shape[0] // 8), rng.integers(0, src.shape[1] // 8)
        img = cv2.resize(src[y:, x:], (width, height), interpolation=cv2.INTER_AREA)
        path = Path(folder) / f"img_{i:05d}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(str(path))
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=64)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--n-threads", type=int, default=None)
    parser.add_argument("--torch-threads", type=int, default=None)
    parser.add_argument("--backbones", nargs="+", default=["efficientnet-lite0", "face-expression"])
    args = parser.parse_args(argv)

    import torch

    from skmm.encoders._image_encoder import ImageEncoder

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    with tempfile.TemporaryDirectory() as folder:
        paths = make_jpegs(folder, args.n_images, args.width, args.height)
        print(
            f"{args.n_images} JPEGs {args.width}x{args.height}, device={args.device}, "
            f"batch_size={args.batch_size}, torch threads={torch.get_num_threads()}"
        )
        for backbone in args.backbones:
            for face_crop in [False, True] if backbone == "face-expression" else [False]:
                enc = ImageEncoder(
                    backbone,
                    face_crop=face_crop,
                    device=args.device,
                    batch_size=args.batch_size,
                    n_threads=args.n_threads,
                    cache=False,
                    progress=False,
                )
                enc.fit_transform(paths[: min(8, len(paths))])  # load the model, warm up
                start = time.perf_counter()
                Z = enc.fit_transform(paths)
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                rate = len(paths) / (time.perf_counter() - start)
                found = enc.training_report_.facts.get("face_found")
                extra = f", faces found {np.nanmean(found):.0%}" if face_crop else ""
                print(
                    f"{backbone:>20} face_crop={face_crop!s:5} dtype={enc.dtype_:8} "
                    f"{Z.shape[1]:>5}-d  {rate:8.1f} img/s{extra}"
                )


if __name__ == "__main__":
    main()
