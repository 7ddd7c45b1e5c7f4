"""Neural fusion heads built on skorch: FusionClassifier and FusionRegressor.

torch and skorch are imported when a head is fitted, not when this package is imported.
"""

from skmm.heads._classifier import FusionClassifier
from skmm.heads._regressor import FusionRegressor

__all__ = ["FusionClassifier", "FusionRegressor"]
