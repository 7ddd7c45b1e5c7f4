"""A row whose input cannot be encoded is a missing modality in ModalityUnion, not a NaN block."""

import numpy as np
import pandas as pd
import pytest
from audio_cases import write_clips
from image_cases import write_images
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skmm import ImageEncoder, MelEncoder, ModalityUnion, TextEncoder, make_fusion_pipeline


def _check_fused(union, X, y, broken_row, modality):
    pipe = make_pipeline(union, LogisticRegression(max_iter=200))
    pipe.fit(X, y)  # LogisticRegression fails on NaN: the broken row must not be NaN
    Z = union.transform(X)
    assert np.isfinite(Z).all()
    indicator = union.missing_columns_[modality]
    assert Z[broken_row, indicator] == 1.0
    assert Z[:, indicator].sum() == 1.0
    assert union.n_failed_[modality] == 1 and union.n_missing_[modality] == 1
    assert pipe.predict(X).shape == (len(X),)


@pytest.mark.parametrize("policy", ["nan", "zero"])
def test_text_that_cannot_be_encoded_is_missing(tiny_text_model, policy, caplog):
    texts = [f"happy day {i}" if i % 2 else f"sad night {i}" for i in range(8)]
    texts[3] = "broken \ud800 text"
    X = pd.DataFrame({"note": pd.Series(texts, dtype=object)})  # pyarrow strings refuse it
    union = ModalityUnion([("text", TextEncoder(tiny_text_model, on_error=policy), "note")])
    _check_fused(union, X, [i % 2 for i in range(8)], 3, "text")
    assert "1 of 8 'text' rows could not be encoded and are treated as missing" in caplog.text


def test_an_image_file_that_cannot_be_decoded_is_missing(tmp_path):
    paths, labels = write_images(tmp_path / "images", n=8)
    (tmp_path / "images" / "img_5.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    X = pd.DataFrame({"face": paths})
    union = ModalityUnion([("image", ImageEncoder(on_error="nan"), "face")])
    _check_fused(union, X, labels, 5, "image")


def test_an_audio_file_that_cannot_be_decoded_is_missing(tmp_path):
    paths, labels = write_clips(tmp_path / "clips", n=8)
    with open(paths[2], "r+b") as handle:  # a WAV/FLAC/OGG header that no decoder accepts
        handle.write(b"garbage!" * 8)
    X = pd.DataFrame({"voice": paths})
    union = ModalityUnion([("audio", MelEncoder(on_error="zero"), "voice")])
    _check_fused(union, X, labels, 2, "audio")


def test_make_fusion_pipeline_treats_broken_files_as_missing_by_default(tmp_path):
    paths, labels = write_images(tmp_path / "images", n=8)
    (tmp_path / "images" / "img_1.png").write_bytes(b"")
    X = pd.DataFrame({"face": paths, "age": np.arange(8.0)})
    pipe = make_fusion_pipeline(image="face", tabular=["age"]).fit(X, labels)
    fused = pipe[:-1].transform(X)
    assert fused["image__missing"].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    assert np.isfinite(fused.to_numpy()).all()
    assert pipe.named_steps["fusion"].named_transformers_["image"].on_error == "nan"

    strict = make_fusion_pipeline(image="face", on_error="raise")
    with pytest.raises(ValueError, match=r"row 1.*img_1.png.*empty"):
        strict.fit(X, labels)
    with pytest.raises(ValueError, match="on_error='skip'"):
        make_fusion_pipeline(image="face", on_error="skip")


def test_a_modality_that_fails_on_every_training_row_is_an_error(tiny_text_model):
    X = pd.DataFrame({"note": pd.Series(["bad \ud800"] * 4, dtype=object)})
    union = ModalityUnion([("text", TextEncoder(tiny_text_model, on_error="nan"), "note")])
    with pytest.raises(ValueError, match="could not encode any training row"):
        union.fit(X)


def test_handle_missing_false_keeps_blocks_as_they_are(tiny_text_model):
    X = pd.DataFrame({"note": pd.Series(["good", "bad \ud800", "fine"], dtype=object)})
    enc = TextEncoder(tiny_text_model, on_error="nan", cache=False)
    Z = ModalityUnion([("text", enc, "note")], handle_missing=False, scale=None).fit_transform(X)
    assert np.isnan(Z[1]).all() and np.isfinite(Z[[0, 2]]).all()
