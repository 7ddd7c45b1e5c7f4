"""skmm.metrics: UAR, F1, one-vs-rest ROC-AUC, CCC and their scorers."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score, roc_auc_score
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from skmm.metrics import (
    ccc_scorer,
    concordance_correlation_coefficient,
    emotion_scoring,
    macro_f1,
    roc_auc_ovr,
    roc_auc_ovr_scorer,
    uar_scorer,
    unweighted_average_recall,
    weighted_f1,
)


def test_uar_is_macro_recall():
    rng = np.random.RandomState(0)
    y_true = rng.choice(["angry", "calm", "sad"], size=200, p=[0.7, 0.2, 0.1])
    y_pred = rng.choice(["angry", "calm", "sad"], size=200)
    uar = unweighted_average_recall(y_true, y_pred)
    assert uar == pytest.approx(recall_score(y_true, y_pred, average="macro"))
    assert uar == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    # the majority-class predictor is at chance under UAR although its accuracy is 0.7
    assert unweighted_average_recall(y_true, ["angry"] * 200) == pytest.approx(1 / 3)
    assert unweighted_average_recall(y_true, ["angry"] * 200, adjusted=True) == pytest.approx(0.0)


def test_f1_helpers_match_sklearn():
    y_true = [0, 0, 0, 0, 1, 1, 2]
    y_pred = [0, 0, 1, 0, 1, 2, 2]
    assert macro_f1(y_true, y_pred) == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert weighted_f1(y_true, y_pred) == pytest.approx(
        f1_score(y_true, y_pred, average="weighted")
    )
    assert macro_f1(y_true, y_pred) != pytest.approx(weighted_f1(y_true, y_pred))


def test_ccc_values_and_edge_cases():
    t = np.array([1.0, 2.0, 3.0, 4.0])
    assert concordance_correlation_coefficient(t, t) == pytest.approx(1.0)
    assert concordance_correlation_coefficient(t, -t) == pytest.approx(
        -1.0 * 2 * t.var() / (2 * t.var() + (2 * t.mean()) ** 2)
    )
    # Pearson r is 1 for a shifted prediction, CCC penalises the bias
    assert concordance_correlation_coefficient(t, t + 1) == pytest.approx(
        2 * t.var() / (2 * t.var() + 1)
    )
    # constant prediction of a varying target: 0; constant and equal: 1 (0/0 defined as agreement)
    assert concordance_correlation_coefficient(t, np.full(4, 2.5)) == 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert concordance_correlation_coefficient(np.ones(4), np.ones(4)) == 1.0
        assert concordance_correlation_coefficient(np.ones(4), np.full(4, 2.0)) == 0.0
    # multi-output: per output, then averaged (uniform or weighted)
    y = np.c_[t, t]
    p = np.c_[t, t + 1]
    raw = concordance_correlation_coefficient(y, p, multioutput="raw_values")
    assert raw.shape == (2,) and raw[0] == pytest.approx(1.0) and raw[1] < 1
    assert concordance_correlation_coefficient(y, p) == pytest.approx(raw.mean())
    assert concordance_correlation_coefficient(y, p, multioutput=[1, 0]) == pytest.approx(1.0)
    # weights: zero weight drops a row
    w = np.array([1, 1, 1, 0.0])
    assert concordance_correlation_coefficient(
        t, np.r_[t[:3], 99.0], sample_weight=w
    ) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        concordance_correlation_coefficient(t, t[:3])
    with pytest.raises(ValueError, match="multioutput"):
        concordance_correlation_coefficient(t, t, multioutput="variance_weighted")


def test_roc_auc_ovr_matches_sklearn_when_all_classes_present():
    X, y = make_classification(n_samples=300, n_classes=3, n_informative=4, random_state=0)
    proba = LogisticRegression(max_iter=1000).fit(X, y).predict_proba(X)
    expected = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert roc_auc_ovr(y, proba) == pytest.approx(expected)
    weighted = roc_auc_score(y, proba, multi_class="ovr", average="weighted")
    assert roc_auc_ovr(y, proba, average="weighted") == pytest.approx(weighted)
    # binary: 1-D score or 2-column proba, same as the binary AUC
    yb = (y == 0).astype(int)
    pb = np.c_[1 - proba[:, 0], proba[:, 0]]
    assert roc_auc_ovr(yb, pb) == pytest.approx(roc_auc_score(yb, pb[:, 1]))
    assert roc_auc_ovr(yb, pb[:, 1]) == pytest.approx(roc_auc_score(yb, pb[:, 1]))


def test_roc_auc_ovr_with_labels_missing_from_a_fold():
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1]])
    y = [0, 1, 0, 1]  # class 2 never occurs
    with pytest.warns(UndefinedMetricWarning):
        assert np.isnan(roc_auc_score(y, proba, multi_class="ovr", labels=[0, 1, 2]))
    with pytest.warns(UndefinedMetricWarning, match=r"Classes \[2\]"):
        assert roc_auc_ovr(y, proba, labels=[0, 1, 2]) == pytest.approx(1.0)
    with pytest.warns(UndefinedMetricWarning, match="undefined"):
        assert np.isnan(roc_auc_ovr([0, 0, 0, 0], proba, labels=[0, 1, 2]))
    with pytest.raises(ValueError, match="columns"):
        roc_auc_ovr(y, proba)  # labels inferred from y: 2 classes for 3 columns


def test_roc_auc_scorer_survives_a_class_unseen_in_training():
    # fold 1 trains without class 2, then is tested on classes 1 and 2
    X = (
        np.r_[np.zeros((6, 1)), np.ones((6, 1)), -np.ones((3, 1))]
        + np.linspace(0, 0.1, 15)[:, None]
    )
    y = np.r_[np.zeros(6), np.ones(6), 2 * np.ones(3)].astype(int)
    splits = [(np.arange(12), np.arange(6, 15)), (np.arange(15)[::2], np.arange(15)[1::2])]
    model = LogisticRegression()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        ours = cross_validate(model, X, y, cv=splits, scoring=roc_auc_ovr_scorer)["test_score"]
        theirs = cross_validate(model, X, y, cv=splits, scoring="roc_auc_ovr")["test_score"]
    assert ours[0] == pytest.approx(1.0)  # class 1 against class 2, the only AUC defined there
    assert np.isfinite(ours).all()
    # sklearn's "roc_auc_ovr" takes the fold as binary and pairs labels {1, 2} with the columns of
    # the classes {0, 1} the model saw: a meaningless 0.0
    assert theirs[0] == pytest.approx(0.0)


def test_emotion_scoring_in_search_with_refit():
    X, y = make_classification(
        n_samples=150, n_classes=3, n_informative=4, weights=[0.6, 0.3, 0.1], random_state=0
    )
    scoring = emotion_scoring()
    assert set(scoring) == {"accuracy", "uar", "macro_f1", "weighted_f1", "roc_auc_ovr"}
    assert scoring is not emotion_scoring()  # a fresh dict each call
    search = GridSearchCV(
        LogisticRegression(max_iter=500), {"C": [0.01, 1.0]}, cv=3, scoring=scoring, refit="uar"
    )
    search.fit(X, y)
    for key in scoring:
        assert np.isfinite(search.cv_results_[f"mean_test_{key}"]).all()
    assert "roc_auc_ovr" not in emotion_scoring(proba=False)
    # a constant predictor: UAR at chance (1/3) while accuracy is the majority share
    dummy = cross_validate(
        DummyClassifier(), X, y, cv=3, scoring={"uar": uar_scorer, "acc": "accuracy"}
    )
    assert dummy["test_uar"] == pytest.approx([1 / 3] * 3)
    assert dummy["test_acc"].mean() > 0.5


def test_ccc_scorer_for_dimensional_targets():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5))
    Y = np.c_[X[:, 0] + 0.1 * rng.normal(size=120), X[:, 1] - X[:, 2]]  # valence, arousal
    res = cross_validate(
        LinearRegression(), X, Y, cv=KFold(3), scoring=emotion_scoring("regression")
    )
    assert (res["test_ccc"] > 0.9).all()
    weak = cross_validate(Ridge(alpha=1e4), X, Y, cv=KFold(3), scoring={"ccc": ccc_scorer})
    assert (weak["test_ccc"] < res["test_ccc"]).all()
    with pytest.raises(ValueError, match="task"):
        emotion_scoring("ranking")
