"""Training records: how a fitted model was made, stored with the model itself.

A record says which table the model learnt from (name, row count, a content hash of
its rows and one hash per row), the labels, the cross-validation scheme and scores,
the encoders' identities and licences, the library versions and the date. It lives
on the fitted estimator as ``training_record_`` so it travels in the same pickle.
"""

import datetime
import hashlib
import os
import platform
from importlib import metadata

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ..cache import content_hash

RECORD_ATTRIBUTE = "training_record_"
_LIBRARIES = (
    "numpy",
    "pandas",
    "scikit-learn",
    "torch",
    "transformers",
    "skorch",
    "imbalanced-learn",
    "optuna",
)


def input_columns(model):
    """The input columns a fitted fusion pipeline reads, and those that hold file paths.

    Parameters
    ----------
    model : fitted estimator
        A pipeline whose first step is a :class:`~skmm.fusion.ModalityUnion`, or any
        estimator fitted on a DataFrame.

    Returns
    -------
    columns, path_columns : list of str, list of str

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmm.report._record import input_columns
    >>> X = pd.DataFrame({"age": [20, 30, 40, 50]})
    >>> input_columns(LogisticRegression().fit(X, [0, 1, 0, 1]))
    (['age'], [])
    """
    from ..encoders import ImageEncoder, MelEncoder
    from ..fusion import ModalityUnion

    steps = [s for _, s in model.steps] if hasattr(model, "steps") else [model]
    union = next((s for s in steps if isinstance(s, ModalityUnion)), None)
    if union is None:
        return [str(c) for c in getattr(model, "feature_names_in_", [])], []
    columns, paths = [str(c) for c in getattr(union, "feature_names_in_", [])], []
    for _, transformer, selected in union.transformers:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        names = [selected] if isinstance(selected, str) else list(selected)
        names = [c for c in names if isinstance(c, str)]
        columns += [c for c in names if c not in columns]
        inner = (
            [s for _, s in transformer.steps] if hasattr(transformer, "steps") else [transformer]
        )
        if any(isinstance(s, (ImageEncoder, MelEncoder)) for s in inner):
            paths += names
    return columns, paths


def _absent(value):
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and value != value:
        return True
    return isinstance(value, str) and not value.strip()


def _file_digest(path, seen):
    if path not in seen:
        try:
            with open(path, "rb") as handle:
                seen[path] = b"file:" + hashlib.file_digest(handle, "blake2b").digest()
        except OSError:  # an unreadable file is hashed by its name, as the table gives it
            seen[path] = b"path:" + str(path).encode("utf-8", "surrogatepass")
    return seen[path]


def _cell_bytes(value, is_path, seen):
    if _absent(value):
        return b"\0"
    if isinstance(value, np.ndarray):
        return b"array:" + np.ascontiguousarray(value).tobytes()
    if isinstance(value, (bytes, bytearray)):
        return b"bytes:" + bytes(value)
    if is_path and isinstance(value, (str, os.PathLike)):
        return _file_digest(os.fspath(value), seen)
    return b"value:" + str(value).encode("utf-8", "surrogatepass")


def row_hashes(X, path_columns=()):
    """One 64-bit content hash per row: text and numbers as written, files by their bytes.

    Two tables that list the same samples (the same texts, the same image and audio
    files even at other paths) give the same hashes, whatever their row order.

    Parameters
    ----------
    X : DataFrame or array-like of shape (n_samples, n_columns)
    path_columns : list of str, default=()
        Columns whose cells are file paths: their files' contents are hashed.

    Returns
    -------
    hashes : ndarray of uint64, shape (n_samples,)

    Examples
    --------
    >>> import pandas as pd
    >>> from skmm.report._record import row_hashes
    >>> a = row_hashes(pd.DataFrame({"text": ["hi", "bye", "hi"]}))
    >>> bool(a[0] == a[2]), bool(a[0] == a[1])
    (True, False)
    """
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=object))
    paths = {str(c) for c in path_columns}
    seen, out = {}, np.empty(len(frame), dtype=np.uint64)
    flags = [str(c) in paths for c in frame.columns]
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        h = hashlib.blake2b(digest_size=8)
        for value, is_path in zip(row, flags):
            part = _cell_bytes(value, is_path, seen)
            h.update(len(part).to_bytes(8, "little") + part)
        out[i] = int.from_bytes(h.digest(), "little")
    return out


def _versions():
    from .. import __version__

    found = {"skmm": __version__, "python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _model_rows(model, X):
    """``X`` as a DataFrame of the model's input columns (in the model's order), and its path columns."""
    columns, paths = input_columns(model)
    if isinstance(X, pd.DataFrame):
        if columns and set(columns) <= set(map(str, X.columns)):
            return X[columns], paths
        return X, paths
    return pd.DataFrame(np.asarray(X, dtype=object)), paths


def record_training(model, X, y, *, name=None, cv=None, cv_scores=None, command=None):
    """Store how ``model`` was made on the model itself (``model.training_record_``).

    Call it right after fitting, with the rows and labels the model was fitted on;
    :func:`write_model_card` and ``skmm report`` read the record back, and
    :func:`count_training_rows` uses its row hashes to tell when evaluation rows
    are training rows. ``skmm fit`` calls it for you.

    Parameters
    ----------
    model : fitted estimator
    X : DataFrame or array-like
        The training rows, as given to ``fit``.
    y : array-like of shape (n_samples,)
        The training labels.
    name : str, optional
        The training table's name (e.g. its file path).
    cv : str, optional
        The cross-validation scheme, e.g. ``"5-fold GroupKFold grouped by 'speaker'"``.
    cv_scores : dict, optional
        The cross-validated scores: the output of
        :func:`sklearn.model_selection.cross_validate` (``test_<metric>`` arrays) or of
        :func:`summarize_cv` (``{metric: mean, metric_std: std}``).
    command : str, optional
        The command line that trained the model.

    Returns
    -------
    record : dict
        ``table`` (name, n_rows, hash, columns), ``labels`` (label to count), ``cv``,
        ``cv_scores``, ``encoders`` (identity and licence of each), ``versions``,
        ``date`` (UTC, ISO 8601), ``command`` and ``row_hashes``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmm.report import record_training, training_record
    >>> X, y = pd.DataFrame({"age": [20, 30, 40, 50]}), ["a", "b", "a", "b"]
    >>> model = LogisticRegression().fit(X, y)
    >>> record = record_training(model, X, y, name="people.csv", cv="2-fold CV",
    ...                          cv_scores={"test_uar": [0.5, 0.7]})
    >>> training_record(model)["table"]["n_rows"], record["labels"], record["cv_scores"]["uar"]
    (4, {'a': 2, 'b': 2}, 0.6)
    """
    from ._card import describe_encoders
    from ._tables import summarize_cv

    check_is_fitted(model)
    frame, paths = _model_rows(model, X)
    y = np.asarray(y)
    if len(y) != len(frame):
        raise ValueError(f"X has {len(frame)} rows but y has {len(y)} labels.")
    hashes = row_hashes(frame, paths)
    labels, counts = np.unique(y.astype(str), return_counts=True)
    if cv_scores is not None and any(str(k).startswith("test_") for k in cv_scores):
        cv_scores = summarize_cv(cv_scores)
    encoders = describe_encoders(model)
    record = {
        "table": {
            "name": None if name is None else str(name),
            "n_rows": int(len(frame)),
            "hash": content_hash(hashes.tobytes()),
            "columns": [str(c) for c in frame.columns],
        },
        "labels": {str(k): int(n) for k, n in zip(labels, counts)},
        "cv": cv,
        "cv_scores": None if cv_scores is None else {k: float(v) for k, v in cv_scores.items()},
        "encoders": encoders.to_dict(orient="records"),
        "versions": _versions(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        "row_hashes": hashes,
    }
    setattr(model, RECORD_ATTRIBUTE, record)
    return record


def training_record(model):
    """The record :func:`record_training` stored on ``model``, or None.

    Examples
    --------
    >>> from sklearn.dummy import DummyClassifier
    >>> from skmm.report import training_record
    >>> training_record(DummyClassifier().fit([[0], [1]], [0, 1])) is None
    True
    """
    record = getattr(model, RECORD_ATTRIBUTE, None)
    return record if isinstance(record, dict) else None


def count_training_rows(model, X):
    """How many rows of ``X`` the model was trained on (by row content hash), or None.

    None means the model carries no training record (see :func:`record_training`).

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skmm.report import count_training_rows, record_training
    >>> X = pd.DataFrame({"age": [20, 30, 40, 50]})
    >>> model = LogisticRegression().fit(X, [0, 1, 0, 1])
    >>> _ = record_training(model, X, [0, 1, 0, 1])
    >>> count_training_rows(model, pd.DataFrame({"age": [30, 35, 50]}))
    2
    """
    record = training_record(model)
    if record is None or record.get("row_hashes") is None:
        return None
    X, paths = _model_rows(model, X)
    seen = np.asarray(record["row_hashes"], dtype=np.uint64)
    return int(np.isin(row_hashes(X, paths), seen).sum())
