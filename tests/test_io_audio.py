"""read_audio: formats, channels, rates, cropping, and every bad input of issue 3."""

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")

from skmm.exceptions import InputError
from skmm.io import read_audio


def tone(freq, seconds, sr, amplitude=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(y, sr):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.fft.rfftfreq(len(y), 1 / sr)[spectrum.argmax()]


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, tone(440, 1.0, 16000), 16000, subtype="FLOAT")
    return path


def test_reads_wav_at_native_rate_unchanged(wav):
    y = read_audio(wav, 16000)
    assert y.dtype == np.float32 and y.ndim == 1
    np.testing.assert_array_equal(y, tone(440, 1.0, 16000))


def test_path_string_and_bytes_give_the_same_waveform(wav):
    np.testing.assert_array_equal(read_audio(str(wav), 16000), read_audio(wav.read_bytes(), 16000))


@pytest.mark.parametrize("native_sr", [8000, 48000])
def test_other_rates_are_resampled(tmp_path, native_sr):
    path = tmp_path / f"tone_{native_sr}.wav"
    sf.write(path, tone(440, 1.0, native_sr), native_sr, subtype="PCM_16")
    y = read_audio(path, 16000)
    assert len(y) == 16000
    assert abs(peak_hz(y, 16000) - 440) < 2
    assert np.sqrt(np.mean(y[1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


@pytest.mark.parametrize("suffix", ["flac", "ogg"])
def test_flac_and_ogg(tmp_path, suffix):
    path = tmp_path / f"tone.{suffix}"
    sf.write(path, tone(660, 1.0, 22050), 22050)
    y = read_audio(path, 16000)
    assert abs(len(y) - 16000) <= 1
    assert abs(peak_hz(y, 16000) - 660) < 2


def test_mp3_where_libsndfile_writes_it(tmp_path):
    path = tmp_path / "tone.mp3"
    try:
        sf.write(path, tone(440, 1.0, 16000), 16000, format="MP3")
    except (sf.LibsndfileError, TypeError, ValueError) as exc:  # no lame/mpg123 in libsndfile
        pytest.skip(f"this libsndfile cannot write mp3: {exc}")
    y = read_audio(path, 16000)
    assert abs(peak_hz(y, 16000) - 440) < 3


def test_six_channel_file_is_averaged(tmp_path):
    channels = np.stack([np.full(1600, 0.1 * (c + 1), np.float32) for c in range(6)], axis=1)
    path = tmp_path / "surround.wav"
    sf.write(path, channels, 16000, subtype="FLOAT")
    y = read_audio(path, 16000)
    np.testing.assert_allclose(y, np.full(1600, 0.35), atol=1e-6)


def test_six_channel_array_in_either_layout():
    channels_last = np.random.default_rng(0).standard_normal((800, 6)).astype(np.float32)
    expected = channels_last.mean(axis=1)
    np.testing.assert_allclose(
        read_audio(channels_last, 8000, sample_rate=8000), expected, atol=1e-6
    )
    np.testing.assert_allclose(
        read_audio(channels_last.T, 8000, sample_rate=8000), expected, atol=1e-6
    )


def test_array_tuple_and_dict_inputs_agree():
    y = tone(300, 0.5, 8000)
    a = read_audio(y, 16000, sample_rate=8000)
    np.testing.assert_array_equal(a, read_audio((y, 8000), 16000))
    np.testing.assert_array_equal(a, read_audio({"array": y, "sampling_rate": 8000}, 16000))
    assert len(a) == 8000


def test_int16_array_is_scaled_to_unit_range():
    y = read_audio(np.array([-32768, 0, 16384], dtype=np.int16), 16000, sample_rate=16000)
    np.testing.assert_allclose(y, [-1.0, 0.0, 0.5])


def test_max_duration_keeps_the_first_seconds(tmp_path):
    y = np.linspace(-1, 1, 32000, dtype=np.float32)
    path = tmp_path / "ramp.wav"
    sf.write(path, y, 16000, subtype="FLOAT")
    np.testing.assert_array_equal(read_audio(path, 16000, max_duration=0.5), y[:8000])
    np.testing.assert_array_equal(
        read_audio(y, 16000, sample_rate=16000, max_duration=0.5), y[:8000]
    )
    # a shorter clip is not padded
    assert len(read_audio(path, 16000, max_duration=10)) == 32000


def test_ten_millisecond_clip_is_kept(tmp_path):
    path = tmp_path / "click.wav"
    sf.write(path, tone(1000, 0.01, 8000), 8000)
    y = read_audio(path, 16000)
    assert len(y) == 160 and np.isfinite(y).all()


# ---- bad input: each raises InputError naming what is wrong ----------------------------


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_audio(tmp_path / "nope.wav", 16000)


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(InputError, match="directory"):
        read_audio(tmp_path, 16000)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_audio(path, 16000)
    with pytest.raises(InputError, match="empty"):
        read_audio(b"", 16000)


def test_corrupt_wav_header(tmp_path, wav):
    data = bytearray(wav.read_bytes())
    data[12:36] = b"\xff" * 24  # the "fmt " chunk
    path = tmp_path / "corrupt.wav"
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="cannot decode"):
        read_audio(path, 16000)


def test_text_file_named_wav(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 20)
    with pytest.raises(InputError, match="cannot decode"):
        read_audio(path, 16000)


def test_empty_audio(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    with pytest.raises(InputError, match="no samples"):
        read_audio(path, 16000)
    with pytest.raises(InputError, match="no samples"):
        read_audio(np.zeros(0, np.float32), 16000, sample_rate=16000)


def test_nan_samples(tmp_path):
    y = tone(440, 0.1, 16000)
    y[[3, 50]] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, y, 16000, subtype="FLOAT")
    with pytest.raises(InputError, match="2 NaN"):
        read_audio(path, 16000)
    with pytest.raises(InputError, match="NaN"):
        read_audio(y, 16000, sample_rate=16000)


def test_array_needs_a_sample_rate():
    with pytest.raises(InputError, match="sample_rate"):
        read_audio(np.zeros(100, np.float32), 16000)


@pytest.mark.parametrize("bad", [np.zeros((2, 3, 4)), np.array("text"), np.float32(1.0)])
def test_bad_arrays(bad):
    with pytest.raises(InputError):
        read_audio(bad, 16000, sample_rate=16000)


def test_bad_max_duration_is_a_value_error(wav):
    with pytest.raises(ValueError, match="max_duration"):
        read_audio(wav, 16000, max_duration=0)
