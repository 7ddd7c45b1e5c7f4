"""``skmm export MODEL DIR``: the encoders of a saved model as ONNX files."""

from pathlib import Path

README = """\
ONNX graphs of the encoders in {model}, written by `skmm export`.
Each NAME.onnx has a NAME.json beside it: its input names, the preprocessing the inputs
need (input_config) and its measured difference from torch. Run one with
onnxruntime.InferenceSession("NAME.onnx").run(None, {{input_name: array, ...}}).
"""


def add_export_parser(commands):
    """The ``export`` sub-command."""
    export = commands.add_parser(
        "export",
        help="write the encoders of a saved model as ONNX files",
        description="Write each encoder of a saved model (pipeline or ModalityUnion) as "
        "NAME.onnx with NAME.json (inputs, preprocessing, measured difference from torch) "
        "and a README.txt on how to run them. Needs: pip install 'skmm[onnx]'.",
    )
    export.add_argument("model", help="a model saved by `skmm fit` (or joblib.dump)")
    export.add_argument("output", metavar="DIR", help="folder to write the ONNX files to")
    return export


def fitted_encoders(estimator, prefix="model"):
    """``(name, encoder)`` for every fitted skmm encoder inside ``estimator``.

    Examples
    --------
    >>> from skmm.cli._export import fitted_encoders
    >>> fitted_encoders(object())
    []
    """
    from ..encoders._base import BaseEncoder

    if isinstance(estimator, BaseEncoder):
        return [(prefix, estimator)] if hasattr(estimator, "model_id_") else []
    found, seen = [], set()
    for name, value in _fitted_parts(estimator):
        for inner_name, encoder in fitted_encoders(value, name):
            if id(encoder) not in seen:
                seen.add(id(encoder))
                found.append((inner_name, encoder))
    return found


def _fitted_parts(estimator):
    """Named sub-estimators, fitted copies first (``transformers_``, ``steps``...)."""
    parts = []
    for attr in ("steps", "transformer_list", "transformers_", "estimators_", "named_steps"):
        value = getattr(estimator, attr, None)
        if isinstance(value, dict):
            value = list(value.items())
        for entry in value or []:
            if isinstance(entry, tuple) and len(entry) >= 2:
                parts.append((str(entry[0]), entry[1]))
    for attr in ("union_", "estimator_", "best_estimator_", "fusion_", "encoders_"):
        value = getattr(estimator, attr, None)
        if isinstance(value, dict):
            parts.extend((str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            parts.extend((f"{attr}{i}", v) for i, v in enumerate(value))
        elif value is not None:
            parts.append((attr.rstrip("_"), value))
    return parts


def export_command(args):
    """Export every fitted encoder of ``args.model`` to ``args.output``."""
    import joblib

    model = joblib.load(args.model)
    encoders = fitted_encoders(model)
    if not encoders:
        raise ValueError(f"{args.model} holds no fitted skmm encoder to export.")
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    written = 0
    for name, encoder in encoders:
        if encoder.backbone_.spec.onnx is None:
            print(f"{name}: {type(encoder).__name__} ({encoder.backbone_.name}) has no ONNX graph")
            continue
        path = encoder.export_onnx(out / f"{name.replace('/', '_')}.onnx")
        print(f"{name}: {path}")
        written += 1
    (out / "README.txt").write_text(README.format(model=args.model))
    if not written:
        raise ValueError(f"none of the encoders in {args.model} has an ONNX graph in skmm.")
    return 0
