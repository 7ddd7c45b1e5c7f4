"""MelEncoder configurations for the shared encoder contract suite (see encoder_cases.py),
and the small audio files and tiny Hugging Face audio models the audio tests build."""

import numpy as np
import pytest

_BUILT = {}


def tone_or_noise(i, seconds, sr, rng):
    """Even ``i``: a harmonic tone (pitch varies with ``i``); odd ``i``: white noise."""
    t = np.arange(int(seconds * sr)) / sr
    if i % 2 == 0:
        f0 = 150 + 20 * i
        y = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in range(1, 6))
    else:
        y = rng.standard_normal(len(t))
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


def write_clips(folder, n=10, seconds=0.5):
    """``n`` short files in mixed formats and rates: tones (label 0) and noise (label 1)."""
    import soundfile as sf

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    formats = [("wav", 16000), ("flac", 22050), ("ogg", 16000), ("wav", 8000), ("wav", 48000)]
    paths, labels = [], []
    for i in range(n):
        suffix, sr = formats[i % len(formats)]
        path = folder / f"clip_{i}.{suffix}"
        sf.write(path, tone_or_noise(i, seconds + 0.05 * i, sr, rng), sr)
        paths.append(str(path))
        labels.append(i % 2)
    return paths, labels


def build_tiny_wav2vec2(path, with_mask=True, seed=0):
    """Save a randomly initialised 1-layer wav2vec2 and its feature extractor under ``path``."""
    import torch
    import transformers

    config = transformers.Wav2Vec2Config(
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8, 8),
        conv_stride=(5, 2),
        conv_kernel=(10, 3),
        num_conv_pos_embeddings=8,
        num_conv_pos_embedding_groups=2,
        feat_extract_norm="layer" if with_mask else "group",
        do_stable_layer_norm=with_mask,
    )
    torch.manual_seed(seed)
    transformers.Wav2Vec2Model(config).eval().save_pretrained(path)
    transformers.Wav2Vec2FeatureExtractor(
        sampling_rate=16000, return_attention_mask=with_mask
    ).save_pretrained(path)
    return path


def tiny_wav2vec2(request):
    """One tiny wav2vec2 per test session."""
    if "wav2vec2" not in _BUILT:
        factory = request.getfixturevalue("tmp_path_factory")
        _BUILT["wav2vec2"] = build_tiny_wav2vec2(factory.mktemp("tiny-wav2vec2"))
    return _BUILT["wav2vec2"]


def _audio_rows(tmp_path):
    return write_clips(tmp_path / "audio")


def _two_clip_rows(tmp_path):
    """8 rows that are two distinct clips: the base encodes each once (Whisper is slow on CPU)."""
    paths, _ = write_clips(tmp_path / "audio", n=2)
    return [paths[i % 2] for i in range(8)], [i % 2 for i in range(8)]


def _stats(request):
    from skmm.encoders._mel_encoder import MelEncoder

    return MelEncoder(batch_size=4)


def _whisper(request):
    from skmm.encoders._mel_encoder import MelEncoder

    return MelEncoder("whisper-tiny", batch_size=4)


def _whisper_onnx(request):
    from skmm.encoders._mel_encoder import MelEncoder

    pytest.importorskip("onnxruntime")
    return MelEncoder("whisper-tiny", batch_size=4, runtime="onnx")


def _tiny_wav2vec2(request):
    from skmm.encoders._mel_encoder import MelEncoder

    return MelEncoder(tiny_wav2vec2(request), batch_size=4)


AUDIO_CASES = {
    "MelEncoder-stats": (_stats, _audio_rows),
    "MelEncoder-whisper": (_whisper, _two_clip_rows),
    "MelEncoder-whisper-onnx": (_whisper_onnx, _two_clip_rows),
    "MelEncoder-tiny-wav2vec2": (_tiny_wav2vec2, _audio_rows),
}
