"""Trials of a killed worker are failed and run again, on every kind of study storage.

A worker killed mid-trial (``kill -9``, an out-of-memory kill, a lost machine) leaves its
trial RUNNING in the storage forever. Each running trial therefore beats: every
``interval`` seconds it records that it is alive. A trial that has not beaten for twice
that is failed, and its parameters are queued again (at most ``max_retry`` times).

* SQL databases: Optuna's own machinery, :class:`optuna.storages.RDBStorage` with
  ``heartbeat_interval`` and a retry callback; Optuna fails stale trials before each trial.
* Any other storage (journal files, a given study): the same, done here with Optuna's
  public API. The beat is the trial's ``skmm_heartbeat`` user attribute (a Unix time);
  stale trials are failed with ``study.tell`` and queued again with
  ``study.enqueue_trial`` before the search starts and after each trial.
"""

import logging
import threading
import time
import warnings

from skmm._deps import import_optional

logger = logging.getLogger(__name__)

HEARTBEAT_ATTR = "skmm_heartbeat"
# The number of the trial a queued retry re-runs, and how many times it has been retried.
RETRY_OF_ATTR = "skmm_retry_of"
RETRIES_ATTR = "skmm_retries"


def rdb_storage(url, interval, max_retry):
    """An ``RDBStorage`` on ``url`` whose stale trials Optuna fails and queues again."""
    optuna = import_optional("optuna", "hyperparameter search")
    storages = optuna.storages
    retry = getattr(storages, "RetryHeartbeatStaleTrialCallback", None)
    with warnings.catch_warnings():  # heartbeats are "experimental" since optuna 2.9
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        if retry is not None:  # optuna >= 4.9 renamed the callback and its argument
            callback = {"heartbeat_stale_trial_callback": retry(max_retry=max_retry)}
        else:
            callback = {"failed_trial_callback": storages.RetryFailedTrialCallback(max_retry)}
        return storages.RDBStorage(
            url, heartbeat_interval=int(interval), grace_period=2 * int(interval), **callback
        )


def has_native_heartbeat(storage):
    """Whether Optuna itself watches the heartbeats of ``storage`` (an RDBStorage set so)."""
    get_interval = getattr(storage, "get_heartbeat_interval", None)
    return callable(get_interval) and get_interval() is not None


def beat_interval(study, interval):
    """``interval`` if skmm must watch this study's trials itself, else None.

    Not for studies held in memory (a dead process takes them along) nor for storages
    Optuna already watches.
    """
    optuna = import_optional("optuna", "hyperparameter search")
    storage = getattr(study, "_storage", None)  # Study has no public accessor for it
    if interval is None or isinstance(storage, optuna.storages.InMemoryStorage):
        return None
    return None if has_native_heartbeat(storage) else interval


class TrialHeartbeat:
    """While the block runs, record on ``trial`` every ``interval`` seconds that it is alive.

    Examples
    --------
    >>> import optuna
    >>> from skmm.model_selection._heartbeat import HEARTBEAT_ATTR, TrialHeartbeat
    >>> trial = optuna.create_study().ask()
    >>> with TrialHeartbeat(trial, interval=60):
    ...     pass
    >>> HEARTBEAT_ATTR in trial.user_attrs
    True
    """

    def __init__(self, trial, interval):
        self.trial = trial
        self.interval = interval
        self._stop = threading.Event()
        self._thread = None

    def _beat(self):
        while True:
            try:
                self.trial.set_user_attr(HEARTBEAT_ATTR, time.time())
            except Exception as exc:  # the storage is gone or busy; the trial goes on
                logger.debug("heartbeat of trial %d not recorded: %s", self.trial.number, exc)
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        self.trial.set_user_attr(HEARTBEAT_ATTR, time.time())  # before any work: never stale
        self._thread = threading.Thread(target=self._beat, name="skmm-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def fail_stale_trials(study, interval, max_retry, now=None):
    """Fail RUNNING trials whose beat is older than ``2 * interval``; queue them again.

    Only trials that beat (run by a search with a heartbeat) are considered, so a trial
    of another tool is never failed. A trial is queued again at most ``max_retry``
    times (counting from the first run). Returns the numbers of the failed trials.

    Examples
    --------
    >>> import optuna
    >>> from skmm.model_selection._heartbeat import HEARTBEAT_ATTR, fail_stale_trials
    >>> study = optuna.create_study()
    >>> trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    >>> trial.set_user_attr(HEARTBEAT_ATTR, 0.0)  # its worker died long ago
    >>> fail_stale_trials(study, interval=60, max_retry=1)
    [0]
    >>> [t.state.name for t in study.trials]
    ['FAIL', 'WAITING']
    """
    optuna = import_optional("optuna", "hyperparameter search")
    now = time.time() if now is None else now
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    failed = []
    for trial in running:
        beat = trial.user_attrs.get(HEARTBEAT_ATTR)
        if beat is None or now - float(beat) <= 2 * interval:
            continue
        try:
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
        except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
            continue  # another worker failed it first, or it just finished
        failed.append(trial.number)
        retries = int(trial.user_attrs.get(RETRIES_ATTR, 0)) + 1
        origin = trial.user_attrs.get(RETRY_OF_ATTR, trial.number)
        if retries > max_retry:
            logger.warning(
                "Trial %d stopped beating (its worker died) and was failed; it was retried "
                "%d time(s) already (max_retry=%d), so it is not queued again.",
                trial.number,
                retries - 1,
                max_retry,
            )
            continue
        logger.warning(
            "Trial %d stopped beating (its worker died); failed it and queued its parameters "
            "again (retry %d of %d).",
            trial.number,
            retries,
            max_retry,
        )
        study.enqueue_trial(trial.params, user_attrs={RETRY_OF_ATTR: origin, RETRIES_ATTR: retries})
    return failed


class FailStaleTrials:
    """A ``study.optimize`` callback that runs :func:`fail_stale_trials` after each trial."""

    def __init__(self, interval, max_retry):
        self.interval = interval
        self.max_retry = max_retry

    def __call__(self, study, trial):
        fail_stale_trials(study, self.interval, self.max_retry)
