"""A worker killed in the middle of an Optuna trial: the trial is failed and run again."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

optuna = pytest.importorskip("optuna")
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from skmm.model_selection import OptunaSearchCV
from skmm.model_selection._heartbeat import HEARTBEAT_ATTR, RETRY_OF_ATTR

SPACE = {"C": FloatDistribution(0.1, 10.0, log=True)}
X = np.random.default_rng(0).normal(size=(40, 3))
y = np.arange(40) % 2

# A search whose first fit hangs; the test kills its process with SIGKILL.
HANGING_SEARCH = """
import sys, time
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from optuna.distributions import FloatDistribution
from skmm.model_selection import OptunaSearchCV

class Hang(ClassifierMixin, BaseEstimator):
    def __init__(self, C=1.0):
        self.C = C

    def fit(self, X, y):
        open(sys.argv[2], "w").close()
        time.sleep(600)

X = np.random.default_rng(0).normal(size=(40, 3))
y = np.arange(40) % 2
OptunaSearchCV(Hang(), {"C": FloatDistribution(0.1, 10.0, log=True)}, n_trials=1, cv=2,
               storage=sys.argv[1], study_name="s", heartbeat_interval=1).fit(X, y)
"""


def _storage(kind, tmp_path):
    return f"sqlite:///{tmp_path / 'study.db'}" if kind == "sqlite" else str(tmp_path / "s.log")


def _kill_mid_trial(storage, tmp_path):
    started = tmp_path / "started"
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HANGING_SEARCH), storage, str(started)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(1200):  # wait for the fit, not for a time: a loaded CI is slow
            if started.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert started.exists(), child.stderr.read() if child.poll() is not None else "no start"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()


def _study(storage):
    from skmm.model_selection._parallel import resolve_storage

    return optuna.load_study(study_name="s", storage=resolve_storage(storage))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_a_trial_of_a_killed_worker_is_failed_and_run_again(kind, tmp_path):
    storage = _storage(kind, tmp_path)
    _kill_mid_trial(storage, tmp_path)
    (lost,) = _study(storage).trials
    assert lost.state == TrialState.RUNNING  # what a killed worker leaves behind
    time.sleep(2.5)  # the grace period (2 * heartbeat_interval) runs out
    search = OptunaSearchCV(
        LogisticRegression(),
        SPACE,
        n_trials=2,
        cv=2,
        storage=storage,
        study_name="s",
        heartbeat_interval=1,
    ).fit(X, y)
    trials = _study(storage).trials
    assert trials[0].state == TrialState.FAIL
    reruns = [t for t in trials[1:] if t.params == lost.params]
    assert len(reruns) == 1 and reruns[0].state == TrialState.COMPLETE
    assert lost.params["C"] in search.cv_results_["param_C"].tolist()


def test_without_a_heartbeat_the_lost_trial_stays_running(tmp_path):
    storage = str(tmp_path / "s.log")
    study = optuna.create_study(storage=_resolve(storage), study_name="s", direction="maximize")
    dead = study.ask(SPACE)
    dead.set_user_attr(HEARTBEAT_ATTR, time.time() - 3600)  # its worker died an hour ago
    kw = {"n_trials": 1, "cv": 2, "storage": storage, "study_name": "s"}
    OptunaSearchCV(LogisticRegression(), SPACE, heartbeat_interval=None, **kw).fit(X, y)
    assert _study(storage).trials[0].state == TrialState.RUNNING
    OptunaSearchCV(LogisticRegression(), SPACE, heartbeat_interval=60, **kw).fit(X, y)
    trials = _study(storage).trials
    assert trials[0].state == TrialState.FAIL
    (rerun,) = [t for t in trials if t.user_attrs.get(RETRY_OF_ATTR) == 0]
    assert rerun.params == dead.params and rerun.state == TrialState.COMPLETE


def test_a_trial_that_keeps_dying_is_retried_max_retry_times(tmp_path):
    from skmm.model_selection._heartbeat import fail_stale_trials

    study = optuna.create_study(storage=_resolve(str(tmp_path / "s.log")))
    study.ask(SPACE).set_user_attr(HEARTBEAT_ATTR, 0.0)
    for _ in range(3):  # each run of the trial dies again
        assert len(fail_stale_trials(study, interval=1, max_retry=2)) == 1
        waiting = study.get_trials(states=(TrialState.WAITING,))
        if not waiting:
            break
        study.ask().set_user_attr(HEARTBEAT_ATTR, 0.0)  # picks the queued retry up
    states = [t.state.name for t in study.trials]
    assert states == ["FAIL", "FAIL", "FAIL"]  # the first run and max_retry=2 retries


def test_heartbeat_parameters_are_checked():
    with pytest.raises(ValueError, match="heartbeat_interval"):
        OptunaSearchCV(LogisticRegression(), SPACE, heartbeat_interval=0).fit(X, y)
    with pytest.raises(ValueError, match="max_retry"):
        OptunaSearchCV(LogisticRegression(), SPACE, max_retry=-1).fit(X, y)


def _resolve(storage):
    from skmm.model_selection._parallel import resolve_storage

    return resolve_storage(storage)
