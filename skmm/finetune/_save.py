"""Saving a fine-tuned backbone as a Hugging Face model folder, LoRA merged."""

from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted


def save_tuned(estimator, path):
    """Write ``estimator``'s tuned backbone (merged) and its head to the folder ``path``.

    See :meth:`FineTunedClassifier.save_pretrained`.
    """
    check_is_fitted(estimator, "encoder_")
    path = Path(path)
    backbone = estimator.tuned_backbone_ or estimator.encoder_.backbone_
    model = backbone.load("cpu", "float32")
    parts = model if isinstance(model, (tuple, list)) else (model,)
    savable = [part for part in parts if hasattr(part, "save_pretrained")]
    from ._methods import torch_module

    if not hasattr(torch_module(model), "save_pretrained"):
        raise ValueError(
            f"the {backbone.name!r} backbone is not a Hugging Face model, so it cannot be "
            "saved as one; pickle the fitted estimator instead (it holds what was learned)"
        )
    path.mkdir(parents=True, exist_ok=True)
    for part in savable:  # the model, and its tokenizer or feature extractor
        part.save_pretrained(str(path))
    head = {"weights": estimator.head_weights_, "bias": estimator.head_bias_}
    if hasattr(estimator, "classes_"):
        head["classes"] = np.asarray(estimator.classes_).astype(str)
    np.savez(path / "skmm_head.npz", **head)
    return path
