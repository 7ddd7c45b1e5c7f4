"""Any Hugging Face raw-waveform audio model from a local folder (wav2vec2, HuBERT, WavLM...)."""

import logging
import math

import numpy as np

from .._deps import import_optional
from .._device import torch_dtype
from ._hf_loading import load_local_model
from ._spec import BackboneSpec

logger = logging.getLogger("skmm")


def masked_mean(hidden, lengths):
    """Mean over the first ``lengths[i]`` steps of each row of ``hidden``.

    Parameters
    ----------
    hidden : tensor of shape (B, T, D)
    lengths : tensor of shape (B,)
        Valid steps per row, clipped to ``[1, T]``.

    Returns
    -------
    tensor of shape (B, D)

    Examples
    --------
    >>> import torch
    >>> from skmm.backbones._hf_audio import masked_mean
    >>> hidden = torch.tensor([[[1.0], [3.0], [100.0]]])
    >>> masked_mean(hidden, torch.tensor([2])).tolist()
    [[2.0]]
    """
    torch = import_optional("torch", "masked pooling")
    lengths = lengths.to(hidden.device).clamp(1, hidden.shape[1])
    mask = torch.arange(hidden.shape[1], device=hidden.device)[None, :] < lengths[:, None]
    mask = mask[..., None].to(hidden.dtype)
    return (hidden * mask).sum(1) / lengths[:, None].to(hidden.dtype)


def min_input_length(model):
    """Fewest samples that give one output frame: the receptive field of the conv front end.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from skmm.backbones._hf_audio import min_input_length
    >>> config = SimpleNamespace(conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_stride=(5, 2, 2, 2, 2, 2, 2))
    >>> min_input_length(SimpleNamespace(config=config))
    400
    """
    config = model.config
    kernels, strides = getattr(config, "conv_kernel", None), getattr(config, "conv_stride", None)
    if not kernels or not strides:
        return 1
    length = 1
    for kernel, stride in zip(reversed(kernels), reversed(strides)):
        length = (length - 1) * stride + kernel
    return length


def load_audio_model(path, device="cpu", dtype=None):
    """Load a local Hugging Face audio model with its feature extractor.

    Parameters
    ----------
    path : path-like
        A folder written by ``save_pretrained`` holding the model's config and weights
        and a feature extractor config (``preprocessor_config.json``). Nothing is fetched
        from the Hub.
    device : str or torch.device
    dtype : torch.dtype, optional
        ``None`` keeps float32.

    Returns
    -------
    model : transformers.PreTrainedModel
        ``AutoModel`` (the encoder of an encoder-decoder model), in eval mode.
    sampling_rate : int
        The rate the model expects (from the feature extractor).
    feature_extractor : transformers.FeatureExtractionMixin

    Examples
    --------
    >>> import tempfile
    >>> from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model
    >>> from skmm.backbones import load_audio_model
    >>> folder = tempfile.mkdtemp()
    >>> config = Wav2Vec2Config(hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
    ...     intermediate_size=32, conv_dim=(8, 8), conv_stride=(5, 2), conv_kernel=(10, 3),
    ...     num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=2)
    >>> Wav2Vec2Model(config).save_pretrained(folder)
    >>> _ = Wav2Vec2FeatureExtractor().save_pretrained(folder)
    >>> model, sampling_rate, _ = load_audio_model(folder)
    >>> sampling_rate
    16000
    """
    torch = import_optional("torch", "audio models")
    transformers = import_optional("transformers", "audio models")
    extractor = transformers.AutoFeatureExtractor.from_pretrained(path, local_files_only=True)
    model = load_local_model(path)
    if getattr(model.config, "is_encoder_decoder", False) and hasattr(model, "get_encoder"):
        model = model.get_encoder()
    model = model.to(device=device, dtype=dtype or torch.float32).eval()
    return model, int(extractor.sampling_rate), extractor


def audio_model_embed(model, extractor, waveforms):
    """Masked mean of the last hidden state over the frames that hold each clip.

    Parameters
    ----------
    model, extractor
        As returned by :func:`load_audio_model`.
    waveforms : list of 1-D float arrays
        Mono clips at the extractor's sampling rate.

    Returns
    -------
    tensor of shape (B, hidden_size), float32

    Notes
    -----
    A clip shorter than the model's receptive field (400 samples, 25 ms, for wav2vec2
    and HuBERT) is zero-padded at its end to that length, so it still gets one frame.
    Each clip is normalised over its own samples (when the extractor normalises), then
    zero-padded. The attention mask reaches the model only when its feature extractor asks
    for one (``return_attention_mask``): wav2vec2-base style models with group norm were
    trained on zero padding without a mask. Either way the mean only covers valid output frames,
    from the model's ``_get_feat_extract_output_lengths`` when it has one (the exact conv
    arithmetic), else in proportion to the clip's share of the padded length.
    """
    torch = import_optional("torch", "audio models")
    shortest = min_input_length(model)
    waveforms = [
        np.pad(np.asarray(w, dtype=np.float32), (0, max(0, shortest - len(w)))) for w in waveforms
    ]
    inputs = extractor(
        waveforms,
        sampling_rate=extractor.sampling_rate,
        padding=True,
        return_attention_mask=True,
        return_tensors="pt",
    )
    mask = inputs.pop("attention_mask", None)
    if mask is not None and getattr(extractor, "return_attention_mask", False):
        inputs["attention_mask"] = mask
    param = next(model.parameters())
    inputs = {
        k: v.to(param.device, param.dtype if v.is_floating_point() else v.dtype)
        for k, v in inputs.items()
    }
    hidden = model(**inputs).last_hidden_state.float()
    n_in = torch.as_tensor([len(w) for w in waveforms])
    lengths_of = getattr(model, "_get_feat_extract_output_lengths", None)
    if lengths_of is not None and "input_values" in inputs and inputs["input_values"].ndim == 2:
        n_out = lengths_of(n_in)
    else:
        padded = max(len(w) for w in waveforms)
        n_out = torch.as_tensor([math.ceil(hidden.shape[1] * n / padded) for n in n_in.tolist()])
    return masked_mean(hidden, torch.as_tensor(n_out, dtype=torch.int64))


def _audio_config(path):
    transformers = import_optional("transformers", "Hugging Face audio models")
    return transformers.AutoConfig.from_pretrained(str(path), local_files_only=True)


def _sampling_rate(path):
    transformers = import_optional("transformers", "Hugging Face audio models")
    extractor = transformers.AutoFeatureExtractor.from_pretrained(str(path), local_files_only=True)
    return {"sampling_rate": int(extractor.sampling_rate)}


def _load(path, device, dtype):
    model, _, extractor = load_audio_model(path, device, torch_dtype(dtype))
    return model, extractor


SPECS = (
    BackboneSpec(
        "hf-audio",
        "audio",
        load=_load,
        embed=lambda model, clips, options: audio_model_embed(*model, clips),
        n_features=lambda path, options: (
            getattr(config := _audio_config(path), "hidden_size", None) or config.d_model
        ),
        input_config=_sampling_rate,
        title="user-supplied Hugging Face model",
        licence="see the model's own licence",
    ),
)
