"""Loader for a manifest table (CSV, TSV or Parquet) that lists a multimodal dataset."""

import os
import warnings
from pathlib import Path

import pandas as pd

from ._common import DatasetNotFoundError, object_column, read_csv_robust

MANIFEST_COLUMNS = ("text", "image", "audio", "video", "label", "group")
_PATH_COLUMNS = ("image", "audio", "video")
_SHOWN = 5


def _read_table(path):
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return read_csv_robust(path, sep="\t" if suffix == ".tsv" else ",")
    raise ValueError(f"cannot read manifest {str(path)!r}: use a .csv, .tsv or .parquet file.")


def _is_missing(value):
    return (
        value is None
        or (isinstance(value, float) and value != value)
        or value is pd.NA
        or (isinstance(value, str) and not value.strip())
    )


def load_manifest(path, *, path_columns=None, check_files="raise", base_dir=None):
    r"""Read a manifest table that lists a multimodal dataset, one sample per row.

    The table has any subset of the columns ``text`` (the text itself),
    ``image``, ``audio``, ``video`` (file paths), ``label`` and ``group``, plus
    whatever else the user keeps there. Relative paths are resolved against
    the manifest's own folder, so a dataset folder can be moved as a whole.
    Empty cells in a modality column become ``None`` (that modality is missing
    for the row). Paths that point at no file are reported, never dropped.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` (UTF-8 or cp1252), ``.tsv`` or ``.parquet`` file.
    path_columns : list of str, optional
        Columns that hold file paths. Default: those of ``image``, ``audio`` and
        ``video`` that the table has. Name others when the table uses its own
        names (``["face", "voice"]``).
    check_files : {"raise", "warn", "ignore"}, default="raise"
        What to do when paths point at no file: raise a
        :class:`DatasetNotFoundError` that lists the first rows (0-based, header
        excluded), warn with the same list, or say nothing.
    base_dir : str or path-like, optional
        Folder relative paths are resolved against; default the manifest's folder.

    Returns
    -------
    frame : pandas.DataFrame
        The table, with path columns made absolute and missing cells ``None``.

    Raises
    ------
    DatasetNotFoundError
        If the manifest is absent, or (``check_files="raise"``) a path points at no file.
    ValueError
        If the table has none of the expected columns or ``path_columns`` names
        an absent column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.datasets import load_manifest
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "a.wav").touch()
    >>> table = "text,audio,label\nwhat a day,a.wav,happy\nfine,,neutral\n"
    >>> _ = (root / "data.csv").write_text(table)
    >>> df = load_manifest(root / "data.csv")
    >>> df["audio"].iloc[0] == str(root.resolve() / "a.wav"), df["audio"].iloc[1]
    (True, None)
    """
    if check_files not in ("raise", "warn", "ignore"):
        raise ValueError(f"check_files must be 'raise', 'warn' or 'ignore', got {check_files!r}.")
    if path is None or isinstance(path, (list, tuple)):
        raise ValueError(f"`path` must be one manifest file (str or Path), got {path!r}.")
    file = Path(os.fspath(path)).expanduser()
    if not file.is_file():
        raise DatasetNotFoundError(
            f"manifest {str(file)!r} does not exist or is not a file; expected a CSV/TSV/Parquet "
            f"table with some of the columns {list(MANIFEST_COLUMNS)}."
        )
    frame = _read_table(file)
    frame.columns = [str(c).strip() for c in frame.columns]
    if path_columns is None:
        path_columns = [c for c in _PATH_COLUMNS if c in frame.columns]
        if not path_columns and not any(c in frame.columns for c in MANIFEST_COLUMNS):
            raise ValueError(
                f"manifest {str(file)!r} has none of the columns {list(MANIFEST_COLUMNS)} "
                f"(found {list(frame.columns)}); rename them or name the path columns "
                "with path_columns=."
            )
    else:
        path_columns = [path_columns] if isinstance(path_columns, str) else list(path_columns)
        absent = [c for c in path_columns if c not in frame.columns]
        if absent:
            raise ValueError(
                f"path_columns {absent} are not in manifest {str(file)!r}; "
                f"found {list(frame.columns)}."
            )
    base = Path(os.fspath(base_dir)).expanduser() if base_dir is not None else file.parent
    base = base.resolve()

    missing = []
    for col in path_columns:
        resolved = []
        for row, value in enumerate(frame[col].tolist()):
            if _is_missing(value):
                resolved.append(None)
                continue
            full = Path(str(value).strip()).expanduser()
            full = full if full.is_absolute() else base / full
            resolved.append(str(full))
            if check_files != "ignore" and not full.is_file():
                missing.append((row, col, str(value), str(full)))
        frame[col] = object_column(resolved).set_axis(frame.index)
    if "text" in frame.columns and "text" not in path_columns:
        texts = object_column(None if _is_missing(v) else str(v) for v in frame["text"])
        frame["text"] = texts.set_axis(frame.index)

    if missing:
        shown = "; ".join(f"row {r} {c}={v!r} ({p})" for r, c, v, p in missing[:_SHOWN])
        more = f" and {len(missing) - _SHOWN} more" if len(missing) > _SHOWN else ""
        message = (
            f"manifest {str(file)!r}: {len(missing)} path(s) point at no file (relative paths are "
            f"resolved against {str(base)!r}): {shown}{more}."
        )
        if check_files == "raise":
            raise DatasetNotFoundError(
                message + " Fix the paths, or pass check_files='warn' to load anyway."
            )
        warnings.warn(message, UserWarning, stacklevel=2)
    return frame
