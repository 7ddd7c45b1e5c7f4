"""The shared encoder base: everything a pretrained encoder needs, written once.

Subclasses (TextEncoder, ImageEncoder, MelEncoder) only say how to load their model,
how to check and hash one raw item, how to prepare items (tokenise, decode) and how
to encode one batch. The base does the rest: device and dtype, the model registry,
the embedding cache, deduplication, length-aware batching, prefetching the next
chunk's preparation, out-of-memory back-off, the error policy and progress.
"""

import hashlib
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._device import resolve_device, resolve_dtype
from ..cache import EmbeddingCache, content_hash, default_cache_dir, namespace_key
from ..exceptions import EncodingError, InputError
from ..io._files import open_input_file
from ._batching import _BatchRunner, _capture
from ._input import row_label, to_rows
from ._registry import get_model

logger = logging.getLogger("skmm")

_ON_ERROR = ("raise", "nan", "zero")


class BaseEncoder(_BatchRunner, TransformerMixin, BaseEstimator):
    """Base class of skmm's pretrained encoders (not for direct use).

    Subclasses store these parameters in their ``__init__``: ``device``, ``dtype``,
    ``batch_size``, ``cache``, ``cache_dir``, ``on_error``, ``progress`` and ``prefix``
    (and optionally ``n_threads``), and implement these hooks:

    ``_model_key()``
        A string naming the weights (path + :func:`fingerprint`); part of every cache key.
    ``_load_model(device, dtype)``
        Build the model (any object); called once per process through the registry.
    ``_n_features()``
        Output width, ideally without loading the model (read a config).
    ``_output_params()``
        Dict of every parameter that changes the output (cache namespace).
    ``_check_item(item)``
        Validate one raw row cheaply (no decoding); return it or raise ``InputError``.
    ``_prepare(items, notes)`` or ``_prepare_one(item)``
        Tokenise / decode; a list with a prepared item or an ``InputError`` per item.
        With ``_threaded_prepare = True`` the default ``_prepare`` maps ``_prepare_one``
        over a thread pool. ``notes`` is a Counter whose counts reach ``_after_transform``.
    ``_size(prepared)``
        Length used to bucket items of similar size into one batch.
    ``_encode_batch(model, prepared_list)``
        Float32 array of shape (len(prepared_list), n_features_out_).

    Per-row facts found while preparing (e.g. whether a face was found) travel with the
    embedding: name them in ``_row_facts``, return ``WithFacts(prepared, facts)`` from
    ``_prepare_one``, and read them back in ``_after_transform(notes, facts)``. They are
    cached with the embedding, so a cache hit knows them too.

    Fitted attributes common to every encoder: ``device_``, ``dtype_``, ``model_id_``,
    ``n_features_out_``, and after each ``transform``, ``failed_rows_`` (a list of
    ``{"row", "source", "error"}`` dicts, empty when every row was encoded).
    """

    _modality = "data"
    _window_items = 1024  # items prepared at once: bounds memory, sorted by length inside
    _threaded_prepare = False  # decode items in a thread pool (opencv/soundfile release the GIL)
    _inputs_are_paths = False  # a str row is a file path (images, audio), not content (text)
    _row_facts = ()  # names of per-row facts returned with WithFacts by _prepare_one

    # -- fit / transform -------------------------------------------------------------
    def fit(self, X, y=None):
        """Resolve the device, dtype and model identity; the model loads lazily.

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
        self.device_ = resolve_device(self.device)
        self.dtype_ = resolve_dtype(self.dtype, self.device_)
        self.model_id_ = self._model_key()
        self.n_features_out_ = int(self._n_features())
        self.failed_rows_ = []
        return self

    def transform(self, X):
        """Encode ``X`` into a float32 array of shape (n_rows, n_features_out_).

        Rows already in the cache are not encoded again; repeated inputs are encoded once.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame
            Raw inputs.

        Returns
        -------
        embeddings : ndarray of shape (n_rows, n_features_out_)
        """
        check_is_fitted(self, "model_id_")
        rows, index = to_rows(X, type(self).__name__, self._array_rows)
        return self._encode_rows(rows, index)

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

    # -- parameters ------------------------------------------------------------------
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

    def _runtime_device(self):
        """The fitted device, or the CPU when an 'auto' encoder is unpickled on a GPU-less machine."""
        if self.device_.startswith("cuda") and self.device in (None, "auto"):
            import torch

            if not torch.cuda.is_available():
                return "cpu", "float32"
        return self.device_, self.dtype_

    def _model(self):
        device, dtype = self._runtime_device()
        return get_model(
            (type(self).__name__, self.model_id_, device, dtype),
            lambda: self._load_model(device, dtype),
        )

    def _cache(self):
        if self.cache is False:
            return None
        description = {
            "encoder": type(self).__name__,
            "model": self.model_id_,
            "dtype": self._runtime_device()[1],
            **self._output_params(),
        }
        if self._row_facts:
            description["row_facts"] = list(self._row_facts)
        directory = None
        if self.cache is True:
            directory = Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()
        return EmbeddingCache(namespace_key(description), directory, description)

    # -- hooks with defaults ---------------------------------------------------------
    def _array_rows(self, X):
        """Rows of an ndarray that is not 1-D; subclasses accept e.g. stacks of images."""
        raise ValueError(
            f"{type(self).__name__} expects a 1-D input (list, 1-D array, Series "
            f"or one-column DataFrame); got an array of shape {X.shape}."
        )

    def _item_key(self, item):
        """Hash of one checked item's content."""
        if isinstance(item, np.ndarray):
            arr = np.ascontiguousarray(item)
            return content_hash(
                b"array", arr.dtype.str.encode(), str(arr.shape).encode(), arr.tobytes()
            )
        if isinstance(item, (bytes, bytearray)):
            return content_hash(b"bytes", bytes(item))
        if isinstance(item, os.PathLike) or (self._inputs_are_paths and isinstance(item, str)):
            return content_hash(b"file", _file_digest(item).encode())
        return content_hash(b"str", str(item).encode("utf-8", "surrogatepass"))

    def _source(self, item):
        """The file behind an item, for error messages."""
        if isinstance(item, os.PathLike) or (self._inputs_are_paths and isinstance(item, str)):
            return str(item)
        return None

    def _prepare(self, items, notes):
        """Prepare items for the model: a list of prepared items or InputError instances."""
        if not self._threaded_prepare or len(items) < 2:
            return [_capture(self._prepare_one, item) for item in items]
        workers = getattr(self, "n_threads", None) or min(8, os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda item: _capture(self._prepare_one, item), items))

    def _prepare_one(self, item):
        """Prepare one checked item (decode a file, resample audio); used by the default ``_prepare``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _prepare or _prepare_one")

    def _after_transform(self, notes, facts):
        """Publish per-transform results as fitted attributes.

        ``notes`` holds counts (e.g. truncated texts); ``facts`` is None, or a float array
        of shape (n_rows, len(_row_facts)) with NaN or 0 for rows that failed.
        """

    # -- the encoding loop -----------------------------------------------------------
    def _encode_rows(self, rows, index):
        n_rows = len(rows)
        width = self.n_features_out_
        out = np.empty((n_rows, width + len(self._row_facts)), dtype=np.float32)
        failures = {}
        groups, firsts = {}, {}
        for row, raw in enumerate(rows):
            try:
                item = self._check_item(raw)
                key = self._item_key(item)
            except InputError as exc:
                failures[row] = self._failure(row, raw, exc, index)
                if self.on_error == "raise":
                    self._raise(failures, index)
                continue
            if key not in groups:
                groups[key], firsts[key] = [], item
            groups[key].append(row)

        cache = self._cache()
        found = cache.get_many(list(groups)) if cache is not None else {}
        for key, vector in found.items():
            out[groups[key]] = vector
        todo = [key for key in groups if key not in found]
        notes = Counter()
        if todo:
            self._encode_missing(todo, groups, firsts, out, failures, cache, notes, index)
        self.failed_rows_ = [failures[row] for row in sorted(failures)]
        if self.failed_rows_:
            if self.on_error == "raise":
                self._raise(failures, index)
            fill = np.nan if self.on_error == "nan" else 0.0
            out[sorted(failures)] = fill
            logger.warning(
                "%s: %d of %d rows failed and were filled with %s; see failed_rows_.",
                type(self).__name__,
                len(failures),
                n_rows,
                fill,
            )
        facts = out[:, width:] if self._row_facts else None
        self._after_transform(notes, facts)
        return np.ascontiguousarray(out[:, :width]) if self._row_facts else out

    def _encode_missing(self, todo, groups, firsts, out, failures, cache, notes, index):
        model = self._model()
        window = max(self._window_items, self.batch_size)
        chunks = [todo[i : i + window] for i in range(0, len(todo), window)]
        bar = self._progress_bar(len(todo))
        state = {"batch_size": self.batch_size}
        try:
            with ThreadPoolExecutor(max_workers=1) as prefetch:
                pending = prefetch.submit(self._prepare, [firsts[k] for k in chunks[0]], notes)
                for i, chunk in enumerate(chunks):
                    prepared = pending.result()
                    if i + 1 < len(chunks):  # decode the next chunk while the model runs
                        pending = prefetch.submit(
                            self._prepare, [firsts[k] for k in chunks[i + 1]], notes
                        )
                    good = []
                    for key, prep in zip(chunk, prepared):
                        if isinstance(prep, InputError):
                            for row in groups[key]:
                                failures[row] = self._failure(row, firsts[key], prep, index)
                        else:
                            good.append((key, prep))
                    self._run_batches(
                        model, good, groups, firsts, out, failures, cache, state, bar, index
                    )
                    if failures and self.on_error == "raise":
                        pending.cancel()
                        return
        finally:
            bar.close()

    # -- errors and progress ---------------------------------------------------------
    def _failure(self, row, item, exc, index):
        source = self._source(item) if not isinstance(item, (type(None), float)) else None
        return {"row": row, "label": row_label(index, row), "source": source, "error": str(exc)}

    def _raise(self, failures, index):
        first = failures[min(failures)]
        where = f"row {first['row']}" + (
            f" (index {first['label']!r})" if first["label"] is not None else ""
        )
        if first["source"]:
            where += f", file {first['source']!r}"
        more = f" {len(failures) - 1} more row(s) failed too." if len(failures) > 1 else ""
        raise EncodingError(
            f"{type(self).__name__} could not encode {where}: {first['error']}.{more} Rows encoded "
            "so far are cached and will not be encoded again. Pass on_error='nan' or 'zero' to fill "
            "failing rows and go on (they are listed in failed_rows_).",
            row=first["row"],
            source=first["source"],
        )

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


def _file_digest(path):
    """Hash of a file's bytes: the cache key follows content, not names or dates."""
    with open_input_file(path) as handle:
        return hashlib.file_digest(handle, "blake2b").hexdigest()
