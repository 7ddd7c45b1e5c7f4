"""Peak memory of MelEncoder for audio of growing length (issue 14, part 3).

For each length, a fresh interpreter encodes one long 16 kHz WAV together with 31
one-second WAVs (batch_size 32, cache off) and reports the growth of its peak resident
memory (``resource.getrusage``) over a warm-up transform of the short clips alone, the
wall time, and the growth per minute of audio. ``--alone`` encodes the long clip by
itself, which is what padding it with the short ones used to multiply by 32.

    python benchmarks/bench_audio_memory.py --minutes 1 5 15 30
    python benchmarks/bench_audio_memory.py --minutes 1 5 --backbone whisper-tiny
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import json, resource, sys, time
from skmm import MelEncoder

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

backbone, alone, long_clip, short = sys.argv[1], sys.argv[2] == "1", sys.argv[3], sys.argv[4:]
encoder = MelEncoder(backbone, cache=False, progress=False).fit(short)
encoder.transform(short)
before = peak_mb()
start = time.perf_counter()
encoder.transform([long_clip] if alone else [long_clip, *short])
seconds = time.perf_counter() - start
print(json.dumps({"baseline_mb": before, "growth_mb": peak_mb() - before, "seconds": seconds}))
"""


def write_clip(path, seconds, sr=16000, seed=0):
    import soundfile as sf

    n = int(seconds * sr)
    rng = np.random.default_rng(seed)
    with sf.SoundFile(path, "w", sr, 1, "PCM_16") as f:
        for start in range(0, n, 60 * sr):  # a minute at a time: the writer stays small
            t = np.arange(start, min(start + 60 * sr, n)) / sr
            y = 0.3 * np.sin(2 * np.pi * 220 * t) + rng.normal(scale=0.05, size=t.size)
            f.write(y.astype(np.float32))
    return str(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 5, 15, 30])
    parser.add_argument("--backbone", default="stats")
    parser.add_argument("--alone", action="store_true", help="the long clip without the others")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        short = [write_clip(Path(tmp) / f"short{i}.wav", 1, seed=i) for i in range(31)]
        print(f"MelEncoder({args.backbone!r}), one long clip + {31 * (not args.alone)} 1 s clips")
        print("| minutes | peak growth MB | MB per minute | seconds | baseline MB |")
        print("|---|---|---|---|---|")
        for minutes in args.minutes:
            long_clip = write_clip(Path(tmp) / "long.wav", 60 * minutes)
            done = subprocess.run(
                [sys.executable, "-c", CHILD, args.backbone, str(int(args.alone)), long_clip]
                + short,
                capture_output=True,
                text=True,
            )
            if done.returncode:
                sys.exit(f"{minutes:g} minutes failed:\n{done.stderr}")
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"| {minutes:g} | {r['growth_mb']:.0f} | {r['growth_mb'] / minutes:.1f} | "
                f"{r['seconds']:.1f} | {r['baseline_mb']:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
