"""MelEncoder: what the shared contract suite does not cover (see test_encoder_contract.py)."""

import numpy as np
import pandas as pd
import pytest

sf = pytest.importorskip("soundfile")
torch = pytest.importorskip("torch")
pytest.importorskip("librosa")

from audio_cases import build_tiny_wav2vec2, tone_or_noise, write_clips
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skmm.encoders._mel_encoder import MelEncoder
from skmm.exceptions import EncodingError
from skmm.io import log_mel_spectrogram, pooled_statistics, read_audio


@pytest.fixture
def clips(tmp_path):
    return write_clips(tmp_path / "audio", n=6)


def test_stats_are_the_pooled_log_mel_of_the_read_clip(clips):
    paths, _ = clips
    enc = MelEncoder(n_mels=32, fmin=20.0, cache=False).fit(paths)
    Z = enc.transform(paths)
    assert Z.shape == (6, 6 * 32) and enc.n_features_out_ == 192
    assert enc.statistic_names_[32] == "logmel_std_0" and len(enc.statistic_names_) == 192
    y = read_audio(paths[3], 16000)
    logmel, n_frames = log_mel_spectrogram([y], sr=16000, n_mels=32, fmin=20.0)
    np.testing.assert_allclose(Z[3], pooled_statistics(logmel, n_frames)[0].numpy(), atol=1e-5)


@pytest.mark.slow
def test_bucketing_and_padding_never_change_a_clip(tmp_path):
    rng = np.random.default_rng(1)
    lengths = [160, 3000, 16000, 800, 24000, 1]  # 10 ms ... 1.5 s and one sample
    arrays = [rng.standard_normal(n).astype(np.float32) * 0.1 for n in lengths]
    for backbone in ("stats", build_tiny_wav2vec2(tmp_path / "w2v")):
        enc = MelEncoder(backbone, sample_rate=16000, batch_size=3, cache=False).fit(arrays)
        together = enc.transform(arrays)
        alone = np.vstack([enc.transform([a]) for a in arrays])
        np.testing.assert_allclose(together, alone, atol=1e-4)
        assert np.isfinite(together).all()


def test_tones_and_noise_separate_in_a_pipeline(tmp_path):
    paths, labels = write_clips(tmp_path / "audio", n=16)
    pipe = make_pipeline(MelEncoder(), StandardScaler(), LogisticRegression(max_iter=500))
    assert cross_val_score(pipe, paths, labels, cv=4).mean() >= 0.9


def test_column_transformer_with_audio_and_numbers(clips):
    paths, labels = clips
    frame = pd.DataFrame({"clip": paths, "age": np.arange(6.0)}, index=[f"p{i}" for i in range(6)])
    ct = ColumnTransformer(
        [("mel", MelEncoder(n_mels=16, prefix="mel_"), "clip"), ("num", "passthrough", ["age"])]
    ).set_output(transform="pandas")
    out = ct.fit_transform(frame)
    assert out.shape == (6, 96 + 1)
    assert list(out.columns[:2]) == ["mel__mel_0", "mel__mel_1"] and out.columns[-1] == "num__age"
    model = Pipeline([("ct", ct), ("clf", LogisticRegression(max_iter=300))]).fit(frame, labels)
    assert model.score(frame, labels) == 1.0


def test_array_inputs_tuples_dicts_and_stacks_agree():
    y = tone_or_noise(0, 0.5, 8000, None)
    ref = MelEncoder(sample_rate=8000, cache=False).fit([y]).transform([y])
    enc = MelEncoder(cache=False).fit([(y, 8000)])
    np.testing.assert_allclose(enc.transform([(y, 8000)]), ref, atol=1e-6)
    np.testing.assert_allclose(enc.transform([{"array": y, "sampling_rate": 8000}]), ref, atol=1e-6)
    stack = MelEncoder(sample_rate=8000, cache=False).fit_transform(np.stack([y, y]))
    np.testing.assert_allclose(stack, np.vstack([ref, ref]), atol=1e-6)


def test_same_array_at_another_rate_is_another_clip():
    y = tone_or_noise(0, 0.5, 8000, None)
    enc = MelEncoder().fit([(y, 8000)])
    a, b = enc.transform([(y, 8000), (y, 16000)])
    assert not np.allclose(a, b)


def test_max_duration_keeps_the_first_seconds():
    y = np.concatenate(
        [tone_or_noise(0, 1.0, 16000, None), tone_or_noise(1, 2.0, 16000, np.random.default_rng(0))]
    )
    cropped = MelEncoder(sample_rate=16000, max_duration=1.0, cache=False).fit_transform([y])
    first = MelEncoder(sample_rate=16000, cache=False).fit_transform([y[:16000]])
    np.testing.assert_allclose(cropped, first, atol=1e-6)


@pytest.mark.parametrize("native_sr", [8000, 48000])
def test_rates_and_six_channels(tmp_path, native_sr):
    t = np.arange(native_sr // 2) / native_sr
    mono = 0.3 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    path = tmp_path / "six.wav"
    sf.write(path, np.repeat(mono[:, None], 6, axis=1), native_sr, subtype="FLOAT")
    enc = MelEncoder(cache=False).fit([str(path)])
    np.testing.assert_allclose(
        enc.transform([str(path)]), enc.transform([(mono, native_sr)]), rtol=1e-5, atol=1e-4
    )


def bad_files(folder):
    folder.mkdir()
    good = folder / "good.wav"
    sf.write(good, tone_or_noise(0, 0.3, 16000, None), 16000)
    (folder / "zero.wav").write_bytes(b"")
    corrupt = bytearray(good.read_bytes())
    corrupt[12:36] = b"\xff" * 24
    (folder / "corrupt.wav").write_bytes(bytes(corrupt))
    sf.write(folder / "empty.wav", np.zeros(0, np.float32), 16000)
    nan = tone_or_noise(0, 0.1, 16000, None)
    nan[5] = np.nan
    sf.write(folder / "nan.wav", nan, 16000, subtype="FLOAT")
    sf.write(folder / "click.wav", tone_or_noise(0, 0.01, 16000, None), 16000)
    return {
        name: str(folder / f"{name}.wav")
        for name in ("good", "missing", "zero", "corrupt", "empty", "nan", "click")
    }


def test_bad_rows_are_named_and_do_not_lose_the_others(tmp_path):
    files = bad_files(tmp_path / "bad")
    rows = list(files.values())
    enc = MelEncoder(on_error="nan").fit(rows)
    Z, report = enc.transform(rows, return_report=True)
    failed = {f["row"]: f for f in report.failed_rows}
    assert sorted(failed) == [1, 2, 3, 4, 5]  # missing, zero, corrupt, empty, nan
    assert "not found" in failed[1]["error"] or "does not exist" in failed[1]["error"]
    assert "empty" in failed[2]["error"] and "cannot decode" in failed[3]["error"]
    assert "no samples" in failed[4]["error"] and "NaN" in failed[5]["error"]
    assert failed[3]["source"] == files["corrupt"]
    assert np.isnan(Z[sorted(failed)]).all()
    assert np.isfinite(Z[[0, 6]]).all()  # the good clip and the 10 ms click encode
    with pytest.raises(EncodingError, match=r"row 2.*zero\.wav.*empty"):
        MelEncoder().fit(rows).transform([files["good"], files["good"], files["zero"]])


@pytest.mark.parametrize(
    "row, match",
    [
        (np.zeros(100, np.float32), "sampling rate"),
        (0.5, "wrapped in a list"),
        (None, "missing"),
        ({"array": np.zeros(10)}, "sampling rate"),
    ],
)
def test_bad_array_rows(row, match):
    enc = MelEncoder(on_error="zero").fit(["x.wav"])
    Z, report = enc.transform([row], return_report=True)
    assert (Z == 0).all() and match in report.failed_rows[0]["error"]


@pytest.mark.parametrize(
    "params, name",
    [
        ({"n_mels": 0}, "n_mels"),
        ({"hop_length": 1.5}, "hop_length"),
        ({"fmax": 9000}, "fmax"),
        ({"fmin": -1.0}, "fmin"),
        ({"max_duration": 0}, "max_duration"),
        ({"sample_rate": -8000}, "sample_rate"),
        ({"backbone": "no-such-model"}, "backbone"),
    ],
)
def test_invalid_params_are_named(params, name):
    with pytest.raises(ValueError, match=name):
        MelEncoder(**params).fit(["a.wav"])


def test_hf_backbone_uses_its_extractor_rate(tmp_path):
    folder = build_tiny_wav2vec2(tmp_path / "w2v")
    enc = MelEncoder(folder, sr=8000).fit(["a.wav"])
    assert enc.sr_ == 16000 and enc.n_features_out_ == 16 and enc.statistic_names_ is None


@pytest.mark.slow
def test_whisper_backbone_matches_the_backbone_function(clips):
    from skmm.backbones import load_whisper_encoder, whisper_embed

    paths, _ = clips
    enc = MelEncoder("whisper-tiny", cache=False).fit(paths[:2])
    Z = enc.transform(paths[:2])
    assert Z.shape == (2, 384) and enc.sr_ == 16000
    with torch.inference_mode():  # the backbone function runs in the caller's grad mode
        expected = whisper_embed(load_whisper_encoder(), [read_audio(p, 16000) for p in paths[:2]])
    np.testing.assert_allclose(Z, expected.numpy(), atol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_stats_on_gpu_match_cpu(clips):
    paths, _ = clips
    cpu = MelEncoder(device="cpu", cache=False).fit_transform(paths)
    gpu = MelEncoder(device="cuda", cache=False).fit_transform(paths)
    np.testing.assert_allclose(gpu, cpu, atol=1e-3)
