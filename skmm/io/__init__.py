"""Reading raw inputs: images and audio (paths, bytes, arrays), and the batched log-mel front end."""

from skmm.io._audio import read_audio
from skmm.io._logmel import (
    deltas,
    log_mel_spectrogram,
    mel_filterbank,
    pad_batch,
    pooled_statistics,
    statistics_feature_names,
)
