"""Deterministic sentences of varied length for the text benchmarks (no download)."""

import numpy as np

_WORDS = (
    "the a of and to in is was it that for on with as i you he she they we this film movie "
    "story great bad good terrible wonderful happy sad angry afraid surprised calm love hate "
    "really very not never always time day night people world life work home friend family "
    "music game team city country money price quality service food taste phone battery "
    "screen camera delivery order support experience feeling moment reason problem idea"
).split()


def make_sentences(n, min_words=5, max_words=120, seed=0):
    """``n`` pseudo-sentences whose lengths are uniform in [min_words, max_words] words."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_words, max_words + 1, size=n)
    return [" ".join(rng.choice(_WORDS, size=k)).capitalize() + "." for k in lengths]
