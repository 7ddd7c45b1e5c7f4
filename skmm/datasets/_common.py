"""Helpers shared by the dataset loaders: path checks, file walking, column building."""

import io
import logging
import os
from pathlib import Path

import pandas as pd

logger = logging.getLogger("skmm.datasets")

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".aiff", ".aif")
VIDEO_EXTENSIONS = (".mp4", ".avi", ".mov", ".mkv", ".flv", ".webm")


class DatasetNotFoundError(FileNotFoundError, ValueError):
    """A dataset folder, file or the files a table points to are not where they should be.

    Subclasses both :class:`FileNotFoundError` and :class:`ValueError`, so either
    ``except`` clause catches it. The message says what was expected.
    """


def check_folder(path, dataset, expected):
    """Return ``path`` as a resolved :class:`~pathlib.Path` or raise a helpful error.

    Parameters
    ----------
    path : str or path-like
        Folder given by the user.
    dataset : str
        Dataset name quoted in the message, e.g. ``"RAVDESS"``.
    expected : str
        What the folder should hold, quoted in the message.
    """
    if isinstance(path, (list, tuple)) or path is None:
        raise ValueError(f"{dataset}: `path` must be one folder (str or Path), got {path!r}.")
    root = Path(os.fspath(path)).expanduser()
    if not root.exists():
        raise DatasetNotFoundError(
            f"{dataset} folder {str(root)!r} does not exist; expected {expected}. "
            "skmm does not download datasets: download it yourself and pass its folder."
        )
    if not root.is_dir():
        raise DatasetNotFoundError(
            f"{dataset}: {str(root)!r} is a file, not a folder; expected {expected}."
        )
    return root.resolve()


def walk_files(root, extensions=None):
    """Yield the files under ``root``, recursively and sorted, skipping hidden and macOS files.

    Parameters
    ----------
    root : Path
    extensions : tuple of str, optional
        Lower-case suffixes to keep (``(".wav", ".mp4")``); all files when None.
    """
    for folder, dirs, files in os.walk(root):
        # Sort in place so the walk, and so the rows, come in a stable order.
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(files):
            if name.startswith("."):
                continue
            if extensions is not None and os.path.splitext(name)[1].lower() not in extensions:
                continue
            yield Path(folder) / name


def object_column(values):
    """A Series of dtype object, so missing entries stay ``None`` (pandas 3 would make them NaN)."""
    return pd.Series(list(values), dtype=object)


def warn_skipped(dataset, skipped, reason):
    """Log once how many files were skipped and show a few of them."""
    if skipped:
        shown = ", ".join(str(p) for p in skipped[:3])
        more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
        logger.warning(
            "%s: skipped %d file(s) with %s: %s%s", dataset, len(skipped), reason, shown, more
        )


def read_csv_robust(path, **kwargs):
    """Read a CSV encoded as UTF-8 (with or without BOM) or cp1252; ``kwargs`` go to pandas."""
    raw = Path(path).read_bytes()
    for codec in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(codec)
            break
        except UnicodeDecodeError:
            continue
    else:  # cp1252 leaves five bytes undefined; keep going with replacement characters
        text = raw.decode("utf-8", errors="replace")
    return pd.read_csv(io.StringIO(text), **kwargs)
