"""Writing one synthetic clip: the drawn face's expression builds up while the voice plays."""

import numpy as np

from ..io._video_writer import write_video
from ._synthetic_media import draw_face

#: Frame rate of the synthetic clips: enough for an expression to move, few frames to encode.
CLIP_FPS = 10


def write_emotion_clip(path, emotion, intensity, speaker, seed, size, noise, wave, sample_rate):
    """Write an h264 + AAC mp4: a face going from a hint of ``emotion`` to its apex, and ``wave``.

    Every frame is drawn from the same random state, so the face keeps its place, tilt
    and grain and only the expression moves (a smooth onset over the first two thirds).
    """
    duration = len(wave) / sample_rate
    n_frames = max(2, round(duration * CLIP_FPS))
    even = size - size % 2  # yuv420p needs even sides
    onset = np.clip(np.arange(n_frames) / max(1, n_frames - 1) / (2 / 3), 0, 1)
    ramp = 0.15 + 0.85 * onset * onset * (3 - 2 * onset)  # smoothstep from a hint to the apex

    def frames():
        for level in ramp:
            bgr = draw_face(
                emotion, intensity * level, speaker, np.random.RandomState(seed), size, noise
            )
            yield np.ascontiguousarray(bgr[:even, :even, ::-1])  # BGR -> RGB

    return write_video(
        path,
        frames(),
        CLIP_FPS,
        audio=wave,
        sample_rate=sample_rate,
        options={"preset": "ultrafast", "crf": "20"},
    )
