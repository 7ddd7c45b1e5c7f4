"""Resampling a mono waveform: one resampler for audio files and the audio tracks of clips."""

from .._deps import import_optional

# soxr's high-quality setting: near-transparent and much faster than librosa's "soxr_vhq"
# or the scipy/resampy filters.
RESAMPLE_TYPE = "soxr_hq"


def resample(y, orig_sr, sr):
    """Resample a 1-D waveform from ``orig_sr`` to ``sr`` Hz (soxr, ``"soxr_hq"``).

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io._resample import resample
    >>> resample(np.zeros(44100, np.float32), 44100, 16000).shape
    (16000,)
    """
    if orig_sr == sr:
        return y
    librosa = import_optional("librosa", "resampling audio")
    return librosa.resample(y, orig_sr=orig_sr, target_sr=sr, res_type=RESAMPLE_TYPE)
