"""The embedding cache: one embedding per (encoder configuration, input content).

Entries live in two layers:

* memory: a process-wide LRU shared by every encoder instance, so clones made by
  ``GridSearchCV`` or ``cross_validate`` hit what an earlier fit computed;
* disk: one small file per entry under ``cache_dir`` (default ``$SKMM_CACHE_DIR`` or
  ``~/.cache/skmm``), shared by joblib/loky/dask worker processes and by later runs.

A key is the hash of the input's content under a *namespace*, the hash of the model's
identity (path + weights fingerprint) and of every parameter that changes the output.
Disk writes go to a temporary file that is renamed into place, so readers never see a
half-written entry; each entry carries a checksum, and a torn or corrupt entry is
deleted and recomputed.
"""

import hashlib
import io
import json
import logging
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

logger = logging.getLogger("skmm")

_MAGIC = b"SKMMv1\n"
_DIGEST = 16
_FORMAT_VERSION = 1

_stats_lock = threading.Lock()
_STATS = {"memory_hits": 0, "disk_hits": 0, "misses": 0, "writes": 0, "corrupt": 0}


def default_cache_dir():
    """The on-disk cache folder used when an encoder's ``cache_dir`` is None.

    ``$SKMM_CACHE_DIR`` when set, else ``$XDG_CACHE_HOME/skmm`` or ``~/.cache/skmm``.

    Examples
    --------
    >>> from skmm.cache import default_cache_dir
    >>> default_cache_dir().name in {"skmm"} or "SKMM_CACHE_DIR" in __import__("os").environ
    True
    """
    env = os.environ.get("SKMM_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "skmm"


def content_hash(*parts):
    """A 32-hex-digit blake2b hash of byte strings (length-prefixed, so parts never run together).

    Examples
    --------
    >>> from skmm.cache import content_hash
    >>> content_hash(b"a", b"bc") == content_hash(b"ab", b"c")
    False
    """
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def namespace_key(description):
    """Hash a JSON-able description of an encoder's configuration into a namespace."""
    blob = json.dumps({"format": _FORMAT_VERSION, **description}, sort_keys=True, default=str)
    return content_hash(blob.encode())


class _MemoryStore:
    """Process-wide LRU of embeddings, bounded in bytes (``$SKMM_CACHE_MEMORY_MB``, default 1024)."""

    def __init__(self):
        self._data = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def limit(self):
        return int(float(os.environ.get("SKMM_CACHE_MEMORY_MB", 1024)) * 2**20)

    def get(self, key):
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key, value):
        limit = self.limit
        if value.nbytes > limit:
            return
        with self._lock:
            old = self._data.pop(key, None)
            if old is not None:
                self._bytes -= old.nbytes
            self._data[key] = value
            self._bytes += value.nbytes
            while self._bytes > limit and self._data:
                _, dropped = self._data.popitem(last=False)
                self._bytes -= dropped.nbytes

    def clear(self, namespace=None):
        with self._lock:
            if namespace is None:
                self._data.clear()
                self._bytes = 0
                return
            for key in [k for k in self._data if k.startswith(namespace)]:
                self._bytes -= self._data.pop(key).nbytes

    def info(self):
        with self._lock:
            return len(self._data), self._bytes


_MEMORY = _MemoryStore()


def _encode_entry(vector):
    buf = io.BytesIO()
    np.save(buf, np.ascontiguousarray(vector), allow_pickle=False)
    payload = buf.getvalue()
    return _MAGIC + hashlib.blake2b(payload, digest_size=_DIGEST).digest() + payload


def _decode_entry(blob):
    head = len(_MAGIC)
    if len(blob) < head + _DIGEST or blob[:head] != _MAGIC:
        raise ValueError("bad header")
    digest, payload = blob[head : head + _DIGEST], blob[head + _DIGEST :]
    if hashlib.blake2b(payload, digest_size=_DIGEST).digest() != digest:
        raise ValueError("checksum mismatch")
    return np.load(io.BytesIO(payload), allow_pickle=False)


class EmbeddingCache:
    """Embeddings of one encoder configuration, in memory and (optionally) on disk.

    Parameters
    ----------
    namespace : str
        Hash of the model identity and output-changing parameters (:func:`namespace_key`).
    directory : path-like or None
        Root of the on-disk cache; None keeps entries in memory only.
    description : dict, optional
        Written once as ``meta.json`` beside the entries, so a person can tell what a
        namespace holds.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from skmm.cache import EmbeddingCache, namespace_key
    >>> cache = EmbeddingCache(namespace_key({"model": "demo"}), tempfile.mkdtemp())
    >>> cache.put_many({"k1": np.ones(3, dtype=np.float32)})
    >>> cache.get_many(["k1", "k2"])["k1"]
    array([1., 1., 1.], dtype=float32)
    """

    def __init__(self, namespace, directory=None, description=None):
        self.namespace = namespace
        self.directory = None if directory is None else Path(directory) / namespace
        self.description = description

    def _path(self, key):
        return self.directory / key[:2] / f"{key}.npy"

    def get_many(self, keys):
        """Look up ``keys``; returns a dict of the ones found (memory first, then disk)."""
        found = {}
        counts = {"memory_hits": 0, "disk_hits": 0, "misses": 0, "corrupt": 0}
        for key in keys:
            full = f"{self.namespace}/{key}"
            value = _MEMORY.get(full)
            if value is not None:
                found[key] = value
                counts["memory_hits"] += 1
                continue
            value = self._read(key, counts) if self.directory is not None else None
            if value is None:
                counts["misses"] += 1
                continue
            _MEMORY.put(full, value)
            found[key] = value
            counts["disk_hits"] += 1
        _bump(counts)
        return found

    def _read(self, key, counts):
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            logger.warning("skmm cache: cannot read %s (%s); recomputing", path, exc)
            return None
        try:
            return _decode_entry(blob)
        except Exception as exc:  # any damage means: recompute
            counts["corrupt"] += 1
            logger.warning(
                "skmm cache: entry %s is corrupt (%s); deleting and recomputing", path, exc
            )
            try:
                path.unlink()
            except OSError:
                pass
            return None

    def put_many(self, items):
        """Store ``{key: vector}``; disk writes are atomic (temporary file + rename)."""
        if not items:
            return
        for key, value in items.items():
            value = np.asarray(value)
            value.setflags(write=False)
            _MEMORY.put(f"{self.namespace}/{key}", value)
        if self.directory is not None:
            try:
                self._write_meta()
                for key, value in items.items():
                    self._write(key, value)
            except OSError as exc:  # a full or read-only disk must not stop the encoding
                logger.warning(
                    "skmm cache: cannot write under %s (%s); keeping entries in memory only",
                    self.directory,
                    exc,
                )
        _bump({"writes": len(items)})

    def _write_meta(self):
        meta = self.directory / "meta.json"
        if meta.exists() or self.description is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(meta, json.dumps(self.description, indent=1, default=str).encode())

    def _write(self, key, value):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, _encode_entry(value))


def _atomic_write(path, blob):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _bump(counts):
    with _stats_lock:
        for name, value in counts.items():
            _STATS[name] += value


def cache_stats(reset=False):
    """Process-wide cache counters.

    Memory hits, disk hits, misses (items the model had to encode), writes and corrupt
    entries found.

    Parameters
    ----------
    reset : bool, default=False
        Set the counters back to zero after reading them.

    Examples
    --------
    >>> from skmm.cache import cache_stats
    >>> sorted(cache_stats())
    ['corrupt', 'disk_hits', 'memory_hits', 'misses', 'writes']
    """
    with _stats_lock:
        out = dict(_STATS)
        if reset:
            for name in _STATS:
                _STATS[name] = 0
    return out


def cache_info(cache_dir=None):
    """Size of the embedding cache: entries and bytes on disk (per namespace) and in memory.

    Parameters
    ----------
    cache_dir : path-like, optional
        Defaults to :func:`default_cache_dir`.

    Returns
    -------
    info : dict
        ``{"path", "disk_entries", "disk_bytes", "memory_entries", "memory_bytes", "namespaces"}``
        where ``namespaces`` maps each namespace to its entries, bytes and ``meta.json`` content.

    Examples
    --------
    >>> import tempfile
    >>> from skmm.cache import cache_info
    >>> cache_info(tempfile.mkdtemp())["disk_entries"]
    0
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    namespaces = {}
    if root.is_dir():
        for ns in sorted(p for p in root.iterdir() if p.is_dir()):
            files = [f for f in ns.glob("*/*.npy")]
            meta_path = ns / "meta.json"
            try:
                meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
            except (OSError, ValueError):
                meta = None
            namespaces[ns.name] = {
                "entries": len(files),
                "bytes": sum(f.stat().st_size for f in files),
                "meta": meta,
            }
    mem_entries, mem_bytes = _MEMORY.info()
    return {
        "path": str(root),
        "disk_entries": sum(v["entries"] for v in namespaces.values()),
        "disk_bytes": sum(v["bytes"] for v in namespaces.values()),
        "memory_entries": mem_entries,
        "memory_bytes": mem_bytes,
        "namespaces": namespaces,
    }


def clear_cache(cache_dir=None, namespace=None, memory=True, disk=True):
    """Delete cached embeddings.

    Parameters
    ----------
    cache_dir : path-like, optional
        Defaults to :func:`default_cache_dir`.
    namespace : str, optional
        Only this namespace (see :func:`cache_info`); all of them when None.
    memory, disk : bool, default=True
        Which layers to clear.

    Examples
    --------
    >>> import tempfile
    >>> from skmm.cache import clear_cache
    >>> clear_cache(tempfile.mkdtemp())
    """
    if memory:
        _MEMORY.clear(None if namespace is None else f"{namespace}/")
    if not disk:
        return
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not root.is_dir():
        return
    targets = [root / namespace] if namespace else [p for p in root.iterdir() if p.is_dir()]
    for target in targets:
        shutil.rmtree(target, ignore_errors=True)
