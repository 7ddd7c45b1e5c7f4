"""Claims in the shared disk cache: processes that need the same inputs at once encode
each of them once, and a claim whose owner died is taken over."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from test_encoder_base import NumberEncoder

from skmm import TextEncoder
from skmm._cache_claim import CLAIM_STALE_S, claim_state
from skmm.cache import cache_stats

TEXTS = [f"i feel {w} today {i}" for i, w in enumerate(["happy", "sad", "calm", "angry"] * 30)]


@pytest.fixture(autouse=True)
def _forget_number_calls():
    """NumberEncoder's model is shared through the registry: leave it as found."""
    yield
    NumberEncoder(cache=False).fit([1])._model()["calls"].clear()


def _write_claim(path, host, pid, age=0.0):
    Path(path).write_text(f"{host} {pid}")
    then = time.time() - age
    os.utime(path, (then, then))


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid names no process any more
    return proc.pid


def claim_state_of(folder, pid):
    path = folder / f"{pid}.claim"
    _write_claim(path, socket.gethostname(), pid)
    return claim_state(path)


def test_a_claim_is_live_while_its_owner_may_work(tmp_path):
    path = tmp_path / "k.claim"
    assert claim_state(path) == "gone"
    _write_claim(path, socket.gethostname(), os.getpid())
    assert claim_state(path) == "live"
    _write_claim(path, "another-host", 1, age=CLAIM_STALE_S / 2)
    assert claim_state(path) == "live"  # no way to see that process: its age decides


def test_a_claim_whose_owner_is_gone_is_stale(tmp_path):
    path = tmp_path / "k.claim"
    _write_claim(path, socket.gethostname(), _dead_pid())
    assert claim_state(path) == "stale"
    _write_claim(path, "another-host", 1, age=CLAIM_STALE_S + 5)
    assert claim_state(path) == "stale"
    _write_claim(path, socket.gethostname(), os.getpid(), age=CLAIM_STALE_S + 5)
    assert claim_state(path) == "stale"  # untouched that long: its owner hangs


def test_a_killed_but_unreaped_owner_is_gone(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        os.kill(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while claim_state_of(tmp_path, proc.pid) == "live" and time.monotonic() < deadline:
            time.sleep(0.05)  # until the kernel has made it a zombie
        assert claim_state_of(tmp_path, proc.pid) == "stale"
    finally:
        proc.wait()


def _keys_of(enc, items):
    return [enc._item_key(item) for item in items]


def _claim_file(enc, key):
    return enc._cache()._path(key).with_suffix(".claim")


def test_rows_another_owner_claimed_are_read_from_its_entry(tmp_path):
    """A run waits for inputs claimed elsewhere, serves the stored vectors (late
    duplicates too) and encodes only the rest."""
    enc = NumberEncoder(cache_dir=tmp_path).fit([1])
    (key,) = _keys_of(enc, [5])
    other = enc._cache()  # another encoding run: in another process, or thread
    assert other.get_or_claim([key]) == ({}, [key], [])
    model = enc._model()
    model["calls"].clear()
    rows = [5] + list(range(6, 16)) + [5]  # windows of 8: the last 5 is a late duplicate
    result = {}
    run = threading.Thread(
        target=lambda: result.update(out=enc.transform(rows, return_report=True))
    )
    run.start()
    deadline = time.monotonic() + 60
    while len(sum(model["calls"], [])) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)  # the run encodes its own ten inputs, then waits for 5
    assert run.is_alive() and sorted(sum(model["calls"], [])) == list(range(6, 16))
    other.put_many({key: np.array([-1.0, -1.0], dtype=np.float32)})  # not what 5 encodes to
    run.join(60)
    X, report = result["out"]
    np.testing.assert_array_equal(X[[0, -1]], -1.0)
    np.testing.assert_array_equal(X[1:-1, 0], np.arange(6, 16))
    assert (report.n_encoded, report.n_cached) == (10, 1)
    assert not _claim_file(enc, key).exists()


def test_a_claim_left_by_a_dead_owner_is_taken_over(tmp_path):
    enc = NumberEncoder(cache_dir=tmp_path).fit([1])
    keys = _keys_of(enc, [3, 4])
    for key in keys:
        path = _claim_file(enc, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_claim(path, socket.gethostname(), _dead_pid())
    cache_stats(reset=True)
    X, report = enc.transform([3, 4, 5], return_report=True)
    np.testing.assert_array_equal(X[:, 1], [9, 16, 25])
    assert report.n_encoded == 3 and cache_stats()["misses"] == 3
    assert not any(_claim_file(enc, key).exists() for key in keys)


def test_a_failing_input_frees_its_claim(tmp_path):
    enc = NumberEncoder(cache_dir=tmp_path, on_error="nan").fit([1])
    X = enc.transform([1013, 2])
    assert np.isnan(X[0]).all()
    assert not _claim_file(enc, enc._item_key(1013)).exists()


_ENCODE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import numpy as np
    from skmm import TextEncoder
    model, texts, go, out, reverse = sys.argv[1:6]
    texts = json.loads(Path(texts).read_text())
    enc = TextEncoder(model, batch_size=4, progress=False).fit(texts)
    enc._model()  # load before the start line: both processes then miss the cache at once
    Path(out + ".ready").touch()
    while not Path(go).exists():
        time.sleep(0.005)
    rows = texts[::-1] if reverse == "1" else texts
    X, report = enc.transform(rows, return_report=True)
    np.save(out, X[::-1] if reverse == "1" else X)
    print(report.n_encoded)
    """
)


@pytest.mark.slow
def test_two_processes_encode_shared_texts_once(tiny_text_model, tmp_path):
    texts = tmp_path / "texts.json"
    texts.write_text(__import__("json").dumps(TEXTS))
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _ENCODE, str(tiny_text_model), str(texts), str(go)]
            + [str(tmp_path / f"out{i}.npy"), str(i)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        for i in range(2)
    ]
    ready = [tmp_path / f"out{i}.npy.ready" for i in range(2)]
    deadline = time.monotonic() + 300
    while not all(path.exists() for path in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()  # both loaded: they start encoding within milliseconds of each other
    encoded = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0
        encoded.append(int(out.split()[-1]))
    assert sum(encoded) == len(set(TEXTS))  # each distinct text once, by one process
    expected = TextEncoder(tiny_text_model, cache=False).fit(TEXTS).transform(TEXTS)
    for i in range(2):
        np.testing.assert_allclose(np.load(tmp_path / f"out{i}.npy"), expected, atol=1e-5)


_HANG = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from skmm import TextEncoder
    model, started = sys.argv[1:3]

    def hang(self, model, batch):  # killed here, holding its claims
        Path(started).touch()
        time.sleep(600)

    TextEncoder._run_batch = hang
    TextEncoder(model, progress=False).fit(["x"]).transform(sys.argv[3:])
    """
)


@pytest.mark.slow
def test_a_killed_encoder_s_claims_are_taken_over(tiny_text_model, tmp_path):
    started = tmp_path / "started"
    proc = subprocess.Popen(
        [sys.executable, "-c", _HANG, str(tiny_text_model), str(started)] + TEXTS
    )
    try:
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists()
    finally:
        proc.kill()
        proc.wait()
    enc = TextEncoder(tiny_text_model, progress=False).fit(TEXTS)
    claims = list(Path(os.environ["SKMM_CACHE_DIR"]).glob("*/*/*.claim"))
    assert len(claims) == len(set(TEXTS))  # the killed process held them all

    result = {}
    run = threading.Thread(
        target=lambda: result.update(out=enc.transform(TEXTS, return_report=True))
    )
    run.start()
    run.join(120)
    assert not run.is_alive(), "waited on a dead process's claims"
    X, report = result["out"]
    assert report.n_encoded == len(set(TEXTS))
    expected = TextEncoder(tiny_text_model, cache=False).fit(TEXTS).transform(TEXTS)
    np.testing.assert_allclose(X, expected, atol=1e-5)
    assert not any(path.exists() for path in claims)
