"""Face cropping with a cascade detector that ships offline."""

import logging
import os
import threading

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from .._deps import import_optional
from ..exceptions import EncodingError, InputError
from ._image_reader import DEFAULT_MAX_PIXELS, load_images, read_image

logger = logging.getLogger(__name__)

# Detection runs on a copy whose longer side is at most this: a frontal face filling a
# tenth of the frame stays above the cascade's 24-pixel window, and big photos cost little.
_DETECT_MAX_SIDE = 400
_local = threading.local()  # one detector per thread: CascadeClassifier is not thread-safe


def _make_detector():
    """Return ``detect(grey, min_size) -> [(x, y, w, h), ...]`` and the detector's name."""
    cv2 = import_optional("cv2", "face detection")
    folder = getattr(getattr(cv2, "data", None), "haarcascades", "") or ""
    path = os.path.join(folder, "haarcascade_frontalface_default.xml")
    if hasattr(cv2, "CascadeClassifier") and os.path.isfile(path):
        clf = cv2.CascadeClassifier(path)
        if not clf.empty():

            def detect(grey, min_size):
                return clf.detectMultiScale(
                    grey, scaleFactor=1.1, minNeighbors=5, minSize=(min_size, min_size)
                )

            return detect, "opencv-haar"
    # opencv 5 dropped CascadeClassifier and cv2.data: use scikit-image's LBP cascade
    feature = import_optional("skimage.feature", "face detection without opencv's Haar cascades")
    skdata = import_optional("skimage.data", "face detection without opencv's Haar cascades")
    cascade = feature.Cascade(skdata.lbp_frontal_face_cascade_filename())

    def detect(grey, min_size):
        found = cascade.detect_multi_scale(
            img=grey,
            scale_factor=1.2,
            step_ratio=1,
            min_size=(min_size, min_size),
            max_size=grey.shape,
        )
        return [(d["c"], d["r"], d["width"], d["height"]) for d in found]

    return detect, "skimage-lbp"


def _detector():
    if getattr(_local, "detect", None) is None:
        _local.detect, name = _make_detector()
        logger.debug("face detector: %s", name)
    return _local.detect


def crop_largest_face(image, margin=0.25, min_size=40):
    """Crop the largest frontal face, or return the whole image when there is none.

    Parameters
    ----------
    image : ndarray, str, os.PathLike or bytes
        Anything :func:`skmm.io.read_image` accepts; arrays are RGB.
    margin : float, default=0.25
        Extra border around the detected square, as a fraction of its side, on each side.
    min_size : int, default=40
        Smallest face side, in pixels of the image, that is looked for.

    Returns
    -------
    crop : ndarray of shape (h, w, 3), dtype uint8
        The face (square unless it touches the border) or the whole image.
    found : bool
        Whether a face was detected.

    Examples
    --------
    >>> from skimage import data
    >>> from skmm.io import crop_largest_face
    >>> crop, found = crop_largest_face(data.astronaut())
    >>> found, crop.shape[0] < 512
    (True, True)
    """
    image = read_image(image)
    box = largest_face_box(image, margin, min_size)
    if box is None:
        return image, False
    y0, y1, x0, x1 = box
    return np.ascontiguousarray(image[y0:y1, x0:x1]), True


def largest_face_box(image, margin=0.25, min_size=40):
    """The box around the largest frontal face of an RGB array, or None when there is none.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), dtype uint8
    margin, min_size
        As for :func:`crop_largest_face`.

    Returns
    -------
    box : tuple of int ``(top, bottom, left, right)``, or None
        Crop with ``image[top:bottom, left:right]``; a video reuses a frame's box on
        the frames where the detector finds no face.

    Examples
    --------
    >>> from skimage import data
    >>> from skmm.io._faces import largest_face_box
    >>> top, bottom, left, right = largest_face_box(data.astronaut())
    >>> bottom - top < 512, largest_face_box(data.astronaut()[:50, :50])
    (True, None)
    """
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    cv2 = import_optional("cv2", "face detection")
    h, w = image.shape[:2]
    scale = min(1.0, _DETECT_MAX_SIDE / max(h, w))
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        grey = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    faces = _detector()(grey, max(int(min_size * scale), 20))
    if len(faces) == 0:
        return None
    x, y, fw, fh = max(faces, key=lambda f: f[2] * f[3])
    side = max(fw, fh) / scale
    cx, cy = (x + fw / 2) / scale, (y + fh / 2) / scale
    half = side * (0.5 + margin)
    x0, x1 = max(0, round(cx - half)), min(w, round(cx + half))
    y0, y1 = max(0, round(cy - half)), min(h, round(cy + half))
    return y0, y1, x0, x1


def _as_items(X):
    """Raw items from a list, 1-D array, Series or one-column DataFrame."""
    if isinstance(X, (str, bytes)):
        raise ValueError(
            "Expected a list-like of images (paths, bytes or arrays), got a single "  # noqa: TRY004 (sklearn's convention)
            f"{type(X).__name__}; wrap it in a list."
        )
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"Expected a one-column DataFrame of images, got {X.shape[1]} columns."
            )
        return list(X.iloc[:, 0])
    if isinstance(X, np.ndarray) and X.dtype != object and X.ndim > 1:
        raise ValueError(
            "Got a numeric array: pass images as a list (or 1-D object array) of arrays."
        )
    return list(X)


class FaceCropper(TransformerMixin, BaseEstimator):
    """Crop the largest face of each image; keep the whole image when none is found.

    A pipeline step for raw images: paths, bytes or RGB arrays go in, uint8 RGB
    arrays come out (a 1-D object array). Detection uses opencv's Haar frontal-face
    cascade, or scikit-image's LBP cascade where opencv has none (opencv 5).

    Parameters
    ----------
    margin : float, default=0.25
        Border added around the face square, as a fraction of its side, on each side.
    min_size : int, default=40
        Smallest face side looked for, in pixels.
    max_pixels : int, default=89_478_485
        Images over this many pixels are refused (see :func:`skmm.io.read_image`).
    n_threads : int, default=1
        Threads reading and detecting in parallel (opencv releases the GIL).

    Attributes
    ----------
    faces_found_ : ndarray of shape (n_samples,), dtype bool
        After ``fit_transform``: whether a face was found in each row (``False`` means
        the whole image was passed on). ``transform(X, return_faces_found=True)`` gives
        the same for any call; ``transform`` itself changes nothing on the estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from skmm.io import FaceCropper
    >>> cropper = FaceCropper()
    >>> crops = cropper.fit_transform([data.astronaut(), np.zeros((64, 64, 3), np.uint8)])
    >>> cropper.faces_found_.tolist(), crops[1].shape
    ([True, False], (64, 64, 3))
    """

    def __init__(self, margin=0.25, min_size=40, max_pixels=DEFAULT_MAX_PIXELS, n_threads=1):
        self.margin = margin
        self.min_size = min_size
        self.max_pixels = max_pixels
        self.n_threads = n_threads

    def fit(self, X, y=None):
        """Check the input; the detector has nothing to learn.

        Parameters
        ----------
        X : list-like of images
            Paths, bytes or RGB arrays.
        y : None
            Ignored.

        Returns
        -------
        self : FaceCropper
        """
        _as_items(X)
        return self

    def transform(self, X, *, return_faces_found=False):
        """Crop the largest face of each image.

        Parameters
        ----------
        X : list-like of images
            Paths, bytes or RGB arrays (list, 1-D array, Series or one-column DataFrame).
        return_faces_found : bool, default=False
            Also return whether a face was found in each row.

        Returns
        -------
        crops : ndarray of shape (n_samples,), dtype object
            uint8 RGB arrays.
        faces_found : ndarray of shape (n_samples,), dtype bool
            Only with ``return_faces_found=True``.
        """
        items = _as_items(X)
        margin, min_size = self.margin, self.min_size
        results = load_images(
            items,
            preprocess=lambda im: crop_largest_face(im, margin, min_size),
            max_pixels=self.max_pixels,
            n_threads=self.n_threads,
        )
        crops = np.empty(len(items), dtype=object)
        found = np.zeros(len(items), dtype=bool)
        for row, (item, res) in enumerate(zip(items, results)):
            if isinstance(res, InputError):
                path = os.fspath(item) if isinstance(item, (str, os.PathLike)) else None
                where = f" ({path})" if path else ""
                raise EncodingError(
                    f"FaceCropper failed on row {row}{where}: {res}", row=row, source=path
                ) from res
            crops[row], found[row] = res
        return (crops, found) if return_faces_found else crops

    def fit_transform(self, X, y=None):
        """Crop the largest face of each image; ``faces_found_`` says where one was found.

        Parameters
        ----------
        X : list-like of images
        y : None
            Ignored.

        Returns
        -------
        crops : ndarray of shape (n_samples,), dtype object
        """
        crops, self.faces_found_ = self.fit(X).transform(X, return_faces_found=True)
        return crops

    def __sklearn_is_fitted__(self):
        return True  # stateless: transform works without fit

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = False
        return tags
