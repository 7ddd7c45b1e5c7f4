"""Pretrained backbones: one spec per backbone, looked up by name, and their loaders.

Torch is imported in one way only: the modules that define torch layers
(``_efficientnet_net.py``, ``_fer_net.py``) import it at their top and are themselves
imported only inside the functions that build a model, so ``import skmm`` never
imports torch.
"""

from ._efficientnet import EFFICIENTNET_LITE0_CONFIG, imagenet_classes, load_efficientnet_lite0
from ._fer import FER_CONFIG, FER_EMOTIONS, load_fer_model
from ._fingerprint import fingerprint
from ._hf_audio import load_audio_model
from ._hf_text import load_text_model, minilm_path, text_model_folder
from ._hf_vision import load_vision_model, vision_input_config
from ._spec import (
    Backbone,
    BackboneSpec,
    available_backbones,
    backbone_spec,
    register_backbone,
    resolve_backbone,
)
from ._whisper import default_whisper_path, load_whisper_encoder, whisper_embed, whisper_log_mel

__all__ = [
    "EFFICIENTNET_LITE0_CONFIG",
    "FER_CONFIG",
    "FER_EMOTIONS",
    "Backbone",
    "BackboneSpec",
    "available_backbones",
    "backbone_spec",
    "default_whisper_path",
    "fingerprint",
    "imagenet_classes",
    "load_audio_model",
    "load_efficientnet_lite0",
    "load_fer_model",
    "load_text_model",
    "load_vision_model",
    "load_whisper_encoder",
    "minilm_path",
    "register_backbone",
    "resolve_backbone",
    "text_model_folder",
    "vision_input_config",
    "whisper_embed",
    "whisper_log_mel",
]
