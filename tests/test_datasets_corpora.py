"""Loaders for RAVDESS, CREMA-D and MELD, on small fake trees with the real naming schemes."""

import logging

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from skmm.datasets import DatasetNotFoundError, load_crema_d, load_meld, load_ravdess


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


# --------------------------------------------------------------------------- RAVDESS


@pytest.fixture
def ravdess(tmp_path):
    speech = tmp_path / "Audio_Speech_Actors_01-24"
    wav = speech / "Actor_01" / "03-01-01-01-01-01-01.wav"
    wav.parent.mkdir(parents=True)
    sf.write(wav, np.zeros(160, np.float32), 16000)  # one real clip: the path must stay readable
    _touch(speech / "Actor_12" / "03-01-05-02-02-02-12.wav")
    _touch(tmp_path / "Audio_Song_Actors_01-24" / "Actor_12" / "03-02-03-01-01-01-12.wav")
    video = tmp_path / "Video_Speech_Actor_01" / "Actor_01"
    _touch(video / "01-01-01-01-01-01-01.mp4")
    _touch(video / "02-01-01-01-01-01-01.mp4")  # video-only copy: not listed
    _touch(speech / "Actor_01" / "03-01-09-01-01-01-01.wav")  # emotion 09 does not exist
    _touch(speech / "Actor_01" / "._03-01-01-01-01-01-01.wav")  # macOS metadata
    _touch(tmp_path / "readme.txt")
    return tmp_path


def test_ravdess_audio_fields_parsed_from_names(ravdess, caplog):
    with caplog.at_level(logging.WARNING, logger="skmm.datasets"):
        df = load_ravdess(ravdess)
    assert list(df.columns) == [
        "audio",
        "label",
        "intensity",
        "statement",
        "repetition",
        "actor",
        "sex",
        "vocal_channel",
        "group",
    ]
    assert len(df) == 3
    angry = df[df["label"] == "angry"].iloc[0]
    assert angry["intensity"] == "strong"
    assert angry["statement"] == "Dogs are sitting by the door"
    assert angry["repetition"] == 2 and angry["actor"] == 12 and angry["sex"] == "female"
    first = df.iloc[0]
    assert (
        first["label"] == "neutral"
        and first["sex"] == "male"
        and first["vocal_channel"] == "speech"
    )
    assert sf.read(first["audio"])[0].shape == (160,)
    assert (df["group"] == df["actor"]).all()
    assert "03-01-09-01-01-01-01.wav" in caplog.text


def test_ravdess_video_and_all_join_the_takes(ravdess):
    video = load_ravdess(ravdess, modality="video")
    assert len(video) == 1 and video["video"].iloc[0].endswith("01-01-01-01-01-01-01.mp4")
    both = load_ravdess(ravdess, modality="all")
    assert len(both) == 3
    joined = both[both["video"].notna()]
    assert len(joined) == 1 and joined["audio"].iloc[0].endswith("03-01-01-01-01-01-01.wav")
    assert both["video"].isna().sum() == 2


def test_ravdess_vocal_channel_filter(ravdess):
    assert set(load_ravdess(ravdess, vocal_channel="song")["label"]) == {"happy"}
    assert len(load_ravdess(ravdess, vocal_channel="speech")) == 2


def test_ravdess_errors_say_what_was_expected(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist.*Actor_01"):
        load_ravdess(tmp_path / "nowhere")
    _touch(tmp_path / "Actor_01" / "notes.wav")
    with pytest.raises(
        DatasetNotFoundError, match=r"no RAVDESS files \(03-01-05-01-02-01-12.wav style"
    ):
        load_ravdess(tmp_path)
    with pytest.raises(ValueError, match="modality"):
        load_ravdess(tmp_path, modality="image")


def test_ravdess_error_when_only_other_kind_present(tmp_path):
    _touch(tmp_path / "Actor_03" / "03-01-02-01-01-01-03.wav")
    with pytest.raises(DatasetNotFoundError, match="none of the requested kind"):
        load_ravdess(tmp_path, modality="video")


# --------------------------------------------------------------------------- CREMA-D


@pytest.fixture
def crema(tmp_path):
    for name in ("1001_DFA_ANG_XX", "1001_IEO_HAP_HI", "1091_WSI_SAD_LO"):
        _touch(tmp_path / "AudioWAV" / f"{name}.wav")
    _touch(tmp_path / "AudioMP3" / "1001_DFA_ANG_XX.mp3")
    _touch(tmp_path / "AudioMP3" / "1002_TSI_NEU_XX.mp3")  # only as MP3
    _touch(tmp_path / "VideoFlash" / "1001_DFA_ANG_XX.flv")
    _touch(tmp_path / "AudioWAV" / "1001_ABC_ANG_XX.wav")  # unknown sentence code
    (tmp_path / "VideoDemographics.csv").write_text(
        '"ActorID","Age","Sex","Race","Ethnicity"\n1001,51,"Male","Caucasian","Not Hispanic"\n'
        '1002,21,"Female","Caucasian","Not Hispanic"\n'
    )
    return tmp_path


def test_crema_d_codes_and_demographics(crema):
    df = load_crema_d(crema)
    assert len(df) == 4
    row = df.iloc[0]
    assert row["audio"].endswith("AudioWAV/1001_DFA_ANG_XX.wav")  # WAV preferred over MP3
    assert (row["label"], row["level"], row["text"]) == (
        "angry",
        "unspecified",
        "Don't forget a jacket.",
    )
    assert row["sex"] == "Male" and row["age"] == 51
    assert df.set_index("sentence").loc["IEO", "level"] == "high"
    assert df.set_index("actor").loc[1091, "label"] == "sad"
    assert pd.isna(
        df.set_index("actor").loc[1091, "sex"]
    )  # actor absent from the demographics table
    assert df.loc[df["actor"] == 1002, "audio"].iloc[0].endswith(".mp3")
    assert (df["group"] == df["actor"]).all()


def test_crema_d_video_and_all(crema):
    video = load_crema_d(crema, modality="video")
    assert video["video"].tolist()[0].endswith("1001_DFA_ANG_XX.flv") and len(video) == 1
    both = load_crema_d(crema, modality="all")
    assert both["video"].notna().sum() == 1 and both["audio"].notna().all()


def test_crema_d_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="AudioWAV"):
        load_crema_d(tmp_path / "missing")
    _touch(tmp_path / "clip.wav")
    with pytest.raises(DatasetNotFoundError, match="1001_DFA_ANG_XX.wav style"):
        load_crema_d(tmp_path)


# --------------------------------------------------------------------------- MELD

_HEADER = (
    "Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,"
    "Season,Episode,StartTime,EndTime\n"
)


@pytest.fixture
def meld(tmp_path):
    root = tmp_path / "MELD.Raw"
    rows = (
        '1,"Oh my God, I\u2019m late!",Rachel,surprise,negative,0,0,3,19,'
        '"00:14:38,127","00:14:40,378"\n'
        '2,That\u2019s fine.,Monica,neutral,neutral,0,1,3,19,"00:14:40,629","00:14:47,385"\n'
        '3,I hate this.,Ross,anger,negative,1,0,5,16,"00:07:26,446","00:07:27,487"\n'
    )
    root.mkdir()
    (root / "train_sent_emo.csv").write_bytes(
        (_HEADER + rows).encode("cp1252")
    )  # cp1252: byte 0x92
    # UTF-8 with a BOM and text once mis-decoded as cp1252 ("Iâ€™m")
    dev = '1,Iâ€™m here.,Joey,joy,positive,5,0,8,1,"00:00:01,000","00:00:02,000"\n'
    (root / "dev_sent_emo.csv").write_bytes(b"\xef\xbb\xbf" + (_HEADER + dev).encode("utf-8"))
    _touch(root / "train" / "train_splits" / "dia0_utt0.mp4")
    _touch(root / "train" / "train_splits" / "dia1_utt0.mp4")
    return root


def test_meld_train_text_labels_and_clips(meld):
    df = load_meld(meld, split="train")
    assert df["text"].tolist()[:2] == ["Oh my God, I\u2019m late!", "That\u2019s fine."]
    assert df["label"].tolist() == ["surprised", "neutral", "angry"]
    assert df["emotion"].tolist() == ["surprise", "neutral", "anger"]
    assert df["video_exists"].tolist() == [True, False, True]
    assert df["video"].iloc[1].endswith("train/train_splits/dia0_utt1.mp4")
    assert df["group"].tolist() == [0, 0, 1]
    assert df["season"].tolist() == [3, 3, 5] and df["start_time"].iloc[0] == "00:14:38,127"
    assert load_meld(meld, group="speaker")["group"].tolist() == ["Rachel", "Monica", "Ross"]


def test_meld_repairs_mojibake_and_tolerates_missing_clip_folder(meld, caplog):
    with caplog.at_level(logging.WARNING, logger="skmm.datasets"):
        df = load_meld(meld.parent, split="dev")
    assert df["text"].iloc[0] == "I\u2019m here."
    assert df["video"].iloc[0] is None and not df["video_exists"].iloc[0]
    assert "dev_splits_complete" in caplog.text
    clips = _touch(meld.parent / "elsewhere" / "dia5_utt0.mp4").parent
    assert load_meld(meld, split="dev", video_dir=clips)["video_exists"].all()


def test_meld_errors(meld, tmp_path):
    with pytest.raises(
        DatasetNotFoundError, match="no test_sent_emo.csv.*output_repeated_splits_test"
    ):
        load_meld(meld, split="test")
    with pytest.raises(ValueError, match="split"):
        load_meld(meld, split="validation")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "train_sent_emo.csv").write_text("Utterance,Emotion\nhi,joy\n")
    with pytest.raises(ValueError, match="lacks the MELD column"):
        load_meld(bad)
