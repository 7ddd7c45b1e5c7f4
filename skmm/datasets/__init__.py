"""Datasets: loaders for emotion corpora on disk, a synthetic generator and a shipped text corpus.

None of these functions downloads anything. The loaders read a folder or table
the user already has and return a :class:`pandas.DataFrame` with one column per
modality (file paths or text), ``label`` and ``group`` (speaker, actor or
dialogue, for grouped cross-validation).
"""

from ._common import DatasetNotFoundError
from ._crema_d import load_crema_d
from ._folder import load_folder
from ._manifest import load_manifest
from ._meld import load_meld
from ._ravdess import load_ravdess
from ._synthetic import make_multimodal_emotion
from ._vader import load_vader_sentences

__all__ = [
    "DatasetNotFoundError",
    "load_crema_d",
    "load_folder",
    "load_manifest",
    "load_meld",
    "load_ravdess",
    "load_vader_sentences",
    "make_multimodal_emotion",
]
