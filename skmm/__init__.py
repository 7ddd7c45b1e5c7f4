"""skmm: scikit-learn for multimodal data."""

__version__ = "0.1.0"
