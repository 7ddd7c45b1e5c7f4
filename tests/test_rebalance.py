"""Rebalancing with imbalanced-learn around skmm-style encoders.

* samplers placed after an encoder in ``imblearn.pipeline.Pipeline`` resample the
  embeddings (numeric arrays), never the raw texts or files;
* raw-reference rebalancing (duplicating rows of paths/texts before encoding) is
  imblearn's ``RandomOverSampler``/``RandomUnderSampler`` on a 2-D input (a DataFrame,
  or a one-column frame for a single modality): no skmm code is needed for it.
"""

import hashlib
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.model_selection import GroupKFold

imblearn = pytest.importorskip("imblearn")
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler


class HashEncoder(TransformerMixin, BaseEstimator):
    """Stand-in for an skmm encoder: raw strings (texts or paths) -> 8-d vectors.

    A missing item (None/NaN) encodes to zeros. Records what it was given.
    """

    seen: ClassVar[list] = []

    def __init__(self, dim=8):
        self.dim = dim

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        items = np.asarray(X, dtype=object).ravel()
        HashEncoder.seen.append(list(items))
        out = np.zeros((len(items), self.dim))
        for i, item in enumerate(items):
            if item is None or (isinstance(item, float) and np.isnan(item)):
                continue
            assert isinstance(item, str), f"the encoder got {type(item)}, not a raw string"
            digest = hashlib.blake2b(item.encode(), digest_size=self.dim).digest()
            out[i] = np.frombuffer(digest, dtype=np.uint8) / 255.0
            out[i, 0] += 3.0 * item.startswith("happy")  # the class signal
        return out


class SpySMOTE(SMOTE):
    """SMOTE that records the type of what it resamples."""

    received: ClassVar[list] = []

    def _fit_resample(self, X, y):
        SpySMOTE.received.append((type(X), np.asarray(X).dtype, np.asarray(X).shape))
        return super()._fit_resample(X, y)


class CountingClassifier(ClassifierMixin, BaseEstimator):
    """Nearest-centroid classifier recording the class counts it was trained on."""

    fits: ClassVar[list] = []

    def __init__(self, shrink=0.0):
        self.shrink = shrink

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        CountingClassifier.fits.append(dict(zip(self.classes_.tolist(), counts.tolist())))
        self.centroids_ = np.stack([X[y == c].mean(axis=0) for c in self.classes_])
        return self

    def predict(self, X):
        d = ((np.asarray(X, dtype=float)[:, None, :] - self.centroids_[None]) ** 2).sum(-1)
        return self.classes_[d.argmin(axis=1)]


@pytest.fixture
def clips():
    rng = np.random.default_rng(0)
    labels = np.array(["happy"] * 6 + ["sad"] * 24)
    rng.shuffle(labels)
    paths = [f"{lab}/clip_{i:02d}.wav" for i, lab in enumerate(labels)]
    HashEncoder.seen.clear()
    SpySMOTE.received.clear()
    CountingClassifier.fits.clear()
    return paths, labels


def test_smote_after_encoder_resamples_embeddings(clips):
    paths, y = clips
    pipe = Pipeline(
        [
            ("encode", HashEncoder()),
            ("smote", SpySMOTE(k_neighbors=3, random_state=0)),
            ("clf", CountingClassifier()),
        ]
    ).fit(paths, y)
    # The sampler saw numeric embeddings, never raw paths.
    assert SpySMOTE.received == [(np.ndarray, np.dtype("float64"), (30, 8))]
    # The encoder saw exactly the 30 raw paths, once; the classifier saw balanced classes.
    assert HashEncoder.seen == [paths]
    assert CountingClassifier.fits == [{"happy": 24, "sad": 24}]
    # Sampling only happens in fit: predict encodes and classifies every row.
    HashEncoder.seen.clear()
    pred = pipe.predict(paths)
    assert len(pred) == 30 and HashEncoder.seen == [paths]
    assert (pred == y).mean() > 0.9


def test_undersampler_after_encoder(clips):
    paths, y = clips
    Pipeline(
        [
            ("encode", HashEncoder()),
            ("under", RandomUnderSampler(random_state=0)),
            ("clf", CountingClassifier()),
        ]
    ).fit(paths, y)
    assert CountingClassifier.fits == [{"happy": 6, "sad": 6}]
    assert len(HashEncoder.seen[0]) == 30  # encoded before undersampling


def test_raw_reference_oversampling_on_a_dataframe(clips):
    paths, y = clips
    X = pd.DataFrame(
        {
            "text": [f"{lab} utterance {i}" for i, lab in enumerate(y)],
            "audio": paths,
        }
    )
    X.loc[3, "audio"] = None  # a missing modality survives resampling
    pipe = Pipeline(
        [
            ("ros", RandomOverSampler(random_state=0)),
            (
                "encode",
                ColumnTransformer(
                    [
                        ("text", HashEncoder(), ["text"]),
                        ("audio", HashEncoder(), ["audio"]),
                    ]
                ),
            ),
            ("clf", CountingClassifier()),
        ]
    ).fit(X, y)
    # The encoders received duplicated raw references: 24 + 24 rows, all from the input.
    text_seen, audio_seen = HashEncoder.seen
    assert len(text_seen) == len(audio_seen) == 48
    assert set(text_seen) == set(X["text"])
    assert {a for a in audio_seen if not pd.isna(a)} <= set(paths)
    assert pd.isna(pd.Series(audio_seen)).sum() >= 1
    assert CountingClassifier.fits == [{"happy": 24, "sad": 24}]
    assert len(pipe.predict(X)) == 30


def test_raw_reference_oversampling_needs_2d_input(clips):
    paths, y = clips
    with pytest.raises(ValueError, match="2D"):
        RandomOverSampler().fit_resample(paths, y)
    # One modality: pass a one-column frame (or reshape(-1, 1)).
    X_res, y_res = RandomOverSampler(random_state=0).fit_resample(pd.DataFrame({"audio": paths}), y)
    assert X_res.shape == (48, 1) and set(X_res["audio"]) == set(paths)
    assert pd.Series(y_res).value_counts().to_dict() == {"sad": 24, "happy": 24}


def test_search_tunes_sampler_with_grouped_cv(clips):
    optuna = pytest.importorskip("optuna")
    from optuna.distributions import IntDistribution

    from skmm.model_selection import OptunaSearchCV

    paths, y = clips
    # Six speakers, each with one happy clip, so every training fold keeps 4 happy clips.
    groups = np.zeros(30, dtype=int)
    for label in ("happy", "sad"):
        rows = np.flatnonzero(y == label)
        groups[rows] = np.arange(len(rows)) % 6
    pipe = Pipeline(
        [
            ("encode", HashEncoder()),
            ("smote", SMOTE(random_state=0)),
            ("clf", CountingClassifier()),
        ]
    )
    search = OptunaSearchCV(
        pipe,
        {"smote__k_neighbors": IntDistribution(1, 3)},
        n_trials=3,
        cv=GroupKFold(3),
        scoring="balanced_accuracy",
        sampler=optuna.samplers.RandomSampler(seed=0),
    ).fit(paths, y, groups=groups)
    assert 1 <= search.best_params_["smote__k_neighbors"] <= 3
    # Every training fold was balanced by SMOTE (3 trials x 3 folds + the refit).
    assert len(CountingClassifier.fits) == 10
    assert all(len(set(counts.values())) == 1 for counts in CountingClassifier.fits)
    assert search.best_score_ > 0.8
