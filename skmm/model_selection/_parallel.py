"""Study storage from a URL or path, and running one study from several worker processes."""

import contextlib
import copy
import logging
import os

from joblib import Parallel, delayed

from skmm._deps import import_optional
from skmm.model_selection._heartbeat import rdb_storage

logger = logging.getLogger(__name__)


def resolve_storage(storage, heartbeat_interval=None, max_retry=0):
    """Turn ``storage`` into what :func:`optuna.create_study` accepts.

    * ``None`` or an optuna storage object: returned as is (None means in memory);
    * ``"journal:///abs/path.log"``, ``"journal://rel/path.log"`` or a plain path ending
      in ``.log``/``.journal``: an ``optuna.storages.JournalStorage`` on a
      ``JournalFileBackend`` (the folder is created), safe for several processes on one
      machine or on a shared file system;
    * a plain path ending in ``.db``/``.sqlite``/``.sqlite3``: ``"sqlite:///<path>"``;
    * any other URL (``sqlite:///...``, ``postgresql://...``, ``mysql://...``):
      returned unchanged, optuna opens it with SQLAlchemy; with a ``heartbeat_interval``
      (seconds), an ``RDBStorage`` that fails the trials of dead workers and queues them
      again up to ``max_retry`` times (see :mod:`skmm.model_selection._heartbeat`).

    Examples
    --------
    >>> from skmm.model_selection._parallel import resolve_storage
    >>> resolve_storage("runs/study.db")
    'sqlite:///runs/study.db'
    >>> resolve_storage("postgresql://user@host/db")
    'postgresql://user@host/db'
    """
    if storage is None or not isinstance(storage, (str, os.PathLike)):
        return storage
    text = os.fspath(storage)
    if text.startswith("journal://"):
        path = text[len("journal://") :]
    elif "://" in text or text.endswith((".db", ".sqlite", ".sqlite3")):
        url = text if "://" in text else f"sqlite:///{text}"
        if heartbeat_interval is None:
            return url
        return rdb_storage(url, heartbeat_interval, max_retry)
    elif text.endswith((".log", ".journal")):
        path = text
    else:
        raise ValueError(
            f"storage={text!r} is neither a database URL nor a journal file. Use e.g. "
            "'sqlite:///study.db', 'postgresql://user:pass@host/db', "
            "'journal:///path/study.log' or a path ending in '.log'."
        )
    if not path:
        raise ValueError(f"storage={text!r} names no journal file.")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    journal = import_optional("optuna.storages.journal", "a journal-file study storage")
    return journal.JournalStorage(journal.JournalFileBackend(path))


def default_sampler(seed):
    """The sampler used when none is given: TPE, seeded."""
    optuna = import_optional("optuna", "hyperparameter search")
    return optuna.samplers.TPESampler(seed=seed)


@contextlib.contextmanager
def optuna_verbosity(verbose):
    """Optuna logs each trial at INFO; show that only when ``verbose > 0``, then restore."""
    optuna = import_optional("optuna", "hyperparameter search")
    old = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO if verbose > 0 else optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(old)


def open_study(
    study,
    *,
    storage,
    study_name,
    sampler,
    pruner,
    direction,
    processes,
    tmpdir,
    heartbeat_interval=None,
    max_retry=0,
):
    """Create or resume the study a search runs; returns ``(study, temporary storage)``.

    Without a storage, worker processes cannot share trials held in memory, so a
    journal file in ``tmpdir`` stands in (the temporary storage, else None). A database
    URL gets Optuna's heartbeat when ``heartbeat_interval`` is set.
    """
    optuna = import_optional("optuna", "hyperparameter search")
    temporary = None
    if study is not None:
        # Study has no public accessor for its storage.
        in_memory = isinstance(getattr(study, "_storage", None), optuna.storages.InMemoryStorage)
        if processes and in_memory:
            raise ValueError(
                "The given study keeps its trials in memory, which worker processes cannot "
                "share. Create it with a storage (e.g. 'sqlite:///study.db' or a journal "
                "file), or use backend='threads'."
            )
    else:
        storage = resolve_storage(storage, heartbeat_interval, max_retry)
        if storage is None and processes:
            storage = temporary = resolve_storage(os.path.join(tmpdir, "study.log"))
        study = optuna.create_study(
            storage=storage,
            sampler=sampler,
            pruner=pruner,
            study_name=study_name,
            direction=direction,
            load_if_exists=True,
        )
    if study.direction.name.lower() != direction:
        raise ValueError(
            f"The study {study.study_name!r} is set to {study.direction.name.lower()} but "
            f"direction={direction!r}; pass the matching direction."
        )
    return study, temporary


def copy_to_memory(study, storage):
    """A copy of ``study`` (stored in ``storage``) held in memory, same sampler and pruner."""
    optuna = import_optional("optuna", "hyperparameter search")
    memory = optuna.storages.InMemoryStorage()
    optuna.copy_study(from_study_name=study.study_name, from_storage=storage, to_storage=memory)
    return optuna.load_study(
        study_name=study.study_name, storage=memory, sampler=study.sampler, pruner=study.pruner
    )


def split_trials(n_trials, n_workers):
    """Share ``n_trials`` among workers (None: each worker runs until its timeout)."""
    if n_trials is None:
        return [None] * n_workers
    base, extra = divmod(int(n_trials), n_workers)
    shares = [base + (i < extra) for i in range(n_workers)]
    return [s for s in shares if s > 0]


def _run_worker(study, objective, n_trials, timeout, callbacks, seed, reseed, verbose):
    # A shallow copy shares the storage (that is the point) but not the sampler.
    study = copy.copy(study)
    if seed is not None:
        study.sampler = default_sampler(seed)
    elif reseed:
        # Identical seeded samplers in every worker would propose identical trials.
        study.sampler = copy.deepcopy(study.sampler)
        study.sampler.reseed_rng()
    with optuna_verbosity(verbose):
        study.optimize(objective, n_trials=n_trials, timeout=timeout, callbacks=callbacks)


def optimize_in_processes(
    study, objective, *, n_workers, n_trials, timeout, callbacks, base_seed, verbose
):
    """Run ``study.optimize`` in ``n_workers`` joblib worker processes on a shared storage.

    Each worker loads the study from its storage and runs its share of the trials.
    joblib's default backend is loky processes; a ``joblib.parallel_config(backend=...)``
    set by the caller (e.g. ``"dask"``) is honoured, so workers may live on other machines.
    Worker ``i`` samples with seed ``base_seed + i`` when the search made the sampler;
    a user sampler is re-seeded in workers after the first.
    """
    shares = split_trials(n_trials, n_workers)
    tasks = []
    for i, share in enumerate(shares):
        seed = None if base_seed is None else base_seed + i
        tasks.append(
            delayed(_run_worker)(
                study,
                objective,
                share,
                timeout,
                callbacks,
                seed,
                i > 0 and base_seed is None,
                verbose,
            )
        )
    logger.info("Running %d trial shares %s in worker processes", len(tasks), shares)
    Parallel(n_jobs=len(tasks), prefer="processes")(tasks)
