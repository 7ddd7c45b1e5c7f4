"""Column selection and absent-row detection for fusion steps."""

import numbers

import numpy as np
import pandas as pd


def _is_scalar_key(key):
    return isinstance(key, (str, numbers.Integral)) and not isinstance(key, bool)


def resolve_columns(X, key, modality):
    """Positions of the columns ``key`` selects in ``X`` and whether it is a scalar key.

    Follows ColumnTransformer: an int or a str selects one column (handed on
    1-D), a list, slice, boolean mask or callable selects a 2-D table. Ints are
    positions; strings are DataFrame labels.
    """
    n_features = X.shape[1]
    if callable(key):
        key = key(X)
    scalar = _is_scalar_key(key)
    keys = [key] if scalar else key
    columns = X.columns if isinstance(X, pd.DataFrame) else None
    if isinstance(keys, slice):
        if isinstance(keys.start, str) or isinstance(keys.stop, str):
            if columns is None:
                raise ValueError(
                    f"Modality {modality!r} selects columns by name; X has no column names."
                )
            keys = list(columns[columns.slice_indexer(keys.start, keys.stop, keys.step)])
        else:
            keys = list(range(n_features))[keys]
    keys = list(np.asarray(keys, dtype=object).ravel()) if not isinstance(keys, list) else keys
    if keys and all(isinstance(k, (bool, np.bool_)) for k in keys):
        if len(keys) != n_features:
            raise ValueError(
                f"Modality {modality!r}: boolean mask of length {len(keys)} "
                f"for X with {n_features} feature(s)."
            )
        keys = [i for i, keep in enumerate(keys) if keep]
    positions = []
    for k in keys:
        if isinstance(k, str):
            if columns is None:
                raise ValueError(
                    f"Modality {modality!r} selects column {k!r} by name, but X has no column "
                    "names: pass a pandas DataFrame."
                )
            if k not in columns:
                raise ValueError(f"Modality {modality!r}: column {k!r} is not in X.")
            positions.append(int(columns.get_loc(k)))
        elif isinstance(k, numbers.Integral):
            k = int(k)
            if not -n_features <= k < n_features:
                raise ValueError(
                    f"Modality {modality!r}: column {k} is out of range, "
                    f"X has {n_features} feature(s)."
                )
            positions.append(k % n_features)
        else:
            raise ValueError(f"Modality {modality!r}: cannot select columns with {k!r}.")
    if not positions:
        raise ValueError(
            f"Modality {modality!r} selects no columns; X has {n_features} feature(s)."
        )
    return positions, scalar


def take_columns(X, positions, scalar):
    """The selected column as 1-D (``scalar``) or the selected columns as 2-D."""
    if isinstance(X, pd.DataFrame):
        return X.iloc[:, positions[0]] if scalar else X.iloc[:, positions]
    return X[:, positions[0]] if scalar else X[:, positions]


def take_rows(column, rows):
    """Rows ``rows`` (integer positions) of a Series, DataFrame or array."""
    if isinstance(column, (pd.Series, pd.DataFrame)):
        return column.iloc[rows]
    return column[rows]


def _is_absent_item(item):
    if item is None:
        return True
    if isinstance(item, (str, bytes)):
        return not item.strip()
    if isinstance(item, np.ndarray):
        return item.size == 0
    if isinstance(item, (list, tuple)):
        return len(item) == 0
    try:
        return bool(pd.isna(item))
    except (TypeError, ValueError):
        return False


def absent_rows(column):
    """Boolean mask of rows where the modality is absent.

    A raw item is absent when it is None, NaN/NA, an empty or whitespace-only
    string or bytes, or an empty array or list. A row of a 2-D selection is
    absent when every one of its cells is absent.
    """
    values = (
        column.to_numpy() if isinstance(column, (pd.Series, pd.DataFrame)) else np.asarray(column)
    )
    if values.dtype.kind in "fc":
        nan = np.isnan(values)
    elif values.dtype.kind in "biu":
        nan = np.zeros(values.shape, dtype=bool)
    else:
        flat = values.reshape(-1) if values.ndim > 1 else values
        nan = np.fromiter((_is_absent_item(v) for v in flat), dtype=bool, count=len(flat))
        nan = nan.reshape(values.shape)
    return nan.all(axis=1) if nan.ndim == 2 else nan
