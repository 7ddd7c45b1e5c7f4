"""The batched torch log-mel front end against librosa, and the pooled statistics."""

import warnings

import numpy as np
import pytest

librosa = pytest.importorskip("librosa")
torch = pytest.importorskip("torch")

from skmm.io import (
    deltas,
    log_mel_spectrogram,
    pooled_statistics,
    statistics_feature_names,
)

CONFIGS = [
    {"sr": 16000, "n_fft": 400, "hop_length": 160, "n_mels": 64, "fmin": 0.0, "fmax": None},
    {"sr": 22050, "n_fft": 2048, "hop_length": 512, "n_mels": 128, "fmin": 0.0, "fmax": None},
    {"sr": 16000, "n_fft": 511, "hop_length": 128, "n_mels": 40, "fmin": 50.0, "fmax": 7000.0},
]


def clips(sr, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for n in [3 * sr, 2 * sr + 137, sr // 100, 1, 700]:  # 3 s ... 10 ms, 1 sample, < n_fft
        t = np.arange(n) / sr
        chirp = 0.3 * np.sin(2 * np.pi * (200 + 300 * t) * t)
        out.append((chirp + 0.05 * rng.standard_normal(n)).astype(np.float32))
    out.append(np.zeros(sr // 2, np.float32))  # silence
    return out


def librosa_logmel(y, sr, n_fft, hop_length, n_mels, fmin, fmax):
    with warnings.catch_warnings():  # "n_fft is too large" for the short clips
        warnings.simplefilter("ignore", UserWarning)
        mel = librosa.feature.melspectrogram(
            y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax
        )
    return np.log(mel + 1e-6)


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c['sr']}-{c['n_fft']}")
def test_matches_librosa_within_1e3(config):
    waves = clips(config["sr"])
    logmel, n_frames = log_mel_spectrogram(waves, **config)
    assert logmel.shape[:2] == (len(waves), config["n_mels"])
    for i, y in enumerate(waves):
        expected = librosa_logmel(y, **config)
        assert int(n_frames[i]) == expected.shape[1]
        got = logmel[i, :, : int(n_frames[i])].numpy()
        assert np.abs(got - expected).max() <= 1e-3
    # frames past a clip's end hold the log of the offset, not stale values
    tail = logmel[2, :, int(n_frames[2]) :].numpy()
    assert tail.size and np.allclose(tail, np.log(1e-6))


def test_batching_does_not_change_a_clip():
    waves = clips(16000)
    batch, n_frames = log_mel_spectrogram(waves, sr=16000)
    for i, y in enumerate(waves):
        alone, n_alone = log_mel_spectrogram([y], sr=16000)
        assert int(n_alone[0]) == int(n_frames[i])
        torch.testing.assert_close(batch[i, :, : int(n_frames[i])], alone[0], atol=1e-5, rtol=0)


def test_tensor_input_is_one_length():
    y = torch.randn(3, 4000)
    logmel, n_frames = log_mel_spectrogram(y, sr=16000, n_mels=32)
    assert n_frames.tolist() == [26, 26, 26]
    assert logmel.shape == (3, 32, 26)


def reference_deltas(x, width=2):
    padded = np.pad(x, ((0, 0), (width, width)), mode="edge")
    n = x.shape[1]
    num = sum(
        k * (padded[:, width + k : width + k + n] - padded[:, width - k : width - k + n])
        for k in range(1, width + 1)
    )
    return num / (2 * sum(k * k for k in range(1, width + 1)))


def test_deltas_replicate_each_clips_own_edges():
    ramp = torch.arange(8.0).reshape(1, 1, 8)
    d = deltas(torch.cat([ramp, ramp]), torch.tensor([8, 5]))
    # interior slope 1; the second clip's edge at frame 4 is its own last valid frame
    assert d[0, 0, 2:6].tolist() == [1.0, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(d[1, 0, :5].numpy(), reference_deltas(np.arange(5.0)[None])[0])
    assert deltas(ramp[..., :1], torch.tensor([1])).abs().max() == 0


def test_pooled_statistics_match_numpy_on_librosa_output():
    config = CONFIGS[0]
    waves = clips(16000, seed=1)
    logmel, n_frames = log_mel_spectrogram(waves, **config)
    stats = pooled_statistics(logmel, n_frames).numpy()
    names = statistics_feature_names(config["n_mels"])
    assert stats.shape == (len(waves), 6 * config["n_mels"]) and len(names) == stats.shape[1]
    assert len(set(names)) == len(names) and names[0] == "logmel_mean_0"
    for i, y in enumerate(waves):
        ref = librosa_logmel(y, **config)
        d = reference_deltas(ref)
        expected = np.concatenate(
            [ref.mean(1), ref.std(1), ref.min(1), ref.max(1), d.mean(1), d.std(1)]
        )
        np.testing.assert_allclose(stats[i], expected, atol=2e-3)


def test_one_frame_clip_has_zero_spread():
    logmel, n_frames = log_mel_spectrogram(
        [np.ones(10, np.float32), np.ones(8000, np.float32)], sr=16000, n_mels=8
    )
    stats = pooled_statistics(logmel, n_frames)
    assert n_frames[0] == 1
    std, d_std = stats[0, 8:16], stats[0, 40:48]
    assert torch.all(std == 0) and torch.all(d_std == 0)
    assert torch.all(stats[0, 16:24] == stats[0, 24:32])  # min == max
    assert torch.isfinite(stats).all()
