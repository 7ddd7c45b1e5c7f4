"""Run every benchmark at full size, one after another, and print their reports.

    python benchmarks/run_all.py            # about 15-25 minutes on a quiet 2-core CPU
    python benchmarks/run_all.py --quick    # small sizes, a smoke run

Each script prints ratios against the tool a user would otherwise use, measured in the
same run; nothing here asserts a speed. Copy the figures into benchmarks/RESULTS.md.
"""

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent

FULL = [
    ["bench_text.py"],
    ["bench_image_io.py", "--n-images", "300", "--threads", "1", "2"],
    ["bench_audio.py", "--n", "300"],
    ["bench_image_encoder.py", "--n-images", "64"],
    ["bench_heads.py"],
    ["bench_head_threads.py"],
    ["bench_optuna_cache.py", "--n-texts", "200", "--n-trials", "10"],
    ["bench_video.py", "--n", "100"],
    # the VADER accuracy table (--parts vader) takes hours on a CPU: run it on its own
    ["bench_finetune.py", "--parts", "speed", "--n-speed", "320"],
]
QUICK = [
    [
        "bench_text.py",
        "--n",
        "200",
        "--grid-texts",
        "100",
        "--memory-texts",
        "2000",
        "--repeats",
        "1",
    ],
    ["bench_image_io.py", "--n-images", "30"],
    ["bench_audio.py", "--n", "30", "--repeat", "1"],
    ["bench_image_encoder.py", "--n-images", "8"],
    ["bench_heads.py", "--n-samples", "500", "--epochs", "3", "--repeats", "1"],
    ["bench_head_threads.py", "--n-samples", "200", "--epochs", "1", "--repeats", "1"],
    ["bench_optuna_cache.py", "--n-texts", "30", "--n-trials", "3"],
    ["bench_video.py", "--n", "5", "--repeat", "1", "--encoder-clips", "2"],
    ["bench_finetune.py", "--parts", "speed", "--n-speed", "32", "--repeat", "1"],
]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = []
    for cmd in QUICK if args.quick else FULL:
        print(f"\n$ python benchmarks/{' '.join(cmd)}", flush=True)
        if subprocess.run([sys.executable, str(HERE / cmd[0]), *cmd[1:]]).returncode:
            failed.append(cmd[0])
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
