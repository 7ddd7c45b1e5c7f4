"""load_folder and load_manifest on small trees and tables in tmp_path."""

import logging

import cv2
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from skmm.datasets import DatasetNotFoundError, load_folder, load_manifest


def _png(path, value=128):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((8, 8, 3), value, np.uint8))
    return path


def _wav(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(80, np.float32), 8000)
    return path


# --------------------------------------------------------------------------- load_folder


def test_folder_images_auto(tmp_path, caplog):
    _png(tmp_path / "happy" / "a.png", 200)
    _png(tmp_path / "sad" / "b.PNG", 20)
    (tmp_path / "sad" / "notes.txt").write_text("not an image")
    _png(tmp_path / "loose.png")
    with caplog.at_level(logging.WARNING, logger="skmm.datasets"):
        df = load_folder(tmp_path)
    assert list(df.columns) == ["image", "label", "file"]
    assert df["label"].tolist() == ["happy", "sad"]
    assert df["file"].tolist() == ["happy/a.png", "sad/b.PNG"]
    assert cv2.imread(df["image"].iloc[0])[0, 0, 0] == 200
    assert "ignored 1 file" in caplog.text


def test_folder_audio_with_speaker_subfolders(tmp_path):
    _wav(tmp_path / "angry" / "spk1" / "x.wav")
    _wav(tmp_path / "calm" / "spk2" / "y.wav")
    df = load_folder(tmp_path, modality="audio")
    assert df["group"].tolist() == ["spk1", "spk2"]
    assert sf.read(df["audio"].iloc[1])[1] == 8000


def test_folder_mixed_kinds_need_a_choice(tmp_path):
    _png(tmp_path / "happy" / "a.png")
    _wav(tmp_path / "happy" / "a.wav")
    with pytest.raises(ValueError, match="both images .* and audio"):
        load_folder(tmp_path)
    assert load_folder(tmp_path, modality="audio")["audio"].iloc[0].endswith("a.wav")


def test_folder_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_folder(tmp_path / "nope")
    (tmp_path / "happy").mkdir()
    with pytest.raises(DatasetNotFoundError, match="one sub-folder per class"):
        load_folder(tmp_path)
    _png(tmp_path / "happy" / "a.png")
    with pytest.raises(DatasetNotFoundError, match="no audio files"):
        load_folder(tmp_path, modality="audio")
    with pytest.raises(ValueError, match="modality"):
        load_folder(tmp_path, modality="video")


# --------------------------------------------------------------------------- load_manifest


@pytest.fixture
def manifest(tmp_path):
    _png(tmp_path / "faces" / "0.png")
    _wav(tmp_path / "voices" / "0.wav")
    _png(tmp_path / "faces" / "1.png")
    table = pd.DataFrame(
        {
            "text": ["what a day", None, "so calm"],
            "image": ["faces/0.png", "faces/1.png", ""],
            "audio": ["voices/0.wav", None, str(tmp_path / "voices" / "0.wav")],
            "label": ["happy", "sad", "calm"],
            "group": ["s1", "s2", "s1"],
            "note": ["kept", "as", "is"],
        }
    )
    table.to_csv(tmp_path / "data.csv", index=False)
    return tmp_path, table


def test_manifest_resolves_paths_and_marks_missing(manifest):
    root, table = manifest
    df = load_manifest(root / "data.csv")
    assert list(df.columns) == list(table.columns)
    assert df["image"].tolist() == [
        str(root / "faces" / "0.png"),
        str(root / "faces" / "1.png"),
        None,
    ]
    assert df["audio"].iloc[1] is None and df["audio"].iloc[2] == str(root / "voices" / "0.wav")
    assert df["text"].tolist() == ["what a day", None, "so calm"]
    assert cv2.imread(df["image"].iloc[0]).shape == (8, 8, 3)
    assert df["note"].tolist() == ["kept", "as", "is"]


def test_manifest_parquet_and_tsv(manifest):
    root, table = manifest
    table.to_parquet(root / "data.parquet")
    table.to_csv(root / "data.tsv", sep="\t", index=False)
    for name in ("data.parquet", "data.tsv"):
        df = load_manifest(root / name)
        assert df["image"].iloc[1] == str(root / "faces" / "1.png")
        assert df["label"].tolist() == ["happy", "sad", "calm"]


def test_manifest_missing_files_are_reported_with_rows(tmp_path):
    _png(tmp_path / "ok.png")
    pd.DataFrame(
        {
            "image": ["ok.png"] + [f"gone_{i}.png" for i in range(7)],
            "label": ["a"] * 8,
        }
    ).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DatasetNotFoundError) as err:
        load_manifest(tmp_path / "m.csv")
    message = str(err.value)
    assert "7 path(s) point at no file" in message
    assert "row 1 image='gone_0.png'" in message and "row 5 image='gone_4.png'" in message
    assert "gone_5" not in message and "and 2 more" in message
    with pytest.warns(UserWarning, match="row 1 image='gone_0.png'"):
        df = load_manifest(tmp_path / "m.csv", check_files="warn")
    assert len(df) == 8  # nothing dropped
    assert len(load_manifest(tmp_path / "m.csv", check_files="ignore")) == 8


def test_manifest_custom_path_columns_and_base_dir(tmp_path):
    data = tmp_path / "data"
    _wav(data / "v.wav")
    pd.DataFrame({"voice": ["v.wav"], "emotion": ["sad"]}).to_csv(tmp_path / "m.csv", index=False)
    df = load_manifest(tmp_path / "m.csv", path_columns=["voice"], base_dir=data)
    assert df["voice"].iloc[0] == str(data.resolve() / "v.wav")
    with pytest.raises(ValueError, match=r"path_columns \['face'\]"):
        load_manifest(tmp_path / "m.csv", path_columns=["face"])
    with pytest.raises(ValueError, match="none of the columns"):
        load_manifest(tmp_path / "m.csv")


def test_manifest_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        load_manifest(tmp_path / "missing.csv")
    (tmp_path / "m.json").write_text("{}")
    with pytest.raises(ValueError, match=r"\.csv, \.tsv or \.parquet"):
        load_manifest(tmp_path / "m.json")
    with pytest.raises(ValueError, match="check_files"):
        load_manifest(tmp_path / "m.json", check_files="drop")
