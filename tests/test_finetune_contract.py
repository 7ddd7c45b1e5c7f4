"""The estimator contract (shared STYLE.md) and scikit-learn's checks for the fine-tuners."""

import copy
import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils import estimator_checks

pytest.importorskip("skorch")
pytest.importorskip("peft")

from skmm import TextEncoder  # noqa: E402
from skmm.finetune import FineTunedClassifier, FineTunedRegressor  # noqa: E402

WORDS = ["a happy day", "so glad", "lovely news", "a sad night", "so gloomy", "awful news"]
# every text its own length, so each training fold holds different token sequences
TEXTS = [WORDS[i % 6] + " day" * i for i in range(18)]
LABELS = np.array([1, 1, 1, 0, 0, 0] * 3)


@pytest.fixture(params=["classifier", "regressor"])
def estimator(request, tiny_text_model):
    cls = FineTunedClassifier if request.param == "classifier" else FineTunedRegressor
    return cls(
        TextEncoder(tiny_text_model, cache=False), method="lora", max_epochs=1, batch_size=6,
        random_state=0, progress=False, n_threads=1,
    )  # fmt: skip


@pytest.mark.parametrize(
    "check",
    [
        estimator_checks.check_no_attributes_set_in_init,
        estimator_checks.check_get_params_invariance,
        estimator_checks.check_set_params,
        estimator_checks.check_estimator_cloneable,
        estimator_checks.check_estimator_repr,
        estimator_checks.check_estimator_tags_renamed,
        estimator_checks.check_valid_tag_types,
    ],
    ids=lambda check: check.__name__,
)
def test_scikit_learn_checks_that_apply_to_text_input(estimator, check):
    # check_estimator skips text-input estimators whole; these checks need no numeric fit
    check(type(estimator).__name__, estimator)


@pytest.mark.parametrize("cls", [FineTunedClassifier, FineTunedRegressor])
def test_parameters_default_constructible(cls):
    estimator_checks.check_parameters_default_constructible(cls.__name__, cls())


def test_init_stores_params_only_and_set_params_equals_init(estimator):
    params = estimator.get_params(deep=False)
    assert set(vars(estimator)) == set(params)
    changed = {"lr": 1e-4, "lora_r": 4, "max_epochs": 2}
    via_set = clone(estimator).set_params(**changed)
    via_init = type(estimator)(**{**params, **changed})
    assert via_set.get_params(deep=True).keys() == via_init.get_params(deep=True).keys()
    for name, value in via_init.get_params(deep=False).items():
        if name != "encoder":  # cloned: an equal encoder, not the same object
            assert via_set.get_params(deep=False)[name] == value
    assert via_set.encoder.get_params() == via_init.encoder.get_params()
    assert clone(estimator).set_params(encoder__pooling="cls").encoder.pooling == "cls"


def test_unfitted_errors_fit_returns_self_clone_forgets(estimator):
    with pytest.raises(NotFittedError):
        estimator.predict(TEXTS[:2])
    with pytest.raises(NotFittedError):
        estimator.transform(TEXTS[:2])
    assert estimator.fit(TEXTS, LABELS) is estimator
    assert not hasattr(clone(estimator), "encoder_")
    assert estimator.encoder is not estimator.encoder_  # the encoder parameter stays unfitted
    assert not hasattr(estimator.encoder, "model_id_")


def test_predict_and_transform_change_nothing_on_the_estimator(estimator):
    estimator.fit(TEXTS, LABELS)
    before = copy.copy(vars(estimator))
    estimator.predict(TEXTS[:4])
    estimator.transform(TEXTS[:4])
    assert set(vars(estimator)) == set(before)
    assert all(vars(estimator)[k] is before[k] for k in before)


def test_pickle_round_trip_gives_equal_predictions(estimator):
    estimator.fit(TEXTS, LABELS)
    again = pickle.loads(pickle.dumps(estimator))
    np.testing.assert_allclose(again.predict(TEXTS[:5]), estimator.predict(TEXTS[:5]), atol=1e-5)


def test_cross_validate_pipeline_and_grid_search(tiny_text_model):
    clf = FineTunedClassifier(
        TextEncoder(tiny_text_model, cache=False), method="lora", max_epochs=1, batch_size=6,
        random_state=0, progress=False, n_threads=1,
    )  # fmt: skip
    result = cross_validate(
        clf, TEXTS, LABELS, cv=StratifiedKFold(3), scoring="f1_macro", return_estimator=True
    )
    assert len(result["test_score"]) == 3
    fingerprints = {est.tuned_backbone_.state_fingerprint for est in result["estimator"]}
    assert len(fingerprints) == 3  # one model per training fold
    search = GridSearchCV(clf, {"lr": [1e-4, 1e-3]}, cv=2).fit(TEXTS, LABELS)
    assert search.best_estimator_.predict(TEXTS[:2]).shape == (2,)
    assert make_pipeline(clf).fit(TEXTS, LABELS).predict(TEXTS[:3]).shape == (3,)


@pytest.mark.slow
def test_optuna_search_tunes_lr_rank_and_epochs(tiny_text_model):
    optuna = pytest.importorskip("optuna")
    from skmm.model_selection import OptunaSearchCV

    clf = FineTunedClassifier(
        TextEncoder(tiny_text_model, cache=False), method="lora", batch_size=6,
        early_stopping=True, validation_fraction=0.25, random_state=0, progress=False,
        n_threads=1,
    )  # fmt: skip
    space = {
        "lr": optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True),
        "lora_r": optuna.distributions.IntDistribution(2, 8),
        "max_epochs": optuna.distributions.IntDistribution(1, 2),
    }
    search = OptunaSearchCV(clf, space, n_trials=3, cv=2, random_state=0).fit(TEXTS, LABELS)
    assert len(search.study_.trials) == 3
    assert set(search.best_params_) == {"lr", "lora_r", "max_epochs"}
    # the pruning callback reached the fine-tuner's skorch net: each trial reported epochs
    assert all(trial.intermediate_values for trial in search.study_.trials)
