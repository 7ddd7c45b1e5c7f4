"""Encoders: raw text, images and audio to embeddings, as scikit-learn transformers."""

from ._audio import MelEncoder
from ._base import BaseEncoder
from ._image import ImageEncoder
from ._registry import loaded_models, release_models
from ._text import TextEncoder

__all__ = [
    "BaseEncoder",
    "ImageEncoder",
    "MelEncoder",
    "TextEncoder",
    "loaded_models",
    "release_models",
]
