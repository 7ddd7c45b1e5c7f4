"""Resampling a mono waveform: one resampler for audio files and the audio tracks of clips."""

import math

import numpy as np

from .._deps import import_optional

# soxr's high-quality setting: near-transparent and much faster than librosa's "soxr_vhq"
# or the scipy/resampy filters.
RESAMPLE_TYPE = "soxr_hq"


def resample(y, orig_sr, sr):
    """Resample a 1-D waveform from ``orig_sr`` to ``sr`` Hz (soxr, ``"soxr_hq"``).

    The same samples as ``librosa.resample(y, orig_sr=orig_sr, target_sr=sr,
    res_type="soxr_hq")``: ``ceil(len(y) * sr / orig_sr)`` of them, in ``y``'s dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io._resample import resample
    >>> resample(np.zeros(44100, np.float32), 44100, 16000).shape
    (16000,)
    """
    if orig_sr == sr:
        return y
    soxr = import_optional("soxr", "resampling audio")
    out = soxr.resample(y, orig_sr, sr, quality=RESAMPLE_TYPE)
    n = math.ceil(len(y) * float(sr) / orig_sr)
    out = out[:n] if len(out) >= n else np.pad(out, (0, n - len(out)))
    return np.asarray(out, dtype=y.dtype)
