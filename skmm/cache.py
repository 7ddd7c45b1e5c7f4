"""The embedding cache: one embedding per (encoder configuration, input content).

Entries live in two layers:

* memory: a process-wide LRU shared by every encoder instance, so clones made by
  ``GridSearchCV`` or ``cross_validate`` hit what an earlier fit computed;
* disk: one small file per entry under ``cache_dir`` (default ``$SKMM_CACHE_DIR`` or
  ``~/.cache/skmm``), shared by joblib/loky/dask worker processes and by later runs.

A key is the hash of the input's content under a *namespace*, the hash of the model's
identity (path + weights fingerprint) and of every parameter that changes the output.
Disk writes go to a temporary file that is renamed into place, so readers never see a
half-written entry. Each entry names the namespace, key, dtype and shape it was written
for, under one checksum with the vector: a torn or damaged entry, or one that belongs to
another key or configuration, is deleted and recomputed, never served.
"""

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ._cache_claim import Claims
from ._cache_entry import CorruptEntry, OldFormatEntry, decode_entry, encode_entry, sweep_orphans
from ._cache_memory import MemoryStore

__all__ = ["EmbeddingCache", "cache_info", "cache_stats", "clear_cache", "default_cache_dir"]

logger = logging.getLogger("skmm")

_FORMAT_VERSION = 1  # part of every namespace: bump only when vectors themselves change

_stats_lock = threading.Lock()
_STATS = {
    "memory_hits": 0,
    "disk_hits": 0,
    "misses": 0,
    "writes": 0,
    "failed_writes": 0,
    "corrupt": 0,
}
# Namespace folders this process has already swept of orphan temporary files.
_SWEPT = set()


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


_MEMORY = MemoryStore()


class EmbeddingCache:
    """Embeddings of one encoder configuration, in memory and (optionally) on disk.

    An encoder opens one per ``transform`` call. A disk entry is served only if its
    checksum holds and it was written for this namespace and key; anything else is
    counted as corrupt, deleted and recomputed. When the disk cannot be written (full,
    read-only), the entries stay in memory and one warning is logged per cache object.

    Parameters
    ----------
    namespace : str
        Hash of the model identity and output-changing parameters (:func:`namespace_key`).
    directory : path-like or None
        Root of the on-disk cache; None keeps entries in memory only.
    description : dict, optional
        Written once as ``meta.json`` beside the entries, so a person can tell what a
        namespace holds (:func:`cache_info` reads it back).

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
        # Memory entries are keyed by folder too: caches in two folders never share them.
        self._scope = None if directory is None else os.path.abspath(self.directory)
        self._claims = Claims()
        self._lock = threading.Lock()
        self._write_warned = False

    def _path(self, key):
        return self.directory / key[:2] / f"{key}.npy"

    def _memory_key(self, key):
        return (self._scope, self.namespace, key)

    def get_many(self, keys):
        """Look up ``keys``; returns a dict of the ones found (memory first, then disk)."""
        found = self._lookup(keys)
        _bump({"misses": len(keys) - len(found)})
        return found

    def get_or_claim(self, keys):
        """Look up ``keys`` and claim the missing ones for this process to compute.

        Processes that share a disk cache thereby compute each entry once: a key another
        live process has claimed is left to it (see :mod:`skmm._cache_claim`).

        Returns
        -------
        found : dict
            The vectors the cache holds.
        mine : list
            Keys to compute here: :meth:`put_many` stores them and drops their claims;
            :meth:`release` drops the claims of those that could not be computed.
        held : list
            Keys another process is computing; collect them with :meth:`wait_for`.
        """
        found = self._lookup(keys)
        missing = [key for key in keys if key not in found]
        mine, held = missing, []
        if self.directory is not None and missing:
            mine, held = [], []
            for key in missing:
                (mine if self._claim(key) else held).append(key)
            # claimed after its owner stored it and left: read it rather than compute it
            late = self._lookup(mine) if mine else {}
            self._claims.release(late)
            found.update(late)
            mine = [key for key in mine if key not in late]
        _bump({"misses": len(mine)})
        return found, mine, held

    def _claim(self, key):
        return self._claims.take(key, self._path(key).with_suffix(".claim"))

    def wait_for(self, keys, max_delay=0.5):
        """Wait until another process stores some of ``keys``, or leaves some of them.

        This object's own claims are dropped first, so two processes never wait for
        each other. Returns ``(found, mine, held)`` as :meth:`get_or_claim` does, once
        ``found`` or ``mine`` is not empty (at once when ``keys`` is empty).
        """
        self._claims.release()
        delay = 0.01
        while True:
            found, mine, held = self.get_or_claim(keys)
            if found or mine or not held:
                return found, mine, held
            time.sleep(delay)
            delay = min(2 * delay, max_delay)

    def release(self, keys=None):
        """Drop this object's claims on ``keys`` (all when None): they will not be stored."""
        self._claims.release(keys)

    def _lookup(self, keys):
        """The entries held for ``keys``, memory first, then disk (hits counted)."""
        found = {}
        counts = {"memory_hits": 0, "disk_hits": 0, "corrupt": 0}
        damaged = []
        for key in keys:
            value = _MEMORY.get(self._memory_key(key))
            if value is not None:
                found[key] = value
                counts["memory_hits"] += 1
                continue
            value = self._read(key, damaged) if self.directory is not None else None
            if value is None:
                continue
            _MEMORY.put(self._memory_key(key), value)
            found[key] = value
            counts["disk_hits"] += 1
        if damaged:
            counts["corrupt"] = len(damaged)
            path, reason = damaged[0]
            logger.warning(
                "skmm cache: %d corrupt entr%s under %s (first: %s: %s); deleted, recomputing",
                len(damaged),
                "y" if len(damaged) == 1 else "ies",
                self.directory,
                path.name,
                reason,
            )
        _bump(counts)
        return found

    def _read(self, key, damaged):
        path = self._path(key)
        try:
            blob = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            logger.warning("skmm cache: cannot read %s (%s); recomputing", path, exc)
            return None
        try:
            return decode_entry(blob, self.namespace, key)
        except OldFormatEntry:
            return None  # a miss: the recomputed entry replaces it in place
        except CorruptEntry as exc:
            damaged.append((path, exc))
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
            _MEMORY.put(self._memory_key(key), value)
        if self.directory is None:
            _bump({"writes": len(items)})
            return
        written, error = 0, None
        try:
            self._write_meta()
        except OSError as exc:  # a full or read-only disk must not stop the encoding
            error = exc
        self._sweep_once()
        for key, value in items.items():
            try:
                self._write(key, value)
                written += 1
            except OSError as exc:
                error = exc
        self._claims.release(items)  # entries are in place: waiters read them now
        self._claims.refresh()
        _bump({"writes": written, "failed_writes": len(items) - written})
        if written < len(items):
            self._warn_unwritable(error)

    def _warn_unwritable(self, exc):
        with self._lock:
            if self._write_warned:
                return
            self._write_warned = True
        logger.warning(
            "skmm cache: cannot write under %s (%s); keeping entries in memory only "
            "(said once per call; cache_stats()['failed_writes'] counts them)",
            self.directory,
            exc,
        )

    def _sweep_once(self):
        with self._lock:
            if self.directory in _SWEPT or not self.directory.is_dir():
                return
            _SWEPT.add(self.directory)
        removed = sweep_orphans(self.directory)
        if removed:
            logger.info(
                "skmm cache: removed %d temporary files left by killed writers in %s",
                removed,
                self.directory,
            )

    def _write_meta(self):
        meta = self.directory / "meta.json"
        if self.description is None or meta.exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        _atomic_write(meta, json.dumps(self.description, indent=1, default=str).encode())

    def _write(self, key, value):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, encode_entry(value, self.namespace, key))


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

    ``memory_hits`` and ``disk_hits``; ``misses`` (items the model had to encode);
    ``writes`` (entries stored: on disk for a disk cache, only those whose write
    succeeded; in memory for a memory-only cache); ``failed_writes`` (entries a full or
    read-only disk refused, kept in memory only); ``corrupt`` (disk entries found damaged
    or belonging to another key or configuration, deleted and recomputed).

    Parameters
    ----------
    reset : bool, default=False
        Set the counters back to zero after reading them.

    Returns
    -------
    stats : dict of str to int

    Examples
    --------
    >>> from skmm.cache import cache_stats
    >>> sorted(cache_stats())
    ['corrupt', 'disk_hits', 'failed_writes', 'memory_hits', 'misses', 'writes']
    """
    with _stats_lock:
        out = dict(_STATS)
        if reset:
            for name in _STATS:
                _STATS[name] = 0
    return out


def _cache_root(cache_dir):
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(
            f"The cache folder {str(root)!r} is a file, not a folder. Pass the folder that "
            "holds the cache (cache_dir=..., --cache-dir, $SKMM_CACHE_DIR), or move the file."
        )
    return root


# Description keys that say which encoder and weights; every other key is an output param.
_IDENTITY = ("encoder", "model", "dtype")


def _describe(meta):
    """The per-namespace fields of :func:`cache_info` from a stored description."""
    meta = meta if isinstance(meta, dict) else {}
    params = {k: v for k, v in sorted(meta.items()) if k not in _IDENTITY}
    words = [str(meta.get("encoder", "unknown encoder"))]
    if meta.get("model") is not None:
        words.append(str(meta["model"]))
    words += [f"{k}={v}" for k, v in params.items()]
    return {
        "encoder": meta.get("encoder"),
        "model": meta.get("model"),
        "dtype": meta.get("dtype"),
        "params": params,
        "summary": " ".join(words),
    }


def cache_info(cache_dir=None):
    """Size of the embedding cache: entries and bytes on disk (per namespace) and in memory.

    Parameters
    ----------
    cache_dir : path-like, optional
        Defaults to :func:`default_cache_dir`.

    Returns
    -------
    info : dict
        ``{"path", "disk_entries", "disk_bytes", "memory_entries", "memory_bytes",
        "namespaces"}``. ``namespaces`` maps each namespace (one encoder configuration)
        to a dict: ``entries`` and ``bytes`` on disk; ``encoder`` (class name), ``model``
        (weights identity) and ``dtype``; ``params``, the output-changing parameters
        (pooling, ``max_length``, ...); ``summary``, all of that on one line; ``meta``,
        the stored description as it is (None for a namespace without one, whose other
        fields are then None or empty).

    Raises
    ------
    NotADirectoryError
        When ``cache_dir`` is a file.

    Examples
    --------
    >>> import tempfile
    >>> from skmm.cache import cache_info
    >>> cache_info(tempfile.mkdtemp())["disk_entries"]
    0
    """
    root = _cache_root(cache_dir)
    namespaces = {}
    if root.is_dir():
        for ns in sorted(p for p in root.iterdir() if p.is_dir()):
            files = list(ns.glob("*/*.npy"))
            meta_path = ns / "meta.json"
            try:
                meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
            except (OSError, ValueError):
                meta = None
            namespaces[ns.name] = {
                "entries": len(files),
                "bytes": sum(_size(f) for f in files),
                **_describe(meta),
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


def _size(path):
    try:
        return path.stat().st_size
    except OSError:  # deleted by another process while we counted
        return 0


def clear_cache(cache_dir=None, namespace=None, memory=True, disk=True):
    """Delete cached embeddings.

    Parameters
    ----------
    cache_dir : path-like, optional
        Defaults to :func:`default_cache_dir`.
    namespace : str, optional
        Only this namespace (see :func:`cache_info`); all of them when None.
    memory, disk : bool, default=True
        Which layers to clear. The memory layer is this process's, for every folder
        (only the namespace's entries when ``namespace`` is given).

    Raises
    ------
    NotADirectoryError
        When ``disk`` is true and ``cache_dir`` is a file.

    Examples
    --------
    >>> import tempfile
    >>> from skmm.cache import clear_cache
    >>> clear_cache(tempfile.mkdtemp())
    """
    if memory:
        _MEMORY.clear(namespace)
    if not disk:
        return
    root = _cache_root(cache_dir)
    if not root.is_dir():
        return
    targets = [root / namespace] if namespace else [p for p in root.iterdir() if p.is_dir()]
    for target in targets:
        shutil.rmtree(target, ignore_errors=True)
        _SWEPT.discard(target)
