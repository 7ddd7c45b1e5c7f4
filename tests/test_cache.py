"""The embedding cache: survives clone and process boundaries, detects corruption,
never mixes models or parameters."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline

from skmm import TextEncoder, cache_info, clear_cache
from skmm.cache import cache_stats

TEXTS = [f"i feel {w} today {i}" for i, w in enumerate(["happy", "sad", "calm", "angry"] * 5)]
LABELS = [i % 2 for i in range(len(TEXTS))]


def test_clone_hits_the_cache(tiny_text_model):
    enc = TextEncoder(tiny_text_model).fit(TEXTS)
    first = enc.transform(TEXTS)
    cache_stats(reset=True)
    again = clone(enc).fit(TEXTS).transform(TEXTS)
    stats = cache_stats()
    assert stats["misses"] == 0 and stats["memory_hits"] == len(TEXTS)
    np.testing.assert_array_equal(first, again)


def test_grid_search_encodes_each_text_once(tiny_text_model):
    pipe = Pipeline([("text", TextEncoder(tiny_text_model)), ("clf", LogisticRegression())])
    cache_stats(reset=True)
    GridSearchCV(pipe, {"clf__C": [0.1, 1, 10]}, cv=4).fit(TEXTS, LABELS)
    assert cache_stats()["misses"] == len(set(TEXTS))


@pytest.mark.slow
def test_joblib_worker_processes_share_the_disk_cache(tiny_text_model):
    TextEncoder(tiny_text_model).fit(TEXTS).transform(TEXTS)
    clear_cache(disk=False)  # workers start with empty memories anyway
    pipe = Pipeline([("text", TextEncoder(tiny_text_model)), ("clf", LogisticRegression())])
    result = cross_validate(pipe, TEXTS, LABELS, cv=2, n_jobs=2)
    assert len(result["test_score"]) == 2
    assert cache_info()["disk_entries"] == len(set(TEXTS))


def _run_in_new_process(code, cache_dir):
    env = {**os.environ, "SKMM_CACHE_DIR": str(cache_dir)}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
def test_another_process_reads_the_disk_cache(tiny_text_model, tmp_path):
    cache_dir = Path(os.environ["SKMM_CACHE_DIR"])
    ours = TextEncoder(tiny_text_model).fit(TEXTS).transform(TEXTS)
    np.save(tmp_path / "ours.npy", ours)
    line = _run_in_new_process(
        f"""
        import numpy as np
        from skmm import TextEncoder
        from skmm.cache import cache_stats
        X = TextEncoder({str(tiny_text_model)!r}).fit(['x']).transform({TEXTS!r})
        same = np.array_equal(X, np.load({str(tmp_path / "ours.npy")!r}))
        print(cache_stats()['misses'], cache_stats()['disk_hits'], same)
    """,
        cache_dir,
    )
    assert line == f"0 {len(set(TEXTS))} True"


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_a_corrupt_entry_is_detected_and_recomputed(tiny_text_model, damage, caplog):
    enc = TextEncoder(tiny_text_model).fit(TEXTS)
    good = enc.transform(TEXTS[:3])
    entries = sorted(Path(cache_info()["path"]).rglob("*.npy"))
    assert len(entries) == 3
    victim = entries[0]
    blob = victim.read_bytes()
    victim.write_bytes(
        {
            "truncate": blob[: len(blob) // 2],
            "flip": blob[:-5] + bytes([blob[-5] ^ 0xFF]) + blob[-4:],
            "empty": b"",
            "garbage": os.urandom(len(blob)),
        }[damage]
    )
    clear_cache(disk=False)
    cache_stats(reset=True)
    again = enc.transform(TEXTS[:3])
    stats = cache_stats()
    assert stats["corrupt"] == 1 and stats["misses"] == 1 and stats["disk_hits"] == 2
    np.testing.assert_allclose(again, good, atol=1e-6)
    assert "corrupt" in caplog.text
    clear_cache(disk=False)
    cache_stats(reset=True)
    enc.transform(TEXTS[:3])
    assert cache_stats()["misses"] == 0  # the recomputed entry was written back whole


def test_models_and_output_params_never_collide(tiny_text_model, other_tiny_text_model):
    outputs = {
        "a-mean": TextEncoder(tiny_text_model),
        "a-cls": TextEncoder(tiny_text_model, pooling="cls"),
        "a-raw": TextEncoder(tiny_text_model, normalize=False),
        "a-short": TextEncoder(tiny_text_model, max_length=4),
        "b-mean": TextEncoder(other_tiny_text_model),
    }
    long_texts = [t + " happy sad calm" for t in TEXTS[:4]]
    results = {name: enc.fit(long_texts).transform(long_texts) for name, enc in outputs.items()}
    uncached = {
        name: clone(enc).set_params(cache=False).fit(long_texts).transform(long_texts)
        for name, enc in outputs.items()
    }
    for name in results:
        np.testing.assert_allclose(results[name], uncached[name], atol=1e-6)
    names = list(results)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not np.allclose(results[a], results[b]), (a, b)
    assert len(cache_info()["namespaces"]) == len(outputs)


def test_weights_saved_over_the_same_folder_get_a_new_identity(tmp_path):
    from conftest import build_tiny_text_model

    path = build_tiny_text_model(tmp_path / "model", seed=0)
    before = TextEncoder(path).fit(TEXTS).transform(TEXTS[:2])
    build_tiny_text_model(path, seed=5)
    after = TextEncoder(path).fit(TEXTS).transform(TEXTS[:2])
    assert not np.allclose(before, after)


def test_cache_off_and_memory_only(tiny_text_model):
    TextEncoder(tiny_text_model, cache=False).fit(TEXTS).transform(TEXTS)
    TextEncoder(tiny_text_model, cache="memory").fit(TEXTS).transform(TEXTS)
    assert cache_info()["disk_entries"] == 0
    assert cache_info()["memory_entries"] == len(set(TEXTS))


def test_cache_dir_param_info_and_clear(tiny_text_model, tmp_path):
    where = tmp_path / "elsewhere"
    TextEncoder(tiny_text_model, cache_dir=where).fit(TEXTS).transform(TEXTS)
    info = cache_info(where)
    assert info["disk_entries"] == len(set(TEXTS)) and info["disk_bytes"] > 0
    (meta,) = [ns["meta"] for ns in info["namespaces"].values()]
    assert meta["encoder"] == "TextEncoder" and meta["pooling"] == "mean"
    clear_cache(where)
    assert cache_info(where)["disk_entries"] == 0 and cache_info(where)["memory_entries"] == 0


def test_caches_in_different_folders_never_share_memory_entries(tiny_text_model, tmp_path):
    first = TextEncoder(tiny_text_model, cache_dir=tmp_path / "a").fit(TEXTS).transform(TEXTS)
    cache_stats(reset=True)
    second = TextEncoder(tiny_text_model, cache_dir=tmp_path / "b").fit(TEXTS).transform(TEXTS)
    stats = cache_stats(reset=True)
    assert stats["memory_hits"] == 0 and stats["misses"] == len(set(TEXTS))
    assert cache_info(tmp_path / "b")["disk_entries"] == len(set(TEXTS))  # written where asked
    np.testing.assert_array_equal(first, second)
    TextEncoder(tiny_text_model, cache="memory").fit(TEXTS).transform(TEXTS)
    assert cache_stats(reset=True)["misses"] == len(set(TEXTS))  # nor a memory-only cache
    TextEncoder(tiny_text_model, cache_dir=tmp_path / "a").fit(TEXTS).transform(TEXTS)
    assert cache_stats()["memory_hits"] == len(set(TEXTS))  # one folder still shares them


def test_unwritable_cache_dir_still_encodes(tiny_text_model, tmp_path, caplog):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    X = TextEncoder(tiny_text_model, cache_dir=blocker).fit(TEXTS).transform(TEXTS[:2])
    assert X.shape == (2, 32) and "cannot write" in caplog.text


def test_no_temporary_files_are_left_behind(tiny_text_model):
    TextEncoder(tiny_text_model).fit(TEXTS).transform(TEXTS)
    leftovers = [p for p in Path(cache_info()["path"]).rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
