"""Which runtime runs an encoder's backbone: torch, or ONNX Runtime when it is exact.

``runtime="auto"`` (the default) uses ONNX Runtime on the CPU when onnxruntime is
installed, the backbone has an ONNX graph in skmm that is faster than its torch path
(``OnnxGraph.auto``: the image classifiers), and the exported graph matches torch
fp32 within :data:`~skmm.backbones._onnx_store.TOLERANCE` on a probe batch; torch
otherwise (and always on a GPU). ``runtime="onnx"`` asks for ONNX Runtime; when the graph
cannot be made or misses the tolerance, a warning says why and torch is used.
``quantize="int8"`` is ONNX Runtime's dynamic per-channel int8 quantization: opt-in, its
cosine against torch fp32 on the probe batch is recorded on the fitted encoder.

The environment variable ``SKMM_RUNTIME=torch`` makes ``"auto"`` mean torch, and
``SKMM_ONNX_DIR`` moves the graphs out of the cache folder (the test suite sets both:
each test has a fresh cache folder, and graphs are made once per test session).
"""

import logging
import os
from pathlib import Path

from .._deps import import_optional
from ..backbones._onnx import OnnxModel
from ..backbones._onnx_store import TOLERANCE, OnnxExportError, stored_graph
from ..cache import default_cache_dir

logger = logging.getLogger("skmm")

RUNTIMES = ("auto", "torch", "onnx")
QUANTIZATIONS = (None, "int8")


def check_runtime_params(encoder):
    """Validate ``runtime`` and ``quantize`` (encoders without them run torch)."""
    runtime = getattr(encoder, "runtime", "torch")
    quantize = getattr(encoder, "quantize", None)
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime={runtime!r}; use one of {RUNTIMES}.")
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize={quantize!r}; use None or 'int8'.")
    if quantize is not None and runtime == "torch":
        raise ValueError(
            "quantize='int8' is ONNX Runtime's quantization; set runtime='onnx' (or 'auto')."
        )


def onnx_folder(encoder):
    """Where the encoder's graphs are kept: ``onnx/`` beside its embedding cache.

    That is ``<cache_dir>/onnx`` for an encoder with a ``cache_dir``, else
    ``$SKMM_ONNX_DIR`` when set, else ``onnx/`` in :func:`~skmm.cache.default_cache_dir`.
    """
    cache_dir = getattr(encoder, "cache_dir", None)
    if cache_dir is not None:
        return Path(cache_dir) / "onnx"
    if os.environ.get("SKMM_ONNX_DIR"):
        return Path(os.environ["SKMM_ONNX_DIR"]).expanduser()
    return default_cache_dir() / "onnx"


def resolve_runtime(encoder):
    """``(runtime_, onnx_report_)`` for a fitted backbone: runs in ``fit``.

    ``onnx_report_`` is None when ONNX was not tried, else the record of the graph: its
    ``path``, ``max_abs_diff`` and ``cosine_min`` against torch fp32 (and with int8,
    ``int8_cosine_mean`` and ``int8_cosine_min``), or ``{"error": why}``.
    """
    runtime = getattr(encoder, "runtime", "torch")
    quantize = getattr(encoder, "quantize", None)
    spec = encoder.backbone_.spec
    if runtime == "auto" and quantize is None and os.environ.get("SKMM_RUNTIME") == "torch":
        runtime = "torch"
    if runtime == "torch" or spec.weightless:
        return "torch", None
    name = type(encoder).__name__
    if not encoder._runtime_device()[0].startswith("cpu"):
        if runtime == "onnx" or quantize is not None:
            raise ValueError(
                f"{name}: runtime='onnx' runs on the CPU here; set device='cpu', or "
                "runtime='auto' to use torch on the GPU."
            )
        return "torch", None
    explicit = runtime == "onnx" or quantize is not None
    if (spec.onnx is None or not spec.onnx.auto) and not explicit:
        return "torch", None
    try:
        import_optional("onnxruntime", "runtime='onnx'")
        import_optional("onnx", "runtime='onnx'")
    except ImportError:
        if explicit:
            raise
        return "torch", None
    try:
        record = _record(encoder)
    except OnnxExportError as exc:
        logger.warning("%s: ONNX Runtime is not used (%s); running torch instead.", name, exc)
        return "torch", {"error": str(exc)}
    if record["max_abs_diff"] > TOLERANCE:
        logger.warning(
            "%s: the ONNX graph differs from torch by up to %.2g (more than %g) on the probe "
            "batch; running torch instead.",
            name,
            record["max_abs_diff"],
            TOLERANCE,
        )
        return "torch", record
    return "onnx", record


def _record(encoder):
    backbone = encoder.backbone_
    return stored_graph(
        backbone,
        encoder._embed_options(),
        getattr(encoder, "quantize", None),
        onnx_folder(encoder),
        lambda: backbone.load("cpu", "float32"),
    )


def load_onnx_model(encoder):
    """The :class:`~skmm.backbones._onnx.OnnxModel` of a fitted encoder (re-exported if lost)."""
    record = _record(encoder)  # checks the file's digest; exports again when it is gone
    graph = encoder.backbone_.spec.onnx
    aux = graph.aux(encoder.backbone_.path) if graph.aux is not None else None
    int8 = record["quantize"] == "int8"
    return OnnxModel(record["path"], graph, encoder._embed_options(), aux, per_item=int8)
