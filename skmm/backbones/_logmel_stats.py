"""The weightless audio backbone: pooled log-mel statistics."""

from ..io._logmel import STATISTICS
from ._spec import BackboneSpec


def _embed(model, clips, options):
    from ..io._logmel import log_mel_spectrogram, pooled_statistics

    logmel, n_frames = log_mel_spectrogram(
        clips,
        sr=options["sr"],
        n_fft=options["n_fft"],
        hop_length=options["hop_length"],
        n_mels=options["n_mels"],
        fmin=options["fmin"],
        fmax=options["fmax"],
        device=options["device"],
    )
    return pooled_statistics(logmel, n_frames)


SPECS = (
    BackboneSpec(
        "stats",
        "audio",
        load=lambda path, device, dtype: None,
        embed=_embed,
        n_features=lambda path, options: len(STATISTICS) * options["n_mels"],
        version="logmel-stats-v1",  # bump when the statistics change, so caches do not mix
        title="log-mel spectrogram statistics (no learned weights)",
        licence="none needed (computed features)",
        source="skmm",
        aliases=("logmel-stats",),
    ),
)
