"""Per-block helpers of ModalityUnion: run a transformer, name and scale its output."""

import inspect
import logging
import time

import numpy as np
import pandas as pd
from scipy import sparse

from ._layout import SEPARATOR

logger = logging.getLogger(__name__)


def as_block(out, n_rows, modality):
    if sparse.issparse(out):
        out = out.toarray()
    out = np.asarray(out)
    if out.ndim == 1:
        out = out.reshape(-1, 1)
    if out.ndim != 2 or out.shape[0] != n_rows:
        raise ValueError(
            f"The transformer of modality {modality!r} returned shape {out.shape} "
            f"for {n_rows} rows; "
            "it must return one row per input row."
        )
    return out if out.dtype.kind == "f" else out.astype(np.float64)


def fit_transform_block(transformer, column, y, modality, verbose):
    """Fit a modality's transformer; return it, its block and the rows it failed to encode."""
    start = time.perf_counter()
    report = None
    if transformer == "passthrough":
        out = column
    else:
        out = transformer.fit_transform(column, y)
        report = getattr(transformer, "training_report_", None)
    if verbose:
        logger.info("ModalityUnion: fitted %r in %.2fs", modality, time.perf_counter() - start)
    block = as_block(out, len(column), modality)
    return transformer, block, failed_rows(block, report)


def transform_block(transformer, column, modality):
    """A modality's block for new rows, and the rows its transformer failed to encode."""
    report = None
    if transformer == "passthrough":
        out = column
    elif _reports(transformer):
        out, report = transformer.transform(column, return_report=True)
    else:
        out = transformer.transform(column)
    block = as_block(out, len(column), modality)
    return block, failed_rows(block, report)


def failed_rows(block, report=None):
    """Rows a transformer could not encode: those its report lists, and all-NaN rows.

    An skmm encoder says which rows failed (``on_error="nan"`` or ``"zero"``); any other
    transformer that fills a failed row with NaN (a pipeline around an encoder) is
    understood through its all-NaN rows.
    """
    failed = np.zeros(block.shape[0], dtype=bool)
    if report is not None:
        failed |= report.failed_mask
    if block.shape[1] and block.dtype.kind == "f":
        failed |= np.isnan(block).all(axis=1)
    return failed


def _reports(transformer):
    try:
        return "return_report" in inspect.signature(transformer.transform).parameters
    except (TypeError, ValueError):
        return False


def block_names(transformer, column, modality, width):
    if transformer == "passthrough":
        names = list(column.columns) if isinstance(column, pd.DataFrame) else None
        if isinstance(column, pd.Series):
            names = [column.name]
    else:
        try:
            names = list(transformer.get_feature_names_out())
        except (AttributeError, ValueError, TypeError):
            names = None
    if names is None or len(names) != width:
        names = [f"x{i}" for i in range(width)]
    return [f"{modality}{SEPARATOR}{name}" for name in names]


def block_stats(block, scale, fill_value):
    """Shift, divisor and fill of a block, from its present training rows."""
    with np.errstate(all="ignore"):
        col_mean = np.nan_to_num(np.nanmean(block.astype(np.float64), axis=0))
        std = np.nanstd(block.astype(np.float64), axis=0)
    width = block.shape[1]
    if scale is None:
        mean, std = np.zeros(width), np.ones(width)
    else:
        mean = col_mean
        # constant features keep their scale, as in StandardScaler
        std = np.where(np.isfinite(std) & (std > 10 * np.finfo(np.float64).eps), std, 1.0)
        if scale == "block":
            std = std * np.sqrt(width)
    if fill_value == "mean":
        fill = (col_mean - mean) / std
    else:
        fill = np.full(width, 0.0 if fill_value == "zero" else float(fill_value))
    return mean, std, fill
