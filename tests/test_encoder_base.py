"""The shared encoder base, exercised through a small encoder of numbers."""

import numpy as np
import pytest

from skmm.backbones import BackboneSpec, register_backbone, resolve_backbone
from skmm.cache import cache_stats
from skmm.encoders import BaseEncoder
from skmm.encoders._run import EncodeRun
from skmm.exceptions import EncodingError, InputError

register_backbone(
    BackboneSpec(
        "numbers",
        "numbers",
        load=lambda path, device, dtype: {"calls": [], "sizes": []},
        embed=None,
        n_features=lambda path, options: 2,
        version="v1",
    )
)


class NumberEncoder(BaseEncoder):
    """Encodes a number n into [n, n**2]; negative numbers fail while being prepared,
    1013 fails inside the model, batches larger than ``oom_above`` raise a GPU out-of-memory."""

    _threaded_prepare = True
    _window_items = 8

    def __init__(
        self,
        oom_above=None,
        batch_size=4,
        device="cpu",
        dtype="auto",
        cache=True,
        cache_dir=None,
        on_error="raise",
        progress=False,
        prefix="num_",
    ):
        self.oom_above = oom_above
        self.batch_size = batch_size
        self.device = device
        self.dtype = dtype
        self.cache = cache
        self.cache_dir = cache_dir
        self.on_error = on_error
        self.progress = progress
        self.prefix = prefix

    def _resolve_backbone(self):
        return resolve_backbone("numbers", "numbers")

    def _output_params(self):
        return {}

    def _check_item(self, item):
        if not isinstance(item, (int, np.integer)):
            raise InputError(f"not an integer: {item!r}")
        return int(item)

    def _prepare_one(self, item):
        if item < 0:
            raise InputError("negative numbers cannot be prepared")
        return item

    def _size(self, prepared):
        return prepared

    def _encode_batch(self, model, batch):
        import torch

        if self.oom_above is not None and len(batch) > self.oom_above:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        if 1013 in batch:
            raise RuntimeError("1013 breaks the model")
        model["calls"].append(list(batch))
        return np.array([[b, b * b] for b in batch], dtype=np.float32)


def _model_of(enc):
    return enc._model()


def test_encodes_in_input_order_and_dedupes():
    enc = NumberEncoder(cache=False).fit([1])
    X = enc.transform([3, 1, 3, 2, 1])
    np.testing.assert_array_equal(X[:, 0], [3, 1, 3, 2, 1])
    encoded = sorted(x for call in _model_of(enc)["calls"] for x in call)
    assert encoded == [1, 2, 3]


def test_batches_are_bucketed_by_size():
    enc = NumberEncoder(cache=False, batch_size=2).fit([1])
    _model_of(enc)["calls"].clear()
    enc.transform([1, 100, 2, 99, 3, 98])
    assert _model_of(enc)["calls"] == [[100, 99], [98, 3], [2, 1]]


def test_out_of_memory_halves_the_batch_and_goes_on(caplog):
    enc = NumberEncoder(cache=False, batch_size=8, oom_above=2).fit([1])
    X = enc.transform(list(range(20, 40)))
    np.testing.assert_array_equal(X[:, 0], np.arange(20, 40))
    assert max(len(c) for c in _model_of(enc)["calls"]) <= 2
    assert "batch size halved to 4" in caplog.text and "batch size halved to 2" in caplog.text


def test_a_row_failing_inside_the_model_is_isolated():
    enc = NumberEncoder(cache=False, on_error="nan").fit([1])
    X, report = enc.transform([11, 12, 1013, 14], return_report=True)
    assert [f["row"] for f in report.failed_rows] == [2]
    assert "1013 breaks the model" in report.failed_rows[0]["error"]
    np.testing.assert_array_equal(X[[0, 1, 3], 0], [11, 12, 14])
    assert np.isnan(X[2]).all()


def test_a_prepare_failure_late_in_a_long_job_keeps_earlier_rows():
    rows = list(range(1, 41)) + [-5] + list(range(41, 60))
    enc = NumberEncoder().fit(rows)
    with pytest.raises(EncodingError, match="row 40: negative numbers") as info:
        enc.transform(rows)
    assert info.value.row == 40
    cache_stats(reset=True)
    X = enc.transform(list(range(1, 41)))
    assert cache_stats()["misses"] == 0
    np.testing.assert_array_equal(X[:, 0], np.arange(1, 41))


def test_every_failing_row_is_listed_with_its_duplicates():
    enc = NumberEncoder(on_error="zero", cache=False).fit([1])
    X, report = enc.transform([-1, 5, -1, "x"], return_report=True)
    assert [(f["row"], f["error"][:12]) for f in report.failed_rows] == [
        (0, "negative num"),
        (2, "negative num"),
        (3, "not an integ"),
    ]
    np.testing.assert_array_equal(X[[0, 2, 3]], 0.0)


def test_prefetching_many_chunks_keeps_every_row():
    enc = NumberEncoder(cache=False, batch_size=3).fit([1])
    X = enc.transform(list(range(100)))
    np.testing.assert_array_equal(X[:, 1], np.arange(100) ** 2)


def test_device_and_dtype_are_resolved_in_fit_only():
    import torch

    enc = NumberEncoder(device="auto", dtype="auto")
    assert not hasattr(enc, "device_")
    enc.fit([1])
    if torch.cuda.is_available():  # on a GPU machine; tests/test_cuda.py checks that path
        assert enc.device_ == "cuda" and enc.dtype_ in ("bfloat16", "float16")
    else:
        assert (enc.device_, enc.dtype_) == ("cpu", "float32")
        with pytest.raises(ValueError, match="no CUDA GPU"):
            NumberEncoder(device="cuda").fit([1])
    with pytest.raises(ValueError, match="dtype"):
        NumberEncoder(dtype="int8").fit([1])


def test_out_of_memory_at_batch_size_one_is_raised():
    import torch

    enc = NumberEncoder(cache=False, batch_size=1, oom_above=0).fit([1])
    with pytest.raises(torch.OutOfMemoryError):
        enc.transform([1, 2])


def test_cpu_streams_keep_order_and_restore_the_thread_budget():
    import threading

    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        enc = NumberEncoder(cache=False, batch_size=2, on_error="nan").fit([1])
        seen = set()
        original = enc._encode_batch

        def spy(model, batch):
            seen.add((threading.get_ident(), torch.get_num_threads()))
            return original(model, batch)

        enc._encode_batch = spy
        X, report = enc.transform(list(range(1, 41)) + [1013], return_report=True)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(previous)
    np.testing.assert_array_equal(X[:40, 0], np.arange(1, 41))
    assert np.isnan(X[40]).all() and [f["row"] for f in report.failed_rows] == [40]
    streams = {(ident, n) for ident, n in seen if ident != threading.main_thread().ident}
    assert len(streams) >= 2 and {n for _, n in streams} == {1}


def test_one_thread_budget_means_one_stream():
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert EncodeRun(NumberEncoder().fit([1]), [], None)._cpu_streams() == 1
    finally:
        torch.set_num_threads(previous)
