"""Reading a manifest table for the ``skmm`` commands, and checking it before any encoding.

Every check here fails with one sentence that names the file, the column and the first
rows at fault, so that a mistake is found before minutes of encoding, not inside them.
"""

import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger("skmm.cli")

_SHOWN = 5
_TOKENIZER = (
    (
        re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)"),
        "line {1} has {2} cells where the first lines have {0} (a cell that holds the "
        "separator needs quotes)",
    ),
    (
        re.compile(r"EOF inside string starting at row (\d+)"),
        "the quote opened on row {0} is never closed",
    ),
)


def _why_not_csv(exc):
    text = " ".join(str(exc).split())
    for pattern, wording in _TOKENIZER:
        match = pattern.search(text)
        if match:
            return wording.format(*match.groups())
    if isinstance(exc, pd.errors.EmptyDataError):
        return "it is empty"
    return re.sub(r"^Error tokenizing data\. C error: ", "", text).rstrip(".")


def _load(path, path_columns):
    from ..datasets import DatasetNotFoundError, load_manifest

    file = Path(path)
    kind = "Parquet" if file.suffix.lower() in (".parquet", ".pq") else "CSV"
    if file.suffix.lower() in (".csv", ".tsv", ".txt") and file.is_file():
        with open(file, "rb") as handle:
            if b"\0" in handle.read(8192):
                raise ValueError(f"{str(path)!r} is not a CSV table: it holds binary data.")
    try:
        return load_manifest(path, path_columns=path_columns, check_files="ignore")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"{str(path)!r} is not a {kind} table: {_why_not_csv(exc)}.") from None
    except DatasetNotFoundError:
        raise
    except (OSError, ValueError) as exc:  # pyarrow's errors are ValueErrors or OSErrors
        if kind != "Parquet":
            raise
        reason = " ".join(str(exc).split()).replace(f"'{path}'", "").rstrip(".")
        raise ValueError(f"{str(path)!r} is not a Parquet table: {reason}.") from None


def read_table(path, columns, path_columns=(), optional=()):
    """The manifest as given and with file paths resolved, after checking ``columns`` are there.

    Columns in ``optional`` (a model's modalities, at predict time) may be absent: they are
    added empty, so that modality counts as missing in every row.
    """
    raw = _load(path, [])
    absent = [c for c in dict.fromkeys(columns) if c not in raw.columns]
    required = [c for c in absent if c not in optional]
    if required:
        raise ValueError(
            f"column {required[0]!r} is not in {str(path)!r}; its columns are: "
            f"{', '.join(map(str, raw.columns))}."
        )
    if optional and set(optional) <= set(absent):
        raise ValueError(
            f"{str(path)!r} has none of the columns the model reads "
            f"({', '.join(optional)}); its columns are: {', '.join(map(str, raw.columns))}."
        )
    for column in absent:
        logger.warning(
            "Column %r is not in %s: that modality counts as missing in every row.", column, path
        )
    present_paths = [c for c in path_columns if c not in absent]
    frame = _load(path, present_paths) if present_paths else raw.copy()
    return raw, frame.assign(**{c: None for c in absent})


def _rows(rows):
    shown = ", ".join(str(r) for r in rows[:_SHOWN])
    return shown + (f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else "")


def absent_cells(frame):
    """True where a cell holds nothing: None, NaN, or an empty or blank string."""
    blank = frame.apply(lambda col: col.map(lambda v: isinstance(v, str) and not v.strip()))
    return frame.isna().to_numpy() | blank.to_numpy(dtype=bool)


def check_numeric(frame, columns, path):
    """Stop on a ``--tabular`` column that holds words, naming it, its first such row and value."""
    for column in columns:
        values = frame[column]
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            continue
        numbers = pd.to_numeric(values, errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy() & ~absent_cells(values.to_frame())[:, 0])
        if bad.size:
            raise ValueError(
                f"column {column!r} of {str(path)!r} was given to --tabular but holds words "
                f"({values.iloc[bad[0]]!r} in row {bad[0]}); name it with --categorical "
                f"{column} to one-hot encode it, or with --text if it is free text."
            )


def labelled(frame, label):
    """Rows that have a label (the others are dropped with a count), and the labels."""
    y = frame[label]
    keep = ~absent_cells(y.to_frame())[:, 0]
    if not keep.all():
        logger.warning("Ignoring %d row(s) without a label in column %r.", (~keep).sum(), label)
    frame, y = frame[keep], y[keep]
    if y.nunique() < 2:
        raise ValueError(
            f"column {label!r} needs at least 2 different labels; it has "
            f"{sorted(map(str, y.unique()))}."
        )
    return frame, y.to_numpy()


def file_problems(frame, path_columns, readable=False):
    """``(row, column, path, reason)`` for each file the table names that is absent (or unreadable).

    ``row`` is the table's row number (0-based, header excluded), as the index keeps it.
    """
    from ..io._files import open_input_file

    problems = []
    for column in path_columns:
        for row, value in zip(frame.index, frame[column].tolist()):
            if not isinstance(value, str) or not value.strip():
                continue
            if not readable:
                if not os.path.isfile(value):
                    problems.append((row, column, value, "it does not exist"))
                continue
            try:
                with open_input_file(value) as handle:
                    handle.read(1)
            except (ValueError, OSError) as exc:
                problems.append((row, column, value, str(exc)))
    return problems


def check_files(frame, path_columns, path, on_error="raise"):
    """``--check-files``: open every file the table names; say how many cannot be read.

    Under ``on_error="raise"`` any such file stops the run (the count and the first few);
    otherwise the same is a warning, and the ``--on-error`` policy handles those rows.
    """
    named = int(sum(frame[c].map(lambda v: isinstance(v, str)).sum() for c in path_columns))
    problems = file_problems(frame, path_columns, readable=True)
    if not problems:
        logger.info("Checked %d files named in %s: all exist and are readable.", named, path)
        return
    shown = "; ".join(f"row {r} {c}: {why}" for r, c, _, why in problems[:3])
    message = (
        f"{len(problems)} of the {named} files named in {str(path)!r} cannot be read "
        f"({shown}{'; ...' if len(problems) > 3 else ''})"
    )
    if on_error == "raise":
        raise ValueError(
            f"{message}. Fix the paths (relative ones are read from the table's folder), or "
            "add --on-error missing to fit without them."
        )
    logger.warning("%s: --on-error %s applies to them.", message, on_error)


def treat_absent_files(frame, path_columns, on_error, path):
    """Files that do not exist: an error under ``raise``, a missing modality under ``missing``."""
    problems = file_problems(frame, path_columns)
    if not problems or on_error == "zero":
        return frame
    rows = sorted({r for r, *_ in problems})
    first = problems[0]
    if on_error == "raise":
        raise ValueError(
            f"{len(rows)} row(s) of {str(path)!r} name files that do not exist (rows "
            f"{_rows(rows)}; row {first[0]} {first[1]}: {first[2]!r}). Fix the paths, or pass "
            "--on-error missing to treat those files as missing."
        )
    frame = frame.copy()
    for column in path_columns:
        gone = [r for r, c, *_ in problems if c == column]
        frame.loc[gone, column] = None
        if gone:
            logger.warning(
                "%d row(s) name %s files that do not exist (rows %s): that modality counts "
                "as missing there (--on-error missing).",
                len(gone),
                column,
                _rows(gone),
            )
    return frame


def rows_without_input(frame, columns):
    """True for rows where every one of ``columns`` is absent: no modality to learn or predict from."""
    return absent_cells(frame[list(columns)]).all(axis=1)


def describe_rows(frame, mask):
    """``"0, 3, 7 and 12 more"``: the table's row numbers (header excluded) where ``mask`` holds."""
    return _rows(list(frame.index[mask]))
