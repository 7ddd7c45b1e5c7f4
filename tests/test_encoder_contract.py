"""The contract every skmm encoder honours (see shared STYLE.md), run on each case in
encoder_cases.CASES."""

import copy
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from encoder_cases import CASES
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

pytestmark = pytest.mark.parametrize("case", sorted(CASES))


@pytest.fixture
def encoder(case, request):
    return CASES[case][0](request)


@pytest.fixture
def data(case, tmp_path):
    return CASES[case][1](tmp_path)


def test_init_stores_params_only(encoder):
    params = encoder.get_params(deep=False)
    assert set(vars(encoder)) == set(params)
    rebuilt = type(encoder)(**params)
    assert rebuilt.get_params(deep=False) == params


def test_set_params_equals_init(encoder):
    params = encoder.get_params(deep=False)
    changed = {"batch_size": 3, "on_error": "nan", "progress": False}
    via_set = clone(encoder).set_params(**changed)
    via_init = type(encoder)(**{**params, **changed})
    assert via_set.get_params(deep=False) == via_init.get_params(deep=False)


def test_clone_is_unfitted_with_equal_params(encoder, data):
    X, _ = data
    fitted = encoder.fit(X)
    copy = clone(fitted)
    assert copy.get_params(deep=False) == fitted.get_params(deep=False)
    assert not hasattr(copy, "model_id_")


def test_fit_returns_self_and_transform_needs_fit(encoder, data):
    X, _ = data
    with pytest.raises(NotFittedError):
        clone(encoder).transform(X)
    assert encoder.fit(X) is encoder


def test_output_shape_dtype_and_feature_names(encoder, data):
    X, _ = data
    Z = encoder.fit_transform(X)
    names = encoder.get_feature_names_out()
    assert Z.shape == (len(X), encoder.n_features_out_) == (len(X), len(names))
    assert Z.dtype == np.float32 and np.isfinite(Z).all()
    assert names[0] == f"{encoder.prefix}0"
    assert encoder.failed_rows_ == [] and encoder.training_report_.n_rows == len(X)


def test_refit_forgets_and_inputs_of_every_container_agree(encoder, data):
    X, _ = data
    Z = encoder.fit(X[:4]).fit(X).transform(X)
    series = pd.Series(X, index=[f"r{i}" for i in range(len(X))])
    np.testing.assert_allclose(encoder.transform(series), Z, atol=1e-6)
    np.testing.assert_allclose(encoder.transform(pd.DataFrame({"col": X})), Z, atol=1e-6)
    np.testing.assert_allclose(encoder.transform(np.asarray(X, dtype=object)), Z, atol=1e-6)


def test_pickle_round_trip_equal_outputs_without_weights(encoder, data):
    X, _ = data
    encoder.fit(X)
    Z = encoder.transform(X)
    blob = pickle.dumps(encoder)
    assert len(blob) < 20_000  # parameters and fitted attributes only, never weights
    restored = pickle.loads(blob)
    np.testing.assert_allclose(restored.set_params(cache=False).transform(X), Z, atol=1e-5)


def test_set_output_pandas(encoder, data):
    X, _ = data
    out = encoder.set_output(transform="pandas").fit_transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(encoder.get_feature_names_out())


def test_column_transformer_and_pipeline(encoder, data):
    X, y = data
    frame = pd.DataFrame({"raw": X, "num": np.arange(len(X), dtype=float)})
    ct = ColumnTransformer([("enc", encoder, "raw"), ("num", "passthrough", ["num"])])
    out = ct.fit_transform(frame)
    width = ct.named_transformers_["enc"].n_features_out_
    assert out.shape == (len(X), width + 1)
    assert ct.get_feature_names_out()[0] == f"enc__{encoder.prefix}0"
    pipe = Pipeline([("enc", clone(encoder)), ("clf", LogisticRegression(max_iter=200))]).fit(X, y)
    assert pipe.predict(X).shape == (len(X),)


def test_grid_search_over_list_input(encoder, data):
    X, y = data
    pipe = Pipeline([("enc", encoder), ("clf", LogisticRegression(max_iter=200))])
    search = GridSearchCV(pipe, {"clf__C": [0.1, 1.0]}, cv=2).fit(list(X), y)
    assert set(search.cv_results_["param_clf__C"]) == {0.1, 1.0}


def test_bare_string_and_bad_shapes_are_refused(encoder, data):
    X, y = data
    with pytest.raises(ValueError, match="single str"):
        encoder.fit("just one string")
    with pytest.raises(ValueError, match="rows but y has"):
        encoder.fit(X, y[:-1])
    with pytest.raises(ValueError, match="one column"):
        encoder.fit(pd.DataFrame({"a": X, "b": X}))
    with pytest.raises(ValueError, match="0 rows"):
        encoder.fit([])


def test_invalid_params_are_named(encoder, data):
    X, _ = data
    for name, value in [("on_error", "ignore"), ("batch_size", 0), ("cache", "disk")]:
        with pytest.raises(ValueError, match=name):
            clone(encoder).set_params(**{name: value}).fit(X)


def _snapshot(encoder):
    return {k: copy.deepcopy(v) for k, v in vars(encoder).items()}


def _assert_same_state(before, encoder):
    after = vars(encoder)
    assert set(after) == set(before), set(after) ^ set(before)
    for name, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[name], value)
        else:
            assert after[name] == value, name


def test_transform_changes_nothing_on_the_estimator(encoder, data):
    # sklearn's check_dict_unchanged, on raw rows (it only feeds numeric 2-D arrays)
    X, _ = data
    encoder.fit(X)
    before = _snapshot(encoder)
    encoder.transform(X)
    encoder.transform(X[:3], return_report=True)
    _assert_same_state(before, encoder)


def test_two_threads_share_one_fitted_encoder(encoder, data):
    X, _ = data
    encoder.set_params(cache=False).fit(X)
    half = len(X) // 2
    parts = [np.r_[0:half, 0:half], np.r_[half : len(X), half : len(X)]]
    # each part alone first: the same batches (int8's activation scales depend on them)
    expected = [encoder.transform([X[i] for i in idx]) for idx in parts]
    before = _snapshot(encoder)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(
            pool.map(lambda idx: encoder.transform([X[i] for i in idx], return_report=True), parts)
        )
    for idx, want, (Z, report) in zip(parts, expected, results):
        np.testing.assert_allclose(Z, want, atol=1e-5)
        assert report.failed_rows == [] and report.n_rows == len(idx)
    _assert_same_state(before, encoder)


def test_the_runtime_asked_for_is_the_one_in_force(encoder, data):
    # an ONNX case that silently fell back to torch would test torch twice
    X, _ = data
    encoder.fit(X)
    asked = encoder.get_params().get("runtime", "torch")
    weightless = encoder.backbone_.spec.weightless
    expected = "onnx" if asked == "onnx" and not weightless else "torch"
    assert encoder.runtime_ == expected, encoder.onnx_report_
    if encoder.runtime_ == "onnx":
        assert encoder.onnx_report_["max_abs_diff"] <= 1e-4
