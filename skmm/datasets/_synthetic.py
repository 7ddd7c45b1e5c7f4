"""``make_multimodal_emotion``: a synthetic multimodal emotion dataset written to disk."""

import numbers
import tempfile
import wave as wave_module
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from .._deps import import_optional
from ._common import logger, object_column
from ._synthetic_media import draw_face, make_speaker, synth_voice
from ._synthetic_text import EMOTION_NAMES, write_sentence
from ._synthetic_video import write_emotion_clip

MODALITIES = ("text", "image", "audio")
_DEFAULT_STRENGTH = 0.7


def _per_modality(value, name, default):
    """Turn a number or a {modality: number} dict into a full dict checked to lie in [0, 1]."""
    if value is None:
        value = default
    if isinstance(value, numbers.Real):
        value = {m: value for m in MODALITIES}
    if not isinstance(value, dict) or set(value) - set(MODALITIES):
        raise ValueError(
            f"{name} must be a number or a dict with keys among {MODALITIES}, got {value!r}."
        )
    full = {
        m: float(value.get(m, default if isinstance(default, numbers.Real) else 0.0))
        for m in MODALITIES
    }
    bad = {m: v for m, v in full.items() if not 0.0 <= v <= 1.0}
    if bad:
        raise ValueError(f"{name} values must lie in [0, 1], got {bad}.")
    return full


def _class_weights(n_classes, weights, imbalance):
    if weights is not None and imbalance is not None:
        raise ValueError("pass either weights or imbalance, not both.")
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        if w.ndim != 1 or len(w) not in (n_classes - 1, n_classes) or (w < 0).any():
            raise ValueError(
                "weights must hold n_classes or n_classes - 1 non-negative numbers, "
                f"got {weights!r}."
            )
        if len(w) == n_classes - 1:  # as in make_classification: the last class gets the rest
            w = np.append(w, max(0.0, 1.0 - w.sum()))
    elif imbalance is not None:
        if not isinstance(imbalance, numbers.Real) or imbalance < 1:
            raise ValueError(
                f"imbalance is the majority/minority size ratio, a number >= 1; got {imbalance!r}."
            )
        w = float(imbalance) ** (-np.arange(n_classes) / max(n_classes - 1, 1))
    else:
        w = np.ones(n_classes)
    if w.sum() <= 0:
        raise ValueError(f"weights must not all be zero, got {weights!r}.")
    return w / w.sum()


def _class_counts(n_samples, w):
    """Exact class sizes: floor of n * w, the remainder to the largest fractional parts."""
    raw = n_samples * w
    counts = np.floor(raw).astype(int)
    counts[np.argsort(counts - raw)[: n_samples - counts.sum()]] += 1
    return counts


def _missing_masks(n_samples, rates, rng):
    """Exactly round(rate * n) missing rows per modality, never all modalities in one row."""
    present = {m: np.ones(n_samples, bool) for m in MODALITIES}
    for m in MODALITIES:
        want = int(round(rates[m] * n_samples))
        others = np.zeros(n_samples, bool)
        for o in MODALITIES:
            if o != m:
                others |= present[o]
        candidates = np.flatnonzero(others)
        if want > len(candidates):
            logger.warning(
                "missing_rate for %s lowered: %d rows would lose every modality.",
                m,
                want - len(candidates),
            )
            want = len(candidates)
        present[m][rng.choice(candidates, size=want, replace=False)] = False
    return present


def _write_wav(path, wave, sample_rate):
    """Write 16-bit PCM mono WAV with the standard library (much faster here than soundfile)."""
    with wave_module.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.round(wave * 32767).astype("<i2").tobytes())


def make_multimodal_emotion(
    n_samples=200,
    n_classes=4,
    *,
    weights=None,
    imbalance=None,
    modality_strength=None,
    missing_rate=0.0,
    noise=0.5,
    n_speakers=None,
    directory=None,
    image_size=96,
    sample_rate=16000,
    duration=1.0,
    video=False,
    return_X_y=False,
    random_state=None,
):
    """Generate a SYNTHETIC multimodal emotion dataset: drawn faces, voiced tones, sentences.

    Like :func:`sklearn.datasets.make_classification`, but for raw media: it
    writes one PNG image and one WAV clip per sample into ``directory`` and
    returns their paths with a text, an emotion label and a speaker group.
    Nothing here is real data: the images are drawn cartoon faces (face
    ellipse, eyes, brows, a mouth whose curvature and opening follow the class,
    a class tint and marks such as cheeks or tears), the clips are harmonic
    tones (the class sets pitch, contour, tempo, brightness and loudness) and
    the texts are template sentences with real emotion words among neutral
    filler words. Each speaker has its own look, voice, catchphrase, small
    expression bias and class mix, so a speaker-blind split leaks speaker
    identity: evaluate with grouped CV on ``group``.

    Per sample and modality, the modality shows the true class with
    probability ``modality_strength`` and a uniformly drawn class otherwise, so
    modalities err independently and fusing them helps.

    Parameters
    ----------
    n_samples : int, default=200
    n_classes : int, default=4
        2 to 8 classes, named in order: neutral, happy, sad, angry, fearful,
        surprised, disgust, calm.
    weights : array-like of shape (n_classes,) or (n_classes - 1,), optional
        Class proportions, as in ``make_classification`` (with n_classes - 1
        values the last class gets the rest). Class sizes are exact.
    imbalance : float >= 1, optional
        Shortcut for geometric proportions: the first class is ``imbalance``
        times as large as the last. Not with ``weights``.
    modality_strength : float or dict, optional
        Class signal of each modality in [0, 1] (``{"text": 1.0, "image": 0.5,
        "audio": 0.5}``; absent keys get 0.7): 1 means it always shows the true
        class, 0 that it carries no class information. Default 0.7 for all.
    missing_rate : float or dict, default=0.0
        Fraction of rows whose modality is missing (``None`` in its column, no
        file written), per modality. No row loses every modality.
    noise : float in [0, 1], default=0.5
        Nuisance variation: pixel noise, jitter and rotation; pitch drift and
        background hiss; filler clauses and distractor emotion words.
    n_speakers : int, optional
        Number of synthetic speakers; default ``max(2, n_samples // 10)``.
    directory : str or path-like, optional
        Where to write ``images/`` and ``audio/``; a new temporary folder when
        None (its path is in ``frame.attrs["directory"]``). Existing files of
        the same names are overwritten.
    image_size : int, default=96
        Side of the square images, in pixels.
    sample_rate : int, default=16000
    duration : float, default=1.0
        Clip length in seconds.
    video : bool, default=False
        Also write one mp4 clip per sample under ``video/`` (h264 + AAC, 10 frames per
        second, the ``video`` extra): the same face as the image, its expression
        building up from a hint to the apex over the frames, and the same voice as the
        audio on its sound track. Rows missing their image or their audio get None.
    return_X_y : bool, default=False
        Return ``(X, y)``: X the ``text``, ``image``, ``audio`` (and ``video``) columns,
        y the labels.
    random_state : int, RandomState instance or None, default=None
        Same seed and parameters, same table and same files.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``text`` (str or None), ``image`` and ``audio`` (absolute paths
        or None), ``video`` with ``video=True``, ``label`` (emotion name) and ``group`` (speaker id).
        ``frame.attrs`` holds ``directory`` and ``label_names``.
    X, y : pandas.DataFrame, pandas.Series
        When ``return_X_y=True``.

    Examples
    --------
    >>> from skmm.datasets import make_multimodal_emotion
    >>> df = make_multimodal_emotion(n_samples=8, n_classes=2, random_state=0)
    >>> df.columns.tolist()
    ['text', 'image', 'audio', 'label', 'group']
    >>> df["label"].value_counts().sort_index().tolist()
    [4, 4]
    >>> df["image"].iloc[0].endswith(".png"), df["audio"].iloc[0].endswith(".wav")
    (True, True)
    """
    for name, value, low in (
        ("n_samples", n_samples, 1),
        ("n_classes", n_classes, 2),
        ("image_size", image_size, 16),
        ("sample_rate", sample_rate, 1000),
    ):
        if not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if n_classes > len(EMOTION_NAMES):
        raise ValueError(
            f"n_classes must be at most {len(EMOTION_NAMES)} ({EMOTION_NAMES}), got {n_classes}."
        )
    if not isinstance(noise, numbers.Real) or not 0 <= noise <= 1:
        raise ValueError(f"noise must lie in [0, 1], got {noise!r}.")
    if not isinstance(duration, numbers.Real) or duration < 0.1:
        raise ValueError(f"duration must be at least 0.1 seconds, got {duration!r}.")
    n_speakers = max(2, n_samples // 10) if n_speakers is None else n_speakers
    if not isinstance(n_speakers, numbers.Integral) or n_speakers < 1:
        raise ValueError(f"n_speakers must be a positive integer, got {n_speakers!r}.")
    strength = _per_modality(modality_strength, "modality_strength", _DEFAULT_STRENGTH)
    rates = _per_modality(missing_rate, "missing_rate", 0.0)
    counts = _class_counts(n_samples, _class_weights(n_classes, weights, imbalance))
    rng = check_random_state(random_state)

    # Labels with exact class sizes; each speaker favours some classes (lognormal affinities).
    y = rng.permutation(np.repeat(np.arange(n_classes), counts))
    affinity = rng.lognormal(0.0, 0.6, size=(n_speakers, n_classes))
    speaker_of = np.array(
        [rng.choice(n_speakers, p=affinity[:, k] / affinity[:, k].sum()) for k in y]
    )
    speakers = [make_speaker(rng) for _ in range(n_speakers)]
    shown = {
        m: np.where(rng.rand(n_samples) < strength[m], y, rng.randint(n_classes, size=n_samples))
        for m in MODALITIES
    }
    intensity = rng.uniform(0.6, 1.0, size=n_samples)
    present = _missing_masks(n_samples, rates, rng)
    seeds = rng.randint(np.iinfo(np.int32).max, size=(n_samples, len(MODALITIES)))

    root = Path(
        tempfile.mkdtemp(prefix="skmm-synthetic-") if directory is None else directory
    ).resolve()
    cv2 = import_optional("cv2", "writing the synthetic images") if present["image"].any() else None
    for sub, m in (("images", "image"), ("audio", "audio")):
        if present[m].any():
            (root / sub).mkdir(parents=True, exist_ok=True)
    with_clip = present["image"] & present["audio"] if video else np.zeros(n_samples, bool)
    if with_clip.any():
        (root / "video").mkdir(parents=True, exist_ok=True)

    columns = {m: [None] * n_samples for m in (*MODALITIES, "video")}
    for i in range(n_samples):
        spk = speakers[speaker_of[i]]
        r_text, r_image, r_audio = (np.random.RandomState(s) for s in seeds[i])
        if present["text"][i]:
            columns["text"][i] = write_sentence(shown["text"][i], intensity[i], spk, r_text, noise)
        if present["image"][i]:
            path = root / "images" / f"sample_{i:05d}.png"
            if not cv2.imwrite(
                str(path),
                draw_face(shown["image"][i], intensity[i], spk, r_image, image_size, noise),
            ):
                raise OSError(f"could not write {path}")
            columns["image"][i] = str(path)
        if present["audio"][i]:
            path = root / "audio" / f"sample_{i:05d}.wav"
            wave = synth_voice(
                shown["audio"][i], intensity[i], spk, r_audio, sample_rate, duration, noise
            )
            _write_wav(path, wave, sample_rate)
            columns["audio"][i] = str(path)
        if with_clip[i]:
            path = root / "video" / f"sample_{i:05d}.mp4"
            columns["video"][i] = write_emotion_clip(
                path,
                shown["image"][i],
                intensity[i],
                spk,
                seeds[i][1],
                image_size,
                noise,
                wave,
                sample_rate,
            )

    names = list(EMOTION_NAMES[:n_classes])
    kept = (*MODALITIES, "video") if video else MODALITIES
    frame = pd.DataFrame({m: object_column(columns[m]) for m in kept})
    frame["label"] = [names[k] for k in y]
    frame["group"] = [f"speaker_{s:02d}" for s in speaker_of]
    frame.attrs.update(directory=str(root), label_names=names)
    logger.info("make_multimodal_emotion: wrote %d synthetic samples to %s", n_samples, root)
    if return_X_y:
        return frame[list(kept)], frame["label"]
    return frame
