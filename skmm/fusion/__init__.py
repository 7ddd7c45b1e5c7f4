"""Fusion of modality blocks: ModalityUnion, LateFusionClassifier and the pipeline builder."""

from ._build import make_fusion_pipeline
from ._late import LateFusionClassifier
from ._layout import infer_blocks, missing_column_name
from ._union import ModalityUnion

__all__ = [
    "LateFusionClassifier",
    "ModalityUnion",
    "infer_blocks",
    "make_fusion_pipeline",
    "missing_column_name",
]
