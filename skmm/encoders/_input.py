"""Raw-input validation shared by the encoders: one column of items in, a list out."""

import numpy as np


def to_rows(X, owner, array_rows):
    """Turn a raw column into a list of items and, for pandas input, its index.

    Accepts a list or tuple, a 1-D (or n×1) ndarray, a Series or a one-column DataFrame.
    A bare ``str`` or ``bytes`` is refused, as scikit-learn does, because it would
    otherwise be read as a sequence of characters.

    Parameters
    ----------
    X : object
        The raw input.
    owner : str
        Name of the estimator, for messages.
    array_rows : callable
        Called with ndarrays that are neither 1-D nor n×1 (e.g. a stack of images).

    Returns
    -------
    rows : list
    index : pandas.Index or None
        None when the input had no index, or a default 0..n-1 one.

    Examples
    --------
    >>> from skmm.encoders._input import to_rows
    >>> to_rows(["a", "b"], "TextEncoder", None)
    (['a', 'b'], None)
    """
    index = None
    if isinstance(X, (str, bytes)):
        raise ValueError(
            f"{owner} expects a collection of inputs (list, 1-D array, Series or "
            f"one-column DataFrame), got a single {type(X).__name__}. Wrap it in a list: [x]."
        )
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"{owner} expects one column, got a DataFrame with {X.shape[1]} columns "
                f"{list(X.columns)[:5]}. Select the column, e.g. with a ColumnTransformer."
            )
        index = X.index
        rows = X.iloc[:, 0].tolist()
    elif hasattr(X, "iloc"):  # Series
        index = X.index
        rows = X.tolist()
    elif isinstance(X, np.ndarray):
        if X.ndim == 1:
            rows = list(X)
        elif X.ndim == 2 and X.shape[1] == 1:
            rows = list(X[:, 0])
        else:
            rows = list(array_rows(X))
    elif isinstance(X, dict) or not hasattr(X, "__iter__"):
        raise ValueError(
            f"{owner} expects a list, 1-D array, Series or one-column DataFrame; "
            f"got {type(X).__name__}."
        )
    else:
        rows = list(X)
    if len(rows) == 0:
        raise ValueError(f"{owner} got 0 rows; at least one is required.")
    if index is not None and _is_default_index(index, len(rows)):
        index = None
    return rows, index


def row_label(index, row):
    """The pandas index label of a row position, or None without a meaningful index."""
    if index is None:
        return None
    label = index[row]
    return label.item() if hasattr(label, "item") else label


def _is_default_index(index, n):
    start = getattr(index, "start", None)
    return start == 0 and getattr(index, "step", None) == 1 and len(index) == n
