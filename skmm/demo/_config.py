"""Sizes of a demo run and its stage logger."""

import contextlib
import logging
import time
from dataclasses import dataclass

from .._threads import torch_threads  # noqa: F401  (the demo's public name for it)

logger = logging.getLogger("skmm.demo")


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of a demo run; :data:`FULL` and :data:`QUICK` are the two presets.

    Attributes
    ----------
    n_samples, n_classes : int
        Size of the synthetic dataset (speakers: ``n_samples // 10``).
    imbalance : float
        The largest class is this many times the smallest.
    missing_rate : float
        Share of rows without each modality.
    n_splits : int
        Folds of the speaker-grouped cross-validation, for the search and the evaluation.
    n_trials : int
        Optuna trials.
    max_epochs : int
        Epoch cap of the neural head (it stops early on its validation loss).
    video : bool
        Video mode: one mp4 clip per sample instead of a face image and a voice file;
        the faces over each clip's frames and the voice on its audio track are two
        blocks (``"face"``, ``"voice"``) beside the text (needs the ``video`` extra).
    n_frames : int
        Frames sampled from each clip in video mode.

    Examples
    --------
    >>> import dataclasses
    >>> from skmm.demo import QUICK
    >>> dataclasses.replace(QUICK, n_trials=2).n_trials
    2
    """

    n_samples: int = 360
    n_classes: int = 4
    imbalance: float = 3.0
    missing_rate: float = 0.1
    n_splits: int = 5
    n_trials: int = 8
    max_epochs: int = 40
    video: bool = False
    n_frames: int = 4

    @property
    def modalities(self):
        """The modality columns of the demo's table, which are also its block names."""
        return ("text", "face", "voice") if self.video else ("text", "image", "audio")


FULL = DemoConfig()
QUICK = DemoConfig(n_samples=120, n_splits=3, n_trials=3, max_epochs=15)


class Stages:
    """Log a numbered line per stage and keep its wall time."""

    def __init__(self, total):
        self.total, self.done, self.times = total, 0, {}

    @contextlib.contextmanager
    def __call__(self, name, message):
        self.done += 1
        logger.info("[%d/%d] %s", self.done, self.total, message)
        start = time.perf_counter()
        yield
        self.times[name] = time.perf_counter() - start
        logger.info("      done in %.1f s", self.times[name])
