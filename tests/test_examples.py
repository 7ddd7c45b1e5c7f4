"""The examples run and print their result line; the documentation site builds (warnings are errors)."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
EXPECTED = {
    "text_in_a_tabular_pipeline",
    "faces",
    "voices",
    "fusion_heads",
    "optuna_search",
    "imbalance",
    "missing_modalities",
    "scaling_out_with_dask",
    "writing_an_encoder",
    "video_clips",
    "fine_tuning_tweets",
}


def test_every_example_is_here_and_documented():
    assert {p.stem for p in EXAMPLES} >= EXPECTED
    docs = (ROOT / "docs" / "examples.md").read_text()
    for path in EXAMPLES:
        tree = ast.parse(path.read_text(), filename=str(path))
        doc = ast.get_docstring(tree)
        assert doc and f"Run: python examples/{path.name}" in " ".join(doc.split()), path.name
        assert f'--8<-- "examples/{path.name}"' in docs, f"{path.name} is not on the examples page"


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_prints_its_result(path, tmp_path):
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        MPLBACKEND="Agg",
        # small heads train fastest single-threaded on a shared CI machine
        OMP_NUM_THREADS="1",
    )
    done = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [line for line in done.stdout.splitlines() if line.startswith("Result: ")]
    assert len(results) == 1, done.stdout
    assert any(ch.isdigit() for ch in results[0])


@pytest.mark.slow
def test_docs_build_strict(tmp_path):
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
    if mkdocs is None:
        pytest.skip("mkdocs is not installed (pip install 'skmm[dev]')")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    site = tmp_path / "site"
    api = (site / "api" / "encoders" / "index.html").read_text()
    assert "TextEncoder" in api and "face_crop" in api  # docstrings were rendered
    assert "ColourHistogramEncoder" in (site / "examples" / "index.html").read_text()  # inlined
