"""The heads' parameters: defined once, skorch's routed parameters, threads, attention width."""

import inspect
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skmm.heads import FusionClassifier, FusionRegressor

SMALL = dict(hidden_size=8, max_epochs=2, batch_size=32, random_state=0)
BLOCKS = {"text": slice(0, 4), "audio": slice(4, 8)}


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 8)).astype(np.float32)
    y = (X[:, 0] + X[:, 5] > 0).astype(int)
    return X, y


@pytest.fixture
def three_threads():
    """torch set to 3 threads for the test (a count no head uses here), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(3)
    yield 3
    torch.set_num_threads(before)


class Record(Callback):
    """Keep torch's thread count and the first training batch of every epoch."""

    def initialize(self):
        self.threads, self.first_batches, self._new_epoch = [], [], False
        return self

    def on_epoch_begin(self, net, **kwargs):
        self._new_epoch = True

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        self.threads.append(torch.get_num_threads())
        if training and self._new_epoch:
            self.first_batches.append(batch[0]["X"].cpu().numpy().copy())
            self._new_epoch = False


# --- the shared parameters are defined once -------------------------------------------


def _documented(cls):
    section = cls.__doc__.split("Parameters\n----------\n")[1].split("\n\nAttributes")[0]
    return {line.split(" :")[0] for line in section.splitlines() if line[:1] not in ("", " ")}


@pytest.mark.parametrize("cls", [FusionClassifier, FusionRegressor])
def test_every_parameter_is_documented_from_the_shared_text(cls):
    signature = inspect.signature(cls).parameters
    names = {n if p.kind != p.VAR_KEYWORD else f"**{n}" for n, p in signature.items()}
    assert _documented(cls) == names
    assert "%(" not in cls.__doc__
    assert set(cls().get_params()) == names - {"**kwargs"}


def test_classifier_adds_only_its_class_options_with_the_same_defaults():
    shared = inspect.signature(FusionRegressor).parameters
    own = inspect.signature(FusionClassifier).parameters
    assert set(own) - set(shared) == {"class_weight", "balanced_sampler"}
    assert {n: own[n].default for n in shared} == {n: p.default for n, p in shared.items()}
    # the regressor has exactly the shared parameters: it keeps the base's __init__
    assert "__init__" not in vars(FusionRegressor)


# --- skorch's routed parameters -------------------------------------------------------


def test_routed_parameters_are_params_clone_and_set_params_keep():
    clf = FusionClassifier(optimizer=torch.optim.SGD, optimizer__momentum=0.9)
    assert clf.get_params()["optimizer__momentum"] == 0.9
    assert clone(clf).get_params(deep=False)["optimizer__momentum"] == 0.9
    assert "optimizer__momentum=0.9" in repr(clf)
    clf.set_params(optimizer__momentum=0.5, iterator_train__shuffle=False, lr=0.1)
    params = clf.get_params()
    assert (params["optimizer__momentum"], params["iterator_train__shuffle"]) == (0.5, False)
    assert params["lr"] == 0.1
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.get_params()["optimizer__momentum"] == 0.5
    pipe = make_pipeline(StandardScaler(), FusionRegressor())
    pipe.set_params(fusionregressor__optimizer__momentum=0.3)
    assert pipe.get_params()["fusionregressor__optimizer__momentum"] == 0.3


def test_optimizer_momentum_reaches_the_optimizer(data):
    X, y = data
    clf = FusionClassifier(
        optimizer=torch.optim.SGD, optimizer__momentum=0.9, optimizer__nesterov=True, **SMALL
    ).fit(X, y)
    group = clf.net_.optimizer_.param_groups[0]
    assert (group["momentum"], group["nesterov"]) == (0.9, True)
    assert group["weight_decay"] == clf.weight_decay and group["lr"] == clf.lr
    # "sgd" brings momentum 0.9; a routed momentum wins over it
    sgd = FusionRegressor(optimizer="sgd", **SMALL).fit(X, X[:, 0])
    assert sgd.net_.optimizer_.param_groups[0]["momentum"] == 0.9
    sgd.set_params(optimizer__momentum=0.2).fit(X, X[:, 0])
    assert sgd.net_.optimizer_.param_groups[0]["momentum"] == 0.2


def test_iterator_train_shuffle_reaches_the_batches(data):
    X, y = data
    first = {}
    for shuffle in (True, False):
        record = Record()
        FusionClassifier(
            callbacks=[record], iterator_train__shuffle=shuffle, **dict(SMALL, max_epochs=3)
        ).fit(X, y)
        first[shuffle] = record.first_batches
    assert all(np.array_equal(batch, X[:32]) for batch in first[False])
    assert not np.array_equal(first[True][0], X[:32])
    assert not np.array_equal(first[True][0], first[True][1])


def test_module_and_callback_parameters_reach_the_net(data):
    X, y = data
    clf = FusionClassifier(
        head="attention",
        n_heads=2,
        module__feedforward_size=24,
        early_stopping=2,
        callbacks__early_stopping__threshold=0.5,
        iterator_valid__batch_size=7,
        **SMALL,
    ).fit(X, y)
    layer = clf.net_.module_.fuser.encoder.layers[0]
    assert layer.linear1.out_features == 24
    assert dict(clf.net_.callbacks_)["early_stopping"].threshold == 0.5
    assert clf.net_.get_params()["iterator_valid__batch_size"] == 7


def test_a_search_tunes_a_routed_parameter(data):
    X, y = data
    head = FusionClassifier(optimizer=torch.optim.SGD, **SMALL)
    search = GridSearchCV(head, {"optimizer__momentum": [0.0, 0.8]}, cv=2, error_score="raise")
    search.fit(X, y)
    assert list(search.cv_results_["param_optimizer__momentum"]) == [0.0, 0.8]
    best = search.best_params_["optimizer__momentum"]
    assert search.best_estimator_.net_.optimizer_.param_groups[0]["momentum"] == best


@pytest.mark.parametrize(
    "params, names",
    [
        (dict(optimizer="sgd", optimizer__momentumm=0.9), ["optimizer__momentumm", "momentum"]),
        (dict(module__hiden=3), ["module__hiden", "feedforward_size"]),
        (dict(iterator_train__shufle=False), ["iterator_train__shufle", "shuffle"]),
        (dict(callbacks__nope__patience=3), ["callbacks__nope__patience", "train_loss"]),
        (dict(module__hidden_size=16), ["module__hidden_size", "set hidden_size instead"]),
        (dict(optimizer__lr=0.1), ["optimizer__lr", "set lr instead"]),
        (dict(criterion__temperature=0.5), ["criterion__temperature", "set temperature"]),
    ],
)
def test_a_routed_name_that_reaches_nothing_is_named(data, params, names):
    X, y = data
    with pytest.raises(ValueError) as error:
        FusionClassifier(**SMALL, **params).fit(X, y)
    for name in names:
        assert name in str(error.value)


def test_unknown_parameter_names_are_named(data):
    X, y = data
    # as in scikit-learn, __init__ stores and fit checks
    with pytest.raises(ValueError, match="'optimiser__momentum'.*optimizer__"):
        FusionClassifier(optimiser__momentum=0.9, **SMALL).fit(X, y)
    with pytest.raises(ValueError, match="'hiden_size'"):
        FusionRegressor(hiden_size=3, **SMALL).fit(X, X[:, 0])
    with pytest.raises(ValueError, match="'optimiser__momentum'"):
        FusionClassifier().set_params(optimiser__momentum=0.9)
    with pytest.raises(ValueError, match="hiden_size"):
        FusionClassifier().set_params(hiden_size=3)


# --- the thread policy ------------------------------------------------------------------


@pytest.mark.parametrize("n_threads", [1, 2])
def test_n_threads_holds_while_training_and_predicting_then_is_restored(
    data, three_threads, n_threads
):
    X, y = data
    record = Record()
    clf = FusionClassifier(head="gated", blocks=BLOCKS, callbacks=[record], n_threads=n_threads)
    clf.set_params(**SMALL).fit(X, y)
    assert record.threads and set(record.threads) == {n_threads}
    assert torch.get_num_threads() == three_threads

    seen, module = [], clf.net_.module_
    embed = module.embed  # every forward pass and modality_weights embed the blocks first

    def counting_embed(X):
        seen.append(torch.get_num_threads())
        return embed(X)

    module.embed = counting_embed
    clf.predict(X)
    clf.predict_proba(X)
    clf.score(X, y)
    clf.modality_weights(X)
    assert len(seen) >= 4 and set(seen) == {n_threads}
    assert torch.get_num_threads() == three_threads


def test_n_threads_none_keeps_the_callers_count(data, three_threads):
    X, y = data
    record = Record()
    FusionRegressor(callbacks=[record], n_threads=None, **SMALL).fit(X, X[:, 1])
    assert set(record.threads) == {three_threads}


def test_thread_count_is_restored_when_fit_fails(data, three_threads):
    X, y = data

    class Boom(Callback):
        def on_epoch_end(self, net, **kwargs):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        FusionClassifier(callbacks=[Boom()], n_threads=1, **SMALL).fit(X, y)
    assert torch.get_num_threads() == three_threads


# --- attention width ------------------------------------------------------------------


def test_attention_rounds_hidden_size_up_to_a_multiple_of_n_heads(data):
    X, y = data
    clf = FusionClassifier(head="attention", blocks=BLOCKS, hidden_size=10, n_heads=4)
    clf.set_params(**dict(SMALL, hidden_size=10)).fit(X, y)
    assert clf.hidden_size_ == 12 and clf.get_params()["hidden_size"] == 10
    assert clf.net_.module_.fuser.pool.embed_dim == 12
    assert clf.net_.module_.fuser.pool.head_dim == 3
    assert clf.modality_weights(X[:3]).shape == (3, 2)
    mlp = FusionClassifier(**dict(SMALL, hidden_size=10), n_heads=4).fit(X, y)
    assert mlp.hidden_size_ == 10


def test_every_drawn_width_trains_in_a_search(data):
    X, y = data
    grid = {"hidden_size": [7, 10], "n_heads": [3, 4]}
    head = FusionClassifier(head="attention", **dict(SMALL, max_epochs=1))
    search = GridSearchCV(head, grid, cv=2, error_score="raise").fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_optuna_search_tunes_routed_parameters_and_odd_widths(data):
    X, y = data
    distributions = pytest.importorskip("optuna.distributions")
    from skmm.model_selection import OptunaSearchCV

    space = {
        "optimizer__momentum": distributions.FloatDistribution(0.0, 0.9),
        "hidden_size": distributions.IntDistribution(5, 13),
        "n_heads": distributions.IntDistribution(2, 4),
    }
    head = FusionClassifier(head="attention", optimizer=torch.optim.SGD, **SMALL)
    search = OptunaSearchCV(head, space, n_trials=3, cv=2, random_state=0, error_score="raise")
    search.fit(X, y)
    assert search.n_trials_ == 3 and np.isfinite(search.cv_results_["mean_test_score"]).all()
    best = search.best_estimator_
    momentum = best.net_.optimizer_.param_groups[0]["momentum"]
    assert momentum == search.best_params_["optimizer__momentum"]
    assert best.hidden_size_ % best.n_heads == 0 and best.hidden_size_ >= best.hidden_size
