"""The demo: a multimodal emotion-recognition workflow, end to end, offline, in a few minutes.

``skmm demo`` (and :func:`run_demo`) generates a synthetic dataset of drawn faces, voiced
tones and sentences, encodes each modality once with the embedded pretrained models,
chooses the headline model among an Optuna-tuned attention head, early fusion with a
logistic regression and late fusion on held-out speakers of the training data, scores
every candidate (and each single modality) by nested speaker-grouped cross-validation,
and writes a report folder.
"""

from ._config import FULL, QUICK, DemoConfig, torch_threads
from ._parts import MODALITIES, demo_candidates, demo_encoders, demo_pipeline, make_demo_data
from ._run import run_demo
from ._select import Candidate, ModelSelection, describe_winner

__all__ = [
    "FULL",
    "MODALITIES",
    "QUICK",
    "Candidate",
    "DemoConfig",
    "ModelSelection",
    "demo_candidates",
    "demo_encoders",
    "demo_pipeline",
    "describe_winner",
    "make_demo_data",
    "run_demo",
    "torch_threads",
]
