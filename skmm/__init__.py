"""skmm: scikit-learn for multimodal data.

Encoders turn raw text, images and audio into embeddings inside ordinary scikit-learn
pipelines; fusion steps, neural heads, tuning and reports build on them.
"""

__version__ = "0.1.0"

from . import metrics  # noqa: E402
from .cache import cache_info, clear_cache  # noqa: E402
from .encoders import ImageEncoder, MelEncoder, TextEncoder, VideoEncoder  # noqa: E402
from .exceptions import EncodingError, InputError  # noqa: E402
from .fusion import LateFusionClassifier, ModalityUnion, infer_blocks, make_fusion_pipeline  # noqa: E402
from .heads import FusionClassifier, FusionRegressor  # noqa: E402
from .io import FaceCropper  # noqa: E402
from .model_selection import OptunaSearchCV  # noqa: E402

__all__ = [
    "__version__",
    "TextEncoder",
    "ImageEncoder",
    "MelEncoder",
    "VideoEncoder",
    "FaceCropper",
    "ModalityUnion",
    "LateFusionClassifier",
    "make_fusion_pipeline",
    "FusionClassifier",
    "FusionRegressor",
    "OptunaSearchCV",
    "infer_blocks",
    "metrics",
    "cache_info",
    "clear_cache",
    "EncodingError",
    "InputError",
]


def __getattr__(name):
    # skmm.dask without importing dask (or skmm.dask) at ``import skmm``
    if name == "dask":
        import importlib

        return importlib.import_module("skmm.dask")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
