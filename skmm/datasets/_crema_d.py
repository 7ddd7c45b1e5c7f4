"""Loader for CREMA-D (Crowd-sourced Emotional Multimodal Actors Dataset) files on disk."""

import re
from pathlib import Path

import pandas as pd

from ._common import (
    DatasetNotFoundError,
    check_folder,
    logger,
    object_column,
    walk_files,
    warn_skipped,
)

CREMA_D_EMOTIONS = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fearful",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
CREMA_D_LEVELS = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
CREMA_D_SENTENCES = {
    "IEO": "It's eleven o'clock.",
    "TIE": "That is exactly what happened.",
    "IOM": "I'm on my way to the meeting.",
    "IWW": "I wonder what this is about.",
    "TAI": "The airplane is almost full.",
    "MTI": "Maybe tomorrow it will be cold.",
    "IWL": "I would like a new alarm clock.",
    "ITH": "I think I have a doctor's appointment.",
    "DFA": "Don't forget a jacket.",
    "ITS": "I think I've seen this before.",
    "TSI": "The surface is slick.",
    "WSI": "We'll stop in a couple of minutes.",
}
_NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})\.(wav|mp3|flv|mp4)$", re.IGNORECASE)
# Preferred first: WAV is what the dataset provides for computation; MP3 and FLV are for raters.
_AUDIO = (".wav", ".mp3")
_VIDEO = (".mp4", ".flv")
_EXPECTED = (
    "the AudioWAV (1001_DFA_ANG_XX.wav ...), AudioMP3 or VideoFlash folders of the CREMA-D "
    "repository (github.com/CheyneyComputerScience/CREMA-D, files fetched with git-lfs)"
)


def _demographics(root):
    """Read CREMA-D's VideoDemographics.csv when it is under ``root``; None otherwise."""
    found = sorted(root.rglob("VideoDemographics.csv"))
    if not found:
        return None
    table = pd.read_csv(found[0])
    table.columns = [c.strip().lower() for c in table.columns]
    if "actorid" not in table.columns:
        logger.warning("CREMA-D: %s has no ActorID column; demographics not merged.", found[0])
        return None
    return table.rename(columns={"actorid": "actor"}).set_index("actor")


def load_crema_d(path, modality="audio"):
    """Load the CREMA-D clips found under a folder into a DataFrame.

    Every field comes from CREMA-D's file names ``ActorID_Sentence_Emotion_Level``
    (e.g. ``1001_DFA_ANG_XX.wav``: actor 1001 says "Don't forget a jacket" in an
    angry voice, level unspecified). Actors' age, sex, race and ethnicity are
    merged from ``VideoDemographics.csv`` when it is under ``path``. Nothing is
    downloaded: clone https://github.com/CheyneyComputerScience/CREMA-D
    (ODbL / DbCL licences) with git-lfs.

    Parameters
    ----------
    path : str or path-like
        The repository folder, or any folder holding the clips (searched recursively).
    modality : {"audio", "video", "all"}, default="audio"
        ``"audio"``: one row per clip with an audio file (WAV preferred over MP3).
        ``"video"``: one row per clip with a video file (MP4 preferred over FLV).
        ``"all"``: one row per clip with both columns; ``None`` where a format is absent.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``audio`` and/or ``video`` (absolute paths), ``label`` (angry,
        disgust, fearful, happy, neutral, sad), ``level`` (low, medium, high,
        unspecified), ``sentence`` (code such as ``DFA``), ``text`` (the sentence
        spoken), ``actor`` (1001-1091), the demographics columns when found, and
        ``group`` (the actor, for grouped CV).

    Raises
    ------
    DatasetNotFoundError
        If ``path`` does not exist or holds no CREMA-D-named file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.datasets import load_crema_d
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "AudioWAV"
    >>> root.mkdir()
    >>> (root / "1001_DFA_ANG_XX.wav").touch()
    >>> load_crema_d(root.parent)[["label", "level", "text", "actor"]].to_dict("records")
    [{'label': 'angry', 'level': 'unspecified', 'text': "Don't forget a jacket.", 'actor': 1001}]
    """
    if modality not in ("audio", "video", "all"):
        raise ValueError(f"modality must be 'audio', 'video' or 'all', got {modality!r}.")
    root = check_folder(path, "CREMA-D", _EXPECTED)
    kinds = {"audio": ("audio",), "video": ("video",), "all": ("audio", "video")}[modality]

    clips, skipped, seen = {}, [], 0
    for file in walk_files(root, _AUDIO + _VIDEO):
        match = _NAME.match(file.name)
        codes = match.groups()[:4] if match else None
        if (
            codes is None
            or codes[1].upper() not in CREMA_D_SENTENCES
            or (codes[2].upper() not in CREMA_D_EMOTIONS or codes[3].upper() not in CREMA_D_LEVELS)
        ):
            if re.match(r"^\d{4}_", file.name):
                skipped.append(file)
            continue
        seen += 1
        suffix = file.suffix.lower()
        kind = "audio" if suffix in _AUDIO else "video"
        if kind not in kinds:
            continue
        actor, sentence, emotion, level = (c.upper() for c in codes)
        row = clips.setdefault(
            f"{actor}_{sentence}_{emotion}_{level}",
            {
                "label": CREMA_D_EMOTIONS[emotion],
                "level": CREMA_D_LEVELS[level],
                "sentence": sentence,
                "text": CREMA_D_SENTENCES[sentence],
                "actor": int(actor),
            },
        )
        order = _AUDIO if kind == "audio" else _VIDEO
        current = row.get(kind)
        if current is None or order.index(suffix) < order.index(Path(current).suffix.lower()):
            row[kind] = str(file)
    warn_skipped("CREMA-D", skipped, "names outside the CREMA-D scheme (unknown codes)")

    if not clips:
        found = (
            "no CREMA-D files"
            if not seen
            else f"{seen} CREMA-D files but none for modality={modality!r}"
        )
        raise DatasetNotFoundError(
            f"{found} (1001_DFA_ANG_XX.wav style names) found under {str(root)!r}; "
            f"expected {_EXPECTED}."
        )

    ordered = [clips[key] for key in sorted(clips)]
    frame = pd.DataFrame({col: object_column(row.get(col) for row in ordered) for col in kinds})
    for col in ("label", "level", "sentence", "text", "actor"):
        frame[col] = [row[col] for row in ordered]
    demo = _demographics(root)
    if demo is not None:
        for col in demo.columns:
            frame[col] = frame["actor"].map(demo[col])
    frame["group"] = frame["actor"]
    return frame
