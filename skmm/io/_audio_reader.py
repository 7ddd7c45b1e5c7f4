"""Reading audio: files, bytes or arrays -> float32 mono waveform at a target rate."""

import io
import logging
import os
import re

import numpy as np

from skmm._deps import import_optional
from skmm.exceptions import InputError
from skmm.io._files import open_input_file
from skmm.io._resample import resample
from skmm.io._video_audio import _read_track
from skmm.io._video_reader import is_video

logger = logging.getLogger("skmm")

# Frames mixed down at once when reading multichannel files.
_BLOCK_FRAMES = 1 << 20
_SHOULD_BE = re.compile(r"(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)")
_UNKNOWN_SIZES = (0, 2**32 - 1, 2**31 - 1)

_INT_SCALE = {
    np.dtype("int8"): 2.0**7,
    np.dtype("int16"): 2.0**15,
    np.dtype("int32"): 2.0**31,
    np.dtype("int64"): 2.0**63,
}


def read_audio(source, sr, *, sample_rate=None, max_duration=None, strict=True):
    """Read one audio item as a float32 mono waveform sampled at ``sr``.

    Files are decoded with soundfile (libsndfile) at their native rate, which is about
    ten times faster than ``librosa.load`` with its default resampling; the waveform is
    resampled (soxr, ``"soxr_hq"``) only when the native rate differs from ``sr``.

    Parameters
    ----------
    source : path-like, bytes, ndarray, tuple or dict
        - a path to a file libsndfile decodes (wav, flac, ogg/vorbis, opus, aiff, and
          mp3 with libsndfile >= 1.1), or the file's content as ``bytes``;
        - a video clip (mp4, mov, mkv, webm, avi, flv: by name, or by content for
          bytes) or an m4a/aac file: its audio track, decoded with PyAV (the ``video``
          extra), downmixed and resampled there. A clip without an audio track is an
          ``InputError``;
        - a numpy array with its rate given by ``sample_rate``. A 1-D array is one
          channel. A 2-D array holds channels on its shorter axis, so both soundfile's
          ``(n_samples, n_channels)`` and librosa's ``(n_channels, n_samples)`` layouts
          work (a square array is read as ``(n_samples, n_channels)``). Integer arrays
          are scaled to [-1, 1) (int16 by 2**15, etc.);
        - a ``(array, sample_rate)`` tuple, or a dict with ``"array"`` and
          ``"sampling_rate"`` keys (the Hugging Face ``datasets`` Audio format).
    sr : int
        Target sampling rate in Hz.
    sample_rate : int, optional
        Sampling rate of a bare array ``source``; required for arrays, ignored for files.
    max_duration : float, optional
        Keep only the first ``max_duration`` seconds (files are not decoded past that
        point). Shorter clips are returned as they are, never padded: batching pads them
        later and masks the padding. ``None`` keeps the whole clip.
    strict : bool, default=True
        A damaged file -- its header declares more audio than the file holds (a file cut
        short), or fewer frames could be decoded than the header declares -- raises an
        InputError naming the damage. ``False`` keeps the frames that could be read and
        logs a warning.

    Returns
    -------
    waveform : ndarray of shape (n_samples,), float32
        Channels are averaged into one. ``n_samples >= 1``; a clip shorter than one STFT
        window (a 10 ms click) is kept: the centred STFT of the front end zero-pads it.

    Raises
    ------
    InputError
        The file is missing, empty (0 bytes), cannot be decoded (corrupt header,
        unknown format) or, with ``strict=True``, is damaged (cut short); a video clip
        has no audio track; the audio holds no samples; a sample is NaN or infinite; an
        array has more than 2 dimensions, no ``sample_rate`` or a non-numeric dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io import read_audio
    >>> stereo = np.zeros((8000, 2), dtype=np.float32)
    >>> read_audio(stereo, 16000, sample_rate=8000).shape
    (16000,)
    """
    if max_duration is not None and not max_duration > 0:
        raise ValueError(
            f"max_duration must be a positive number of seconds, got {max_duration!r}."
        )
    if isinstance(source, tuple) and len(source) == 2 and not isinstance(source[0], (str, bytes)):
        source, sample_rate = source
    elif isinstance(source, dict):
        if "array" not in source:
            raise InputError("an audio dict needs an 'array' key (and 'sampling_rate').")
        source, sample_rate = source["array"], source.get("sampling_rate", sample_rate)
    if is_video(source) or _is_pyav_audio(source):
        y, native_sr = _read_track(source, max_duration)
    elif isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        y, native_sr = _read_file(source, max_duration, strict)
    else:
        y, native_sr = _from_array(source, sample_rate, max_duration)
    if y.size == 0:
        raise InputError("the audio holds no samples (0 frames).")
    bad = ~np.isfinite(y)
    if bad.any():
        raise InputError(
            f"the audio holds {int(bad.sum())} NaN or infinite samples out of {y.size}."
        )
    y = resample(y, native_sr, sr)
    return np.ascontiguousarray(y, dtype=np.float32)


def _is_pyav_audio(source):
    """AAC in an MP4 box (m4a) or raw ADTS: libsndfile reads neither, PyAV does."""
    path = getattr(source, "path", None)  # a file's bytes read once by the encoder base
    if path is None and isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
    return path is not None and path.lower().endswith((".m4a", ".aac"))


def _read_file(source, max_duration, strict):
    sf = import_optional("soundfile", "reading audio files")
    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise InputError("the audio bytes are empty (0 bytes).")
        handle = io.BytesIO(bytes(source))
        path = getattr(source, "path", None)  # FileContent: read once by the encoder base
        where = "the audio given as bytes" if path is None else f"the audio file {path!r}"
    else:
        handle = open_input_file(source, "audio file")
        where = f"the audio file {os.fspath(source)!r}"
    try:
        with handle, sf.SoundFile(handle) as f:
            native_sr = f.samplerate
            frames = -1 if max_duration is None else round(max_duration * native_sr)
            data = _read_mono(f, frames)
            damage = _damage(f, len(data), frames)
    except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
        raise InputError(
            f"cannot decode {where}: {exc}. Readable formats are those of "
            "libsndfile (wav, flac, ogg, mp3, aiff, ...)."
        ) from exc
    if damage and strict:
        raise InputError(
            f"{where} is damaged: {damage}. Re-export or drop the file, or pass "
            "strict=False to encode the frames that could be read."
        )
    if damage:
        logger.warning(
            "skmm: %s is damaged (%s); encoding the frames that could be read.", where, damage
        )
    return data, native_sr


def _read_mono(f, frames):
    """Decode ``frames`` frames (-1: all) as float32 mono, mixing down block by block."""
    if f.channels == 1:
        return f.read(frames=frames, dtype="float32", always_2d=True)[:, 0]
    # a long multichannel recording is never held at full width: at most one block is
    blocks = [
        block.mean(axis=1, dtype=np.float32)
        for block in f.blocks(
            blocksize=_BLOCK_FRAMES, frames=frames, dtype="float32", always_2d=True
        )
    ]
    return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)


def _damage(f, n_read, frames):
    """What says the file was cut short or could not be fully decoded, or None."""
    for line in f.extra_info.splitlines():
        # libsndfile's header log, e.g. "data : 64000 (should be 31978)" (WAV; "SSND" in
        # AIFF): the audio chunk declares more bytes than the file holds. Streaming
        # writers declare 0 or 2**32-1.
        match = _SHOULD_BE.match(line.strip())
        if match:
            declared, present = int(match[1]), int(match[2])
            if present < declared and declared not in _UNKNOWN_SIZES:
                return (
                    f"its header declares {declared} bytes of audio data but the file "
                    f"holds {present} (the file was cut short)"
                )
    wanted = f.frames if frames < 0 else min(frames, f.frames)
    if n_read < wanted:
        return f"only {n_read} of the {wanted} frames its header declares could be decoded"
    return None


def _from_array(source, sample_rate, max_duration):
    if sample_rate is None:
        raise InputError(
            "an audio array needs its sampling rate: pass sample_rate=... "
            "(or an (array, sample_rate) tuple)."
        )
    if not float(sample_rate) > 0:
        raise InputError(f"sample_rate must be positive, got {sample_rate!r}.")
    y = np.asarray(source)
    if y.dtype.kind not in "fiu":
        raise InputError(f"an audio array must be numeric, got dtype {y.dtype}.")
    if y.ndim == 0 or y.ndim > 2:
        raise InputError(
            "an audio array must be 1-D (one channel) or 2-D (samples and "
            f"channels), got shape {y.shape}."
        )
    if y.ndim == 2 and y.shape[0] < y.shape[1]:
        y = y.T  # (n_channels, n_samples), librosa's layout
    if y.dtype.kind in "iu":
        y = _int_to_float(y)
    if max_duration is not None:
        y = y[: round(max_duration * sample_rate)]
    y = y.astype(np.float32, copy=False)
    if y.ndim == 2:
        y = y.mean(axis=1, dtype=np.float32)
    native = int(sample_rate) if float(sample_rate).is_integer() else float(sample_rate)
    return y, native


def _int_to_float(y):
    if y.dtype.kind == "u":  # unsigned PCM is centred on half its range (8-bit WAV)
        half = 2.0 ** (8 * y.dtype.itemsize - 1)
        return ((y.astype(np.float64) - half) / half).astype(np.float32)
    return (y / _INT_SCALE[y.dtype]).astype(np.float32)
