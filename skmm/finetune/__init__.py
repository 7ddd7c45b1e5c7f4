"""Fine-tuning skmm's pretrained encoders inside an estimator: full, LoRA, top layers, head.

:class:`FineTunedClassifier` and :class:`FineTunedRegressor` take an encoder as a
parameter, reuse its preprocessing, backbone and pooling, put a linear head on it and
train on skorch. They fit, predict, transform, pickle, cross-validate and search like
any scikit-learn estimator; torch, skorch and peft are imported only when they fit.
"""

from ._estimator import FineTunedClassifier, FineTunedRegressor
from ._tuned import TunedBackbone

__all__ = ["FineTunedClassifier", "FineTunedRegressor", "TunedBackbone"]
