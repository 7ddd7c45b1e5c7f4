"""MelEncoder's memory follows the audio it holds, not the longest clip times the batch.

Each case runs in a fresh interpreter and reads its peak resident memory
(``resource.getrusage``) before and after the transform that holds the long clip.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

sf = pytest.importorskip("soundfile")
pytest.importorskip("librosa")
pytest.importorskip("torch")

CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from skmm import MelEncoder

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    long_clip, short = sys.argv[1], sys.argv[2:]
    encoder = MelEncoder(cache=False, progress=False).fit(short)
    encoder.transform(short)  # imports, thread pools and filterbanks are in the baseline
    before = peak_mb()
    vectors = encoder.transform([long_clip, *short])
    print(json.dumps({"growth_mb": peak_mb() - before, "finite": bool((vectors == vectors).all())}))
    """
)


def write_clip(path, seconds, sr=16000, seed=0):
    t = np.arange(int(seconds * sr)) / sr
    noise = np.random.default_rng(seed).normal(scale=0.05, size=t.size)
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t) + noise).astype(np.float32), sr, "PCM_16")
    return str(path)


def peak_growth(tmp_path, minutes):
    long_clip = write_clip(tmp_path / "long.wav", 60 * minutes)
    short = [write_clip(tmp_path / f"short{i}.wav", 1, seed=i) for i in range(31)]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, long_clip, *short],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["finite"]
    return result["growth_mb"]


def test_a_long_clip_among_short_ones_is_not_padded_with_them(tmp_path):
    # padded together, 32 rows of 3 minutes grew the peak by 1.1 GB; now about 100-200 MB
    # (mostly the batch machinery and thread arenas, see docs/guide/audio.md)
    assert peak_growth(tmp_path, 3) < 300


@pytest.mark.slow
def test_thirty_minute_clip_stays_within_its_own_memory(tmp_path):
    # was 9.1 GB peak with 31 short clips (issue 14); measured growth about 0.4 GB
    assert peak_growth(tmp_path, 30) < 1024
