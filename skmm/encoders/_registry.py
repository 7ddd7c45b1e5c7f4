"""One loaded model per process: a small registry keyed by model identity.

Every encoder that names the same weights on the same device and dtype gets the same
model object, so clones made by ``GridSearchCV`` or ``cross_validate`` never load it
again. Encoders hold no reference to the model: pickles carry no weights, and an
unpickled encoder finds (or lazily loads) the model here on first use.
"""

import hashlib
import logging
import os
import threading
from pathlib import Path

logger = logging.getLogger("skmm")

_MODELS = {}
_LOCKS = {}
_GUARD = threading.Lock()
_FINGERPRINTS = {}

# Files whose content defines what a model computes; other files (READMEs, licences)
# do not change the output and are left out of the fingerprint.
_WEIGHT_SUFFIXES = (
    ".safetensors",
    ".bin",
    ".pt",
    ".pth",
    ".h5",
    ".hdf5",
    ".onnx",
    ".npz",
    ".json",
    ".txt",
    ".model",
)


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


def fingerprint(path):
    """A short hash of the files that define a model (weights, configs, vocabularies).

    The whole content is hashed, once per process for a given set of (name, size,
    modification time), so a retrained model saved over the old one gets a new identity.

    Parameters
    ----------
    path : path-like
        A model file or a model folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.encoders._registry import fingerprint
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "config.json").write_text("{}")
    >>> len(fingerprint(d))
    16
    """
    path = Path(path)
    files = (
        [path]
        if path.is_file()
        else sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    )
    stamp = tuple((str(p), (st := p.stat()).st_size, st.st_mtime_ns) for p in files)
    cached = _FINGERPRINTS.get(stamp)
    if cached is not None:
        return cached
    digest = hashlib.blake2b(digest_size=8)
    for p in files:
        digest.update(os.path.relpath(p, path if path.is_dir() else path.parent).encode())
        with open(p, "rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
    _FINGERPRINTS[stamp] = digest.hexdigest()
    return _FINGERPRINTS[stamp]
