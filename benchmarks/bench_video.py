"""Video clips: sampling frames, reading the audio track, and VideoEncoder, against the usual loops.

Writes ``--n`` clips of ``--seconds`` s at 640 x 480, 30 fps (h264 with B-frames, AAC
audio at 44.1 kHz), made from scikit-learn's sample photos panning with grain so the
encoder has real work, then times in one run:

1. sampling 8 frames per clip: ``skmm.io.read_video`` vs the OpenCV loop users write
   (``cv2.VideoCapture`` reading every frame, keeping 8 evenly spaced);
2. the audio track at 16 kHz mono: ``skmm.io.read_video_audio`` vs one
   ``ffmpeg -i clip -vn -ac 1 -ar 16000`` subprocess per clip (imageio-ffmpeg's binary);
3. ``VideoEncoder("face-expression", face_crop=True)`` clips per second (no cache).

    python benchmarks/bench_video.py --n 10 --repeat 1          # smoke run
    python benchmarks/bench_video.py --n 100                    # the issue's sizes
    python benchmarks/bench_video.py --n 40 --clips /tmp/clips  # keep the clips for a rerun
"""

import argparse
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

N_FRAMES = 8


def make_clips(folder, n, seconds, fps=30, width=640, height=480):
    import cv2
    from sklearn.datasets import load_sample_images

    from skmm.io._video_writer import write_video

    photos = [
        cv2.resize(p, (1000, 600), interpolation=cv2.INTER_AREA)
        for p in load_sample_images().images
    ]
    rng = np.random.default_rng(0)
    grain = rng.integers(-6, 7, (8, height, width, 3), dtype=np.int16)
    t = np.arange(int(44100 * seconds)) / 44100
    paths = []
    for i in range(n):
        photo = photos[i % len(photos)]
        y0, x0 = (
            rng.integers(0, photo.shape[0] - height),
            rng.integers(0, 1000 - width - int(2 * fps * seconds)),
        )

        def frames(photo=photo, y0=y0, x0=x0):
            for k in range(int(fps * seconds)):
                x = x0 + 2 * k  # a slow pan, as a hand-held camera
                image = photo[y0 : y0 + height, x : x + width].astype(np.int16)
                image += grain[k % len(grain)]  # sensor grain
                yield np.clip(image, 0, 255).astype(np.uint8)

        voice = 0.2 * np.sin(2 * np.pi * (150 + 10 * i) * t) * (0.6 + 0.4 * np.sin(8 * t))
        path = Path(folder) / f"clip_{i:03d}.mp4"
        write_video(
            path, frames(), fps, audio=voice, sample_rate=44100, options={"preset": "veryfast"}
        )
        paths.append(str(path))
    return paths


def opencv_sample(path, n_frames=N_FRAMES):
    """The usual loop: read every frame, keep n evenly spaced ones (as RGB)."""
    import cv2

    cap = cv2.VideoCapture(path)
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    keep = set(np.linspace(0, total - 1, n_frames).round().astype(int).tolist())
    frames, i = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i in keep:
            frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
        i += 1
    cap.release()
    return frames


def skmm_sample(path, n_threads=0):
    from skmm.io import read_video

    return read_video(path, n_frames=N_FRAMES, n_threads=n_threads)


def ffmpeg_audio(path, binary):
    out = subprocess.run(
        [binary, "-v", "error", "-i", path, "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(out.stdout, np.float32)


def skmm_audio(path):
    from skmm.io import read_video_audio

    return read_video_audio(path, 16000)


def _cpu_seconds():
    """CPU time of this process (all its threads) and of its finished subprocesses."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def race(fns, paths, repeat):
    """Wall and CPU seconds per function, summed over the clips: per clip the best of
    ``repeat`` runs, the functions taking turns on each clip, so a busy spell on a shared
    machine slows all alike. CPU time (every thread, and the ffmpeg subprocess) is the
    work done, which the machine's load changes far less than the wall time."""
    wall = np.full((len(fns), len(paths)), np.inf)
    cpu = wall.copy()
    for _ in range(repeat):
        for j, p in enumerate(paths):
            for k, fn in enumerate(fns):
                start, start_cpu = time.perf_counter(), _cpu_seconds()
                fn(p)
                wall[k, j] = min(wall[k, j], time.perf_counter() - start)
                cpu[k, j] = min(cpu[k, j], _cpu_seconds() - start_cpu)
    return wall.sum(axis=1), cpu.sum(axis=1)


def pooled(fn, workers):
    """``fn`` over a list of clips, ``workers`` clips at a time (threads: both PyAV and
    OpenCV release the GIL while decoding)."""
    from concurrent.futures import ThreadPoolExecutor

    def run(paths):
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(fn, paths))

    return run


def table(rows, n, wall, cpu, target):
    """A markdown table: the first row is the baseline; the second carries the target."""
    print("| | wall s | clips/s | speed-up | CPU s | CPU ratio |\n|---|---|---|---|---|---|")
    for k, name in enumerate(rows):
        speed = f"{wall[0] / wall[k]:.2f}"
        if k == 1:
            speed = f"**{speed}** (target >= {target})"
        print(
            f"| {name} | {wall[k]:.2f} | {n / wall[k]:.1f} | {speed} | {cpu[k]:.2f} | "
            f"{cpu[0] / cpu[k]:.2f} |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="clips")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    parser.add_argument("--encoder-clips", type=int, default=20)
    parser.add_argument(
        "--clips",
        help="folder to keep the clips in and reuse on the next run (default: a temp one)",
    )
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    import imageio_ffmpeg

    binary = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as folder:
        folder = args.clips or folder
        os.makedirs(folder, exist_ok=True)
        paths = sorted(str(p) for p in Path(folder).glob("clip_*.mp4"))[: args.n]
        if len(paths) < args.n:
            start = time.perf_counter()
            paths = make_clips(folder, args.n, args.seconds)
            print(f"wrote {len(paths)} clips in {time.perf_counter() - start:.1f} s")

        # Same frames? (both pick the frames nearest evenly spaced times)
        a, b = skmm_sample(paths[0]), opencv_sample(paths[0])
        print(f"frames: skmm {a.shape}, opencv {len(b)} x {b[0].shape}")

        print(f"\n1. sampling {N_FRAMES} frames from {args.n} {args.seconds:g}-s 640x480 clips")
        fns = [opencv_sample, skmm_sample, lambda p: skmm_sample(p, n_threads=1)]
        table(
            [
                "OpenCV `VideoCapture`, every frame read, 8 kept",
                "skmm `read_video(n_frames=8)`",
                "skmm `read_video(n_frames=8, n_threads=1)`",
            ],
            args.n,
            *race(fns, paths, args.repeat),
            target=2,
        )

        cores = os.cpu_count() or 1
        print(
            f"\n1b. the same, the {args.n} clips as one collection: one after another, "
            f"or {cores} at a time (one per core)"
        )
        table(
            [
                "OpenCV loop over the clips, one after another (the loop users write)",
                f"skmm `read_video(n_frames=8, n_threads=1)`, {cores} clips at a time "
                "(as `VideoEncoder` reads them)",
                f"OpenCV loop, {cores} clips at a time",
            ],
            args.n,
            *race(  # one "clip": the whole collection
                [
                    lambda ps: [opencv_sample(p) for p in ps],
                    pooled(lambda p: skmm_sample(p, n_threads=1), cores),
                    pooled(opencv_sample, cores),
                ],
                [paths],
                args.repeat,
            ),
            target=2,
        )

        print("\n2. audio track at 16 kHz mono")
        y_ff, y_sk = ffmpeg_audio(paths[0], binary), skmm_audio(paths[0])
        gap = np.abs(y_ff - y_sk).max() if len(y_ff) == len(y_sk) else float("nan")
        print(f"samples: ffmpeg {len(y_ff)}, skmm {len(y_sk)}; largest difference {gap:.1e}")
        table(
            [
                "one `ffmpeg -i clip -vn -ac 1 -ar 16000 -f f32le -` subprocess per clip",
                "skmm `read_video_audio(clip, 16000)`",
            ],
            args.n,
            *race([lambda p: ffmpeg_audio(p, binary), skmm_audio], paths, args.repeat),
            target=3,
        )

        from skmm.encoders import VideoEncoder

        clips = paths[: args.encoder_clips]
        enc = VideoEncoder("face-expression", face_crop=True, cache=False, progress=False)
        enc.fit(clips[:1]).transform(clips[:1])  # load the model
        start = time.perf_counter()
        enc.transform(clips)
        took = time.perf_counter() - start
        print(
            f"\n3. VideoEncoder('face-expression', face_crop=True, n_frames=8): "
            f"{len(clips)} clips in {took:.2f} s = {len(clips) / took:.2f} clips/s"
        )


if __name__ == "__main__":
    main()
