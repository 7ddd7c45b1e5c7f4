"""Loading Hugging Face models from local folders, quietly and never from the network."""

from .._deps import import_optional


def load_local_model(path, **kwargs):
    """Load a local Hugging Face model quietly.

    ``transformers.AutoModel.from_pretrained(path, local_files_only=True, **kwargs)``
    without transformers' per-tensor "Loading weights" bar (skmm shows its own progress).

    Examples
    --------
    >>> import tempfile
    >>> from transformers import BertConfig, BertModel
    >>> from skmm.backbones._hf_loading import load_local_model
    >>> folder = tempfile.mkdtemp()
    >>> BertModel(BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1,
    ...                      intermediate_size=8)).save_pretrained(folder)
    >>> load_local_model(folder).config.hidden_size
    8
    """
    transformers = import_optional("transformers", "Hugging Face models")
    hf_logging = transformers.utils.logging
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return transformers.AutoModel.from_pretrained(str(path), local_files_only=True, **kwargs)
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()
