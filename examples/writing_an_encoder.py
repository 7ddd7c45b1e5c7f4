"""Writing your own encoder: colour histograms of images, on skmm's encoder base.

A new encoder is a backbone spec (what computes the vectors) plus a small class that
says how to check one row, prepare it and encode a batch. The base gives it the rest:
file reading (each file read once, in threads), the content-keyed cache, deduplication,
``on_error``, progress, the report of each call and the scikit-learn contract.
Run: python examples/writing_an_encoder.py
"""

import math
import os

import numpy as np

from skmm.backbones import BackboneSpec, register_backbone, resolve_backbone
from skmm.encoders import BaseEncoder
from skmm.exceptions import InputError
from skmm.io import read_image

# 1. The backbone: here nothing to load, and a width that follows a parameter.
register_backbone(
    BackboneSpec(
        "colour-histogram",
        "image-statistics",
        load=lambda path, device, dtype: None,
        embed=None,
        n_features=lambda path, options: 3 * options["bins"],
        version="1",  # bump it when the computation changes: old cached vectors are not served
    )
)


# 2. The encoder: parameters stored unchanged, and the hooks the base asks for.
class ColourHistogramEncoder(BaseEncoder):
    """Per-channel colour histograms of images (3 * bins features, each channel sums to 1)."""

    _modality = "image"
    _file_kind = "image file"
    _inputs_are_paths = True  # a str row is a path: read once, hashed, decoded in threads
    _threaded_prepare = True

    def __init__(
        self,
        bins=16,
        *,
        batch_size=64,
        device="cpu",
        dtype="auto",
        cache=True,
        cache_dir=None,
        on_error="raise",
        progress="auto",
        prefix="hist_",
        n_threads=None,
    ):
        self.bins = bins
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.cache = cache
        self.cache_dir = cache_dir
        self.on_error = on_error
        self.progress = progress
        self.prefix = prefix
        self.n_threads = n_threads

    def _resolve_backbone(self):
        return resolve_backbone("image-statistics", "colour-histogram")

    def _output_params(self):
        return {"bins": int(self.bins)}  # everything that changes the output: the cache key

    def _check_item(self, item):
        if isinstance(item, (str, os.PathLike, bytes, np.ndarray)):
            return item
        if item is None or (isinstance(item, float) and math.isnan(item)):
            raise InputError(f"the image is missing ({item!r})")
        raise InputError(f"expected an image path, bytes or array, got {type(item).__name__}")

    def _prepare_one(self, item):
        image = read_image(item, target_size=64)  # InputError names what is wrong with a file
        edges = np.linspace(0, 256, self.bins + 1)
        counts = [np.histogram(image[..., c], bins=edges)[0] for c in range(3)]
        return np.concatenate(counts) / (image.shape[0] * image.shape[1])

    def _encode_batch(self, model, batch):
        return np.asarray(batch, dtype=np.float32)


if __name__ == "__main__":
    from skimage import data
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    images = [data.astronaut(), data.coffee(), data.chelsea(), data.rocket()] * 5
    labels = [0, 1, 1, 0] * 5
    pipe = make_pipeline(ColourHistogramEncoder(bins=8, cache=False), LogisticRegression())
    pipe.fit(images, labels)
    lenient = ColourHistogramEncoder(bins=8, on_error="nan", cache=False).fit(images)
    _, report = lenient.transform(images + [None], return_report=True)
    print(
        f"Result: {pipe[0].n_features_out_} features per image, training accuracy "
        f"{pipe.score(images, labels):.2f}, failed rows {[f['row'] for f in report.failed_rows]}"
    )
