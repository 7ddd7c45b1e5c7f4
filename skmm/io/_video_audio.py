"""Reading the audio track of a video clip with PyAV: downmixed to mono, resampled."""

import numpy as np

from ..exceptions import InputError
from ._video_reader import _av, _open, _reason, _streams


def read_video_audio(source, sr, *, max_duration=None):
    """Read the audio track of a clip, downmixed to mono and resampled to ``sr``.

    Only the audio packets are decoded; the pictures are skipped without decoding.

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
    av = _av()
    limit = None if max_duration is None else round(max_duration * sr)
    with _open(source) as (container, what):
        if not container.streams.audio:
            raise InputError(
                f"the {what} has no audio track (it holds: {_streams(container) or 'nothing'}); "
                "give MelEncoder clips with sound, or drop the voice block for this column"
            )
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=int(sr))
        chunks, n = [], 0
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray().reshape(-1))
                        n += chunks[-1].size
                if limit is not None and n >= limit:
                    break
            else:
                chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
        except av.FFmpegError as exc:
            raise InputError(
                f"cannot decode the audio track of the {what}: {_reason(exc)}"
            ) from exc
    if not chunks:
        raise InputError(f"the audio track of the {what} holds no samples")
    y = np.concatenate(chunks).astype(np.float32, copy=False)
    return y[:limit] if limit is not None else y
