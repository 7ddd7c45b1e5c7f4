"""Model identity: a short hash of the files that define what a model computes."""

import hashlib
import os
from pathlib import Path

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
    >>> from skmm.backbones import fingerprint
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
