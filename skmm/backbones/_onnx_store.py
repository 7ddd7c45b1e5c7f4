"""Exported ONNX graphs on disk: made once per machine, checked against torch, never torn.

A graph is keyed by the weights' identity, the backbone's version, the opset, the
recipe that builds it, the torch and ONNX Runtime versions, the encoder's output
options (pooling, input size...) and the quantization. It is exported from the torch
model on a probe batch, fused into ONNX Runtime's transformer kernels where the
backbone says how (``OnnxGraph.fuse``), run by ONNX Runtime on a larger probe batch of
other shapes (so the dynamic axes are exercised) and compared with torch: the largest
absolute difference and the smallest cosine are recorded in a JSON beside the file,
with the file's digest. A fused graph that misses the tolerance is dropped for the
graph as exported; int8 quantizes the graph that passed. A file whose digest no longer
matches (truncated, corrupt) is made again. Files are written under a temporary name
and moved into place with ``os.replace``, so two processes exporting the same graph
leave one whole file.
"""

import hashlib
import json
import logging
import os
import tempfile
import uuid
from pathlib import Path

import numpy as np

from .._deps import import_optional
from ..cache import content_hash
from ._onnx import OnnxModel, onnx_session, torch_graph_output

logger = logging.getLogger("skmm")

OPSET = 17
#: How a graph is built from the torch model; bump it when that changes, so that graphs
#: stored by an older recipe are made again rather than reused (2: fused, eager attention).
RECIPE = 2
#: Largest absolute difference from torch fp32 for a graph to be used in place of torch.
TOLERANCE = 1e-4
QUANTIZATIONS = (None, "int8")


class OnnxExportError(RuntimeError):
    """The graph could not be made or run; the message says why (torch is used instead)."""


def graph_key(backbone, options, quantize):
    """Identity of an exported graph: weights, computation, opset, options, quantization.

    Examples
    --------
    >>> from skmm.backbones import resolve_backbone
    >>> from skmm.backbones._onnx_store import graph_key
    >>> bb = resolve_backbone("image", "efficientnet-lite0")
    >>> graph_key(bb, {"output": "features"}, None) != graph_key(bb, {"output": "features"}, "int8")
    True
    """
    torch = import_optional("torch")
    ort = import_optional("onnxruntime", "runtime='onnx'")
    description = {
        "model": backbone.model_id,
        "version": backbone.spec.version,
        "opset": OPSET,
        "recipe": RECIPE,
        "torch": ".".join(torch.__version__.split(".")[:2]),
        "onnxruntime": ".".join(ort.__version__.split(".")[:2]),
        "options": options,
        "quantize": quantize,
    }
    return content_hash(json.dumps(description, sort_keys=True, default=str).encode())


def file_digest(path):
    """blake2b hex digest of a file's bytes, read in chunks."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_record(folder, stem):
    """The record of a stored graph whose file is whole, else None."""
    record_path, model_path = Path(folder) / f"{stem}.json", Path(folder) / f"{stem}.onnx"
    try:
        record = json.loads(record_path.read_text())
        if record.get("digest") == file_digest(model_path):
            return {**record, "path": str(model_path)}
        logger.warning(
            "skmm: the stored ONNX graph %s does not match its record (truncated or corrupt); "
            "exporting it again.",
            model_path,
        )
    except (OSError, ValueError):
        pass
    return None


def writable_folder(folder):
    """``folder`` if files can be written there, else a temporary folder (with a warning)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
            pass
        return folder
    except OSError as exc:
        fallback = Path(tempfile.gettempdir()) / f"skmm-onnx-{os.getuid()}"
        fallback.mkdir(parents=True, exist_ok=True)
        logger.warning(
            "skmm: cannot write ONNX graphs to %s (%s); using %s for this process. Set "
            "cache_dir (or SKMM_CACHE_DIR) to a writable folder to keep them.",
            folder,
            exc,
            fallback,
        )
        return fallback


def stored_graph(backbone, options, quantize, folder, load_torch):
    """The record of a checked graph, exported first if it is missing or damaged.

    Parameters
    ----------
    backbone : Backbone
        Its spec must carry an ``onnx`` graph.
    options : dict
        The encoder's embed options.
    quantize : {None, "int8"}
    folder : path-like
        Where graphs are kept (e.g. ``<cache dir>/onnx``).
    load_torch : callable
        ``load_torch() -> model``: the torch model on the CPU in float32.

    Returns
    -------
    record : dict
        ``path``, ``max_abs_diff``, ``cosine_min`` (ONNX fp32 vs torch), and with int8
        ``int8_cosine_mean`` / ``int8_cosine_min`` (int8 vs torch fp32), the input names
        and the versions used.

    Raises
    ------
    OnnxExportError
        The backbone has no graph, or exporting or running it failed.
    """
    graph = backbone.spec.onnx
    if graph is None:
        raise OnnxExportError(f"backbone {backbone.name!r} has no ONNX graph in skmm")
    if quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize={quantize!r}; use one of {QUANTIZATIONS}.")
    stem = f"{backbone.name}-{graph_key(backbone, options, quantize)[:20]}"
    record = read_record(folder, stem)
    if record is not None:
        return record
    place = writable_folder(folder)
    if place != Path(folder):  # made earlier in this temporary place?
        record = read_record(place, stem)
        if record is not None:
            return record
    return _export(backbone, graph, options, quantize, place, stem, load_torch)


def _export(backbone, graph, options, quantize, folder, stem, load_torch):
    torch = import_optional("torch")
    ort = import_optional("onnxruntime", "runtime='onnx'")
    import_optional("onnx", "exporting ONNX graphs")
    tag = f".{stem}.{uuid.uuid4().hex}"
    fp32, fused = folder / f"{tag}.fp32.onnx", folder / f"{tag}.fused.onnx"
    final = folder / f"{tag}.final.onnx"
    try:
        model = load_torch()
        aux = graph.aux(backbone.path) if graph.aux is not None else None
        module = graph.module(model, options).eval()
        probe = graph.probe(aux, options)
        example, _ = graph.feeds(aux, probe[:2], options)
        check, context = graph.feeds(aux, probe, options)
        tensors = tuple(torch.from_numpy(np.ascontiguousarray(v)) for v in example.values())
        try:
            with torch.no_grad():
                _quiet_export(torch)(
                    module,
                    tensors,
                    str(fp32),
                    input_names=list(graph.inputs),
                    output_names=["output"],
                    dynamic_axes=graph.dynamic_axes(),
                    opset_version=OPSET,
                    do_constant_folding=True,
                    dynamo=False,
                )
        except Exception as exc:
            raise OnnxExportError(
                f"torch.onnx.export failed for {backbone.name!r}: {type(exc).__name__}: {exc}"
            ) from exc
        reference = _finish(graph, torch_graph_output(module, check), context)
        fusion = graph.fuse(model, options) if graph.fuse is not None else None
        fused_ops = _fuse(fp32, fused, fusion) if fusion else None
        got = None
        if fused_ops is not None:
            got = _finish(graph, onnx_session(fused, 1).run(None, check)[0], context)
            if np.abs(got - reference).max() <= TOLERANCE:
                os.replace(fused, fp32)
            else:
                logger.info("skmm: the fused graph of %s misses the tolerance", backbone.name)
                got = fused_ops = None
        if got is None:
            got = _finish(graph, onnx_session(fp32, 1).run(None, check)[0], context)
        record = {
            "backbone": backbone.name,
            "model": backbone.model_id,
            "options": options,
            "quantize": quantize,
            "opset": OPSET,
            "inputs": list(graph.inputs),
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
            "max_abs_diff": float(np.abs(got - reference).max()),
            "cosine_min": float(_cosines(got, reference).min()),
            "fused": fused_ops,
        }
        if quantize == "int8":
            quantization = import_optional("onnxruntime.quantization", "quantize='int8'")
            quantization.quantize_dynamic(
                str(fp32),
                str(final),
                per_channel=True,
                weight_type=quantization.QuantType.QInt8,
                # fused kernels' outputs have no inferred type; they are float
                extra_options={"DefaultTensorType": 1},  # onnx.TensorProto.FLOAT
            )
            got8 = OnnxModel(final, graph, options, aux, per_item=True).encode(probe)
            cosines = _cosines(got8, reference)
            record["int8_cosine_mean"] = float(cosines.mean())
            record["int8_cosine_min"] = float(cosines.min())
        else:
            os.replace(fp32, final)
        record["digest"] = file_digest(final)
        os.replace(final, folder / f"{stem}.onnx")  # atomic: readers see a whole file or none
        _write_json(folder / f"{stem}.json", record)
        logger.info("skmm: exported %s (max |diff| %.2g)", stem, record["max_abs_diff"])
        return {**record, "path": str(folder / f"{stem}.onnx")}
    except OnnxExportError:
        raise
    except ImportError:
        raise
    except Exception as exc:
        raise OnnxExportError(
            f"the ONNX graph of {backbone.name!r} could not be made or run: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    finally:
        for leftover in (fp32, fused, final):
            leftover.unlink(missing_ok=True)


def _fuse(source, target, kwargs):
    """Fuse ``source`` into ONNX Runtime's transformer kernels; the fused operator counts.

    None (and the graph is used as exported) where the optimizer fails or fuses nothing.
    """
    try:
        optimizer = import_optional("onnxruntime.transformers.optimizer", "runtime='onnx'")
        fused = optimizer.optimize_model(str(source), opt_level=0, **kwargs)
        counts = {op: n for op, n in fused.get_fused_operator_statistics().items() if n}
        if not counts:
            return None
        fused.save_model_to_file(str(target))
        return counts
    except Exception as exc:  # the graph as exported still works: say why, go on
        logger.info("skmm: ONNX Runtime's optimizer could not fuse %s: %s", source, exc)
        return None


def _quiet_export(torch):
    """``torch.onnx.export`` with its tracer warnings (shape-dependent Python) silenced."""
    import warnings

    def export(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.onnx.export(*args, **kwargs)

    return export


def _finish(graph, output, context):
    out = graph.finish(output, context) if graph.finish is not None else output
    return np.asarray(out, dtype=np.float64).reshape(len(out), -1)


def _cosines(a, b):
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(axis=1) / np.maximum(norms, 1e-12)


def _write_json(path, record):
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)
