"""Fault injection on the embedding cache: swapped, foreign, old and half-written entries,
full disks, files where folders should be. The cache never serves another input's vector
and never stops an encoding."""

import errno
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest

import skmm.cache
from skmm import TextEncoder
from skmm.cache import EmbeddingCache, cache_info, cache_stats, clear_cache

TEXTS = [f"i feel {w} today {i}" for i, w in enumerate(["happy", "sad", "calm", "angry"] * 3)]


def _entries(namespace_dir):
    return sorted(Path(namespace_dir).glob("*/*.npy"))


def _namespace_dir(**params):
    """The only namespace folder whose description matches ``params``."""
    found = [
        Path(cache_info()["path"]) / name
        for name, ns in cache_info()["namespaces"].items()
        if all(ns["params"].get(k) == v for k, v in params.items())
    ]
    assert len(found) == 1, found
    return found[0]


def _fresh_transform(enc, texts):
    clear_cache(disk=False)  # only the disk layer can be damaged
    cache_stats(reset=True)
    return enc.transform(texts)


def test_entries_swapped_between_keys_are_recomputed(tiny_text_model, caplog):
    enc = TextEncoder(tiny_text_model).fit(TEXTS)
    truth = enc.transform(TEXTS)
    files = _entries(_namespace_dir())
    assert len(files) == len(TEXTS)
    blobs = [f.read_bytes() for f in files]
    for i, f in enumerate(files):  # every file now holds its neighbour's valid entry
        f.write_bytes(blobs[(i + 1) % len(files)])
    again = _fresh_transform(enc, TEXTS)
    np.testing.assert_allclose(again, truth, atol=1e-6)
    stats = cache_stats()
    assert stats["corrupt"] == len(TEXTS) and stats["disk_hits"] == 0
    assert "written for key" in caplog.text
    assert caplog.text.count("corrupt entr") == 1  # one warning for the whole call
    _fresh_transform(enc, TEXTS)
    assert cache_stats()["disk_hits"] == len(TEXTS)  # rewritten whole


def test_an_entry_of_another_configuration_of_the_same_width_is_not_served(tiny_text_model):
    mean = TextEncoder(tiny_text_model).fit(TEXTS)
    cls = TextEncoder(tiny_text_model, pooling="cls").fit(TEXTS)
    truth = mean.transform(TEXTS[:4])
    cls.transform(TEXTS[:4])
    mean_dir, cls_dir = _namespace_dir(pooling="mean"), _namespace_dir(pooling="cls")
    for f in _entries(cls_dir):  # same keys, same width, other vectors
        shutil.copyfile(f, mean_dir / f.parent.name / f.name)
    again = _fresh_transform(mean, TEXTS[:4])
    np.testing.assert_allclose(again, truth, atol=1e-6)
    assert cache_stats()["corrupt"] == 4


@pytest.mark.parametrize("on_error", ["raise", "nan"])
def test_a_wider_entry_in_a_narrower_namespace_is_recomputed(tmp_path, tiny_text_model, on_error):
    from conftest import build_tiny_text_model

    wide_model = build_tiny_text_model(tmp_path / "wide", hidden=48)
    narrow = TextEncoder(tiny_text_model, on_error=on_error).fit(TEXTS)
    truth = narrow.transform(TEXTS[:3])
    TextEncoder(wide_model).fit(TEXTS).transform(TEXTS[:3])
    dirs = {
        ns["model"]: Path(cache_info()["path"]) / name
        for name, ns in cache_info()["namespaces"].items()
    }
    (narrow_dir,) = [d for m, d in dirs.items() if str(tiny_text_model) in m]
    (wide_dir,) = [d for m, d in dirs.items() if str(wide_model) in m]
    for f in _entries(wide_dir):
        shutil.copyfile(f, narrow_dir / f.parent.name / f.name)
    clear_cache(disk=False)  # only the disk layer can be damaged
    cache_stats(reset=True)
    again, report = narrow.transform(TEXTS[:3], return_report=True)
    assert again.shape == (3, 32)
    np.testing.assert_allclose(again, truth, atol=1e-6)
    assert cache_stats()["corrupt"] == 3 and report.failed_rows == []


def test_entries_of_the_earlier_format_are_misses(tiny_text_model):
    enc = TextEncoder(tiny_text_model).fit(TEXTS)
    truth = enc.transform(TEXTS[:3])
    for f in _entries(_namespace_dir()):  # what skmm 0.x wrote: magic, payload checksum, .npy
        f.write_bytes(b"SKMMv1\n" + os.urandom(16) + b"\x93NUMPY old payload")
    again = _fresh_transform(enc, TEXTS[:3])
    np.testing.assert_allclose(again, truth, atol=1e-6)
    stats = cache_stats()
    assert stats["misses"] == 3 and stats["corrupt"] == 0 and stats["writes"] == 3
    _fresh_transform(enc, TEXTS[:3])
    assert cache_stats()["disk_hits"] == 3  # replaced in place by the new format


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_disk_counts_no_writes_and_warns_once(
    tiny_text_model, monkeypatch, caplog, code
):
    def refuse(path, blob):
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(skmm.cache, "_atomic_write", refuse)
    enc = TextEncoder(tiny_text_model, batch_size=2).fit(TEXTS)
    cache_stats(reset=True)
    with caplog.at_level(logging.WARNING, logger="skmm"):
        X = enc.transform(TEXTS)
    assert X.shape == (len(TEXTS), 32) and np.isfinite(X).all()
    stats = cache_stats()
    assert stats["writes"] == 0 and stats["failed_writes"] == len(TEXTS)
    assert caplog.text.count("cannot write") == 1  # 6 batches, one warning
    caplog.clear()
    clear_cache(disk=False)
    with caplog.at_level(logging.WARNING, logger="skmm"):
        enc.transform(TEXTS[:2])
    assert caplog.text.count("cannot write") == 1  # and again on the next call


def test_writes_count_what_reached_the_disk(tiny_text_model, monkeypatch):
    real, calls = skmm.cache._atomic_write, []

    def half_full(path, blob):  # the disk fills up halfway through
        calls.append(path)
        if len(calls) > 5:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real(path, blob)

    monkeypatch.setattr(skmm.cache, "_atomic_write", half_full)
    cache_stats(reset=True)
    TextEncoder(tiny_text_model, batch_size=4).fit(TEXTS).transform(TEXTS)
    stats = cache_stats()
    on_disk = len(_entries(_namespace_dir()))
    assert stats["writes"] == on_disk == 4  # meta.json took the first write
    assert stats["failed_writes"] == len(TEXTS) - 4


def test_temporary_files_of_a_killed_writer_are_swept(tiny_text_model):
    enc = TextEncoder(tiny_text_model).fit(TEXTS)
    enc.transform(TEXTS[:2])
    ns = _namespace_dir()
    old = [ns / "ab" / ".abc.npy.x1.tmp", ns / ".meta.json.x2.tmp"]
    young = ns / "cd" / ".cde.npy.x3.tmp"  # a writer that is still alive
    for path in [*old, young]:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"half an entry")
    hour_ago = time.time() - 3600
    for path in old:
        os.utime(path, (hour_ago, hour_ago))
    skmm.cache._SWEPT.clear()  # a new process: it sweeps each namespace once
    enc.transform(TEXTS[2:4])
    assert not any(p.exists() for p in old) and young.exists()


def test_cache_info_tells_configurations_apart(tiny_text_model):
    TextEncoder(tiny_text_model).fit(TEXTS).transform(TEXTS[:3])
    TextEncoder(tiny_text_model, pooling="cls", max_length=16).fit(TEXTS).transform(TEXTS[:2])
    by_pooling = {ns["params"]["pooling"]: ns for ns in cache_info()["namespaces"].values()}
    assert set(by_pooling) == {"mean", "cls"}
    assert by_pooling["mean"]["entries"] == 3 and by_pooling["cls"]["entries"] == 2
    cls = by_pooling["cls"]
    assert cls["encoder"] == "TextEncoder" and str(tiny_text_model) in cls["model"]
    assert cls["params"]["max_length"] == 16 and cls["bytes"] > 0
    assert "pooling=cls" in cls["summary"] and "max_length=16" in cls["summary"]
    assert "encoder" not in cls["params"] and "model" not in cls["params"]


def test_a_cache_path_that_is_a_file_is_an_error(tmp_path):
    path = tmp_path / "cache.txt"
    path.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="cache.txt.*is a file"):
        cache_info(path)
    with pytest.raises(NotADirectoryError, match="is a file"):
        clear_cache(path)


def test_a_namespace_without_description_is_listed(tmp_path):
    cache = EmbeddingCache("ns0", tmp_path)
    cache.put_many({"k": np.zeros(2, dtype=np.float32)})
    (ns,) = cache_info(tmp_path)["namespaces"].values()
    assert ns["entries"] == 1 and ns["encoder"] is None and ns["meta"] is None
    assert ns["summary"] == "unknown encoder"


def _write_entries(directory, seed):
    import numpy as np

    from skmm.cache import EmbeddingCache

    cache = EmbeddingCache("shared", directory, {"encoder": "Test"})
    keys = [f"{k:032x}" for k in np.random.default_rng(seed).permutation(200)]
    for start in range(0, 200, 20):  # batches, as an encoder writes them
        cache.put_many({k: np.full(8, int(k, 16), dtype=np.float32) for k in keys[start:][:20]})
    return len(keys)


def test_concurrent_writers_of_the_same_keys_leave_whole_entries(tmp_path):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")  # the workers only write files
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        assert list(pool.map(_write_entries, [tmp_path] * 4, range(4))) == [200] * 4
    cache_stats(reset=True)
    keys = [f"{k:032x}" for k in range(200)]
    found = EmbeddingCache("shared", tmp_path).get_many(keys)
    assert cache_stats()["disk_hits"] == 200 and cache_stats()["corrupt"] == 0
    for key, vector in found.items():
        np.testing.assert_array_equal(vector, np.full(8, int(key, 16), dtype=np.float32))
    assert list(tmp_path.rglob("*.tmp")) == []
