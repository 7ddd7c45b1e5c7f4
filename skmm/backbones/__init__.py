"""Pretrained torch backbones and the loaders of their shipped weights."""

from skmm.backbones._efficientnet import (
    EFFICIENTNET_LITE0_CONFIG,
    imagenet_classes,
    load_efficientnet_lite0,
)
from skmm.backbones._fer import FER_CONFIG, FER_EMOTIONS, load_fer_model
from skmm.backbones._hf_audio import (
    audio_model_embed,
    load_audio_model,
    masked_mean,
    min_input_length,
)
from skmm.backbones._hf_vision import load_vision_model, vision_embed, vision_input_config
from skmm.backbones._whisper import (
    default_whisper_path,
    load_whisper_encoder,
    read_ctranslate2,
    whisper_embed,
    whisper_log_mel,
)

__all__ = [
    "EFFICIENTNET_LITE0_CONFIG",
    "FER_CONFIG",
    "FER_EMOTIONS",
    "audio_model_embed",
    "default_whisper_path",
    "imagenet_classes",
    "load_audio_model",
    "load_efficientnet_lite0",
    "load_fer_model",
    "load_vision_model",
    "load_whisper_encoder",
    "masked_mean",
    "min_input_length",
    "read_ctranslate2",
    "vision_embed",
    "vision_input_config",
    "whisper_embed",
    "whisper_log_mel",
]
