"""Any Hugging Face vision model from a local folder (ViT, ConvNeXt, ResNet, CLIP vision...)."""

import json
import logging
from pathlib import Path

from .._device import torch_dtype
from ._hf_loading import load_local_model
from ._spec import BackboneSpec

logger = logging.getLogger("skmm")

# transformers' IMAGENET_DEFAULT_MEAN/STD, used when a folder has no preprocessor config
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _side(value, default):
    """A side length from an HF ``size``/``crop_size`` entry (int or dict)."""
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return int(value)
    for key in ("shortest_edge", "height", "width"):
        if value.get(key):
            return int(value[key])
    return default


def vision_input_config(path):
    """Preprocessing of a local vision model, read from its config files (no weights).

    From ``preprocessor_config.json`` when present: the crop (or resize) size, the
    shorter side before cropping, and mean/std (turned into 0-255 pixel units). Without
    one: the model config's ``image_size`` (else 224) and ImageNet mean/std. skmm always
    resizes the shorter side and centre-crops, so non-square images are not squashed.

    Parameters
    ----------
    path : path-like
        A folder written by ``save_pretrained``.

    Returns
    -------
    config : dict
        ``size``, ``resize_shorter``, ``mean``, ``std``, ``grey``.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> from skmm.backbones import vision_input_config
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "config.json").write_text(json.dumps({"image_size": 32, "num_channels": 3}))
    >>> vision_input_config(d)["size"]
    32
    """
    path = Path(path)
    model_cfg = (
        json.loads((path / "config.json").read_text()) if (path / "config.json").exists() else {}
    )
    model_cfg = model_cfg.get("vision_config", model_cfg)  # CLIP-style composite configs
    image_size = model_cfg.get("image_size", 224)
    image_size = image_size[0] if isinstance(image_size, (list, tuple)) else image_size
    proc_file = path / "preprocessor_config.json"
    if not proc_file.exists():
        logger.info(
            "skmm: %s has no preprocessor_config.json; using size %d and ImageNet mean/std",
            path,
            image_size,
        )
        proc = {}
    else:
        proc = json.loads(proc_file.read_text())
    resize = _side(proc.get("size"), image_size)
    crop = _side(proc.get("crop_size"), resize) if proc.get("do_center_crop", True) else resize
    scale = 255.0 if proc.get("do_rescale", True) else 1.0
    if proc.get("do_normalize", True):
        mean = tuple(m * scale for m in proc.get("image_mean", _IMAGENET_MEAN))
        std = tuple(s * scale for s in proc.get("image_std", _IMAGENET_STD))
    else:
        mean, std = (0.0, 0.0, 0.0), (scale,) * 3
    grey = int(model_cfg.get("num_channels", 3)) == 1
    if grey:
        mean, std = float(sum(mean) / len(mean)), float(sum(std) / len(std))
    return {
        "size": crop,
        "resize_shorter": max(resize, crop),
        "mean": mean,
        "std": std,
        "grey": grey,
    }


def load_vision_model(path, device="cpu", dtype=None):
    """Load a local Hugging Face vision model with ``AutoModel``, in eval mode.

    Parameters
    ----------
    path : path-like
        A folder written by ``save_pretrained``; nothing is fetched from the Hub.
    device : str or torch.device
    dtype : torch.dtype, optional
        None keeps the saved dtype.

    Returns
    -------
    model : transformers.PreTrainedModel
    """
    model = load_local_model(path, **({} if dtype is None else {"dtype": dtype}))
    if hasattr(model, "vision_model") and hasattr(model, "get_image_features"):
        model = model.vision_model  # a CLIP-style pair: keep the image tower
    return model.to(device).eval()


def vision_embed(model, pixel_values, pooling="auto"):
    """Pool a vision model's output into one vector per image.

    Parameters
    ----------
    model : transformers.PreTrainedModel
    pixel_values : tensor of shape (N, C, H, W)
    pooling : {"auto", "pooler", "mean"}
        "pooler" uses the model's pooled output (ResNet/ConvNeXt global pooling, ViT's
        pooler, CLIP's class token before the projection); "mean" averages the last hidden
        state over tokens (or over space for convolutional models); "auto" takes the
        pooled output when the model has one, else the mean.

    Returns
    -------
    tensor of shape (N, D)
    """
    out = model(pixel_values=pixel_values)
    pooled = getattr(out, "pooler_output", None)
    if pooling == "pooler" and pooled is None:
        raise ValueError(f"{type(model).__name__} has no pooled output; use pooling='mean'.")
    if pooling != "mean" and pooled is not None:
        return pooled.flatten(1)
    hidden = out.last_hidden_state
    return hidden.mean(dim=(2, 3)) if hidden.dim() == 4 else hidden.mean(dim=1)


def vision_width(path):
    """Width of the pooled output, read from the model config (None when unknown)."""
    cfg_file = Path(path) / "config.json"
    if not cfg_file.exists():
        return None
    cfg = json.loads(cfg_file.read_text())
    cfg = cfg.get("vision_config", cfg)
    if cfg.get("hidden_sizes"):
        return int(cfg["hidden_sizes"][-1])
    return int(cfg["hidden_size"]) if cfg.get("hidden_size") else None


SPECS = (
    BackboneSpec(
        "hf-vision",
        "image",
        load=lambda path, device, dtype: load_vision_model(path, device, torch_dtype(dtype)),
        embed=lambda model, x, options: vision_embed(model, x, options.get("pooling", "auto")),
        n_features=lambda path, options: vision_width(path),
        input_config=vision_input_config,
        title="user-supplied Hugging Face model",
        licence="see the model's own licence",
    ),
)
