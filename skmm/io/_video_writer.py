"""Writing a short clip (frames and an optional voice track) with PyAV: synthetic data, tests."""

import itertools
import os

import numpy as np

from .._deps import import_optional

_AUDIO_CHUNK = 1024  # samples per encoded audio frame (AAC takes 1024)


def write_video(
    path,
    frames,
    fps,
    *,
    audio=None,
    sample_rate=16000,
    rotation=0,
    codec="libx264",
    audio_codec="aac",
    options=None,
    container_options=None,
):
    """Write RGB frames, and optionally a mono waveform, to a video file.

    Parameters
    ----------
    path : str or path-like
        The container follows the name: ``.mp4``, ``.mkv``, ``.avi``, ``.webm``, ...
    frames : iterable of ndarray of shape (H, W, 3), dtype uint8
        RGB frames, all of one even-sided size (``yuv420p``); may be a generator.
    fps : int or fractions.Fraction
        Frame rate.
    audio : ndarray of shape (n_samples,), optional
        A float waveform in [-1, 1] for the audio track; None writes no audio track.
    sample_rate : int, default=16000
    rotation : int, default=0
        Display rotation stored in the metadata, counter-clockwise degrees (as phones do).
    codec, audio_codec : str, default="libx264", "aac"
        Encoders (``"mpeg4"`` and ``"libvpx"`` for avi and webm, ``"libopus"`` for webm).
    options : dict, optional
        Encoder options, e.g. ``{"crf": "28", "g": "12"}``.
    container_options : dict, optional
        Muxer options, e.g. ``{"movflags": "+faststart"}`` (the index first in an mp4).

    Returns
    -------
    path : str

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from skmm.io import read_video
    >>> from skmm.io._video_writer import write_video
    >>> path = os.path.join(tempfile.mkdtemp(), "grey.mp4")
    >>> _ = write_video(path, [np.full((16, 16, 3), 128, np.uint8)] * 5, fps=5)
    >>> read_video(path, n_frames=2).shape
    (2, 16, 16, 3)
    """
    av = import_optional("av", "writing video clips")
    path = os.fspath(path)
    frames = iter(frames)
    first = next(frames, None)
    with av.open(path, mode="w", options=dict(container_options or {})) as container:
        video = None
        if first is not None:  # the picture stream first, as cameras write it
            video = container.add_stream(codec, rate=fps, options=dict(options or {}))
            video.height, video.width = first.shape[:2]
            video.pix_fmt = "yuv420p"
            if rotation:
                video.set_display_rotation(rotation)
        audio_stream = None
        if audio is not None:
            audio_stream = container.add_stream(audio_codec, rate=int(sample_rate))
            audio_stream.layout = "mono"
        if video is not None:
            for frame in itertools.chain([first], frames):
                image = av.VideoFrame.from_ndarray(np.asarray(frame), format="rgb24")
                container.mux(video.encode(image))
            container.mux(video.encode())
        if audio_stream is not None:
            _write_audio(av, container, audio_stream, np.asarray(audio, np.float32), sample_rate)
    return path


def _write_audio(av, container, stream, wave, sample_rate):
    for start in range(0, len(wave), _AUDIO_CHUNK):
        chunk = np.ascontiguousarray(wave[None, start : start + _AUDIO_CHUNK])
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate = int(sample_rate)
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode())
