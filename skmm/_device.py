"""Where encoders run: device and dtype choice, and out-of-memory detection."""

import contextlib
import logging

from ._deps import import_optional

logger = logging.getLogger("skmm")

_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
}


def resolve_device(device="auto"):
    """Turn a ``device`` parameter into a concrete torch device string.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"} or torch.device
        ``"auto"`` picks CUDA when a GPU is visible, else the CPU.

    Returns
    -------
    device : str

    Examples
    --------
    >>> from skmm._device import resolve_device
    >>> resolve_device("cpu")
    'cpu'
    """
    torch = import_optional("torch", "running encoders")
    if device is None or device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    name = str(device)
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was asked for but no CUDA GPU is visible; "
            "use device='auto' or device='cpu'."
        )
    try:
        return str(torch.device(name))
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu' or 'cuda'."
        ) from exc


def resolve_dtype(dtype, device):
    """Name of the compute dtype for ``dtype`` on ``device``.

    ``"auto"`` is float32 on the CPU and bfloat16 on a GPU that supports it
    (else float16).

    Examples
    --------
    >>> from skmm._device import resolve_dtype
    >>> resolve_dtype("auto", "cpu")
    'float32'
    >>> resolve_dtype("bf16", "cpu")
    'bfloat16'
    """
    if dtype is None or dtype == "auto":
        if not str(device).startswith("cuda"):
            return "float32"
        torch = import_optional("torch", "running encoders")
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    key = str(dtype).replace("torch.", "")
    if key not in _DTYPES:
        raise ValueError(
            f"dtype={dtype!r} is not supported; use 'auto', 'float32', 'bfloat16' or 'float16'."
        )
    return _DTYPES[key]


def torch_dtype(name):
    """The torch dtype object for a name returned by :func:`resolve_dtype`."""
    torch = import_optional("torch", "running encoders")
    return getattr(torch, name)


def is_out_of_memory(exc):
    """Whether ``exc`` is an accelerator out-of-memory error worth retrying smaller."""
    torch = import_optional("torch")
    oom = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError
    if isinstance(exc, oom):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def free_accelerator_memory():
    """Release cached GPU blocks after an out-of-memory error."""
    torch = import_optional("torch")
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


@contextlib.contextmanager
def seeded_torch(seed, device):
    """Seed torch for the block, then restore the caller's generators.

    The state of the CPU's and of every GPU's generator (``manual_seed`` touches all of
    them) is put back when the block ends, so a seeded fit leaves no trace.

    Examples
    --------
    >>> import torch
    >>> from skmm._device import seeded_torch
    >>> with seeded_torch(0, "cpu"):
    ...     a = torch.rand(1)
    >>> with seeded_torch(0, "cpu"):
    ...     b = torch.rand(1)
    >>> bool(a == b)
    True
    """
    torch = import_optional("torch", "training")
    on_cuda = torch.device(device).type == "cuda"
    forked = list(range(torch.cuda.device_count())) if on_cuda else []
    with torch.random.fork_rng(devices=forked):
        torch.manual_seed(seed)
        yield
