"""The demo: a multimodal emotion-recognition workflow, end to end, offline, in a few minutes.

``skmm demo`` (and :func:`run_demo`) generates a synthetic dataset of drawn faces, voiced
tones and sentences, encodes each modality once with the embedded pretrained models,
tunes a fusion pipeline with an attention head briefly with Optuna, evaluates it with
speaker-grouped cross-validation against each single modality, early fusion with a
logistic regression and late fusion, and writes a report folder.
"""

from ._config import FULL, QUICK, DemoConfig, torch_threads
from ._parts import MODALITIES, demo_encoders, demo_pipeline, make_demo_data
from ._run import run_demo

__all__ = [
    "FULL",
    "MODALITIES",
    "QUICK",
    "DemoConfig",
    "demo_encoders",
    "demo_pipeline",
    "make_demo_data",
    "run_demo",
    "torch_threads",
]
