"""Face cropping: detection on a real photo, fallback to the whole image, the sklearn step."""

import pickle
import threading

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skmm.exceptions import EncodingError
from skmm.io import FaceCropper, _faces, crop_largest_face

cv2 = pytest.importorskip("cv2")
skdata = pytest.importorskip("skimage.data")

# the astronaut's face lies roughly in rows 40-200, columns 160-320 of the 512 x 512 photo
FACE_ROWS, FACE_COLS = (40, 200), (160, 320)


@pytest.fixture(scope="module")
def astronaut():
    return skdata.astronaut()


def _inside_face(crop, image):
    """Locate ``crop`` in ``image`` and check that it covers the face box."""
    res = cv2.matchTemplate(image, crop, cv2.TM_SQDIFF)
    _, _, (x, y), _ = cv2.minMaxLoc(res)
    h, w = crop.shape[:2]
    return (
        x <= FACE_COLS[0] + 30
        and x + w >= FACE_COLS[1] - 30
        and y <= FACE_ROWS[0] + 30
        and y + h >= FACE_ROWS[1] - 30
        and h < 300
    )


def test_crop_largest_face_on_astronaut(astronaut):
    crop, found = crop_largest_face(astronaut)
    assert found
    assert crop.dtype == np.uint8 and crop.shape[2] == 3
    assert crop.shape[0] == crop.shape[1]  # square away from the borders
    assert _inside_face(crop, astronaut)
    tight, _ = crop_largest_face(astronaut, margin=0.0)
    assert tight.shape[0] < crop.shape[0]  # margin 0.25 adds half the side in total
    assert abs(crop.shape[0] / tight.shape[0] - 1.5) < 0.05


def test_no_face_returns_whole_image():
    blank = np.full((90, 120, 3), 200, np.uint8)
    crop, found = crop_largest_face(blank)
    assert not found
    np.testing.assert_array_equal(crop, blank)
    noise = np.random.default_rng(0).integers(0, 255, (50, 50), dtype=np.uint8)
    crop, found = crop_largest_face(noise)  # grey input is read as RGB
    assert not found and crop.shape == (50, 50, 3)


def test_min_size_and_margin_validation(astronaut):
    _, found = crop_largest_face(astronaut, min_size=300)  # the face is ~120 px wide
    assert not found
    with pytest.raises(ValueError, match="margin"):
        crop_largest_face(astronaut, margin=-0.1)


def test_skimage_lbp_fallback(astronaut, monkeypatch):
    # opencv 5 has neither cv2.data nor CascadeClassifier
    monkeypatch.setattr(cv2.data, "haarcascades", "/nonexistent/")
    monkeypatch.setattr(_faces, "_local", threading.local())
    _, name = _faces._make_detector()
    assert name == "skimage-lbp"
    crop, found = crop_largest_face(astronaut)
    assert found and _inside_face(crop, astronaut)


def test_face_cropper_step(astronaut, tmp_path):
    path = tmp_path / "astronaut.png"
    cv2.imwrite(str(path), cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR))
    blank = np.zeros((64, 80, 3), np.uint8)
    cropper = FaceCropper(n_threads=2)
    out = cropper.fit_transform([astronaut, blank, str(path)])
    assert out.dtype == object and out.shape == (3,)
    assert cropper.faces_found_.tolist() == [True, False, True]
    np.testing.assert_array_equal(out[0], out[2])
    assert out[1].shape == (64, 80, 3)
    # Series, one-column DataFrame, 1-D object arrays are accepted; transform needs no fit
    series_out = FaceCropper().transform(pd.Series([blank, astronaut]))
    assert series_out[1].shape == out[0].shape
    df_cropper = FaceCropper()
    _, found = df_cropper.transform(pd.DataFrame({"img": [str(path)]}), return_faces_found=True)
    assert found.tolist() == [True] and not hasattr(df_cropper, "faces_found_")


def test_face_cropper_contract_and_errors(tmp_path, astronaut):
    cropper = FaceCropper(margin=0.1, min_size=30)
    assert clone(cropper).get_params() == cropper.get_params()
    assert not cropper.__sklearn_tags__().input_tags.two_d_array
    restored = pickle.loads(pickle.dumps(cropper.fit([astronaut])))
    np.testing.assert_array_equal(
        restored.transform([astronaut])[0], cropper.transform([astronaut])[0]
    )
    with pytest.raises(ValueError, match="single str"):
        cropper.fit("a.jpg")
    with pytest.raises(ValueError, match="one-column"):
        cropper.transform(pd.DataFrame({"a": [1], "b": [2]}))
    missing = tmp_path / "gone.jpg"
    with pytest.raises(EncodingError, match="row 1.*gone.jpg.*not found") as info:
        cropper.transform([astronaut, str(missing)])
    assert info.value.row == 1 and info.value.source == str(missing)


def test_face_cropper_in_pipeline(astronaut):
    sizes = FunctionTransformer(lambda crops: np.array([[c.shape[0], c.shape[1]] for c in crops]))
    pipe = make_pipeline(FaceCropper(), sizes)
    out = pipe.fit_transform([astronaut, np.zeros((32, 48, 3), np.uint8)])
    assert out[0, 0] < 300 and out[1].tolist() == [32, 48]
