"""Reading raw inputs: images, audio and video (paths, bytes, arrays), and the batched log-mel front end."""

from skmm.io._audio_reader import read_audio
from skmm.io._faces import FaceCropper, crop_largest_face
from skmm.io._image_reader import DEFAULT_MAX_PIXELS, load_images, preprocess_image, read_image
from skmm.io._logmel import (
    deltas,
    log_mel_spectrogram,
    mel_filterbank,
    pad_batch,
    pooled_statistics,
    statistics_feature_names,
)
from skmm.io._video_audio import read_video_audio
from skmm.io._video_reader import VIDEO_SUFFIXES, is_video, read_video

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "VIDEO_SUFFIXES",
    "FaceCropper",
    "is_video",
    "crop_largest_face",
    "deltas",
    "load_images",
    "log_mel_spectrogram",
    "mel_filterbank",
    "pad_batch",
    "pooled_statistics",
    "preprocess_image",
    "read_audio",
    "read_image",
    "read_video",
    "read_video_audio",
    "statistics_feature_names",
]
