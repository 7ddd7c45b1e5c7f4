"""Audio front-end benchmarks (issue 3).

(b) log-mel of N x 3 s clips: skmm's batched torch front end vs
    ``librosa.feature.melspectrogram`` + log, one clip at a time; prints clips/s, the
    ratio and the largest |difference| of the log-mel values.
(c) reading N wav files: ``skmm.io.read_audio`` vs ``librosa.load`` with its defaults
    (resampling to 22 050 Hz), and both resampling to 16 kHz.

Run small here, full size on a quiet machine::

    python benchmarks/bench_audio.py --n 300 --repeat 3
    python benchmarks/bench_audio.py --n 40 --repeat 1        # a quick check
"""

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

CONFIGS = {
    "librosa defaults (22.05 kHz, n_fft 2048, hop 512, 128 mels)": {
        "sr": 22050,
        "n_fft": 2048,
        "hop_length": 512,
        "n_mels": 128,
    },
    "MelEncoder defaults (16 kHz, n_fft 400, hop 160, 64 mels)": {
        "sr": 16000,
        "n_fft": 400,
        "hop_length": 160,
        "n_mels": 64,
    },
}


def best_of(repeat, fn):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def bench_logmel(n, repeat, device):
    import librosa

    from skmm.io import log_mel_spectrogram

    rng = np.random.default_rng(0)
    for name, cfg in CONFIGS.items():
        sr = cfg["sr"]
        t = np.arange(3 * sr) / sr
        clips = [
            (
                0.2 * np.sin(2 * np.pi * rng.uniform(100, 2000) * t)
                + 0.05 * rng.standard_normal(len(t))
            ).astype(np.float32)
            for _ in range(n)
        ]
        ref_time, ref = best_of(
            repeat,
            lambda cfg=cfg, clips=clips: [
                np.log(librosa.feature.melspectrogram(y=y, **cfg) + 1e-6) for y in clips
            ],
        )
        log_mel_spectrogram(clips[:2], **cfg, device=device)  # warm-up (filterbank, kernels)

        def ours(cfg=cfg, clips=clips):
            logmel, _n_frames = log_mel_spectrogram(clips, **cfg, device=device)
            return logmel.cpu()

        our_time, logmel = best_of(repeat, ours)
        delta = max(float(np.abs(logmel[i].numpy() - r).max()) for i, r in enumerate(ref))
        print(f"(b) log-mel, {name}, {n} x 3 s clips")
        print(f"    librosa per clip : {n / ref_time:8.0f} clips/s")
        print(f"    skmm batched     : {n / our_time:8.0f} clips/s on {device}")
        print(f"    ratio {ref_time / our_time:.1f}x   max |d log-mel| = {delta:.2e}")


def bench_read(n, repeat):
    import librosa
    import soundfile as sf

    from skmm.io import read_audio

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        for native in (16000, 44100):
            paths = []
            for i in range(n):
                path = Path(folder) / f"clip_{native}_{i}.wav"
                sf.write(path, 0.1 * rng.standard_normal(3 * native), native, subtype="PCM_16")
                paths.append(path)
            cases = [
                ("librosa.load defaults (-> 22050 Hz)", lambda p: librosa.load(p)),
                ("skmm.read_audio at native rate", lambda p, s=native: read_audio(p, s)),
                ("librosa.load(sr=16000)", lambda p: librosa.load(p, sr=16000)),
                ("skmm.read_audio(sr=16000)", lambda p: read_audio(p, 16000)),
            ]
            timings = {}
            for label, fn in cases:
                timings[label], _ = best_of(
                    repeat, lambda fn=fn, paths=paths: [fn(p) for p in paths]
                )
            print(f"(c) reading {n} x 3 s PCM-16 wav files at {native} Hz")
            for label, seconds in timings.items():
                print(f"    {label:38s}: {n / seconds:8.0f} files/s")
            labels = list(timings)
            print(
                f"    ratio vs librosa defaults: {timings[labels[0]] / timings[labels[1]]:.1f}x;"
                f" both to 16 kHz: {timings[labels[2]] / timings[labels[3]]:.1f}x"
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="clips / files per case")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument("--only", choices=["logmel", "read"], default=None)
    args = parser.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    if args.only in (None, "logmel"):
        bench_logmel(args.n, args.repeat, args.device)
    if args.only in (None, "read"):
        bench_read(args.n, args.repeat)


if __name__ == "__main__":
    main()
