"""Fitted encoders as ONNX files for deployment, each with a JSON of its inputs."""

import json
import os
import shutil
import uuid
from pathlib import Path

from sklearn.utils.validation import check_is_fitted

from ..backbones._onnx_store import OnnxExportError

HOW_TO_RUN = (
    "Run with ONNX Runtime: onnxruntime.InferenceSession(path).run(None, {name: array}) "
    "with the inputs named in 'inputs', prepared as 'input_config' says; the output is "
    "one vector per row."
)
INT8_ONE_ROW = (
    " The int8 graph scales activations by the range of all it is given: run one row per "
    "call, as skmm does, for vectors that depend on the row alone."
)


def export_encoder(encoder, path):
    """Write ``encoder``'s graph to ``path`` and its input config to ``path.json``.

    See :meth:`skmm.encoders._base.BaseEncoder.export_onnx`.
    """
    from ._runtime import _record

    check_is_fitted(encoder, "model_id_")
    name = type(encoder).__name__
    if encoder.backbone_.spec.onnx is None:
        raise ValueError(
            f"{name} with backbone {encoder.backbone_.name!r} has no ONNX graph in skmm; "
            "the shipped text, image and Whisper backbones and Hugging Face text models have one."
        )
    try:
        record = _record(encoder)
    except OnnxExportError as exc:
        raise ValueError(f"{name}: {exc}") from exc
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    shutil.copyfile(record["path"], tmp)
    os.replace(tmp, path)
    info = {
        "encoder": name,
        "backbone": encoder.backbone_.name,
        "model": encoder.model_id_,
        "inputs": record["inputs"],
        "output": "output",
        "n_features": int(encoder.n_features_out_),
        "input_config": encoder._output_params(),
        "quantize": record["quantize"],
        "opset": record["opset"],
        "max_abs_diff_vs_torch": record["max_abs_diff"],
        "cosine_min_vs_torch": record["cosine_min"],
        "fused_operators": record.get("fused"),  # ONNX Runtime's own (com.microsoft) kernels
        **{k: v for k, v in record.items() if k.startswith("int8_")},
        "how_to_run": HOW_TO_RUN + (INT8_ONE_ROW if record["quantize"] == "int8" else ""),
    }
    json_path = path.with_suffix(".json")
    json_path.write_text(json.dumps(info, indent=2, default=str))
    return path
