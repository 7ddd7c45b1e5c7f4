"""Tests of the skorch fusion heads on numeric blocks generated here (no encoders)."""

import pickle

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn.base import clone  # noqa: E402
from sklearn.metrics import accuracy_score, recall_score  # noqa: E402
from skorch.callbacks import Callback  # noqa: E402

from skmm.heads import FusionClassifier, FusionRegressor  # noqa: E402

MODALITIES = ("text", "image", "audio")
FAST = dict(hidden_size=32, max_epochs=30, batch_size=64, lr=3e-3, random_state=0)


def make_views(n, signal=0.45, dims=(8, 8, 8), n_classes=3, seed=0, missing=True):
    """Each modality sees the class through its own noise: each is informative, none is enough."""
    rng = np.random.RandomState(seed)
    centers = [
        np.random.RandomState(100 + m).normal(size=(n_classes, d)) for m, d in enumerate(dims)
    ]
    y = rng.randint(n_classes, size=n)
    columns = {}
    for name, c in zip(MODALITIES, centers, strict=True):
        block = signal * c[y] + rng.normal(size=(n, c.shape[1]))
        for j in range(c.shape[1]):
            columns[f"{name}__f{j}"] = block[:, j]
        if missing:
            columns[f"{name}__missing"] = np.zeros(n)
    return pd.DataFrame(columns), y


def drop_modality(X, name):
    X = X.copy()
    X[[c for c in X.columns if c.startswith(f"{name}__f")]] = 0.0
    X[f"{name}__missing"] = 1.0
    return X


@pytest.fixture(scope="module")
def views():
    X, y = make_views(1200)
    return X[:600], y[:600], X[600:], y[600:]


def test_blocks_are_read_from_column_names(views):
    X, y, _, _ = views
    clf = FusionClassifier(max_epochs=1, hidden_size=8, random_state=0).fit(X, y)
    names = [name for name, _, _ in clf.blocks_]
    assert names == list(MODALITIES)
    text = clf.blocks_[0]
    assert text[1] == list(range(8)) and text[2] == X.columns.get_loc("text__missing")
    assert list(clf.feature_names_in_) == list(X.columns)
    assert clf.device_ == ("cuda" if torch.cuda.is_available() else "cpu")


def test_explicit_blocks_and_plain_arrays(views):
    X, y, _, _ = views
    array = X.to_numpy()
    clf = FusionClassifier(max_epochs=1, hidden_size=8, random_state=0)
    assert clf.fit(array, y).blocks_ == [("all", list(range(array.shape[1])), None)]
    spec = {"a": slice(0, 8), "b": {"features": [9, 10], "missing": 8}}
    assert clf.set_params(blocks=spec).fit(array, y).blocks_ == [
        ("a", list(range(8)), None),
        ("b", [9, 10], 8),
    ]
    by_name = {"text": ["text__f0", "text__f1"], "audio": ["audio__f0"]}
    assert [b[1] for b in clf.set_params(blocks=by_name).fit(X, y).blocks_] == [[0, 1], [18]]
    with pytest.raises(ValueError, match="out of range"):
        clf.set_params(blocks={"a": [0, 99]}).fit(array, y)
    with pytest.raises(ValueError, match="column name"):
        clf.set_params(blocks={"a": ["nope"]}).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(head="lstm"), "head"),
        (dict(modality_dropout=1.0), "modality_dropout"),
        (dict(n_threads=0), "n_threads"),
        (dict(alignment="l2"), "alignment"),
        (dict(early_stopping=-1), "early_stopping"),
        (dict(optimizer="lbfgs"), "optimizer"),
        (dict(validation_fraction=1.5), "validation"),
    ],
)
def test_bad_parameters_raise_at_fit(views, params, match):
    X, y, _, _ = views
    with pytest.raises(ValueError, match=match):
        FusionClassifier(**params).fit(X, y)


@pytest.mark.slow
def test_fusion_beats_every_single_modality(views):
    X, y, X_test, y_test = views
    fused = accuracy_score(y_test, FusionClassifier(**FAST).fit(X, y).predict(X_test))
    single = {}
    for name in MODALITIES:
        cols = [c for c in X.columns if c.startswith(f"{name}__")]
        clf = FusionClassifier(**FAST).fit(X[cols], y)
        single[name] = accuracy_score(y_test, clf.predict(X_test[cols]))
    assert fused > max(single.values()) + 0.05, (fused, single)


@pytest.mark.slow
@pytest.mark.parametrize("head", ["mlp", "gated", "attention"])
def test_modality_dropout_keeps_score_when_a_modality_is_absent(views, head):
    X, y, X_test, y_test = views
    chance = 1 / 3
    scores = {}
    for p in (0.0, 0.3):
        clf = FusionClassifier(head=head, modality_dropout=p, n_heads=2, **FAST).fit(X, y)
        # each modality in turn: indicator set to 1 and its block zeroed
        absent = np.mean([clf.score(drop_modality(X_test, m), y_test) for m in MODALITIES])
        scores[p] = (clf.score(X_test, y_test), absent)
    full, absent = scores[0.3]
    assert absent - chance >= 0.8 * (full - chance), scores
    if head != "mlp":
        # the mlp head already copes here: an untrained, near-zero missing embedding is a
        # neutral input to its concat layer; gates and attention need to learn absence
        assert absent > scores[0.0][1] + 0.03, scores


def test_class_weight_and_balanced_sampler_raise_minority_recall():
    rng = np.random.RandomState(0)
    y = (rng.rand(1000) < 0.1).astype(int)
    X = rng.normal(size=(1000, 4)) + 0.8 * y[:, None]
    Xtr, ytr, Xte, yte = X[:500], y[:500], X[500:], y[500:]
    settings = dict(FAST, max_epochs=15)

    def minority_recall(**params):
        clf = FusionClassifier(**settings, **params).fit(Xtr, ytr)
        return recall_score(yte, clf.predict(Xte))

    plain = minority_recall()
    assert minority_recall(class_weight="balanced") > plain + 0.2
    assert minority_recall(balanced_sampler=True) > plain + 0.2
    # sample_weight really weights the loss: up-weighting the minority has the same effect
    assert minority_recall(class_weight=None) == plain
    clf = FusionClassifier(**settings).fit(Xtr, ytr, sample_weight=np.where(ytr == 1, 9.0, 1.0))
    assert recall_score(yte, clf.predict(Xte)) > plain + 0.2


def test_sample_weight_changes_the_fit(views):
    X, y, X_test, _ = views
    settings = dict(FAST, max_epochs=5)
    base = FusionClassifier(**settings).fit(X, y).predict_proba(X_test)
    ones = FusionClassifier(**settings).fit(X, y, sample_weight=np.ones(len(y)))
    ones = ones.predict_proba(X_test)
    np.testing.assert_allclose(ones, base, rtol=1e-5, atol=1e-6)
    weights = np.random.RandomState(1).exponential(size=len(y))
    weighted = FusionClassifier(**settings).fit(X, y, sample_weight=weights).predict_proba(X_test)
    assert np.abs(weighted - base).max() > 0.01
    with pytest.raises(ValueError, match="sample_weight"):
        FusionClassifier(**settings).fit(X, y, sample_weight=-np.ones(len(y)))


def test_early_stopping_stops_on_a_plateau(views):
    X, _, _, _ = views
    noise = np.random.RandomState(3).randint(3, size=len(X))  # labels carry no signal
    clf = FusionClassifier(**dict(FAST, max_epochs=200), early_stopping=3).fit(X, noise)
    assert clf.n_epochs_ < 200
    history = clf.net_.history
    assert len(history) == clf.n_epochs_ and "valid_loss" in history[-1]
    assert "valid_acc" in history[-1]


def test_validation_without_early_stopping_and_extra_callbacks(views):
    X, y, _, _ = views

    class CountEpochs(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1

    counter = CountEpochs()
    clf = FusionClassifier(
        **dict(FAST, max_epochs=4), validation_fraction=0.2, callbacks=[counter]
    ).fit(X, y)
    assert counter.epochs_ == 4 == clf.n_epochs_
    assert all("valid_acc" in row for row in clf.net_.history)


def make_pairs(n, seed=0):
    """Two modalities that share a per-sample latent (as paired recordings do), plus a label."""
    rng = np.random.RandomState(seed)
    latent = rng.normal(size=(n, 4))
    views = [
        latent @ np.random.RandomState(10 + m).normal(size=(4, 8)) + 0.3 * rng.normal(size=(n, 8))
        for m in range(2)
    ]
    columns = [f"{m}__f{j}" for m in ("text", "audio") for j in range(8)]
    X = pd.DataFrame(np.hstack(views), columns=columns)
    return X, (latent[:, 0] > 0).astype(int)


def _alignment_stats(clf, X):
    """Mean cosine distance of paired embeddings, and how often a pair is its own nearest match."""
    module = clf.net_.module_.eval()
    device = next(module.parameters()).device  # the GPU where the head was trained on one
    with torch.no_grad():
        z, _ = module.embed(torch.tensor(X.to_numpy(), dtype=torch.float32, device=device))
    z = z.cpu()
    z = torch.nn.functional.normalize(z, dim=-1)
    distance = (1 - (z[:, 0] * z[:, 1]).sum(-1)).mean().item()
    retrieval = ((z[:, 0] @ z[:, 1].T).argmax(1) == torch.arange(len(z))).float().mean().item()
    return distance, retrieval


@pytest.mark.parametrize("alignment", ["cosine", "infonce"])
def test_alignment_loss_brings_paired_embeddings_together(alignment):
    X, y = make_pairs(400)
    settings = dict(FAST, max_epochs=10, alignment=alignment, modality_dropout=0.0)
    off = _alignment_stats(FusionClassifier(**settings).fit(X, y), X)
    on = _alignment_stats(FusionClassifier(alignment_weight=1.0, **settings).fit(X, y), X)
    assert on[0] < off[0] - 0.1, (on, off)
    if alignment == "infonce":  # contrastive: a sample's own pair is found among the others
        assert on[1] > off[1] + 0.1, (on, off)


@pytest.mark.parametrize("head", ["gated", "attention"])
def test_modality_weights(views, head):
    X, y, X_test, _ = views
    clf = FusionClassifier(head=head, **dict(FAST, max_epochs=2)).fit(X, y)
    weights = clf.modality_weights(X_test.iloc[:50])
    assert list(weights.columns) == list(MODALITIES)
    assert weights.index.equals(X_test.index[:50])
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)
    assert not hasattr(FusionClassifier(head="mlp"), "modality_weights")
    absent = clf.modality_weights(drop_modality(X_test.iloc[:50], MODALITIES[1]))
    np.testing.assert_allclose(absent[MODALITIES[1]], 0.0, atol=1e-7)
    np.testing.assert_allclose(absent.sum(axis=1), 1.0, rtol=1e-5)
    nothing = X_test.iloc[:5].copy()
    for name in MODALITIES:
        nothing = drop_modality(nothing, name)
    assert np.isfinite(clf.predict_proba(nothing)).all()
    np.testing.assert_allclose(clf.modality_weights(nothing).sum(axis=1), 1.0, rtol=1e-5)


def test_reproducible_and_leaves_global_rng_alone(views):
    X, y, X_test, _ = views
    settings = dict(FAST, max_epochs=3, modality_dropout=0.2, early_stopping=2)
    state = torch.get_rng_state()
    first = FusionClassifier(**settings).fit(X, y).predict_proba(X_test)
    assert torch.equal(state, torch.get_rng_state())
    again = FusionClassifier(**settings).fit(X, y).predict_proba(X_test)
    np.testing.assert_array_equal(first, again)
    other = FusionClassifier(**dict(settings, random_state=1)).fit(X, y).predict_proba(X_test)
    assert not np.allclose(first, other)


def test_string_labels_and_pickle(views):
    X, y, X_test, _ = views
    labels = np.array(["angry", "happy", "sad"])[y]
    settings = dict(FAST, max_epochs=3)
    clf = FusionClassifier(head="attention", n_heads=2, early_stopping=2, **settings)
    clf = clf.fit(X, labels)
    assert list(clf.classes_) == ["angry", "happy", "sad"]
    assert set(clf.predict(X_test)) <= set(clf.classes_)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))
    np.testing.assert_array_equal(restored.predict(X_test), clf.predict(X_test))
    assert clone(clf).get_params() == clf.get_params()


def test_regressor_valence_arousal_with_a_missing_modality():
    X, _ = make_views(800, missing=True)
    rng = np.random.RandomState(0)
    text, audio = X.filter(like="text__f").to_numpy(), X.filter(like="audio__f").to_numpy()
    y = np.c_[text[:, 0] + audio[:, 1], text[:, 2] - audio[:, 3]] + 0.1 * rng.normal(size=(800, 2))
    reg = FusionRegressor(head="gated", modality_dropout=0.2, **dict(FAST, max_epochs=40))
    reg.fit(X[:600], y[:600])
    assert reg.predict(X[600:]).shape == (200, 2)
    assert reg.score(X[600:], y[600:]) > 0.7
    assert reg.modality_weights(X[600:]).shape == (200, 3)
    one = FusionRegressor(**dict(FAST, max_epochs=2)).fit(X[:600], y[:600, 0])
    assert one.predict(X[600:]).shape == (200,)


def test_verbose_logs_instead_of_printing(views, caplog, capsys):
    X, y, _, _ = views
    with caplog.at_level("INFO", logger="skmm.heads"):
        FusionClassifier(verbose=1, **dict(FAST, max_epochs=2)).fit(X, y)
    assert "train_loss" in caplog.text
    assert capsys.readouterr().out == ""
