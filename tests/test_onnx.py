"""ONNX Runtime as a second runtime: export, checks against torch, storage, fallbacks, CLI."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skmm import TextEncoder

ort = pytest.importorskip("onnxruntime")

TEXTS = [
    "a happy day",
    "a sad night, really",
    "i feel so good today and it is a very very good day",
    "not calm",
    "we love it",
    "this was bad",
]


def _graphs(folder):
    return sorted(p.name for p in Path(folder).glob("*.onnx"))


def test_onnx_matches_torch_and_is_recorded(tiny_text_model, tmp_path):
    torch_enc = TextEncoder(tiny_text_model, runtime="torch", cache=False).fit(TEXTS)
    onnx_enc = TextEncoder(tiny_text_model, runtime="onnx", cache_dir=tmp_path).fit(TEXTS)
    assert torch_enc.runtime_ == "torch" and torch_enc.onnx_report_ is None
    assert onnx_enc.runtime_ == "onnx"
    report = onnx_enc.onnx_report_
    assert report["max_abs_diff"] <= 1e-4 and report["cosine_min"] > 0.9999
    assert Path(report["path"]).parent == tmp_path / "onnx"
    np.testing.assert_allclose(onnx_enc.transform(TEXTS), torch_enc.transform(TEXTS), atol=1e-4)


def test_text_graph_is_fused_into_onnxruntime_kernels(tiny_text_model, tmp_path):
    import onnx

    enc = TextEncoder(tiny_text_model, runtime="onnx", cache_dir=tmp_path).fit(TEXTS)
    fused = enc.onnx_report_["fused"]
    assert fused["Attention"] == 2 and fused["SkipLayerNormalization"] == 4  # two layers
    ops = {node.op_type for node in onnx.load(enc.onnx_report_["path"]).graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops and "Softmax" not in ops


def test_fused_graph_missing_the_tolerance_falls_back_to_the_graph_as_exported(
    tiny_text_model, tmp_path, monkeypatch
):
    import skmm.backbones._onnx_store as store

    real = store._fuse

    def wrong(source, target, kwargs):  # a fuser that breaks the graph
        counts = real(source, target, kwargs)
        import onnx

        model = onnx.load(target)
        model.graph.initializer[0].raw_data = bytes(len(model.graph.initializer[0].raw_data))
        onnx.save(model, target)
        return counts

    monkeypatch.setattr(store, "_fuse", wrong)
    torch_out = TextEncoder(tiny_text_model, runtime="torch", cache=False).fit_transform(TEXTS)
    enc = TextEncoder(tiny_text_model, runtime="onnx", cache_dir=tmp_path).fit(TEXTS)
    assert enc.runtime_ == "onnx" and enc.onnx_report_["fused"] is None
    assert enc.onnx_report_["max_abs_diff"] <= 1e-4
    np.testing.assert_allclose(enc.transform(TEXTS), torch_out, atol=1e-4)


def test_auto_uses_onnx_where_it_is_faster_unless_told_otherwise(tiny_text_model, monkeypatch):
    from skmm import ImageEncoder

    image = [np.zeros((40, 40, 3), np.uint8)]
    monkeypatch.delenv("SKMM_RUNTIME")
    assert ImageEncoder(cache=False).fit(image).runtime_ == "onnx"  # the image classifiers
    # MiniLM's graph is exact but not yet faster than the torch path: asked for, not chosen
    assert TextEncoder(tiny_text_model, cache=False).fit(TEXTS).runtime_ == "torch"
    assert TextEncoder(tiny_text_model, cache=False, runtime="onnx").fit(TEXTS).runtime_ == "onnx"
    monkeypatch.setenv("SKMM_RUNTIME", "torch")
    assert ImageEncoder(cache=False).fit(image).runtime_ == "torch"


def test_int8_is_measured_and_never_shares_the_fp32_cache(tiny_text_model, tmp_path):
    fp32 = TextEncoder(tiny_text_model, runtime="onnx", cache_dir=tmp_path).fit(TEXTS)
    int8 = TextEncoder(tiny_text_model, runtime="onnx", quantize="int8", cache_dir=tmp_path)
    int8.fit(TEXTS)
    assert 0.5 < int8.onnx_report_["int8_cosine_mean"] <= 1.0
    assert int8.onnx_report_["int8_cosine_min"] <= int8.onnx_report_["int8_cosine_mean"]
    assert fp32._cache().namespace != int8._cache().namespace
    A = fp32.transform(TEXTS)  # fills the fp32 cache first
    B = int8.transform(TEXTS)
    assert not np.allclose(A, B, atol=1e-6)  # int8 vectors were computed, not served
    assert _graphs(tmp_path / "onnx") and len(_graphs(tmp_path / "onnx")) == 2


@pytest.mark.parametrize("modality", ["text", "image"])
def test_an_int8_vector_depends_on_its_row_alone(tiny_text_model, modality, tmp_path):
    """int8 scales activations per run: a row batched with others must get its own vector."""
    if modality == "text":
        enc, rows = TextEncoder(tiny_text_model, runtime="onnx", quantize="int8"), TEXTS
    else:
        from skmm import ImageEncoder

        rng = np.random.default_rng(0)
        rows = [rng.integers(0, 256, (48 + 8 * i, 64, 3), dtype=np.uint8) for i in range(4)]
        enc = ImageEncoder(runtime="onnx", quantize="int8")
    enc.set_params(cache=False, batch_size=8).fit(rows)
    assert enc.runtime_ == "onnx"
    together = enc.transform(rows)
    alone = np.vstack([enc.transform([row]) for row in rows])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    info = json.loads(enc.export_onnx(tmp_path / "int8.onnx").with_suffix(".json").read_text())
    assert "run one row per call" in info["how_to_run"]


def test_quantize_needs_onnx_and_runtime_is_checked(tiny_text_model):
    with pytest.raises(ValueError, match="quantize"):
        TextEncoder(tiny_text_model, runtime="torch", quantize="int8").fit(TEXTS)
    with pytest.raises(ValueError, match="runtime"):
        TextEncoder(tiny_text_model, runtime="tensorrt").fit(TEXTS)
    with pytest.raises(ValueError, match="quantize"):
        TextEncoder(tiny_text_model, runtime="onnx", quantize="int4").fit(TEXTS)


def test_corrupt_graph_is_detected_and_made_again(tiny_text_model, tmp_path, caplog):
    first = TextEncoder(tiny_text_model, runtime="onnx", cache_dir=tmp_path).fit(TEXTS)
    path = Path(first.onnx_report_["path"])
    expected = first.transform(TEXTS)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    from skmm.encoders import release_models

    release_models()
    with caplog.at_level(logging.WARNING, logger="skmm"):
        again = TextEncoder(tiny_text_model, runtime="onnx", cache=False, cache_dir=tmp_path)
        again.fit(TEXTS)
    assert "truncated or corrupt" in caplog.text
    assert again.runtime_ == "onnx" and again.onnx_report_["path"] == str(path)
    np.testing.assert_allclose(again.transform(TEXTS), expected, atol=1e-6)


def test_unwritable_cache_folder_exports_to_a_temporary_place(tiny_text_model, tmp_path, caplog):
    (tmp_path / "onnx").write_text("a file where the folder should be")  # mkdir fails, as root too
    with caplog.at_level(logging.WARNING, logger="skmm"):
        enc = TextEncoder(tiny_text_model, runtime="onnx", cache=False, cache_dir=tmp_path)
        enc.fit(TEXTS)
    assert "cannot write ONNX graphs" in caplog.text
    assert enc.runtime_ == "onnx"
    assert not Path(enc.onnx_report_["path"]).is_relative_to(tmp_path)
    assert enc.transform(TEXTS).shape == (len(TEXTS), enc.n_features_out_)


def test_failed_export_falls_back_to_torch_with_the_reason(tiny_text_model, tmp_path, caplog):
    import torch

    def broken(*args, **kwargs):
        raise RuntimeError("Unsupported operator aten::made_up")

    torch_out = TextEncoder(tiny_text_model, runtime="torch", cache=False).fit_transform(TEXTS)
    with pytest.MonkeyPatch.context() as mp, caplog.at_level(logging.WARNING, logger="skmm"):
        mp.setattr(torch.onnx, "export", broken)
        enc = TextEncoder(tiny_text_model, runtime="onnx", cache_dir=tmp_path / "c").fit(TEXTS)
    assert enc.runtime_ == "torch"
    assert "aten::made_up" in enc.onnx_report_["error"] and "aten::made_up" in caplog.text
    assert list((tmp_path / "c" / "onnx").iterdir()) == []  # no half-written file is left
    np.testing.assert_allclose(enc.transform(TEXTS), torch_out, atol=1e-6)


def test_backbone_without_graph_runs_torch(tmp_path, caplog):
    from image_cases import build_tiny_vision_model

    from skmm import ImageEncoder

    folder = build_tiny_vision_model(tmp_path / "vit")
    images = [np.full((32, 32, 3), i * 30, np.uint8) for i in range(3)]
    with caplog.at_level(logging.WARNING, logger="skmm"):
        enc = ImageEncoder(folder, runtime="onnx", cache=False).fit(images)
    assert enc.runtime_ == "torch" and "no ONNX graph" in caplog.text
    assert ImageEncoder(folder, cache=False).fit(images).onnx_report_ is None  # auto: silent


def test_graph_missing_the_tolerance_is_not_used(tiny_text_model, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr("skmm.encoders._runtime.TOLERANCE", -1.0)
    with caplog.at_level(logging.WARNING, logger="skmm"):
        enc = TextEncoder(tiny_text_model, runtime="onnx", cache_dir=tmp_path).fit(TEXTS)
    assert enc.runtime_ == "torch" and "running torch instead" in caplog.text


def test_without_onnxruntime_auto_is_torch_and_onnx_says_how_to_install(
    tiny_text_model, monkeypatch
):
    import skmm.encoders._runtime as runtime

    real = runtime.import_optional

    def missing(module, purpose=None):
        if module == "onnxruntime":
            return real("onnxruntime_is_not_installed", purpose)
        return real(module, purpose)

    monkeypatch.setattr(runtime, "import_optional", missing)
    monkeypatch.delenv("SKMM_RUNTIME")
    assert TextEncoder(tiny_text_model, cache=False).fit(TEXTS).runtime_ == "torch"
    with pytest.raises(ImportError, match="pip install"):
        TextEncoder(tiny_text_model, runtime="onnx", cache=False).fit(TEXTS)


def test_exported_text_model_reproduces_transform(tmp_path):
    enc = TextEncoder(runtime="torch", cache=False).fit(TEXTS)
    path = enc.export_onnx(tmp_path / "out" / "text.onnx")
    info = json.loads(path.with_suffix(".json").read_text())
    assert info["inputs"] == ["input_ids", "attention_mask"] and info["n_features"] == 384
    assert info["input_config"]["pooling"] == "mean" and "how_to_run" in info
    from skmm.backbones._hf_text import pad_token_ids

    tokenizer, _ = enc._model()
    ids, mask = pad_token_ids(tokenizer(TEXTS, truncation=True)["input_ids"], 0)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
    np.testing.assert_allclose(out, enc.transform(TEXTS), atol=1e-4)


def test_cli_export_writes_every_encoder(tiny_text_model, tmp_path, capsys):
    from skmm.cli import main

    model = make_pipeline(TextEncoder(tiny_text_model, cache=False), LogisticRegression())
    model.fit(TEXTS, [0, 1, 0, 1, 0, 1])
    joblib.dump(model, tmp_path / "model.joblib")
    assert main(["export", str(tmp_path / "model.joblib"), str(tmp_path / "out")]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["README.txt", "textencoder.json", "textencoder.onnx"]
    assert "onnxruntime.InferenceSession" in (tmp_path / "out" / "README.txt").read_text()
    joblib.dump(LogisticRegression().fit([[0], [1]], [0, 1]), tmp_path / "plain.joblib")
    assert main(["export", str(tmp_path / "plain.joblib"), str(tmp_path / "o2")]) == 2
    assert "no fitted skmm encoder" in capsys.readouterr().err


_EXPORT_ONE = """
import sys
from skmm import TextEncoder
enc = TextEncoder(sys.argv[1], runtime="onnx", cache=False, cache_dir=sys.argv[2]).fit(["a b"])
print(enc.runtime_, enc.onnx_report_["path"])
"""


@pytest.mark.slow
def test_two_processes_exporting_at_once_leave_one_whole_file(tiny_text_model, tmp_path):
    env = {**os.environ, "SKMM_RUNTIME": "auto"}
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", _EXPORT_ONE, str(tiny_text_model), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert all(run.returncode == 0 for run in runs), [err[-2000:] for _, err in outputs]
    assert {out.split()[0] for out, _ in outputs} == {"onnx"}
    folder = tmp_path / "onnx"
    assert len(_graphs(folder)) == 1 and not [p for p in folder.iterdir() if p.name[0] == "."]
    from skmm.backbones._onnx_store import file_digest

    record = json.loads(next(folder.glob("*.json")).read_text())
    assert record["digest"] == file_digest(next(folder.glob("*.onnx")))
