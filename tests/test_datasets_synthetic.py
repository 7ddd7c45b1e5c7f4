"""make_multimodal_emotion: determinism, shapes, class sizes, missingness, files, class signal."""

import hashlib
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm.datasets import make_multimodal_emotion


def _digest(paths):
    return hashlib.sha256(b"".join(Path(p).read_bytes() for p in paths)).hexdigest()


def test_columns_files_and_directory(tmp_path):
    df = make_multimodal_emotion(
        12,
        3,
        directory=tmp_path / "out",
        random_state=0,
        image_size=64,
        sample_rate=8000,
        duration=0.5,
    )
    assert df.columns.tolist() == ["text", "image", "audio", "label", "group"]
    assert len(df) == 12 and df.attrs["directory"] == str((tmp_path / "out").resolve())
    assert df.attrs["label_names"] == ["neutral", "happy", "sad"]
    assert set(df["label"]) == {"neutral", "happy", "sad"}
    assert all(isinstance(t, str) and t.endswith(".") and len(t.split()) >= 4 for t in df["text"])
    image = cv2.imread(df["image"].iloc[0])
    assert image.shape == (64, 64, 3) and image.std() > 5
    wave, rate = sf.read(df["audio"].iloc[0])
    assert rate == 8000 and wave.shape == (4000,) and 0.05 < np.abs(wave).max() <= 1.0
    assert all(Path(p).parent.name == "images" for p in df["image"])
    assert df["group"].str.fullmatch(r"speaker_\d\d").all()


def test_deterministic_tables_and_files(tmp_path):
    a = make_multimodal_emotion(10, 4, directory=tmp_path / "a", random_state=3)
    b = make_multimodal_emotion(10, 4, directory=tmp_path / "b", random_state=3)
    c = make_multimodal_emotion(10, 4, directory=tmp_path / "c", random_state=4)
    for col in ("text", "label", "group"):
        assert a[col].tolist() == b[col].tolist()
    for col in ("image", "audio"):
        assert _digest(a[col]) == _digest(b[col])
        assert _digest(a[col]) != _digest(c[col])
    assert a["text"].tolist() != c["text"].tolist()
    fresh = Path(make_multimodal_emotion(2, 2, random_state=3).attrs["directory"])
    assert fresh != Path(a.attrs["directory"]) and fresh.name.startswith("skmm-synthetic-")
    shutil.rmtree(fresh)


def test_class_sizes_follow_weights_and_imbalance(tmp_path):
    kw = dict(directory=tmp_path, random_state=0, missing_rate={"image": 1.0, "audio": 1.0})
    assert make_multimodal_emotion(40, 4, **kw)["label"].value_counts().tolist() == [10, 10, 10, 10]
    counts = make_multimodal_emotion(50, 3, weights=[0.6, 0.3, 0.1], **kw)["label"].value_counts()
    assert counts.to_dict() == {"neutral": 30, "happy": 15, "sad": 5}
    counts = make_multimodal_emotion(50, 3, weights=[0.5, 0.3], **kw)["label"].value_counts()
    assert counts.to_dict() == {"neutral": 25, "happy": 15, "sad": 10}
    counts = make_multimodal_emotion(90, 3, imbalance=9, **kw)["label"].value_counts()
    assert counts.to_dict() == {"neutral": 62, "happy": 21, "sad": 7}  # 9 : 3 : 1 of 90
    with pytest.raises(ValueError, match="either weights or imbalance"):
        make_multimodal_emotion(10, 2, weights=[0.5, 0.5], imbalance=2, **kw)


def test_missing_rates_are_exact_and_no_row_is_empty(tmp_path):
    df = make_multimodal_emotion(
        40,
        2,
        missing_rate={"text": 0.5, "image": 0.25, "audio": 0.5},
        directory=tmp_path,
        random_state=1,
    )
    missing = df[["text", "image", "audio"]].isna()
    assert missing.sum().to_dict() == {"text": 20, "image": 10, "audio": 20}
    assert not missing.all(axis=1).any()
    assert df["image"].map(lambda v: v is None).sum() == 10  # None, not NaN
    assert len(list((tmp_path / "images").glob("*.png"))) == 30
    assert len(list((tmp_path / "audio").glob("*.wav"))) == 20


def test_text_only_writes_no_media(tmp_path):
    df = make_multimodal_emotion(
        6, 2, missing_rate={"image": 1.0, "audio": 1.0}, directory=tmp_path, random_state=0
    )
    assert df["text"].notna().all() and df["image"].isna().all()
    assert not (tmp_path / "images").exists()


def test_return_X_y(tmp_path):
    X, y = make_multimodal_emotion(6, 2, directory=tmp_path, random_state=0, return_X_y=True)
    assert X.columns.tolist() == ["text", "image", "audio"] and y.name == "label" and len(y) == 6


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_classes=9), "at most 8"),
        (dict(n_classes=1), "n_classes"),
        (dict(modality_strength={"video": 1.0}), "modality_strength"),
        (dict(modality_strength=1.5), r"in \[0, 1\]"),
        (dict(missing_rate=-0.1), r"in \[0, 1\]"),
        (dict(weights=[0.2, 0.3, 0.1, 0.2, 0.2]), "weights"),
        (dict(imbalance=0.5), "imbalance"),
        (dict(noise=2), "noise"),
    ],
)
def test_bad_parameters(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        make_multimodal_emotion(10, **{"n_classes": 4, **kwargs}, directory=tmp_path)


def _image_features(paths):
    return np.array(
        [
            cv2.resize(cv2.imread(p), (8, 8), interpolation=cv2.INTER_AREA).ravel() / 255.0
            for p in paths
        ]
    )


def _audio_features(paths):
    rows = []
    for path in paths:
        wave, rate = sf.read(path)
        frames = wave[: len(wave) // 400 * 400].reshape(-1, 400) * np.hanning(400)
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2 + 1e-10
        freqs = np.fft.rfftfreq(400, 1 / rate)
        centroid = (power * freqs).sum(1) / power.sum(1)
        bands = np.log(np.add.reduceat(power, np.arange(0, 201, 10), axis=1))
        rms = np.sqrt((frames**2).mean(1))
        rows.append(
            np.r_[
                centroid.mean(), centroid.std(), bands.mean(0), bands.std(0), rms.mean(), rms.std()
            ]
        )
    return np.array(rows)


@pytest.mark.slow
def test_each_modality_carries_signal_only_when_strong(tmp_path):
    scores = {}
    for strength in (1.0, 0.0):
        df = make_multimodal_emotion(
            120, 4, modality_strength=strength, directory=tmp_path / str(strength), random_state=0
        )
        models = {
            "text": (
                df["text"],
                make_pipeline(CountVectorizer(), LogisticRegression(max_iter=1000)),
            ),
            "image": (
                _image_features(df["image"]),
                make_pipeline(StandardScaler(), LogisticRegression(C=0.1)),
            ),
            "audio": (
                _audio_features(df["audio"]),
                make_pipeline(StandardScaler(), LogisticRegression(C=0.1)),
            ),
        }
        for name, (X, model) in models.items():
            cv = GroupKFold(n_splits=4)
            scores[name, strength] = cross_val_score(
                model, X, df["label"], groups=df["group"], cv=cv
            ).mean()
    for name in ("text", "image", "audio"):
        assert scores[name, 1.0] > 0.6, scores  # chance is 0.25
        assert scores[name, 0.0] < 0.42, scores


def test_video_clips_move_the_face_and_carry_the_voice(tmp_path):
    pytest.importorskip("av")
    from skmm.io import read_audio, read_video

    df = make_multimodal_emotion(
        n_samples=6,
        n_classes=2,
        video=True,
        missing_rate={"audio": 0.34},
        random_state=0,
        directory=tmp_path,
        duration=0.5,
    )
    assert df.columns.tolist() == ["text", "image", "audio", "video", "label", "group"]
    has_clip = df["video"].notna()
    assert (has_clip == (df["image"].notna() & df["audio"].notna())).all()
    assert has_clip.sum() == 4
    for _, row in df[has_clip].iterrows():
        assert row["video"].endswith(".mp4") and Path(row["video"]).parent == tmp_path / "video"
        frames = read_video(row["video"], n_frames=5)
        assert frames.shape == (5, 96, 96, 3)
        assert np.abs(frames[-1].astype(int) - frames[0]).mean() > 0.5  # the expression moves
        # the apex frame looks like the still image of the same sample
        still = cv2.cvtColor(cv2.imread(row["image"]), cv2.COLOR_BGR2RGB)
        assert np.abs(frames[-1].astype(int) - still).mean() < 12
        voice, track = read_audio(row["audio"], 16000), read_audio(row["video"], 16000)
        n = min(len(voice), len(track))
        assert abs(len(track) - len(voice)) < 2048 and np.corrcoef(voice[:n], track[:n])[0, 1] > 0.9
    X, _ = make_multimodal_emotion(n_samples=4, video=True, return_X_y=True, random_state=0)
    assert X.columns.tolist() == ["text", "image", "audio", "video"]
