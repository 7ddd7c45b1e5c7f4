"""Damaged media are never encoded silently (issue 14, part 5).

A JPEG whose compressed scan data is scrambled (its end marker intact) decodes in
opencv without an error, libjpeg only printing to the C stderr; a WAV cut in half is read
by libsndfile as the half that is left. Both are rows that cannot be read under
``strict=True`` (the default), and are decoded best-effort with a warning otherwise.
"""

import io
import logging

import numpy as np
import pytest

from skmm.exceptions import EncodingError, InputError

cv2 = pytest.importorskip("cv2")
sf = pytest.importorskip("soundfile")


# -- images ----------------------------------------------------------------------------
def jpeg_bytes(seed=0):
    noise = np.random.default_rng(seed).random((96, 128, 3)) * 255
    image = cv2.GaussianBlur(noise.astype(np.uint8), (9, 9), 3)
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def scrambled(jpeg):
    """The last three quarters of the scan replaced by random bytes (no markers: no 0xFF)."""
    sos = jpeg.find(b"\xff\xda")
    start = sos + 2 + int.from_bytes(jpeg[sos + 2 : sos + 4], "big")
    end = jpeg.rfind(b"\xff\xd9")
    cut = start + (end - start) // 4
    noise = np.random.default_rng(1).integers(0, 255, end - cut, dtype=np.uint8).tobytes()
    return jpeg[:cut] + noise + jpeg[end:]


@pytest.fixture
def jpegs(tmp_path):
    good, bad = tmp_path / "good.jpg", tmp_path / "scrambled.jpg"
    good.write_bytes(jpeg_bytes())
    bad.write_bytes(scrambled(jpeg_bytes()))
    return str(good), str(bad)


def test_opencv_alone_decodes_the_scrambled_jpeg_silently(jpegs):
    # the premise: without a check the damage goes unnoticed
    good, bad = (cv2.imread(p) for p in jpegs)
    assert bad is not None and bad.shape == good.shape
    assert np.abs(bad.astype(int) - good.astype(int)).mean() > 10


def test_read_image_refuses_a_scrambled_jpeg(jpegs):
    from skmm.io import read_image

    assert read_image(jpegs[0]).shape == (96, 128, 3)
    with pytest.raises(InputError, match=r"scrambled\.jpg' is damaged: Corrupt JPEG data"):
        read_image(jpegs[1])


def test_read_image_best_effort_warns(jpegs, caplog):
    from skmm.io import read_image

    with caplog.at_level(logging.WARNING, logger="skmm"):
        image = read_image(jpegs[1], strict=False)
    assert image.shape == (96, 128, 3)
    assert "damaged" in caplog.text and "scrambled.jpg" in caplog.text


def test_image_encoder_raise_names_row_and_file(jpegs):
    from skmm import ImageEncoder

    with pytest.raises(EncodingError, match="row 1.*scrambled.jpg.*damaged") as info:
        ImageEncoder(cache=False, progress=False).fit_transform(list(jpegs))
    assert info.value.row == 1 and info.value.source == jpegs[1]


def test_image_encoder_nan_fills_the_damaged_row(jpegs):
    from skmm import ImageEncoder

    enc = ImageEncoder(cache=False, progress=False, on_error="nan").fit(list(jpegs))
    Z, report = enc.transform(list(jpegs), return_report=True)
    assert np.isfinite(Z[0]).all() and np.isnan(Z[1]).all()
    assert [f["row"] for f in report.failed_rows] == [1]
    assert "Corrupt JPEG data" in report.failed_rows[0]["error"]


def test_image_encoder_best_effort_is_not_served_to_a_strict_one(jpegs):
    from skmm import ImageEncoder

    loose = ImageEncoder(strict=False, progress=False).fit(list(jpegs))
    assert np.isfinite(loose.transform(list(jpegs))).all()
    strict = ImageEncoder(on_error="nan", progress=False).fit(list(jpegs))
    assert np.isnan(strict.transform(list(jpegs))[1]).all()  # not the cached guess


# -- audio -----------------------------------------------------------------------------
def wav_bytes(n=32000, sr=16000, channels=1):
    t = np.arange(n) / sr
    y = np.stack([0.3 * np.sin(2 * np.pi * 220 * (c + 1) * t) for c in range(channels)], 1)
    buf = io.BytesIO()
    sf.write(buf, y.astype(np.float32), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.fixture
def wavs(tmp_path):
    good, cut = tmp_path / "good.wav", tmp_path / "cut.wav"
    good.write_bytes(wav_bytes())
    full = wav_bytes()
    cut.write_bytes(full[: len(full) // 2])
    return str(good), str(cut)


@pytest.mark.parametrize("channels", [1, 2])
def test_read_audio_refuses_a_wav_cut_in_half(channels):
    from skmm.io import read_audio

    full = wav_bytes(channels=channels)
    assert read_audio(full, 16000).shape == (32000,)
    with pytest.raises(InputError, match="damaged: its header declares .* cut short"):
        read_audio(full[: len(full) // 2], 16000)


def test_read_audio_best_effort_keeps_the_half_and_warns(wavs, caplog):
    from skmm.io import read_audio

    with caplog.at_level(logging.WARNING, logger="skmm"):
        y = read_audio(wavs[1], 16000, strict=False)
    assert 15900 < y.size < 16100
    assert "cut.wav" in caplog.text and "cut short" in caplog.text


def test_mel_encoder_raise_names_row_and_file(wavs):
    from skmm import MelEncoder

    with pytest.raises(EncodingError, match=r"row 1.*cut\.wav.*cut short") as info:
        MelEncoder(cache=False, progress=False).fit_transform(list(wavs))
    assert info.value.row == 1 and info.value.source == wavs[1]


def test_mel_encoder_nan_fills_the_damaged_row(wavs):
    from skmm import MelEncoder

    enc = MelEncoder(cache=False, progress=False, on_error="nan").fit(list(wavs))
    Z, report = enc.transform(list(wavs), return_report=True)
    assert np.isfinite(Z[0]).all() and np.isnan(Z[1]).all()
    assert [f["row"] for f in report.failed_rows] == [1]


def test_mel_encoder_best_effort_encodes_what_was_read(wavs):
    from skmm import MelEncoder
    from skmm.io import read_audio

    enc = MelEncoder(strict=False, cache=False, progress=False).fit(list(wavs))
    Z = enc.transform(list(wavs))
    half = read_audio(wavs[1], 16000, strict=False)
    np.testing.assert_allclose(Z[1], enc.transform([(half, 16000)])[0], atol=1e-5)
    assert "strict" in enc._output_params()
    assert "strict" not in MelEncoder().fit(list(wavs[:1]))._output_params()
