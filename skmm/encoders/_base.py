"""The shared encoder base: everything a pretrained encoder needs, written once.

Subclasses (TextEncoder, ImageEncoder, MelEncoder) say which backbone they use, how to
check one raw item, how to prepare items (tokenise, decode) and how to encode one batch.
The base does the rest: device and dtype, the model registry, the embedding cache,
deduplication, reading each file once, length-aware batching, the error policy and
progress. ``transform`` builds one :class:`~skmm.encoders._run.EncodeRun` and never
writes to the estimator.
"""

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._device import resolve_device, resolve_dtype
from ..backbones._onnx import OnnxModel
from ..cache import EmbeddingCache, content_hash, default_cache_dir, namespace_key
from ._export import export_encoder
from ._input import to_rows
from ._registry import get_model
from ._run import EncodeRun, capture
from ._runtime import check_runtime_params, load_onnx_model, resolve_runtime

logger = logging.getLogger("skmm")

_ON_ERROR = ("raise", "nan", "zero")
_LOGGED = set()


def log_once(log, message):
    """Log a warning the first time this process sees ``message`` (not once per fold).

    Examples
    --------
    >>> import logging
    >>> from skmm.encoders._base import _LOGGED, log_once
    >>> log_once(logging.getLogger("doc"), "said once")
    >>> "said once" in _LOGGED
    True
    """
    if message not in _LOGGED:
        _LOGGED.add(message)
        log.warning(message)


class BaseEncoder(TransformerMixin, BaseEstimator):
    """Base class of skmm's pretrained encoders (not for direct use).

    Subclasses store these parameters in their ``__init__``: ``device``, ``dtype``,
    ``batch_size``, ``cache``, ``cache_dir``, ``on_error``, ``progress`` and ``prefix``
    (and optionally ``n_threads``, the decoding threads). They implement the hooks below
    that raise ``NotImplementedError`` here, and may override the others. The page
    "Writing your own encoder" of the documentation builds a complete one.

    Encoders with a pretrained backbone also store ``runtime`` ("auto", "torch" or
    "onnx") and ``quantize`` (None or "int8"); see :mod:`skmm.encoders._runtime`.

    Fitted attributes common to every encoder: ``backbone_`` (a
    :class:`~skmm.backbones.Backbone`), ``device_``, ``dtype_``, ``model_id_``,
    ``runtime_`` ("torch" or "onnx"), ``onnx_report_`` (the ONNX graph's measured
    differences from torch, or None) and ``n_features_out_``. ``fit_transform`` also keeps ``training_report_``, the
    :class:`~skmm.encoders.EncodingReport` of the rows it encoded, and ``failed_rows_``,
    its failed rows.
    """

    _modality = "data"
    _window_items = 1024  # rows read and prepared at once: bounds memory
    _threaded_prepare = False  # read and decode rows in a thread pool (I/O, opencv, soundfile)
    _inputs_are_paths = False  # a str row is a file path (images, audio), not content (text)
    _file_kind = "file"  # what a file row is, in messages ("image file")
    # Files up to this size are read once, hashed and decoded from the same bytes (a window
    # holds at most _window_items of them); larger ones are hashed as a stream and decoded
    # from their path.
    _read_once_bytes = 64 << 20
    # skmm.finetune trains through _embed_batch; False where it is not the whole output
    _fine_tunable = True

    # -- fit / transform -------------------------------------------------------------
    def fit(self, X, y=None):
        """Resolve the backbone, device, dtype and output width; the model loads lazily.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame
            Raw inputs; checked for shape only.
        y : ignored, or array-like of the same length as X

        Returns
        -------
        self : object
        """
        rows, _ = to_rows(X, type(self).__name__, self._array_rows)
        if y is not None and len(y) != len(rows):
            raise ValueError(f"X has {len(rows)} rows but y has {len(y)}; they must match.")
        self._check_params()
        for name in ("training_report_", "failed_rows_"):  # refitting forgets the last fit
            self.__dict__.pop(name, None)
        self.backbone_ = self._resolve_backbone()
        self.device_ = resolve_device(self.device)
        self.dtype_ = resolve_dtype(self.dtype, self.device_)
        self.model_id_ = self.backbone_.model_id
        self._fit_backbone()
        self.runtime_, self.onnx_report_ = "torch", None  # the width is probed in torch
        self.n_features_out_ = int(self._n_features())
        self.runtime_, self.onnx_report_ = resolve_runtime(self)
        return self

    def transform(self, X, *, return_report=False):
        """Encode ``X`` into a float32 array of shape (n_rows, n_features_out_).

        Rows already in the cache are not encoded again; repeated inputs are encoded once.
        The estimator is not modified, so threads may share one fitted encoder.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame
            Raw inputs.
        return_report : bool, default=False
            Also return the :class:`~skmm.encoders.EncodingReport` of this call: the rows
            that failed, per-row facts and counts.

        Returns
        -------
        embeddings : ndarray of shape (n_rows, n_features_out_)
        report : EncodingReport
            Only with ``return_report=True``.
        """
        check_is_fitted(self, "model_id_")
        rows, index = to_rows(X, type(self).__name__, self._array_rows)
        embeddings, report = EncodeRun(self, rows, index).run()
        self._log_report(report)
        return (embeddings, report) if return_report else embeddings

    def fit_transform(self, X, y=None):
        """Fit, then encode ``X``; the report of these rows is kept as ``training_report_``.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame
        y : ignored

        Returns
        -------
        embeddings : ndarray of shape (n_rows, n_features_out_)
        """
        embeddings, report = self.fit(X, y).transform(X, return_report=True)
        self.training_report_ = report
        self.failed_rows_ = report.failed_rows
        return embeddings

    def get_feature_names_out(self, input_features=None):
        """Output names ``"{prefix}{i}"``, one per embedding dimension."""
        check_is_fitted(self, "n_features_out_")
        return np.asarray([f"{self.prefix}{i}" for i in range(self.n_features_out_)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.requires_fit = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    # -- hooks every encoder implements ------------------------------------------------
    def _resolve_backbone(self):
        """The :class:`~skmm.backbones.Backbone` named by the parameters (see resolve_backbone)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _resolve_backbone(): return "
            "skmm.backbones.resolve_backbone(modality, name_or_folder)"
        )

    def _output_params(self):
        """Dict of every parameter that changes the output; part of the cache namespace."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _output_params(): a dict of every "
            "parameter that changes the output (an empty dict if none does)"
        )

    def _check_item(self, item):
        """Validate one raw row cheaply (no decoding); return it or raise InputError."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _check_item(item): return the item, or "
            "raise skmm.exceptions.InputError saying why it cannot be encoded"
        )

    def _prepare_one(self, item):
        """Prepare one checked item for the model (decode, resample); used by ``_prepare``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement _prepare_one(item) (or _prepare(items, "
            "counts)): turn a checked item into what _encode_batch takes"
        )

    def _encode_batch(self, model, batch):
        """Float32 array of shape (len(batch), n_features_out_) for prepared items.

        The default runs :meth:`_embed_batch` without gradients; an encoder that does not
        run torch implements this hook instead.
        """
        if type(self)._embed_batch is BaseEncoder._embed_batch:
            raise NotImplementedError(
                f"{type(self).__name__} must implement _encode_batch(model, batch): return a "
                "float32 array with one row per prepared item (or _embed_batch, its torch form)"
            )
        import torch

        with torch.inference_mode():
            return self._embed_batch(model, batch).float().cpu().numpy()

    def _embed_batch(self, model, batch):
        """Torch tensor (len(batch), n_features_out_) computed in the caller's grad mode.

        What :mod:`skmm.finetune` trains through: the encoder's own forward pass, with
        gradients when the caller enables them. Optional: an encoder without it cannot
        be fine-tuned.
        """
        raise NotImplementedError(
            f"{type(self).__name__} has no differentiable forward pass (_embed_batch), so it "
            "cannot be fine-tuned; use it frozen"
        )

    # -- hooks with defaults -----------------------------------------------------------
    def _fit_backbone(self):
        """Read what the backbone's input needs (e.g. ``input_config_``); runs in ``fit``."""

    def _n_features(self):
        """Output width: from the backbone's spec, else from one forward pass."""
        width = self.backbone_.n_features(self._output_params())
        return width if width is not None else self._probe_width()

    def _probe_width(self):
        """Output width by running the model, when no config tells it."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot tell its output width from the backbone's config; "
            "implement _probe_width()"
        )

    def _load_model(self, device, dtype):
        """Build the model; called once per process through the registry."""
        return self.backbone_.load(device, dtype)

    def _embed_options(self):
        """The options the backbone's ``embed`` reads: the output parameters."""
        return self._output_params()

    def _row_fact_names(self):
        """Names of the per-row facts ``_prepare_one`` returns with ``WithFacts`` (none here)."""
        return ()

    def _prepare(self, items, counts):
        """Prepare checked items: a list of prepared items or InputError instances.

        ``counts`` is a Counter whose counts reach the report (e.g. truncated texts).
        """
        if not self._threaded_prepare or len(items) < 2:
            return [capture(self._prepare_one, item) for item in items]
        with ThreadPoolExecutor(max_workers=self._decode_threads()) as pool:
            return list(pool.map(lambda item: capture(self._prepare_one, item), items))

    def _size(self, prepared):
        """Length used to batch items of similar size together; None: do not sort."""
        return None

    def _batch_budget(self, batch_size):
        """Largest sum of padded ``_size`` per batch (``len(batch) * longest``); None: no limit.

        Batches are cut shorter than ``batch_size`` where their items, padded to the
        longest, would pass it: memory then follows the budget, not the longest item
        times the batch.
        """
        return None

    def _array_rows(self, X):
        """Rows of an ndarray that is not 1-D; subclasses accept e.g. stacks of images."""
        raise ValueError(
            f"{type(self).__name__} expects a 1-D input (list, 1-D array, Series "
            f"or one-column DataFrame); got an array of shape {X.shape}."
        )

    def _item_key(self, item):
        """Hash of one checked item's content (files are keyed by the run as they are read)."""
        if isinstance(item, np.ndarray):
            arr = np.ascontiguousarray(item)
            return content_hash(
                b"array", arr.dtype.str.encode(), str(arr.shape).encode(), arr.tobytes()
            )
        if isinstance(item, (bytes, bytearray)):
            return content_hash(b"bytes", bytes(item))
        return content_hash(b"str", str(item).encode("utf-8", "surrogatepass"))

    def _log_report(self, report):
        """Log what a call's report says that users should know (no state is written)."""

    # -- services of the base ----------------------------------------------------------
    def _check_params(self):
        if self.on_error not in _ON_ERROR:
            raise ValueError(f"on_error={self.on_error!r}; use one of {_ON_ERROR}.")
        if not isinstance(self.batch_size, (int, np.integer)) or self.batch_size < 1:
            raise ValueError(f"batch_size={self.batch_size!r}; use a positive integer.")
        if self.cache not in (True, False, "memory"):
            raise ValueError(
                f"cache={self.cache!r}; use True (memory and disk), 'memory' or False."
            )
        if self.progress not in (True, False, "auto"):
            raise ValueError(f"progress={self.progress!r}; use True, False or 'auto'.")
        check_runtime_params(self)

    def _runtime_device(self):
        """The fitted device, or the CPU when an 'auto' encoder is unpickled on a GPU-less machine."""
        if self.device_.startswith("cuda") and self.device in (None, "auto"):
            import torch

            if not torch.cuda.is_available():
                return "cpu", "float32"
        return self.device_, self.dtype_

    def _runtime(self):
        """``(runtime, quantization)`` in force: ("torch", None), ("onnx", None) or ("onnx", "int8")."""
        runtime = getattr(self, "runtime_", "torch")  # pickles of older versions ran torch
        return runtime, (getattr(self, "quantize", None) if runtime == "onnx" else None)

    def _model(self):
        device, dtype = self._runtime_device()
        runtime, quantize = self._runtime()
        if runtime == "onnx":
            return get_model(
                (type(self).__name__, self.model_id_, "cpu", "float32", runtime, quantize),
                lambda: load_onnx_model(self),
            )
        return get_model(
            (type(self).__name__, self.model_id_, device, dtype, runtime, None),
            lambda: self._load_model(device, dtype),
        )

    def _run_batch(self, model, batch):
        """One batch through the runtime in force (ONNX Runtime or the encoder's torch code)."""
        if isinstance(model, OnnxModel):
            import torch  # the calling stream's thread budget, as torch's own operators use

            return model.encode(batch, threads=torch.get_num_threads())
        return self._encode_batch(model, batch)

    def export_onnx(self, path):
        """Write the fitted encoder's backbone as an ONNX graph, with a JSON of its inputs.

        The graph computes what ``transform`` does after preparation (tokenising,
        decoding and resizing stay outside it); the JSON beside it names the inputs, the
        output options, the preprocessing and the measured difference from torch.

        Parameters
        ----------
        path : path-like
            The ``.onnx`` file to write; ``path`` with the suffix ``.json`` is written too.

        Returns
        -------
        path : pathlib.Path
        """
        return export_encoder(self, path)

    def _cache(self):
        if self.cache is False:
            return None
        description = {
            "encoder": type(self).__name__,
            "model": self.model_id_,
            "backbone_version": self.backbone_.spec.version,
            "dtype": self._runtime_device()[1],
            **self._output_params(),
        }
        runtime, quantize = self._runtime()
        if runtime != "torch":  # int8 vectors are never served for fp32 ones, nor the reverse
            description["runtime"], description["quantize"] = runtime, quantize
        if quantize == "int8":  # earlier int8 vectors were scaled per batch: not these
            description["activation_scale"] = "per item"
        if self._row_fact_names():
            description["row_facts"] = list(self._row_fact_names())
        directory = None
        if self.cache is True:
            directory = Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()
        return EmbeddingCache(namespace_key(description), directory, description)

    def _decode_threads(self):
        return getattr(self, "n_threads", None) or min(8, os.cpu_count() or 1)

    def _progress_bar(self, total):
        from tqdm.auto import tqdm

        if self.progress == "auto":
            disable = None if total >= 256 else True  # None: shown on a terminal only
        else:
            disable = not self.progress
        return tqdm(
            total=total,
            disable=disable,
            desc=f"{type(self).__name__}",
            unit=self._modality,
            leave=False,
        )
