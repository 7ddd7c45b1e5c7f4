"""Loader for MELD (Multimodal EmotionLines Dataset) CSVs and clips on disk."""

import os

import pandas as pd

from ._common import DatasetNotFoundError, check_folder, logger, object_column, read_csv_robust

MELD_EMOTIONS = {
    "anger": "angry",
    "disgust": "disgust",
    "fear": "fearful",
    "joy": "happy",
    "neutral": "neutral",
    "sadness": "sad",
    "surprise": "surprised",
}
MELD_VIDEO_FOLDERS = {
    "train": "train_splits",
    "dev": "dev_splits_complete",
    "test": "output_repeated_splits_test",
}
_COLUMNS = ["Utterance", "Speaker", "Emotion", "Sentiment", "Dialogue_ID", "Utterance_ID"]
_EXPECTED = (
    "the unpacked MELD.Raw folder: train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv and the "
    "clip folders train/train_splits, dev/dev_splits_complete, test/output_repeated_splits_test"
)
# UTF-8 text once decoded as cp1252 (e.g. "Iâ€™m"); MELD's CSVs hold some of it.
_MOJIBAKE = ("â€", "Ã", "Â")


def _find(root, name, want_dir, max_depth=3):
    """First file or folder called ``name`` at most ``max_depth`` levels under ``root``, or None."""
    for folder, dirs, files in os.walk(root):
        depth = len(os.path.relpath(folder, root).split(os.sep)) if folder != str(root) else 0
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        if name in (dirs if want_dir else files):
            return os.path.join(folder, name)
        if depth >= max_depth:
            dirs[:] = []
    return None


def _fix_text(text):
    """Undo UTF-8-read-as-cp1252 mojibake in one string when that round trip is clean."""
    if not isinstance(text, str) or not any(m in text for m in _MOJIBAKE):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return text


def load_meld(path, split="train", *, group="dialogue", video_dir=None):
    r"""Load one MELD split (text, emotion, sentiment, speaker, clip path) into a DataFrame.

    Reads ``{split}_sent_emo.csv`` (columns ``Sr No., Utterance, Speaker, Emotion,
    Sentiment, Dialogue_ID, Utterance_ID, Season, Episode, StartTime, EndTime``)
    and points each row at its clip ``dia{Dialogue_ID}_utt{Utterance_ID}.mp4`` in
    the split's clip folder (``train_splits``, ``dev_splits_complete`` or
    ``output_repeated_splits_test``). Clips absent from disk stay listed with
    ``video_exists=False`` (a few are missing from the official archive). The
    CSVs are decoded as UTF-8 or cp1252, and UTF-8-read-as-cp1252 mojibake
    (``â€™``) is repaired. Nothing is downloaded: get ``MELD.Raw.tar.gz`` from
    https://affective-meld.github.io (GPL-3.0) and unpack it and its
    ``train.tar.gz``, ``dev.tar.gz`` and ``test.tar.gz``.

    Parameters
    ----------
    path : str or path-like
        The ``MELD.Raw`` folder (or a parent of it; searched 3 levels deep).
    split : {"train", "dev", "test"}, default="train"
    group : {"dialogue", "speaker"}, default="dialogue"
        What the ``group`` column holds. Utterances of one dialogue share context,
        so grouping by dialogue keeps them on one side of a CV split.
    video_dir : str or path-like, optional
        The split's clip folder, when it is not under ``path`` with its usual name.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``text``, ``video`` (absolute clip path, None when no clip folder
        was found), ``video_exists``, ``label`` (angry, disgust, fearful, happy,
        neutral, sad, surprised), ``emotion`` (MELD's own name: anger, joy, ...),
        ``sentiment``, ``speaker``, ``dialogue_id``, ``utterance_id``, ``season``,
        ``episode``, ``start_time``, ``end_time`` and ``group``.

    Raises
    ------
    DatasetNotFoundError
        If ``path`` does not exist or holds no ``{split}_sent_emo.csv``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.datasets import load_meld
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "dev_sent_emo.csv").write_text(
    ...     "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,"
    ...     "Season,Episode,StartTime,EndTime\n"
    ...     '1,Oh my God!,Monica,surprise,positive,0,0,8,21,"00:16:41,126","00:16:44,337"\n')
    >>> (root / "dev" / "dev_splits_complete").mkdir(parents=True)
    >>> (root / "dev" / "dev_splits_complete" / "dia0_utt0.mp4").touch()
    >>> df = load_meld(root, split="dev")
    >>> df[["text", "label", "speaker", "video_exists"]].to_dict("records")
    [{'text': 'Oh my God!', 'label': 'surprised', 'speaker': 'Monica', 'video_exists': True}]
    """
    if split not in MELD_VIDEO_FOLDERS:
        raise ValueError(f"split must be 'train', 'dev' or 'test', got {split!r}.")
    if group not in ("dialogue", "speaker"):
        raise ValueError(f"group must be 'dialogue' or 'speaker', got {group!r}.")
    root = check_folder(path, "MELD", _EXPECTED)
    csv_name = f"{split}_sent_emo.csv"
    csv_path = _find(root, csv_name, want_dir=False)
    if csv_path is None:
        raise DatasetNotFoundError(
            f"no {csv_name} found under {str(root)!r}; expected {_EXPECTED}."
        )
    table = read_csv_robust(csv_path, dtype=str, keep_default_na=False)
    table.columns = [c.strip() for c in table.columns]
    missing = [c for c in _COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"{csv_path} lacks the MELD column(s) {missing}; found {list(table.columns)}. "
            "Is it a MELD *_sent_emo.csv file?"
        )

    if video_dir is not None:
        clips = check_folder(video_dir, "MELD clips", f"the {MELD_VIDEO_FOLDERS[split]} folder")
    else:
        found = _find(root, MELD_VIDEO_FOLDERS[split], want_dir=True)
        clips = None if found is None else os.path.abspath(found)
        if clips is None:
            logger.warning(
                "MELD: no %s folder under %s; the video column is empty. Unpack %s.tar.gz there "
                "or pass video_dir=.",
                MELD_VIDEO_FOLDERS[split],
                root,
                split,
            )

    emotion = table["Emotion"].str.strip().str.lower()
    unknown = sorted(set(emotion) - set(MELD_EMOTIONS))
    if unknown:
        raise ValueError(
            f"{csv_path}: unknown MELD emotion(s) {unknown}; expected {sorted(MELD_EMOTIONS)}."
        )
    dia = pd.to_numeric(table["Dialogue_ID"]).astype(int)
    utt = pd.to_numeric(table["Utterance_ID"]).astype(int)
    names = [f"dia{d}_utt{u}.mp4" for d, u in zip(dia, utt, strict=True)]
    videos = [None if clips is None else os.path.join(clips, n) for n in names]
    frame = pd.DataFrame(
        {
            "text": object_column(_fix_text(t) for t in table["Utterance"]),
            "video": object_column(videos),
        }
    )
    frame["video_exists"] = [v is not None and os.path.isfile(v) for v in videos]
    frame["label"] = emotion.map(MELD_EMOTIONS).to_numpy()
    frame["emotion"] = emotion.to_numpy()
    frame["sentiment"] = table["Sentiment"].str.strip().str.lower().to_numpy()
    frame["speaker"] = [_fix_text(s) for s in table["Speaker"]]
    frame["dialogue_id"] = dia.to_numpy()
    frame["utterance_id"] = utt.to_numpy()
    for src, dst in (("Season", "season"), ("Episode", "episode")):
        if src in table.columns:
            frame[dst] = pd.to_numeric(table[src], errors="coerce").astype("Int64").to_numpy()
    for src, dst in (("StartTime", "start_time"), ("EndTime", "end_time")):
        if src in table.columns:
            frame[dst] = table[src].to_numpy()
    frame["group"] = frame["dialogue_id"] if group == "dialogue" else frame["speaker"]
    if clips is not None and not frame["video_exists"].all():
        logger.info(
            "MELD %s: %d of %d clips not on disk.",
            split,
            (~frame["video_exists"]).sum(),
            len(frame),
        )
    return frame
