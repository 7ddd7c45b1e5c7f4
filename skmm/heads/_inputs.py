"""What the heads accept: the block layout of X and per-sample weights."""

import numbers
from collections.abc import Mapping

import numpy as np


def _columns(spec, n_features, feature_names, modality):
    """Column positions from a slice, positions, or column names."""
    if isinstance(spec, slice):
        columns = list(range(n_features))[spec]
    elif isinstance(spec, (str, numbers.Integral)):
        columns = [spec]
    else:
        columns = list(spec)
    names = {} if feature_names is None else {str(n): i for i, n in enumerate(feature_names)}
    out = []
    for col in columns:
        if isinstance(col, numbers.Integral) and not isinstance(col, bool):
            if not -n_features <= col < n_features:
                raise ValueError(
                    f"Block {modality!r}: column {col} is out of range for "
                    f"X with {n_features} features."
                )
            out.append(int(col) % n_features)
        elif isinstance(col, str) and col in names:
            out.append(names[col])
        else:
            raise ValueError(
                f"Block {modality!r}: {col!r} is neither a column position nor a "
                "column name of the DataFrame passed to fit."
            )
    if not out:
        raise ValueError(f"Block {modality!r} has no feature columns.")
    return out


def resolve_blocks(blocks, n_features, feature_names=None):
    """Turn the ``blocks`` parameter into ``[(modality, columns, missing_column), ...]``.

    ``None`` reads the layout from ``"{modality}__{feature}"`` column names (with an
    optional ``"{modality}__missing"`` indicator), or uses one block ``"all"``.
    """
    if blocks is None:
        if feature_names is None or not any("__" in str(n) for n in feature_names):
            return [("all", list(range(n_features)), None)]
        from skmm.fusion._layout import infer_blocks

        # columns without a modality prefix (e.g. tabular features) form one block
        layout = infer_blocks(list(feature_names), default="other")
    elif isinstance(blocks, Mapping):
        layout = blocks
    else:
        raise ValueError(
            "blocks must be None or a dict {modality: columns}, where columns is a "
            f"slice, a list of positions or names, or {{'features': ..., 'missing': "
            f"...}}; got {type(blocks).__name__}."
        )
    resolved = []
    for name, spec in layout.items():
        missing = None
        if isinstance(spec, Mapping):
            spec, missing = spec.get("features"), spec.get("missing")
        columns = _columns(spec, n_features, feature_names, name)
        if missing is not None:
            (missing,) = _columns([missing], n_features, feature_names, name)
        resolved.append((str(name), columns, missing))
    if not resolved:
        raise ValueError("blocks is empty: give at least one modality.")
    return resolved


def check_sample_weight(sample_weight, n_samples):
    if sample_weight is None:
        return None
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim == 0:
        sw = np.full(n_samples, float(sw))
    if sw.shape != (n_samples,):
        raise ValueError(f"sample_weight has shape {sw.shape}; expected ({n_samples},).")
    if not np.all(np.isfinite(sw)) or np.any(sw < 0):
        raise ValueError("sample_weight must be finite and non-negative.")
    if not sw.any():
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sw
