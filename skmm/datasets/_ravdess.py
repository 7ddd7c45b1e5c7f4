"""Loader for RAVDESS (Ryerson Audio-Visual Database of Emotional Speech and Song) files on disk."""

import re

import pandas as pd

from ._common import DatasetNotFoundError, check_folder, object_column, walk_files, warn_skipped

RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
RAVDESS_STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
_INTENSITY = {"01": "normal", "02": "strong"}
_CHANNEL = {"01": "speech", "02": "song"}
# modality code -> (file suffix, column); "02" (video-only) repeats the frames of "01" without sound
_MODALITY = {"01": (".mp4", "video"), "03": (".wav", "audio")}
_NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)\.(wav|mp4)$", re.IGNORECASE)
_EXPECTED = (
    "the Actor_01 ... Actor_24 folders of the RAVDESS download (Audio_Speech_Actors_01-24.zip, "
    "Audio_Song_Actors_01-24.zip or Video_Speech_Actor_XX.zip, unzipped)"
)


def _parse(path):
    """Return the fields of one RAVDESS file name, or None when it does not follow the scheme."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    mod, channel, emotion, intensity, statement, repetition, actor, _ = match.groups()
    if (
        emotion not in RAVDESS_EMOTIONS
        or intensity not in _INTENSITY
        or channel not in _CHANNEL
        or statement not in RAVDESS_STATEMENTS
        or repetition not in ("01", "02")
        or int(actor) < 1
    ):
        return None
    return {
        "modality_code": mod,
        "take": "-".join(match.groups()[1:7]),
        "label": RAVDESS_EMOTIONS[emotion],
        "intensity": _INTENSITY[intensity],
        "statement": RAVDESS_STATEMENTS[statement],
        "repetition": int(repetition),
        "actor": int(actor),
        "sex": "male" if int(actor) % 2 else "female",
        "vocal_channel": _CHANNEL[channel],
    }


def load_ravdess(path, modality="audio", *, vocal_channel="all"):
    """Load the RAVDESS files found under a folder into a DataFrame.

    Reads only file names: every field comes from RAVDESS's 7-part names,
    ``modality-vocal channel-emotion-intensity-statement-repetition-actor``
    (e.g. ``03-01-05-01-02-01-12.wav``: audio-only, speech, angry, normal
    intensity, "Dogs are sitting by the door", first repetition, actor 12).
    Nothing is downloaded: get RAVDESS from https://zenodo.org/record/1188976
    (CC BY-NC-SA 4.0) and unzip it.

    Parameters
    ----------
    path : str or path-like
        Folder that holds the ``Actor_XX`` folders (searched recursively, so the
        parent of several unzipped archives works too).
    modality : {"audio", "video", "all"}, default="audio"
        ``"audio"``: one row per audio-only ``03-*.wav`` file (column ``audio``).
        ``"video"``: one row per audio-visual ``01-*.mp4`` file (column ``video``).
        ``"all"``: one row per recorded take with both columns; a take present in
        only one format has ``None`` in the other. Video-only ``02-*.mp4`` files
        hold the same frames as ``01-*`` without sound and are not listed.
    vocal_channel : {"all", "speech", "song"}, default="all"
        Keep speech takes, song takes or both.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``audio`` and/or ``video`` (absolute paths), ``label`` (neutral,
        calm, happy, sad, angry, fearful, disgust, surprised), ``intensity``
        (normal/strong), ``statement`` (the sentence spoken), ``repetition``
        (1 or 2), ``actor`` (1-24), ``sex`` (odd actors male, even female),
        ``vocal_channel`` (speech/song) and ``group`` (the actor, for grouped CV).

    Raises
    ------
    DatasetNotFoundError
        If ``path`` does not exist or holds no RAVDESS-named file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.datasets import load_ravdess
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "Actor_12"
    >>> root.mkdir()
    >>> (root / "03-01-05-01-02-01-12.wav").touch()
    >>> df = load_ravdess(root.parent)
    >>> df[["label", "intensity", "actor", "sex"]].to_dict("records")
    [{'label': 'angry', 'intensity': 'normal', 'actor': 12, 'sex': 'female'}]
    >>> df["statement"].iloc[0]
    'Dogs are sitting by the door'
    """
    if modality not in ("audio", "video", "all"):
        raise ValueError(f"modality must be 'audio', 'video' or 'all', got {modality!r}.")
    if vocal_channel not in ("all", "speech", "song"):
        raise ValueError(f"vocal_channel must be 'all', 'speech' or 'song', got {vocal_channel!r}.")
    root = check_folder(path, "RAVDESS", _EXPECTED)
    wanted = {"audio": ("03",), "video": ("01",), "all": ("01", "03")}[modality]

    takes, skipped, seen = {}, [], 0
    for file in walk_files(root, (".wav", ".mp4")):
        fields = _parse(file)
        if fields is None:
            if re.match(r"^\d\d-", file.name):
                skipped.append(file)
            continue
        seen += 1
        code = fields.pop("modality_code")
        if code not in wanted or _MODALITY[code][0] != file.suffix.lower():
            continue
        if vocal_channel != "all" and fields["vocal_channel"] != vocal_channel:
            continue
        row = takes.setdefault(fields.pop("take"), fields)
        row[_MODALITY[code][1]] = str(file)
    warn_skipped("RAVDESS", skipped, "names outside the RAVDESS scheme (unknown codes)")

    if not takes:
        found = (
            "no RAVDESS files"
            if not seen
            else f"{seen} RAVDESS files but none of the requested kind"
        )
        kind = {
            "audio": "03-01-05-01-02-01-12.wav",
            "video": "01-01-05-01-02-01-12.mp4",
            "all": "03-01-05-01-02-01-12.wav or 01-01-05-01-02-01-12.mp4",
        }[modality]
        raise DatasetNotFoundError(
            f"{found} ({kind} style names, modality={modality!r}, vocal_channel={vocal_channel!r}) "
            f"found under {str(root)!r}; expected {_EXPECTED}."
        )

    media = {"audio": ["audio"], "video": ["video"], "all": ["audio", "video"]}[modality]
    ordered = [takes[key] for key in sorted(takes, key=lambda k: (int(k[-2:]), k))]
    frame = pd.DataFrame({col: object_column(row.get(col) for row in ordered) for col in media})
    for col in ("label", "intensity", "statement", "repetition", "actor", "sex", "vocal_channel"):
        frame[col] = [row[col] for row in ordered]
    frame["group"] = frame["actor"]
    return frame
