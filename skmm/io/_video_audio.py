"""Reading the audio track of a video clip with PyAV: downmixed to mono, resampled."""

import math

import numpy as np

from ..exceptions import InputError
from ._resample import resample
from ._video_open import _av, _open, _reason, _streams

# Samples past the end a track's header declares that are taken for the encoder's padding
# of its last frame (an AAC frame holds 1024) and dropped, as ffmpeg drops them.
_MAX_PADDING = 2048
# Scale of each integer sample format PyAV's decoders give, to [-1, 1); u8 is offset by 128.
_INT_SCALE = {"s16": 2.0**15, "s32": 2.0**31, "s64": 2.0**63, "u8": 2.0**7}


def read_video_audio(source, sr, *, max_duration=None):
    """Read the audio track of a clip, downmixed to mono and resampled to ``sr``.

    Only the audio packets are decoded; the pictures are skipped without decoding. The
    track is decoded at its own rate, its channels averaged, and the waveform resampled
    once with the resampler :func:`skmm.io.read_audio` uses for sound files (soxr,
    ``"soxr_hq"``), so a clip and a wav of the same sound give the same samples. The
    encoder's padding after the length the container declares is dropped, as ffmpeg
    drops it.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        A video or audio container PyAV reads (mp4, mov, mkv, webm, avi, flv, m4a, ...).
    sr : int
        Target sampling rate in Hz.
    max_duration : float, optional
        Keep only the first ``max_duration`` seconds (decoding stops there).

    Returns
    -------
    waveform : ndarray of shape (n_samples,), float32

    Raises
    ------
    skmm.exceptions.InputError
        The file is missing, empty, corrupt, or has no audio track.

    Examples
    --------
    >>> from skmm.io import read_video_audio
    >>> try:
    ...     read_video_audio(b"", 16000)
    ... except ValueError as exc:
    ...     print(exc)
    the video bytes are empty (0 bytes)
    """
    y, native_sr = _read_track(source, max_duration)
    y = np.asarray(resample(y, native_sr, int(sr)), dtype=np.float32)
    return y if max_duration is None else y[: round(max_duration * sr)]


def _read_track(source, max_duration=None):
    """(mono float32 waveform, its rate): the first audio track, decoded at its own rate."""
    av = _av()
    with _open(source) as (container, what):
        if not container.streams.audio:
            raise InputError(
                f"the {what} has no audio track (it holds: {_streams(container) or 'nothing'}); "
                "give MelEncoder clips with sound, or drop the voice block for this column"
            )
        stream = container.streams.audio[0]
        chunks, rate, n, limit = [], None, 0, None
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if rate is None:
                        rate = frame.sample_rate
                        limit = None if max_duration is None else math.ceil(max_duration * rate)
                    elif frame.sample_rate != rate:
                        raise InputError(
                            f"the audio track of the {what} changes its sampling rate from "
                            f"{rate} to {frame.sample_rate} Hz; convert it with ffmpeg first"
                        )
                    chunks.append(_mono(frame))
                    n += chunks[-1].size
                if limit is not None and n >= limit:
                    break
        except av.FFmpegError as exc:
            raise InputError(
                f"cannot decode the audio track of the {what}: {_reason(exc)}"
            ) from exc
        declared = stream.duration and round(stream.duration * stream.time_base * (rate or 0))
    if not chunks:
        raise InputError(f"the audio track of the {what} holds no samples")
    y = np.concatenate(chunks)
    if declared and 0 < y.size - declared <= _MAX_PADDING:
        y = y[:declared]
    return (y if limit is None else y[:limit]), rate


def _mono(frame):
    """One decoded frame as float32 samples, its channels averaged."""
    samples = frame.to_ndarray()
    if not frame.format.is_planar:  # interleaved: (1, n * channels)
        samples = samples.reshape(-1, frame.layout.nb_channels).T
    name = frame.format.name.rstrip("p")
    if name == "u8":
        samples = samples.astype(np.float32) - 128
    if name in _INT_SCALE:
        samples = samples.astype(np.float32) / _INT_SCALE[name]
    samples = samples.astype(np.float32, copy=False)
    return samples[0] if len(samples) == 1 else samples.mean(axis=0)
