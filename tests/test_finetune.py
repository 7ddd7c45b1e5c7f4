"""FineTunedClassifier / FineTunedRegressor: training, methods, persistence, cache, edges."""

import pickle

import numpy as np
import pytest
from conftest import build_tiny_text_model
from sklearn.base import clone

pytest.importorskip("skorch")
pytest.importorskip("peft")

from skmm import TextEncoder  # noqa: E402
from skmm.exceptions import EncodingError  # noqa: E402
from skmm.finetune import FineTunedClassifier, FineTunedRegressor  # noqa: E402

POSITIVE = ["a happy day", "so glad to see you", "what a lovely gift", "great news today"]
NEGATIVE = ["a sad night", "so gloomy and grey", "what a terrible loss", "awful news today"]
TEXTS = (POSITIVE + NEGATIVE) * 3
LABELS = np.array((["pos"] * 4 + ["neg"] * 4) * 3)


def _clf(**params):
    defaults = dict(max_epochs=1, batch_size=8, random_state=0, progress=False, n_threads=1)
    return FineTunedClassifier(TextEncoder(cache=False), **{**defaults, **params})


@pytest.fixture(scope="module")
def lora():
    return _clf(method="lora", max_epochs=3, head_lr=1e-2, lr=2e-3).fit(TEXTS, LABELS)


def test_lora_learns_the_training_rows_and_predicts_like_a_classifier(lora):
    assert lora.classes_.tolist() == ["neg", "pos"]
    proba = lora.predict_proba(POSITIVE + NEGATIVE)
    assert proba.shape == (8, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert lora.score(TEXTS, LABELS) == 1.0
    assert [row["epoch"] for row in lora.history_] == [1, 2, 3]
    assert lora.history_[-1]["train_loss"] < lora.history_[0]["train_loss"]
    assert lora.best_epoch_ == 3 and not lora.interrupted_


def test_transform_gives_the_tuned_embeddings_never_the_frozen_ones(lora):
    frozen = TextEncoder().fit(TEXTS)  # the disk cache is on: fill it with frozen vectors
    frozen_vectors = frozen.transform(TEXTS[:4])
    tuned = lora.transform(TEXTS[:4])
    assert tuned.shape == (4, 384) and tuned.dtype == np.float32
    assert np.abs(tuned - frozen_vectors).max() > 1e-3
    assert lora.tuned_backbone_.model_id.startswith(frozen.model_id_ + "+lora:")
    np.testing.assert_allclose(lora.transform(TEXTS[:4]), tuned, atol=1e-6)


def test_tuned_vectors_cached_under_their_own_key(tmp_path):
    clf = FineTunedClassifier(
        TextEncoder(cache=True, cache_dir=tmp_path), method="lora", max_epochs=1,
        random_state=0, progress=False, n_threads=1, lr=2e-3,
    ).fit(TEXTS, LABELS)  # fmt: skip
    frozen = TextEncoder(cache=True, cache_dir=tmp_path).fit(TEXTS)
    frozen_first = frozen.transform(TEXTS[:4])
    tuned_first = clf.transform(TEXTS[:4])
    # second calls are served by the cache: each model gets its own vectors back
    _, report = clf._encoder_view().transform(TEXTS[:4], return_report=True)
    assert report.n_cached == 4
    np.testing.assert_array_equal(clf.transform(TEXTS[:4]), tuned_first)
    np.testing.assert_array_equal(frozen.transform(TEXTS[:4]), frozen_first)
    assert np.abs(tuned_first - frozen_first).max() > 1e-4


def test_pickle_holds_what_was_learned_not_the_pretrained_weights(lora):
    blob = pickle.dumps(lora)
    assert len(blob) < 3_000_000  # MiniLM's weights are 90 MB; LoRA adapters and the head are not
    again = pickle.loads(blob)
    np.testing.assert_allclose(
        again.predict_proba(TEXTS[:5]), lora.predict_proba(TEXTS[:5]), atol=1e-5
    )


def test_same_random_state_same_model_other_state_other_model():
    a = _clf(method="lora").fit(TEXTS, LABELS)
    b = _clf(method="lora").fit(TEXTS, LABELS)
    c = _clf(method="lora", random_state=1).fit(TEXTS, LABELS)
    np.testing.assert_array_equal(a.head_weights_, b.head_weights_)
    assert a.tuned_backbone_.state_fingerprint == b.tuned_backbone_.state_fingerprint
    assert not np.array_equal(a.head_weights_, c.head_weights_)


def test_full_and_last_layers_train_what_they_say(tiny_text_model):
    enc = TextEncoder(tiny_text_model, cache=False)
    full = FineTunedClassifier(enc, method="full", progress=False, random_state=0)
    full.fit(TEXTS, LABELS)
    top = FineTunedClassifier(enc, method="last_layers", n_layers=1, progress=False, random_state=0)
    top.fit(TEXTS, LABELS)
    assert any(name.startswith("embeddings.") for name in full.tuned_backbone_.state)
    top_names = set(top.tuned_backbone_.state)
    assert top_names and all(name.startswith("encoder.layer.1.") for name in top_names)
    for clf in (full, top):
        assert clf.predict(TEXTS[:3]).shape == (3,)
        assert np.abs(clf.transform(TEXTS[:3]) - enc.fit(TEXTS).transform(TEXTS[:3])).max() > 0


def test_head_method_trains_on_the_frozen_cached_vectors(tiny_text_model):
    enc = TextEncoder(tiny_text_model)
    clf = FineTunedClassifier(enc, method="head", max_epochs=2, progress=False, random_state=0)
    clf.fit(TEXTS, LABELS)
    assert clf.tuned_backbone_ is None
    np.testing.assert_array_equal(
        clf.transform(TEXTS[:3]), clone(enc).fit(TEXTS).transform(TEXTS[:3])
    )


def test_save_pretrained_loads_back_as_a_text_encoder(lora, tmp_path):
    import transformers

    folder = lora.save_pretrained(tmp_path / "tuned")
    assert isinstance(transformers.AutoModel.from_pretrained(folder), transformers.PreTrainedModel)
    head = np.load(folder / "skmm_head.npz")
    assert head["classes"].tolist() == ["neg", "pos"]
    again = TextEncoder(folder, cache=False).fit(TEXTS).transform(TEXTS[:4])
    np.testing.assert_allclose(again, lora.transform(TEXTS[:4]), atol=1e-5)


def test_changed_pretrained_weights_are_refused(tmp_path):
    folder = tmp_path / "bert"
    build_tiny_text_model(folder, seed=0)
    clf = FineTunedClassifier(TextEncoder(folder, cache=False), method="lora", progress=False)
    blob = pickle.dumps(clf.fit(TEXTS, LABELS))
    build_tiny_text_model(folder, seed=1)  # other weights under the same folder
    again = pickle.loads(blob)
    with pytest.raises(ValueError, match="has changed since this estimator was fitted"):
        again.predict(TEXTS[:2])


def test_gradient_accumulation_equals_the_larger_batch(tiny_text_model):
    enc = TextEncoder(tiny_text_model, cache=False)
    # the head alone, without dropout: nothing random between the two runs but the order
    params = dict(method="head", dropout=0.0, max_epochs=1, warmup=0.0, progress=False,
                  random_state=0, schedule="constant")  # fmt: skip
    one = FineTunedClassifier(enc, batch_size=24, **params).fit(TEXTS, LABELS)
    two = FineTunedClassifier(enc, batch_size=12, accumulation_steps=2, **params).fit(TEXTS, LABELS)
    # one optimizer step over the same 24 rows: the same weights, up to float sums
    np.testing.assert_allclose(one.head_weights_, two.head_weights_, atol=1e-5)
    other = FineTunedClassifier(enc, batch_size=12, **params).fit(TEXTS, LABELS)
    assert np.abs(other.head_weights_ - one.head_weights_).max() > 1e-4


def test_early_stopping_keeps_the_best_epoch(tiny_text_model):
    clf = FineTunedClassifier(
        TextEncoder(tiny_text_model, cache=False), method="full", max_epochs=6, lr=5e-2,
        early_stopping=True, validation_fraction=0.25, patience=2, progress=False,
        random_state=0,
    ).fit(TEXTS, LABELS)  # fmt: skip
    losses = [row["valid_loss"] for row in clf.history_]
    assert clf.best_epoch_ == int(np.argmin(losses)) + 1


def test_a_row_that_cannot_be_encoded_names_itself_or_is_left_out_and_counted(caplog):
    texts = TEXTS[:7] + [None] + TEXTS[8:]
    with pytest.raises(EncodingError, match="row 7.*No model was trained"):
        _clf(method="lora").fit(texts, LABELS)
    with pytest.raises(EncodingError, match="row 7"):  # the frozen vectors' path
        _clf(method="head").fit(texts, LABELS)
    clf = FineTunedClassifier(
        TextEncoder(cache=False, on_error="nan"), method="lora", max_epochs=1, progress=False
    )
    with caplog.at_level("WARNING", logger="skmm"):
        clf.fit(texts, LABELS)
    assert [row["row"] for row in clf.failed_rows_] == [7]
    assert "1 of 24 training rows could not be encoded" in caplog.text
    with pytest.raises(EncodingError, match="row 1"):  # a prediction is never made up
        clf.predict(["fine", None])


def test_bad_targets_and_params_are_named(tiny_text_model):
    enc = TextEncoder(tiny_text_model, cache=False)
    with pytest.raises(ValueError, match="single class"):
        FineTunedClassifier(enc).fit(TEXTS[:4], ["a"] * 4)
    with pytest.raises(ValueError, match="max_epochs=0"):
        FineTunedClassifier(enc, max_epochs=0).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="method='adapter'"):
        FineTunedClassifier(enc, method="adapter").fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="n_layers=9"):
        FineTunedClassifier(enc, method="last_layers", n_layers=9).fit(TEXTS, LABELS)
    with pytest.raises(ValueError, match="class_weight names classes not in y"):
        FineTunedClassifier(enc, class_weight={"zzz": 2.0}).fit(TEXTS, LABELS)


def test_a_class_with_one_row_stays_in_training_with_early_stopping(tiny_text_model):
    y = LABELS.astype(object)
    y[0] = "rare"
    clf = FineTunedClassifier(
        TextEncoder(tiny_text_model, cache=False), method="head", early_stopping=True,
        max_epochs=2, class_weight="balanced", progress=False, random_state=0,
    ).fit(TEXTS, y)  # fmt: skip
    assert clf.classes_.tolist() == ["neg", "pos", "rare"]
    assert clf.predict_proba(TEXTS[:2]).shape == (2, 3)


class _Interrupt:
    """A skorch callback that presses Ctrl-C at a given epoch's first batch."""

    def __init__(self, epoch):
        self.epoch = epoch

    def initialize(self):
        return self

    def __getattr__(self, name):
        if name.startswith("on_"):
            return lambda net, **kwargs: None
        raise AttributeError(name)

    def on_batch_end(self, net, **kwargs):
        if len(net.history) == self.epoch:
            raise KeyboardInterrupt

    def get_params(self, deep=True):
        return {"epoch": self.epoch}

    def set_params(self, **params):
        return self


def test_ctrl_c_keeps_the_last_finished_epoch_or_leaves_it_unfitted(tiny_text_model, caplog):
    enc = TextEncoder(tiny_text_model, cache=False)
    clf = FineTunedClassifier(enc, method="full", max_epochs=3, batch_size=4, progress=False,
                              callbacks=[_Interrupt(epoch=2)], random_state=0)  # fmt: skip
    with caplog.at_level("WARNING", logger="skmm"):
        clf.fit(TEXTS, LABELS)
    assert clf.interrupted_ and clf.best_epoch_ == 1
    assert "keeping epoch 1" in caplog.text
    early = FineTunedClassifier(enc, method="full", max_epochs=3, progress=False,
                                callbacks=[_Interrupt(epoch=1)])  # fmt: skip
    with pytest.raises(KeyboardInterrupt, match="not fitted"):
        early.fit(TEXTS, LABELS)
    assert not hasattr(early, "encoder_")


def test_regressor_predicts_on_the_target_scale(tiny_text_model):
    y = np.array([10.0, 20.0, 30.0, 40.0] * 6)
    reg = FineTunedRegressor(
        TextEncoder(tiny_text_model, cache=False), method="full", max_epochs=2,
        progress=False, random_state=0,
    ).fit(TEXTS, y)  # fmt: skip
    pred = reg.predict(TEXTS[:4])
    assert pred.shape == (4,) and np.all((pred > 0) & (pred < 50))
    two = FineTunedRegressor(TextEncoder(tiny_text_model, cache=False), method="head",
                             progress=False).fit(TEXTS, np.c_[y, -y])  # fmt: skip
    assert two.predict(TEXTS[:3]).shape == (3, 2)


def test_a_label_only_in_the_test_fold_is_scored_not_a_crash(tiny_text_model):
    from sklearn.model_selection import KFold, cross_val_score

    y = LABELS.astype(object)
    y[-1] = "rare"  # in one test fold only: that fold's model never saw it
    clf = FineTunedClassifier(
        TextEncoder(tiny_text_model, cache=False), method="head", max_epochs=1, progress=False
    )
    scores = cross_val_score(clf, TEXTS, y, cv=KFold(3), scoring="f1_macro", error_score="raise")
    assert np.isfinite(scores).all()
    fitted = clf.fit(TEXTS[:-1], y[:-1])
    assert "rare" not in set(fitted.predict(TEXTS))


def test_bfloat16_autocast_on_the_cpu_when_asked(tiny_text_model):
    clf = FineTunedClassifier(
        TextEncoder(tiny_text_model, cache=False), method="full", precision="bfloat16",
        max_epochs=1, progress=False, random_state=0,
    ).fit(TEXTS, LABELS)  # fmt: skip
    assert np.isfinite(clf.history_[0]["train_loss"])
    assert clf.head_weights_.dtype == np.float32  # weights stay float32
    with pytest.raises(ValueError, match="precision='half'"):
        FineTunedClassifier(precision="half").fit(TEXTS, LABELS)


def test_the_head_starts_as_a_logistic_regression_on_the_frozen_vectors(tiny_text_model):
    from sklearn.linear_model import LogisticRegression

    three = np.array(["abc"[i % 8 % 3] for i in range(len(TEXTS))])  # one label per text
    enc = TextEncoder(tiny_text_model, cache=False)
    frozen = clone(enc).fit(TEXTS).transform(TEXTS).astype(np.float64)
    for labels in (three, LABELS):  # two classes: one logit difference split over two logits
        probe = LogisticRegression(max_iter=1000).fit(frozen, labels)
        clf = FineTunedClassifier(
            enc, method="head", head_lr=1e-9, max_epochs=1, dropout=0.0, progress=False,
            random_state=0,
        ).fit(TEXTS, labels)  # fmt: skip
        np.testing.assert_allclose(clf.predict_proba(TEXTS), probe.predict_proba(frozen), atol=1e-4)
        np.testing.assert_array_equal(clf.predict(TEXTS), probe.predict(frozen))
