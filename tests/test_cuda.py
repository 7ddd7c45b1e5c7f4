"""The CUDA paths: device="auto", bfloat16/float16, a real out-of-memory back-off, training.

Skipped where no CUDA GPU is visible (CI has none); run on a lent GPU machine with
``python -m pytest tests/test_cuda.py``. Each check compares the GPU's result with the CPU's
on the same tiny model, so a wrong device, dtype or batch split shows as a number.
"""

import logging

import numpy as np
import pytest
from conftest import WORDS

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")

from skmm import ImageEncoder, TextEncoder  # noqa: E402

TEXTS = [" ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 4 + i % 9)) for i in range(40)]


def _cosines(a, b):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return (a * b).sum(axis=1)


def _on_cpu(tiny_text_model):
    return TextEncoder(tiny_text_model, device="cpu", cache=False).fit_transform(TEXTS)


def test_auto_picks_the_gpu_in_bfloat16_and_agrees_with_the_cpu(tiny_text_model):
    enc = TextEncoder(tiny_text_model, cache=False).fit(TEXTS)
    assert (enc.device_, enc.dtype_) == ("cuda", "bfloat16")
    gpu = enc.transform(TEXTS)
    assert gpu.dtype == np.float32 and np.isfinite(gpu).all()
    assert _cosines(gpu, _on_cpu(tiny_text_model)).min() > 0.99


@pytest.mark.parametrize("dtype, atol", [("float32", 1e-4), ("float16", 1e-2)])
def test_gpu_float32_and_float16_match_the_cpu(tiny_text_model, dtype, atol):
    gpu = TextEncoder(tiny_text_model, device="cuda", dtype=dtype, cache=False).fit_transform(TEXTS)
    np.testing.assert_allclose(gpu, _on_cpu(tiny_text_model), atol=atol)


def test_a_real_out_of_memory_halves_the_batch_and_loses_no_row(tiny_text_model, caplog):
    """Cap this process at 48 MiB of GPU memory: 2048 long texts in one batch cannot fit."""
    texts = [
        " ".join(WORDS[(i + k) % len(WORDS)] for k in range(60)) + f" {i}" for i in range(2048)
    ]
    reference = TextEncoder(
        tiny_text_model, device="cuda", dtype="float32", batch_size=64, cache=False
    ).fit_transform(texts)
    enc = TextEncoder(tiny_text_model, device="cuda", dtype="float32", batch_size=2048, cache=False)
    enc.fit(texts[:2])
    torch.cuda.empty_cache()
    total = torch.cuda.get_device_properties(0).total_memory
    torch.cuda.set_per_process_memory_fraction((48 << 20) / total)
    try:
        with caplog.at_level(logging.WARNING, logger="skmm"):
            Z = enc.transform(texts)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0)
        torch.cuda.empty_cache()
    assert "batch size halved to 1024" in caplog.text
    np.testing.assert_allclose(Z, reference, atol=1e-4)


def test_image_encoder_on_the_gpu_matches_the_cpu(tmp_path):
    from image_cases import build_tiny_vision_model, write_images

    model = build_tiny_vision_model(tmp_path / "vit", "vit")
    images, _ = write_images(tmp_path / "images")
    cpu = ImageEncoder(model, device="cpu", cache=False).fit_transform(images)
    gpu32 = ImageEncoder(model, device="cuda", dtype="float32", cache=False).fit_transform(images)
    np.testing.assert_allclose(gpu32, cpu, atol=1e-4)
    auto = ImageEncoder(model, cache=False).fit(images)
    assert auto.dtype_ == "bfloat16"
    assert _cosines(auto.transform(images), cpu).min() > 0.99


POSITIVE, NEGATIVE = "happy joy love good calm".split(), "sad angry hate fear bad".split()
TUNE_TEXTS = [
    " ".join((POSITIVE, NEGATIVE)[i % 2][(i // 2 + k) % 5] for k in range(3)) for i in range(40)
]
TUNE_LABELS = np.array(["pos", "neg"] * 20)


def _tune(model, method, device, precision):
    from skmm.finetune import FineTunedClassifier

    params = dict(max_epochs=4, batch_size=8, lr=5e-3, head_lr=5e-2, dropout=0.0, lora_dropout=0.0)
    return FineTunedClassifier(
        TextEncoder(model, cache=False), method=method, device=device, precision=precision,
        random_state=0, progress=False, **params,
    ).fit(TUNE_TEXTS, TUNE_LABELS)  # fmt: skip


@pytest.mark.parametrize("method", ["lora", "full"])
def test_fine_tuning_on_the_gpu_follows_the_cpu(tiny_text_model, method):
    """float32 on the GPU is the CPU's computation; bf16/fp16 autocast learns the same."""
    pytest.importorskip("skorch")
    pytest.importorskip("peft")

    def losses(clf):
        return np.array([row["train_loss"] for row in clf.history_])

    cpu = _tune(tiny_text_model, method, "cpu", "float32")
    gpu = _tune(tiny_text_model, method, "cuda", "float32")
    assert losses(cpu)[-1] < 0.5 * losses(cpu)[0]  # there is something to learn
    np.testing.assert_allclose(losses(gpu), losses(cpu), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(gpu.head_weights_, cpu.head_weights_, atol=1e-3)
    proba = cpu.predict_proba(TUNE_TEXTS)
    np.testing.assert_allclose(gpu.predict_proba(TUNE_TEXTS), proba, atol=1e-3)
    for precision in ("auto", "float16"):  # auto: bfloat16 on this GPU
        half = _tune(tiny_text_model, method, "auto", precision)
        assert half.head_weights_.dtype == np.float32  # master weights stay float32
        assert np.isfinite(losses(half)).all() and half.score(TUNE_TEXTS, TUNE_LABELS) == 1.0
