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
from skmm.backbones._whisper import (
    default_whisper_path,
    load_whisper_encoder,
    read_ctranslate2,
    whisper_embed,
    whisper_log_mel,
)
from skmm.backbones._hf_vision import load_vision_model, vision_embed, vision_input_config
