"""skmm: scikit-learn for multimodal data.

Encoders turn raw text, images and audio into embeddings inside ordinary scikit-learn
pipelines; fusion steps, neural heads, tuning and reports build on them.
"""

__version__ = "0.1.0"

from .cache import cache_info, clear_cache  # noqa: E402
from .encoders import TextEncoder  # noqa: E402
from .exceptions import EncodingError, InputError  # noqa: E402

__all__ = ["__version__", "TextEncoder", "cache_info", "clear_cache", "EncodingError", "InputError"]
