"""What the shipped image classifiers (EfficientNet-Lite0, FER) share: outputs and inputs."""

import numpy as np

from .._deps import import_optional
from ._onnx import OnnxGraph

OUTPUTS = ("features", "probabilities", "both")


def classifier_embed(model, x, options):
    """Features, class probabilities or both, from one forward pass.

    Parameters
    ----------
    model : torch.nn.Module
        Has ``features(x)`` and ``features_and_logits(x)``.
    x : tensor of shape (N, C, H, W)
    options : dict
        ``options["output"]`` is one of ``"features"``, ``"probabilities"``, ``"both"``.

    Returns
    -------
    tensor of shape (N, D)

    Examples
    --------
    >>> import torch
    >>> from skmm.backbones import backbone_spec
    >>> spec = backbone_spec("efficientnet-lite0")
    >>> model = spec.load(spec.locate(), "cpu", "float32")
    >>> with torch.inference_mode():
    ...     p = spec.embed(model, torch.zeros(1, 3, 224, 224), {"output": "probabilities"})
    >>> tuple(p.shape), round(float(p.sum()), 4)
    ((1, 1000), 1.0)
    """
    output = options.get("output", "features")
    if output == "features":
        return model.features(x)
    feats, logits = model.features_and_logits(x)
    probs = logits.float().softmax(-1)
    if output == "probabilities":
        return probs
    torch = import_optional("torch")
    return torch.cat([feats.float(), probs], 1)


def classifier_width(config, options):
    """Output width of :func:`classifier_embed` for a backbone described by ``config``."""
    n_features, n_classes = config["n_features"], config["n_classes"]
    return {"features": n_features, "probabilities": n_classes, "both": n_features + n_classes}[
        options.get("output", "features")
    ]


def image_input_config(config):
    """The preprocessing part of a shipped backbone's ``config``."""
    return {
        "size": config["size"],
        "resize_shorter": config.get("resize_shorter"),
        "mean": config["mean"],
        "std": config["std"],
        "grey": config.get("grey", False),
    }


def _graph_module(model, options):
    torch = import_optional("torch")

    class ClassifierEmbedding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, pixels):
            return classifier_embed(self.model, pixels, options).float()

    return ClassifierEmbedding()


def _graph_feeds(aux, batch, options):
    return {"pixels": np.stack(batch).astype(np.float32, copy=False)}, None


def _graph_probe(aux, options):
    config = options["input"]
    channels = 1 if config.get("grey") else 3
    rng = np.random.default_rng(0)
    shape = (channels, config["size"], config["size"])
    return [rng.uniform(-1, 1, shape).astype(np.float32) for _ in range(3)]


#: The ONNX graph of the shipped image classifiers: preprocessed pixels in, output out.
CLASSIFIER_GRAPH = OnnxGraph(
    module=_graph_module, feeds=_graph_feeds, probe=_graph_probe, inputs=("pixels",)
)
