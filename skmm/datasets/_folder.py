"""Loader for a class-per-folder tree of images or audio clips."""

import pandas as pd

from ._common import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    DatasetNotFoundError,
    check_folder,
    logger,
    object_column,
    walk_files,
)

_EXPECTED = (
    "one sub-folder per class holding the files, e.g. {path}/happy/0001.png and {path}/sad/0002.png"
)


def load_folder(path, modality="auto"):
    """List a class-per-folder tree (``path/label/file``) as a DataFrame.

    Each immediate sub-folder of ``path`` is a class; every image or audio file
    below it (at any depth) is one row. When a file sits one level deeper
    (``path/label/speaker/file``), that middle folder becomes the ``group``
    column, for grouped cross-validation. Files directly in ``path`` are ignored.

    Parameters
    ----------
    path : str or path-like
        The root folder.
    modality : {"auto", "image", "audio"}, default="auto"
        Which files to list: images (``.png .jpg .jpeg .bmp .gif .tif .tiff .webp``)
        or audio (``.wav .flac .mp3 .ogg .m4a .aiff .aif``). ``"auto"`` picks the
        kind found and raises when the tree holds both.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``image`` or ``audio`` (absolute path), ``label`` (the class
        folder's name), ``file`` (path relative to ``path``) and, when every
        file sits in a sub-folder of its class folder, ``group``.

    Raises
    ------
    DatasetNotFoundError
        If ``path`` does not exist or no class folder holds a file of the kind asked.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.datasets import load_folder
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> for label in ("happy", "sad"):
    ...     (root / label).mkdir()
    ...     (root / label / "clip.wav").touch()
    >>> load_folder(root)[["label", "file"]].values.tolist()
    [['happy', 'happy/clip.wav'], ['sad', 'sad/clip.wav']]
    """
    if modality not in ("auto", "image", "audio"):
        raise ValueError(f"modality must be 'auto', 'image' or 'audio', got {modality!r}.")
    root = check_folder(path, "Class-per-folder dataset", _EXPECTED.format(path=path))
    kinds = {"image": IMAGE_EXTENSIONS, "audio": AUDIO_EXTENSIONS}
    allowed = IMAGE_EXTENSIONS + AUDIO_EXTENSIONS if modality == "auto" else kinds[modality]

    found = {"image": [], "audio": []}
    loose = 0
    for file in walk_files(root, allowed):
        parts = file.relative_to(root).parts
        if len(parts) < 2:
            loose += 1
            continue
        kind = "image" if file.suffix.lower() in IMAGE_EXTENSIONS else "audio"
        found[kind].append(parts)
    if loose:
        logger.warning(
            "load_folder: ignored %d file(s) directly in %s (not in a class folder).", loose, root
        )

    asked = modality
    if modality == "auto":
        present = [k for k in ("image", "audio") if found[k]]
        if len(present) == 2:
            raise ValueError(
                f"{str(root)!r} holds both images ({len(found['image'])}) and audio files "
                f"({len(found['audio'])}); pass modality='image' or modality='audio'."
            )
        modality = present[0] if present else "image"
    rows = found[modality]
    if not rows:
        what = "image or audio" if asked == "auto" else modality
        raise DatasetNotFoundError(
            f"no {what} files found in class folders under {str(root)!r}; expected "
            f"{_EXPECTED.format(path=root)}."
        )

    frame = pd.DataFrame({modality: object_column(str(root.joinpath(*p)) for p in rows)})
    frame["label"] = [p[0] for p in rows]
    frame["file"] = ["/".join(p) for p in rows]
    if all(len(p) >= 3 for p in rows):
        frame["group"] = [p[1] for p in rows]
    logger.info(
        "load_folder: %d %s files in %d classes.", len(frame), modality, frame["label"].nunique()
    )
    return frame
