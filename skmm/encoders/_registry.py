"""One loaded model per process: a small registry keyed by model identity.

Every encoder that names the same weights on the same device and dtype gets the same
model object, so clones made by ``GridSearchCV`` or ``cross_validate`` never load it
again. Encoders hold no reference to the model: pickles carry no weights, and an
unpickled encoder finds (or lazily loads) the model here on first use.
"""

import logging
import threading

from .._allocator import restore_mmap_threshold

logger = logging.getLogger("skmm")

_MODELS = {}
_LOCKS = {}
_GUARD = threading.Lock()


def get_model(key, loader):
    """Return the model registered under ``key``, calling ``loader()`` the first time.

    Parameters
    ----------
    key : hashable
        Model identity, device and dtype, e.g. ``("text", "/path@abc", "cpu", "float32")``.
    loader : callable
        Builds the model; called at most once per key and process.

    Examples
    --------
    >>> from skmm.encoders._registry import get_model, release_models
    >>> get_model(("doc", 1), lambda: object()) is get_model(("doc", 1), lambda: object())
    True
    >>> release_models()
    """
    model = _MODELS.get(key)
    if model is not None:
        return model
    with _GUARD:
        lock = _LOCKS.setdefault(key, threading.Lock())
    with lock:  # two threads asking for one model load it once
        model = _MODELS.get(key)
        if model is None:
            logger.info("skmm: loading model %s", key)
            restore_mmap_threshold()  # once per process, where Dask froze malloc's threshold
            model = loader()
            _MODELS[key] = model
    return model


def loaded_models():
    """Keys of the models loaded in this process."""
    return list(_MODELS)


def release_models():
    """Forget every loaded model (frees their memory once nothing else holds them).

    Examples
    --------
    >>> from skmm.encoders import release_models
    >>> release_models()
    """
    with _GUARD:
        _MODELS.clear()
        _LOCKS.clear()
