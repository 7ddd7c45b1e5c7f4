"""Minor page faults and system CPU time of ImageEncoder.transform on JPEG files (issue 11).

    python benchmarks/bench_page_faults.py --runtime torch
    THP_MEM_ALLOC_ENABLE=0 python benchmarks/bench_page_faults.py --runtime torch   # as before
    MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=1073741824 \\
        THP_MEM_ALLOC_ENABLE=0 python benchmarks/bench_page_faults.py --runtime torch
    python benchmarks/bench_page_faults.py --runtime onnx
"""

import argparse
import resource
import tempfile
import time

from bench_image_encoder import make_jpegs


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=100)
    parser.add_argument("--runtime", default="torch", choices=["torch", "onnx"])
    args = parser.parse_args(argv)

    from skmm import ImageEncoder

    with tempfile.TemporaryDirectory() as folder:
        paths = make_jpegs(folder, args.n_images, 640, 480)
        enc = ImageEncoder(cache=False, progress=False, runtime=args.runtime).fit(paths[:2])
        enc.transform(paths[:8])  # load and warm up
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        enc.transform(paths)
        after = resource.getrusage(resource.RUSAGE_SELF)
    print(
        f"{args.n_images} JPEGs, runtime_={enc.runtime_}: wall {time.perf_counter() - start:.2f} s, "
        f"user {after.ru_utime - before.ru_utime:.2f} s, "
        f"system {after.ru_stime - before.ru_stime:.2f} s, "
        f"minor faults {after.ru_minflt - before.ru_minflt}"
    )


if __name__ == "__main__":
    main()
