"""LateFusionClassifier: out-of-fold stacking of per-modality classifiers."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from skmm.fusion import LateFusionClassifier, ModalityUnion


def _blocks(n=300, seed=0, n_classes=2, shift=1.0):
    """Labels with weak evidence in "audio" (4-d) and "text" (6-d)."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, n_classes, n)
    audio = rng.normal(size=(n, 4))
    text = rng.normal(size=(n, 6))
    audio[:, 0] += shift * y
    text[:, 0] += shift * y
    return audio, text, y


@parametrize_with_checks(
    [
        LateFusionClassifier(
            [
                ("a", LogisticRegression(), slice(0, None, 2)),
                ("b", DecisionTreeClassifier(max_depth=3, random_state=0), slice(1, None, 2)),
            ],
            cv=3,
        )
    ]
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_blocks_found_by_name_in_modality_union_output():
    audio, text, y = _blocks()
    X = pd.DataFrame(
        np.c_[audio, text], columns=[f"a{i}" for i in range(4)] + [f"t{i}" for i in range(6)]
    )
    X.loc[::5, [f"t{i}" for i in range(6)]] = np.nan  # text absent in every 5th row
    union = ModalityUnion(
        [("audio", "passthrough", slice(0, 4)), ("text", "passthrough", slice(4, 10))]
    )
    fused = union.set_output(transform="pandas").fit_transform(X)
    late = LateFusionClassifier([("audio", LogisticRegression()), ("text", LogisticRegression())])
    late.fit(fused, y)
    assert late.blocks_ == {
        "audio": {"features": [0, 1, 2, 3], "missing": 4},
        "text": {"features": [5, 6, 7, 8, 9, 10], "missing": 11},
    }
    # rows without text get the text classifier's class prior
    text_expert = late.experts_[1]
    proba = text_expert.predict_proba(fused.to_numpy()[::5])
    np.testing.assert_allclose(proba, np.tile(text_expert.prior_, (len(proba), 1)))
    assert text_expert.n_present_ == 300 - 60
    np.testing.assert_allclose(text_expert.prior_, np.bincount(y) / len(y))
    # 2 classes: one probability per modality, plus one indicator per modality
    assert late.final_estimator_.n_features_in_ == 2 + 2
    assert late.score(fused, y) > 0.7
    with pytest.raises(ValueError, match="set_output"):
        clone(late).fit(fused.to_numpy(), y)


def test_all_nan_block_counts_as_absent_with_explicit_columns():
    audio, text, y = _blocks(n=200, n_classes=3)
    X = np.c_[audio, text]
    X[:40, 4:] = np.nan
    late = LateFusionClassifier(
        [
            ("audio", LogisticRegression(), slice(0, 4)),
            ("text", LogisticRegression(), slice(4, 10)),
        ],
        cv=3,
    ).fit(X, y)
    assert late.experts_[1].n_present_ == 160
    # 3 classes: 3 probabilities per modality and 2 indicators
    assert late.final_estimator_.n_features_in_ == 3 + 3 + 2
    assert late.predict(X[:40]).shape == (40,)


def test_no_leakage_from_a_memorising_noise_modality():
    audio, _, y = _blocks(n=400, seed=1, shift=1.5)
    noise = np.random.RandomState(2).normal(size=(400, 30))  # no signal, but 1-NN memorises it
    X = np.c_[audio, noise]
    train, test = slice(0, 300), slice(300, 400)
    estimators = [
        ("audio", LogisticRegression(), slice(0, 4)),
        ("noise", KNeighborsClassifier(n_neighbors=1), slice(4, 34)),
    ]
    late = LateFusionClassifier(estimators).fit(X[train], y[train])
    coef = np.abs(late.final_estimator_.coef_.ravel())
    assert coef[0] > 5 * coef[1]  # the meta-learner trusts audio, not the memoriser
    assert late.score(X[test], y[test]) > 0.7

    # the same stacking with in-sample predictions (the leak) trusts the memoriser and fails
    audio_lr = LogisticRegression().fit(X[train, :4], y[train])
    knn = KNeighborsClassifier(n_neighbors=1).fit(X[train, 4:], y[train])

    def meta(rows):
        return np.c_[
            audio_lr.predict_proba(X[rows, :4])[:, 1], knn.predict_proba(X[rows, 4:])[:, 1]
        ]

    leaky = LogisticRegression().fit(meta(train), y[train])
    assert leaky.score(meta(test), y[test]) < late.score(X[test], y[test]) - 0.1


def test_groups_keep_a_speaker_out_of_its_own_predictions():
    rng = np.random.RandomState(0)
    n_speakers, per = 60, 8
    groups = rng.permutation(np.repeat(np.arange(n_speakers), per))
    y = rng.randint(0, 2, n_speakers)[groups]  # each speaker acts one emotion
    # "speaker" block identifies the speaker (so, within a speaker, the label) but not emotion
    speaker = rng.normal(size=(n_speakers, 8))[groups] + 0.05 * rng.normal(size=(len(y), 8))
    voice = rng.normal(size=(len(y), 3))
    voice[:, 0] += 1.5 * y
    X = np.c_[voice, speaker]
    estimators = [
        ("voice", LogisticRegression(), slice(0, 3)),
        ("speaker", KNeighborsClassifier(n_neighbors=1), slice(3, 11)),
    ]
    fit_rows, test_rows = groups < 40, groups >= 40  # test on unseen speakers
    grouped = LateFusionClassifier(estimators).fit(
        X[fit_rows], y[fit_rows], groups=groups[fit_rows]
    )
    plain = LateFusionClassifier(estimators).fit(X[fit_rows], y[fit_rows])
    voice_coef, speaker_coef = grouped.final_estimator_.coef_[0, :2]
    assert voice_coef > 3 * speaker_coef
    voice_coef, speaker_coef = plain.final_estimator_.coef_[0, :2]
    assert speaker_coef > 3 * voice_coef  # without groups, same-speaker neighbours leak the label
    assert (
        grouped.score(X[test_rows], y[test_rows]) > plain.score(X[test_rows], y[test_rows]) + 0.15
    )
    # routed through a pipeline as a fit parameter
    pipe = make_pipeline(LateFusionClassifier(estimators))
    pipe.fit(X[fit_rows], y[fit_rows], latefusionclassifier__groups=groups[fit_rows])
    assert pipe.score(X[test_rows], y[test_rows]) == grouped.score(X[test_rows], y[test_rows])


def test_stack_methods_and_inner_params_are_tunable():
    audio, text, y = _blocks(n=150)
    X = np.c_[audio, text]
    with pytest.raises(ValueError, match="LinearSVC has no predict_proba"):
        LateFusionClassifier([("a", LinearSVC(), slice(0, 4))]).fit(X, y)
    late = LateFusionClassifier(
        [("a", LinearSVC(), slice(0, 4)), ("t", LogisticRegression(), slice(4, 10))],
        stack_method="auto",
        cv=3,
    ).fit(X, y)
    assert late.stack_method_ == ["decision_function", "predict_proba"]
    assert "t__C" in late.get_params()
    search = GridSearchCV(late, {"t__C": [0.01, 1.0]}, cv=2).fit(X, y)
    assert search.best_estimator_.named_estimators_["t"].C in (0.01, 1.0)
    dropped = clone(late).set_params(a="drop").fit(X, y)
    assert list(dropped.named_estimators_) == ["t"]


def test_string_labels_and_sample_weight():
    audio, text, y = _blocks(n=120)
    labels = np.array(["calm", "angry"])[y]
    X = np.c_[audio, text]
    late = LateFusionClassifier(
        [("a", LogisticRegression(), slice(0, 4)), ("t", LogisticRegression(), slice(4, 10))], cv=3
    )
    late.fit(X, labels, sample_weight=np.where(y == 1, 2.0, 1.0))
    assert set(late.predict(X)) <= {"angry", "calm"}
    assert list(late.classes_) == ["angry", "calm"]
    with pytest.raises(ValueError, match="1 class"):
        late.fit(X, np.zeros(len(X)))


def _speakers(n_speakers=30, per=8):
    """Rows of speakers who each act one emotion; a block that identifies the speaker."""
    rng = np.random.RandomState(0)
    groups = rng.permutation(np.repeat(np.arange(n_speakers), per))
    y = rng.randint(0, 2, n_speakers)[groups]
    speaker = rng.normal(size=(n_speakers, 8))[groups] + 0.05 * rng.normal(size=(len(y), 8))
    voice = rng.normal(size=(len(y), 3))
    voice[:, 0] += 1.5 * y
    estimators = [
        ("voice", LogisticRegression(), slice(0, 3)),
        ("speaker", KNeighborsClassifier(n_neighbors=1), slice(3, 11)),
    ]
    return np.c_[voice, speaker], y, groups, estimators


def _trusts_voice(late):
    voice_coef, speaker_coef = late.final_estimator_.coef_[0, :2]
    return voice_coef > 3 * speaker_coef


def test_routed_groups_reach_the_inner_splits_in_cross_validate():
    import sklearn
    from sklearn.model_selection import GroupKFold, cross_validate
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y, groups, estimators = _speakers()
    pipe = Pipeline([("scale", FunctionTransformer()), ("head", LateFusionClassifier(estimators))])
    kw = {"cv": GroupKFold(3), "return_estimator": True, "error_score": "raise"}
    with sklearn.config_context(enable_metadata_routing=True):
        routed = cross_validate(pipe, X, y, params={"groups": groups}, **kw)
        opted_out = clone(pipe).set_params(head=LateFusionClassifier(estimators))
        opted_out.named_steps["head"].set_fit_request(groups=False)
        unrouted = cross_validate(opted_out, X, y, params={"groups": groups}, **kw)
    assert all(_trusts_voice(p.named_steps["head"]) for p in routed["estimator"])
    # without the groups, the inner folds share speakers and the meta-learner trusts them
    assert not any(_trusts_voice(p.named_steps["head"]) for p in unrouted["estimator"])
    # without routing, groups= reaches the outer splitter only (sklearn's rule); the
    # fit parameter head__groups still reaches the inner splits
    plain = cross_validate(pipe, X, y, groups=groups, **kw)
    assert not any(_trusts_voice(p.named_steps["head"]) for p in plain["estimator"])
    pipe.fit(X, y, head__groups=groups)
    assert _trusts_voice(pipe.named_steps["head"])


def test_routed_groups_reach_the_inner_splits_in_an_optuna_search():
    import sklearn
    from sklearn.model_selection import GroupKFold

    optuna = pytest.importorskip("optuna")
    from skmm.model_selection import OptunaSearchCV

    X, y, groups, estimators = _speakers()
    # GroupKFold refuses to split without groups: a trial completes only if they arrive
    head = LateFusionClassifier(estimators, cv=GroupKFold(3))
    space = {"final_estimator__C": optuna.distributions.FloatDistribution(0.1, 10, log=True)}
    search = OptunaSearchCV(
        head.set_params(final_estimator=LogisticRegression()),
        space,
        n_trials=2,
        cv=GroupKFold(2),
        error_score="raise",
        random_state=0,
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search.fit(X, y, groups=groups)
    assert list(search.cv_results_["state"]) == ["COMPLETE"] * 2
    assert _trusts_voice(search.best_estimator_)
    with pytest.raises(ValueError, match="groups"):
        clone(search).fit(X, y, groups=groups)  # routing off: groups reach the outer split only


def test_too_few_groups_for_the_inner_folds_names_the_parameter():
    from sklearn.pipeline import Pipeline

    X, _, groups, estimators = _speakers(n_speakers=4)
    y = groups % 2  # two speakers per class
    pipe = Pipeline([("head", LateFusionClassifier(estimators, cv=5))])
    with pytest.raises(ValueError, match=r"5 inner folds .* only 4 groups.*head__cv.* at most 4"):
        pipe.fit(X, y, head__groups=groups)
    pipe.set_params(head__cv=4).fit(X, y, head__groups=groups)
    assert pipe.predict(X).shape == y.shape  # cv=4 fits: one speaker per inner fold
