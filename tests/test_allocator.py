"""Under Dask's fixed malloc trim threshold, encoding must not fault its memory in per batch."""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

# Encode in a fresh process (malloc settings are per process)
_TESTS = os.path.dirname(os.path.abspath(__file__))
_ENCODE = (
    f"import json, sys; sys.path.insert(0, {_TESTS!r}); "
    "from page_faults import faults_per_text; print(json.dumps(faults_per_text()[1]))"
)


def _faults_per_text(**env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environ.pop("SKMM_KEEP_MALLOC", None)
    environ.update(env)
    out = subprocess.run(
        [sys.executable, "-c", _ENCODE], capture_output=True, text=True, env=environ, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_dask_trim_threshold_no_longer_faults_activations_in_per_batch():
    # Dask's nanny starts every worker with MALLOC_TRIM_THRESHOLD_=65536
    kept = _faults_per_text(MALLOC_TRIM_THRESHOLD_="65536", SKMM_KEEP_MALLOC="1")
    restored = _faults_per_text(MALLOC_TRIM_THRESHOLD_="65536")
    plain = _faults_per_text()
    # left as Dask sets it, every batch faults its activations in again
    assert restored < kept / 5, (restored, kept)
    assert restored < 3 * plain + 20, (restored, plain)


def test_nothing_changes_without_a_fixed_trim_threshold():
    code = (
        "import os; from skmm._allocator import restore_mmap_threshold; "
        "print(restore_mmap_threshold(), restore_mmap_threshold())"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ)
    assert out.stdout.split() == ["False", "False"]
    environ["MALLOC_TRIM_THRESHOLD_"] = "65536"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ)
    expected = ["True", "False"] if sys.platform.startswith("linux") else ["False", "False"]
    assert out.stdout.split() == expected
    environ["MALLOC_MMAP_THRESHOLD_"] = "131072"  # the user's own choice stands
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environ)
    assert out.stdout.split() == ["False", "False"]
