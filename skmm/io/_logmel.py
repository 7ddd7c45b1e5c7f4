"""Batched log-mel spectrograms in torch, and per-band statistics pooled over valid frames.

The front end reproduces ``np.log(librosa.feature.melspectrogram(y=y, sr=sr, ...) + 1e-6)``
(power 2, Hann window, ``center=True`` with librosa's default ``pad_mode="constant"``,
Slaney mel filters) for a whole batch of variable-length clips: the clips are framed,
windowed and transformed with ``torch.fft.rfft`` (what ``torch.stft`` does) in chunks
that fit the CPU cache, or in one go on a GPU.

Zero-padding a clip at its end does not change its own frames: with constant (zero)
centring, frame ``t`` of a clip with ``n`` samples only reads samples up to
``t * hop_length + n_fft // 2``, which are zeros past ``n`` in both cases. So the
first ``1 + n // hop_length`` frames of each row equal the clip's own spectrogram, and
the frame counts returned alongside let pooling ignore the rest.
"""

import functools

import numpy as np

from skmm._deps import import_optional

#: Added to the mel power before the natural log, so silence maps to log(1e-6) ~ -13.8
#: instead of -inf; small next to speech at normal levels (mel power ~1e-3 and above).
LOG_OFFSET = 1e-6

#: The pooled statistics, in output order: four over the log-mel frames, two over its deltas.
STATISTICS = ("mean", "std", "min", "max", "delta_mean", "delta_std")

_DEVICE_BANKS = {}
# Frames per CPU chunk, in float32 values (2 MiB).
_CPU_CHUNK_FLOATS = 1 << 19
# Windowed samples per GPU chunk (256 MiB of float32).
_GPU_CHUNK_FLOATS = 1 << 26
# Frames per block of the pooled statistics, times rows and bands (4 MiB of float32).
_STATS_BLOCK_FLOATS = 1 << 20
_BANDS_PER_BLOCK = 8
_DELTA_WIDTH = 2


@functools.lru_cache(maxsize=16)
def mel_filterbank(sr, n_fft, n_mels, fmin=0.0, fmax=None):
    """Librosa's Slaney mel filterbank, shape ``(n_mels, 1 + n_fft // 2)``, float32 (cached).

    Examples
    --------
    >>> from skmm.io import mel_filterbank
    >>> mel_filterbank(16000, 400, 64).shape
    (64, 201)
    """
    librosa = import_optional("librosa", "mel filterbanks")
    bank = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    bank.setflags(write=False)
    return bank


def _mel_blocks(device, sr, n_fft, n_mels, fmin, fmax):
    """The filterbank as blocks of 8 adjacent bands, each with only the bins it touches.

    A mel filter covers a few neighbouring FFT bins, so the dense bank is ~95% zeros;
    multiplying block by block does the same sums with far fewer operations.
    """
    torch = import_optional("torch", "the log-mel front end")
    key = (str(device), sr, n_fft, n_mels, fmin, fmax)
    blocks = _DEVICE_BANKS.get(key)
    if blocks is None:
        bank = torch.from_numpy(np.array(mel_filterbank(sr, n_fft, n_mels, fmin, fmax)))
        blocks = []
        for first in range(0, n_mels, _BANDS_PER_BLOCK):
            part = bank[first : first + _BANDS_PER_BLOCK]
            bins = part.any(0).nonzero().flatten()
            if bins.numel():  # empty filters (too many mels for n_fft) stay at zero power
                lo, hi = int(bins[0]), int(bins[-1]) + 1
                blocks.append(
                    (first, first + len(part), lo, hi, part[:, lo:hi].T.contiguous().to(device))
                )
        _DEVICE_BANKS[key] = blocks
    return blocks


def pad_batch(waveforms, device="cpu"):
    """Stack 1-D waveforms into a zero-padded ``(B, max_len)`` float32 tensor on ``device``.

    Returns the batch and the clip lengths in samples as a ``(B,)`` int64 tensor.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io import pad_batch
    >>> batch, lengths = pad_batch([np.ones(3), np.ones(5)])
    >>> tuple(batch.shape), lengths.tolist()
    ((2, 5), [3, 5])
    """
    torch = import_optional("torch", "the log-mel front end")
    lengths = np.array([len(w) for w in waveforms], dtype=np.int64)
    batch = np.zeros((len(waveforms), int(lengths.max(initial=1))), dtype=np.float32)
    for row, w in zip(batch, waveforms):
        row[: len(w)] = np.asarray(w, dtype=np.float32)
    return torch.from_numpy(batch).to(device), torch.from_numpy(lengths).to(device)


def log_mel_spectrogram(
    waveforms, *, sr, n_fft=400, hop_length=160, n_mels=64, fmin=0.0, fmax=None, device="cpu"
):
    """Log-mel spectrograms of variable-length clips, computed as one batch.

    Parameters
    ----------
    waveforms : list of 1-D arrays, or a (B, n_samples) tensor
        Mono waveforms sampled at ``sr``, each with at least one sample. A list is
        zero-padded to its longest clip.
    sr : int
        Sampling rate in Hz.
    n_fft, hop_length : int
        STFT window (also the FFT size) and hop, in samples.
    n_mels : int
        Number of mel bands.
    fmin, fmax : float
        Lowest and highest filter frequencies in Hz (``fmax=None`` is ``sr / 2``).
    device : str or torch.device
        Where to compute (``"cpu"``, ``"cuda"``, ...).

    Returns
    -------
    logmel : tensor of shape (B, n_mels, n_frames_max), float32
        ``log(mel_power + 1e-6)``; frames past a clip's end hold ``log(1e-6)``.
    n_frames : tensor of shape (B,), int64
        Valid frames per clip: ``1 + n_samples // hop_length`` for an even ``n_fft``
        (librosa's count), at least 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io import log_mel_spectrogram
    >>> clips = [np.zeros(16000, np.float32), np.zeros(4000, np.float32)]
    >>> logmel, n_frames = log_mel_spectrogram(clips, sr=16000)
    >>> tuple(logmel.shape), n_frames.tolist()
    ((2, 64, 101), [101, 26])
    """
    torch = import_optional("torch", "the log-mel front end")
    if isinstance(waveforms, torch.Tensor):
        batch = waveforms.to(device=device, dtype=torch.float32)
        lengths = torch.full((batch.shape[0],), batch.shape[-1], dtype=torch.int64, device=device)
    else:
        batch, lengths = pad_batch(waveforms, device)
    half = n_fft // 2
    n_frames = (lengths + 2 * half - n_fft) // hop_length + 1
    n_steps = (batch.shape[-1] + 2 * half - n_fft) // hop_length + 1
    window = torch.hann_window(n_fft, periodic=True, device=batch.device)
    blocks = _mel_blocks(batch.device, sr, n_fft, n_mels, fmin, fmax)
    out = torch.zeros((batch.shape[0], n_steps, n_mels), device=batch.device)
    # chunks of rows and frames whose windowed frames fit in the CPU cache (2-4x faster),
    # or in a bounded GPU buffer: a long clip never holds all its frames at once
    budget = _CPU_CHUNK_FLOATS if batch.device.type == "cpu" else _GPU_CHUNK_FLOATS
    steps = max(1, min(n_steps, budget // n_fft))
    rows = max(1, budget // (steps * n_fft))
    for start in range(0, batch.shape[0], rows):
        for first_step in range(0, n_steps, steps):
            last_step = min(first_step + steps, n_steps)
            chunk = _padded_samples(
                batch[start : start + rows],
                first_step * hop_length - half,
                (last_step - 1) * hop_length - half + n_fft,
            )
            spec = torch.fft.rfft(chunk.unfold(-1, n_fft, hop_length) * window)
            power = spec.real.square() + spec.imag.square()
            for first, last, lo, hi, weights in blocks:
                out[start : start + rows, first_step:last_step, first:last] = torch.matmul(
                    power[..., lo:hi], weights
                )
    logmel = out.add_(LOG_OFFSET).log_().transpose(1, 2)
    valid = torch.arange(n_steps, device=logmel.device) < n_frames[:, None]
    logmel.masked_fill_(~valid[:, None, :], float(np.log(LOG_OFFSET)))
    return logmel, n_frames


def _padded_samples(batch, begin, end):
    """Samples ``begin:end`` of each row, zeros outside the row (librosa's constant centring)."""
    torch = import_optional("torch", "the log-mel front end")
    length = batch.shape[-1]
    part = batch[..., max(begin, 0) : max(min(end, length), 0)]
    left = max(-begin, 0)
    return torch.nn.functional.pad(part, (left, end - begin - left - part.shape[-1]))


def deltas(features, n_frames, width=2):
    """Regression deltas over time, replicating each clip's own edge frames.

    ``d_t = sum_k k (c_{t+k} - c_{t-k}) / (2 sum_k k^2)`` for ``k = 1..width`` (the HTK
    formula); indices beyond a clip's first or last valid frame are clamped to it, so
    padding never leaks in. A one-frame clip has zero deltas.

    Parameters
    ----------
    features : tensor of shape (B, n_features, T)
    n_frames : tensor of shape (B,), valid frames per row.
    width : int
        Frames on each side.

    Returns
    -------
    tensor of shape (B, n_features, T)

    Examples
    --------
    >>> import torch
    >>> from skmm.io import deltas
    >>> ramp = torch.arange(6.0).reshape(1, 1, 6)
    >>> deltas(ramp, torch.tensor([6]))[0, 0, 2:4].tolist()
    [1.0, 1.0]
    """
    torch = import_optional("torch", "deltas")
    steps = torch.arange(features.shape[-1], device=features.device)[None, :]
    last = (n_frames[:, None] - 1).clamp(min=0)
    out = torch.zeros_like(features)
    shape = features.shape
    for k in range(1, width + 1):
        ahead = torch.minimum(steps + k, last).expand(shape[0], -1)
        behind = torch.minimum((steps - k).clamp(min=0), last).expand(shape[0], -1)
        ahead = features.gather(2, ahead[:, None, :].expand(shape))
        behind = features.gather(2, behind[:, None, :].expand(shape))
        out += k * (ahead - behind)
    return out / (2 * sum(k * k for k in range(1, width + 1)))


def pooled_statistics(logmel, n_frames):
    """Per-band mean, std, min, max over valid frames, then mean and std of the deltas.

    Parameters
    ----------
    logmel : tensor of shape (B, n_mels, T)
    n_frames : tensor of shape (B,), valid frames per row (at least 1).

    Returns
    -------
    tensor of shape (B, 6 * n_mels), float32
        Blocks of ``n_mels`` columns in the order of :data:`STATISTICS`; the standard
        deviations are population ones (``ddof=0``, as ``np.std``), zero for one frame.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.io import log_mel_spectrogram, pooled_statistics
    >>> logmel, n_frames = log_mel_spectrogram([np.ones(800, np.float32)], sr=16000, n_mels=8)
    >>> tuple(pooled_statistics(logmel, n_frames).shape)
    (1, 48)
    """
    torch = import_optional("torch", "pooled statistics")
    logmel = logmel.float()
    count = n_frames.to(logmel.dtype)[:, None]
    n_steps = logmel.shape[-1]
    # blocks of frames, so a long clip's temporaries stay small; two passes (the spread
    # around the mean found first), as np.std does
    step = max(1, min(n_steps, _STATS_BLOCK_FLOATS // max(1, logmel.shape[0] * logmel.shape[1])))
    spans = [(lo, min(lo + step, n_steps)) for lo in range(0, n_steps, step)]

    def blocks():
        for lo, hi in spans:
            valid = (torch.arange(lo, hi, device=logmel.device) < n_frames[:, None])[:, None, :]
            # the deltas of frames lo:hi read _DELTA_WIDTH frames on each side
            first = max(lo - _DELTA_WIDTH, 0)
            last = min(hi + _DELTA_WIDTH, n_steps)
            inside = (n_frames - first).clamp(max=last - first)  # frames in the slice
            delta = deltas(logmel[..., first:last], inside, _DELTA_WIDTH)
            yield logmel[..., lo:hi], delta[..., lo - first : hi - first], valid

    sums = [0.0, 0.0]
    low = high = None
    for x, delta, valid in blocks():
        sums[0] = sums[0] + (x * valid).sum(-1)
        sums[1] = sums[1] + (delta * valid).sum(-1)
        block_low = x.masked_fill(~valid, float("inf")).amin(-1)
        block_high = x.masked_fill(~valid, float("-inf")).amax(-1)
        low = block_low if low is None else torch.minimum(low, block_low)
        high = block_high if high is None else torch.maximum(high, block_high)
    mean, d_mean = sums[0] / count, sums[1] / count
    spread = [0.0, 0.0]
    for x, delta, valid in blocks():
        spread[0] = spread[0] + (((x - mean[..., None]) * valid) ** 2).sum(-1)
        spread[1] = spread[1] + (((delta - d_mean[..., None]) * valid) ** 2).sum(-1)
    std, d_std = (spread[0] / count).sqrt(), (spread[1] / count).sqrt()
    return torch.cat([mean, std, low, high, d_mean, d_std], dim=1)


def statistics_feature_names(n_mels):
    """Names of :func:`pooled_statistics` columns: ``"logmel_mean_0"``, ... ``"logmel_delta_std_63"``.

    Examples
    --------
    >>> from skmm.io import statistics_feature_names
    >>> statistics_feature_names(2)[:3]
    ['logmel_mean_0', 'logmel_mean_1', 'logmel_std_0']
    """
    return [f"logmel_{stat}_{band}" for stat in STATISTICS for band in range(n_mels)]
