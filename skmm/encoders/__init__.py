"""Encoders: raw text, images, audio and video to embeddings, as scikit-learn transformers."""

from ._base import BaseEncoder
from ._image_encoder import ImageEncoder
from ._mel_encoder import MelEncoder
from ._registry import loaded_models, release_models
from ._report import EncodingReport, WithFacts
from ._text_encoder import TextEncoder
from ._video_encoder import VideoEncoder

__all__ = [
    "BaseEncoder",
    "EncodingReport",
    "ImageEncoder",
    "MelEncoder",
    "TextEncoder",
    "WithFacts",
    "VideoEncoder",
    "loaded_models",
    "release_models",
]
