"""VideoEncoder configurations for the shared encoder contract suite (see encoder_cases.py),
and the tiny clips the video tests write with PyAV."""

import numpy as np


def clip_frames(n, size=(32, 48), level=None, step=8):
    """``n`` RGB frames whose grey level is ``i * step`` (or ``level``): the frame index is readable."""
    h, w = size
    return [
        np.full((h, w, 3), (i * step if level is None else level) % 256, np.uint8) for i in range(n)
    ]


def tone(seconds, sr=16000, f0=220.0):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


def write_clip(path, n=20, fps=10, size=(32, 48), audio=True, **kwargs):
    """A small h264 mp4 (aac voice when ``audio``) whose frame ``i`` has grey level ``8 i``."""
    from skmm.io._video_writer import write_video

    wave = tone(n / fps) if audio else None
    return write_video(path, clip_frames(n, size), fps, audio=wave, **kwargs)


def write_clips(folder, n=10):
    """``n`` clips: even rows dark and low-pitched (label 0), odd rows bright and high (label 1)."""
    from skmm.io._video_writer import write_video

    folder.mkdir(parents=True, exist_ok=True)
    paths, labels = [], []
    for i in range(n):
        label = i % 2
        frames = clip_frames(6, (32, 32), level=40 + 150 * label + 3 * i)
        path = folder / f"clip_{i}.mp4"
        write_video(path, frames, 6, audio=tone(1.0, f0=150 + 300 * label + 10 * i))
        paths.append(str(path))
        labels.append(label)
    return paths, labels


def _video_rows(tmp_path):
    return write_clips(tmp_path / "video")


def _video_tiny_vit(request):
    from image_cases import tiny_vision_model

    from skmm.encoders._video_encoder import VideoEncoder

    return VideoEncoder(tiny_vision_model(request), n_frames=3, batch_size=4)


def _video_fer_crop(request):
    from skmm.encoders._video_encoder import VideoEncoder

    return VideoEncoder("face-expression", face_crop=True, n_frames=2, temporal_pooling="mean+std")


VIDEO_CASES = {
    "VideoEncoder-tiny-vit": (_video_tiny_vit, _video_rows),
    "VideoEncoder-fer-crop": (_video_fer_crop, _video_rows),
}
