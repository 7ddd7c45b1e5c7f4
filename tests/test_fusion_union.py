"""ModalityUnion, the block layout and make_fusion_pipeline, on blocks generated here."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmm.exceptions import InputError
from skmm.fusion import (
    LateFusionClassifier,
    ModalityUnion,
    infer_blocks,
    make_fusion_pipeline,
    missing_column_name,
)

ENCODED = []  # rows each TextStats.transform call received (module level: survives clone)


class TextStats(TransformerMixin, BaseEstimator):
    """Stand-in raw-text encoder that refuses absent items, as a real encoder may."""

    def __init__(self, prefix="text_"):
        self.prefix = prefix

    def fit(self, X, y=None):
        self.n_features_out_ = 3
        return self

    def transform(self, X):
        items = list(X.iloc[:, 0] if isinstance(X, pd.DataFrame) else X)
        ENCODED.append(len(items))
        rows = []
        for item in items:
            if not isinstance(item, str) or not item.strip():
                raise InputError(f"not a text: {item!r}")
            rows.append([len(item), len(item.split()), sum(c in "aeiou" for c in item)])
        return np.asarray(rows, dtype=np.float32).reshape(-1, 3)

    def get_feature_names_out(self, input_features=None):
        return np.asarray([f"{self.prefix}{i}" for i in range(3)], dtype=object)


@pytest.fixture(autouse=True)
def _reset_counter():
    ENCODED.clear()


def _split_signal(n=400, d_text=20, d_audio=6, seed=0):
    """Binary labels whose evidence is split between two blocks (z1 in text, z2 in audio)."""
    rng = np.random.RandomState(seed)
    z1, z2 = rng.normal(size=n), rng.normal(size=n)
    y = (z1 + z2 > 0).astype(int)
    text = rng.normal(size=(n, d_text))
    audio = rng.normal(size=(n, d_audio))
    text[:, 0] = z1 + 0.2 * rng.normal(size=n)
    audio[:, 0] = z2 + 0.2 * rng.normal(size=n)
    cols = [f"t{i}" for i in range(d_text)] + [f"a{i}" for i in range(d_audio)]
    return pd.DataFrame(np.c_[text, audio], columns=cols), y


def _text_frame():
    return pd.DataFrame(
        {
            "utterance": ["I am happy", None, "", "   ", np.nan, "so sad today", pd.NA, "fine"],
            "face": ["a.png", "bb.png", np.nan, "dddd.png", None, "f.tar.png", "gg.png", ""],
            "age": [31.0, np.nan, 22.0, 40.0, np.nan, 35.0, 28.0, 50.0],
            "height": [1.7, np.nan, 1.6, np.nan, np.nan, 1.8, 1.75, 1.65],
        }
    )


class PathLength(TransformerMixin, BaseEstimator):
    """Stand-in image encoder: 2 features from a path string; refuses absent items."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        if any(not isinstance(p, str) or not p for p in X):
            raise InputError("absent path reached the encoder")
        return np.asarray([[len(p), p.count(".")] for p in X], dtype=np.float32).reshape(-1, 2)


# -- sklearn's own estimator checks on numeric blocks --------------------------------------------

NUMERIC_UNIONS = [
    ModalityUnion(
        [("a", StandardScaler(), slice(0, None, 2)), ("b", "passthrough", slice(1, None, 2))]
    ),
    ModalityUnion(
        [("a", StandardScaler(), slice(0, None, 2)), ("b", "passthrough", slice(1, None, 2))],
        scale=None,
        handle_missing=False,
    ),
    ModalityUnion(
        [("a", StandardScaler(), slice(0, None, 2)), ("b", StandardScaler(), slice(1, None, 2))],
        weights={"a": 2.0},
        scale="standard",
        fill_value="zero",
    ),
]


@parametrize_with_checks(NUMERIC_UNIONS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- layout contract ----------------------------------------------------------------------------


def test_layout_contract_names_blocks_and_indicators():
    X, _ = _split_signal(n=50)
    union = ModalityUnion(
        [
            ("text", StandardScaler(), [f"t{i}" for i in range(20)]),
            ("audio", "passthrough", ["a0", "a1", "a2", "a3", "a4", "a5"]),
        ]
    )
    Xt = union.fit_transform(X)
    names = union.get_feature_names_out()
    assert Xt.shape == (50, 20 + 1 + 6 + 1)
    assert list(names[:2]) == ["text__t0", "text__t1"]
    assert names[20] == "text__missing" and names[-1] == "audio__missing"
    assert union.blocks_ == {"text": list(range(20)), "audio": list(range(21, 27))}
    assert union.missing_columns_ == {"text": 20, "audio": 27}
    layout = infer_blocks(names)
    assert {m: b["features"] for m, b in layout.items()} == union.blocks_
    assert {m: b["missing"] for m, b in layout.items()} == union.missing_columns_
    assert missing_column_name("audio") == "audio__missing"
    out = union.set_output(transform="pandas").transform(X)
    assert list(out.columns) == list(names)
    assert infer_blocks(out.columns) == layout


def test_infer_blocks_rejects_unprefixed_names_unless_default():
    with pytest.raises(ValueError, match="no modality prefix"):
        infer_blocks(["text__0", "age"])
    assert infer_blocks(["text__0", "age"], default="rest") == {
        "text": {"features": [0], "missing": None},
        "rest": {"features": [1], "missing": None},
    }
    with pytest.raises(ValueError, match="two missing"):
        infer_blocks(["a__missing", "a__missing"])


# -- missing modalities ---------------------------------------------------------------------------


def test_absent_rows_never_reach_the_encoder_and_get_indicators():
    X = _text_frame()
    union = ModalityUnion(
        [
            ("text", TextStats(), "utterance"),
            ("image", PathLength(), "face"),
            ("tabular", SimpleImputer(keep_empty_features=True), ["age", "height"]),
        ]
    )
    Xt = union.fit_transform(X)
    text_absent = np.array([0, 1, 1, 1, 1, 0, 1, 0], dtype=bool)
    image_absent = np.array([0, 0, 1, 0, 1, 0, 0, 1], dtype=bool)
    tab_absent = np.array([0, 1, 0, 0, 1, 0, 0, 0], dtype=bool)
    for name, absent in [("text", text_absent), ("image", image_absent), ("tabular", tab_absent)]:
        assert_array_equal = np.testing.assert_array_equal
        assert_array_equal(Xt[:, union.missing_columns_[name]], absent.astype(float))
        block = Xt[:, union.blocks_[name]]
        # default fill is the training mean, i.e. 0 after block standardisation
        assert np.allclose(block[absent], 0.0)
        assert not np.allclose(block[~absent], 0.0)
    assert ENCODED == [int((~text_absent).sum())]  # encoded once, only present rows
    assert union.n_missing_ == {"text": 5, "image": 3, "tabular": 2}
    # partial NaN in tabular goes to the imputer, not to the indicator
    assert np.isfinite(Xt).all()


def test_modality_absent_in_every_row_of_a_batch_keeps_width():
    X = _text_frame()
    union = ModalityUnion([("text", TextStats(), "utterance"), ("age", "passthrough", ["age"])])
    union.fit(X, None)
    ENCODED.clear()
    batch = pd.DataFrame(
        {
            "utterance": [None, "", np.nan],
            "face": ["x"] * 3,
            "age": [1.0, 2.0, 3.0],
            "height": [1.0] * 3,
        }
    )
    Xt = union.transform(batch)
    assert Xt.shape == (3, union.n_features_out_) == (3, 6)
    assert ENCODED == []  # the encoder was not called at all
    assert (Xt[:, union.missing_columns_["text"]] == 1).all()
    assert (Xt[:, union.missing_columns_["age"]] == 0).all()


def test_modality_absent_in_every_training_row_is_a_clear_error():
    X = pd.DataFrame({"utterance": [None, ""], "age": [1.0, 2.0]})
    union = ModalityUnion([("text", TextStats(), "utterance"), ("age", "passthrough", ["age"])])
    with pytest.raises(ValueError, match="'text' is absent in every training row"):
        union.fit(X)


def test_without_handle_missing_rows_go_to_the_encoder():
    X = _text_frame()
    union = ModalityUnion([("text", TextStats(), "utterance")], handle_missing=False)
    with pytest.raises(InputError):
        union.fit(X)
    assert "missing" not in " ".join(
        ModalityUnion([("a", "passthrough", [0])], handle_missing=False)
        .fit(np.ones((3, 1)))
        .get_feature_names_out()
    )


@pytest.mark.parametrize("fill_value, expected", [("mean", 2.5), ("zero", 0.0), (-1.0, -1.0)])
def test_fill_value_in_unscaled_space(fill_value, expected):
    X = np.array([[1.0, 0.0], [np.nan, 0.0], [4.0, 1.0]])
    union = ModalityUnion(
        [("a", "passthrough", [0]), ("b", "passthrough", [1])], scale=None, fill_value=fill_value
    )
    Xt = union.fit_transform(X)
    assert Xt[1, union.blocks_["a"][0]] == pytest.approx(expected)
    assert Xt[1, union.missing_columns_["a"]] == 1.0
    np.testing.assert_array_equal(Xt[[0, 2], 0], [1.0, 4.0])


# -- scaling, weights, encoding once ------------------------------------------------------------


def test_block_scaling_gives_every_block_unit_total_variance():
    rng = np.random.RandomState(0)
    X = np.c_[rng.normal(3, 5, size=(300, 200)), rng.normal(size=(300, 8))]
    union = ModalityUnion(
        [("image", "passthrough", slice(0, 200)), ("audio", "passthrough", slice(200, 208))]
    )
    Xt = union.fit_transform(X)
    for name in ("image", "audio"):
        assert Xt[:, union.blocks_[name]].var(axis=0).sum() == pytest.approx(1.0)
    standard = clone(union).set_params(scale="standard").fit_transform(X)
    assert standard[:, union.blocks_["image"]].var(axis=0).sum() == pytest.approx(200.0)


def test_weights_are_routed_parameters():
    X, _ = _split_signal(n=60)
    union = ModalityUnion([("text", "passthrough", ["t0", "t1"]), ("audio", "passthrough", ["a0"])])
    params = union.get_params()
    assert params["weights__text"] == 1.0 and params["weights__audio"] == 1.0
    base = union.fit_transform(X)
    union.set_params(weights__audio=0.5)
    assert union.weights == {"audio": 0.5}
    half = union.fit_transform(X)
    cols = union.blocks_["audio"]
    np.testing.assert_allclose(half[:, cols], 0.5 * base[:, cols])
    np.testing.assert_allclose(half[:, union.blocks_["text"]], base[:, union.blocks_["text"]])
    with pytest.raises(ValueError, match="weights__video"):
        union.set_params(weights__video=1.0)
    with pytest.raises(ValueError, match="unknown modalities"):
        union.set_params(weights={"video": 1.0}).fit(X)


def test_inner_transformer_params_are_routed():
    union = ModalityUnion([("text", StandardScaler(), [0])])
    union.set_params(text__with_mean=False)
    assert union.transformers[0][1].with_mean is False
    union.set_params(text="passthrough")
    assert union.transformers[0][1] == "passthrough"


def test_fit_transform_encodes_once_and_matches_fit_then_transform():
    X = _text_frame()
    union = ModalityUnion([("text", TextStats(), "utterance"), ("age", "passthrough", ["age"])])
    Xt = union.fit_transform(X)
    assert ENCODED == [3]
    np.testing.assert_allclose(union.transform(X), Xt)
    restored = pickle.loads(pickle.dumps(union))
    np.testing.assert_allclose(restored.transform(X), Xt)


def test_bad_parameters_are_clear_errors():
    X = np.ones((4, 2))
    with pytest.raises(ValueError, match="without '__'"):
        ModalityUnion([("a__b", "passthrough", [0])]).fit(X)
    with pytest.raises(ValueError, match="unique"):
        ModalityUnion([("a", "passthrough", [0]), ("a", "passthrough", [1])]).fit(X)
    with pytest.raises(ValueError, match="scale"):
        ModalityUnion([("a", "passthrough", [0])], scale="l2").fit(X)
    with pytest.raises(ValueError, match="fill_value"):
        ModalityUnion([("a", "passthrough", [0])], fill_value="median").fit(X)
    with pytest.raises(ValueError, match="X has no column names"):
        ModalityUnion([("a", "passthrough", ["age"])]).fit(X)
    with pytest.raises(ValueError, match="selects no columns"):
        ModalityUnion([("a", "passthrough", [])]).fit(X)


# -- evidence: fusion beats each modality ---------------------------------------------------------


def test_fusion_beats_each_single_modality():
    X, y = _split_signal(n=400, seed=0)
    text_cols = [c for c in X if c.startswith("t")]
    audio_cols = [c for c in X if c.startswith("a")]

    def score(transformers):
        pipe = make_pipeline(ModalityUnion(transformers), LogisticRegression(max_iter=1000))
        return cross_val_score(pipe, X, y, cv=5).mean()

    text = score([("text", "passthrough", text_cols)])
    audio = score([("audio", "passthrough", audio_cols)])
    fused = score([("text", "passthrough", text_cols), ("audio", "passthrough", audio_cols)])
    assert max(text, audio) < 0.85
    assert fused > max(text, audio) + 0.1


def test_weights_tunable_by_grid_search():
    X, y = _split_signal(n=300, d_text=4, d_audio=60, seed=1)
    X[[f"a{i}" for i in range(60)]] = np.random.RandomState(2).normal(
        size=(300, 60)
    )  # audio: noise
    pipe = make_pipeline(
        ModalityUnion(
            [
                ("text", "passthrough", [f"t{i}" for i in range(4)]),
                ("audio", "passthrough", [f"a{i}" for i in range(60)]),
            ]
        ),
        LogisticRegression(C=100.0, max_iter=2000),
    )
    search = GridSearchCV(pipe, {"modalityunion__weights__audio": [0.0, 3.0]}, cv=3).fit(X, y)
    assert list(search.cv_results_["param_modalityunion__weights__audio"]) == [0.0, 3.0]
    assert search.best_params_ == {"modalityunion__weights__audio": 0.0}


# -- make_fusion_pipeline ------------------------------------------------------------------------


def test_make_fusion_pipeline_one_line():
    X = _text_frame()
    y = np.array([1, 0, 0, 1, 0, 1, 1, 0])
    pipe = make_fusion_pipeline(
        text="utterance", tabular=["age", "height"], encoders={"text": TextStats()}
    )
    assert [name for name, _ in pipe.steps] == ["fusion", "head"]
    assert isinstance(pipe["head"], LogisticRegression)
    pipe.fit(X, y)
    fused = pipe[:-1].transform(X)
    assert isinstance(fused, pd.DataFrame)
    assert list(infer_blocks(fused.columns)) == ["text", "tabular"]
    assert pipe.predict(X).shape == (8,)
    pipe.set_params(fusion__weights__text=0.0)
    assert pipe["fusion"].weights == {"text": 0.0}


def test_make_fusion_pipeline_late_head_and_sampler():
    X, y = _split_signal(n=120)
    X["note"] = np.where(np.arange(120) % 7 == 0, None, "some words here")
    late = make_fusion_pipeline(
        tabular=[f"t{i}" for i in range(3)],
        text="note",
        head="late",
        encoders={"text": TextStats()},
    )
    late.fit(X, y)
    assert isinstance(late["head"], LateFusionClassifier)
    assert set(late["head"].blocks_) == {"tabular", "text"}
    imblearn = pytest.importorskip("imblearn")
    from imblearn.over_sampling import RandomOverSampler

    pipe = make_fusion_pipeline(tabular=["t0", "a0"], sampler=RandomOverSampler(random_state=0))
    assert isinstance(pipe, imblearn.pipeline.Pipeline)
    assert pipe.fit(X, y).score(X, y) > 0.6


def test_make_fusion_pipeline_default_encoders_come_from_skmm_encoders(monkeypatch):
    import skmm.encoders

    monkeypatch.setattr(skmm.encoders, "TextEncoder", TextStats, raising=False)
    pipe = make_fusion_pipeline(text="utterance")
    assert isinstance(pipe["fusion"].transformers[0][1], TextStats)
    monkeypatch.delattr(skmm.encoders, "MelEncoder", raising=False)
    with pytest.raises(ImportError, match="encoders=\\{'audio'"):
        make_fusion_pipeline(audio="voice")
    with pytest.raises(ValueError, match="at least one column role"):
        make_fusion_pipeline()


def test_pandas_output_survives_clone_in_search():
    X = _text_frame()
    y = np.array([1, 0, 0, 1, 0, 1, 1, 0])
    pipe = make_fusion_pipeline(text="utterance", encoders={"text": TextStats()})
    search = GridSearchCV(pipe, {"fusion__weights__text": [0.5, 1.0]}, cv=2).fit(X, y)
    assert isinstance(search.best_estimator_[:-1].transform(X), pd.DataFrame)
