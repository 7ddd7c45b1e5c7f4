"""A fine-tuned backbone: the pretrained one, a method, and the weights that changed.

:class:`TunedBackbone` answers what :class:`~skmm.backbones.Backbone` answers (spec,
path, ``model_id``, ``load``...), so a fitted encoder whose ``backbone_`` is one runs the
tuned weights through the encoder's own machinery: batching, the model registry, the
error policy and the cache. Its ``model_id`` adds the learned weights' fingerprint, so
the frozen encoder's cached vectors are never served for the tuned model's, nor the
reverse.
"""

import copy
import threading
import weakref
from dataclasses import dataclass, field

from .._deps import import_optional
from .._device import torch_dtype
from ..backbones import fingerprint
from ._methods import apply_method, load_trainable_state, torch_module


@dataclass(frozen=True, eq=False)
class TunedBackbone:
    """The pretrained ``base`` with ``method`` applied and ``state`` loaded into it.

    Parameters
    ----------
    base : skmm.backbones.Backbone
        The pretrained backbone (found again by fingerprint wherever it is installed).
    method : str
        ``"full"``, ``"lora"``, ``"last_layers"`` or ``"head"``.
    options : dict
        The method's options (``n_layers``, ``lora_r``...), as passed to ``apply_method``.
    state : dict of str to ndarray
        The trained parameters.
    state_fingerprint : str
        Hash of ``state``.
    """

    base: object
    method: str
    options: dict = field(default_factory=dict)
    state: dict = field(default_factory=dict)
    state_fingerprint: str = ""

    @property
    def spec(self):
        """The pretrained backbone's spec (inputs, pooling and width do not change)."""
        return self.base.spec

    @property
    def name(self):
        """The pretrained backbone's name."""
        return self.base.name

    @property
    def path(self):
        """Where the pretrained weights are."""
        return self.base.path

    @property
    def model_id(self):
        """The pretrained model's identity plus the method and learned weights' fingerprint."""
        return f"{self.base.model_id}+{self.method}:{self.state_fingerprint}"

    def input_config(self):
        """The preprocessing the weights expect (the pretrained backbone's)."""
        return self.base.input_config()

    def n_features(self, options):
        """Output width (the pretrained backbone's)."""
        return self.base.n_features(options)

    def load(self, device, dtype, *, merge=True):
        """The tuned model, built from the pretrained weights, on ``device`` in ``dtype``.

        The pretrained weights' fingerprint is checked first: different weights under
        the same name or folder are an error, never a silently different model. LoRA
        adapters are merged into the weights for inference unless ``merge=False``.
        """
        check_weights(self.base)
        model = self.base.load("cpu", "float32")
        module = torch_module(model)
        apply_method(module, self.method, **self.options)
        load_trainable_state(module, self.state)
        if merge and self.method == "lora":
            merge_lora(module)
        module.to(device=device, dtype=torch_dtype(dtype)).eval()
        for param in module.parameters():
            param.requires_grad_(False)
        return model


def check_weights(base):
    """Raise when the pretrained weights found now are not those the model was tuned on."""
    if base.folder is None or base.path is None:
        return  # shipped weights: Backbone.path already checked their fingerprint
    found = fingerprint(base.path)
    if found != base.fingerprint:
        raise ValueError(
            f"the model folder {base.folder} has changed since this estimator was fitted "
            f"(fingerprint {found}, fitted on {base.fingerprint}); its fine-tuned weights only "
            "apply to the model they were trained from. Restore that model or fit again."
        )


def merge_lora(module):
    """Fold every LoRA adapter into its base layer and put the base layer back in place."""
    peft = import_optional("peft", "method='lora'")
    for name, layer in list(module.named_modules()):
        if isinstance(layer, peft.tuners.lora.LoraLayer):
            layer.merge()
            parent_name, _, child = name.rpartition(".")
            parent = module.get_submodule(parent_name) if parent_name else module
            setattr(parent, child, layer.get_base_layer())
    return module


# Tuned models loaded in this process, each kept as long as its TunedBackbone lives: a
# fitted estimator loads its model once, pickles without it, and a search that drops its
# clones frees their models (the shared model registry would keep them all).
_LOADED = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def loaded_model(backbone, device, dtype):
    """``backbone.load(device, dtype)``, once per backbone object, device and dtype."""
    with _LOCK:
        models = _LOADED.setdefault(backbone, {})
        if (device, dtype) not in models:
            models[(device, dtype)] = backbone.load(device, dtype)
        return models[(device, dtype)]


def tuned_encoder(encoder, backbone):
    """A copy of the fitted ``encoder`` that runs ``backbone`` (a TunedBackbone) in torch."""
    view = copy.copy(encoder)
    view.backbone_ = backbone
    view.model_id_ = backbone.model_id
    view.runtime_, view.onnx_report_ = "torch", None
    view.runtime = "torch"
    view._model = lambda: loaded_model(backbone, *encoder._runtime_device())
    return view
