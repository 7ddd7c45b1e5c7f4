"""The bytes of one disk cache entry, bound to the key and namespace it was written for.

An entry is ``MAGIC | checksum | header length | header | payload``. The header (JSON)
names the namespace, the key, the dtype and the shape; the checksum covers the header
and the payload together. A file copied over another key's file, an entry of another
configuration, or a vector of another width therefore never reads back as valid: the
reader compares the header with what it asked for.
"""

import hashlib
import json
import os
import time

import numpy as np

MAGIC = b"SKMMv2\n"
_OLD_MAGIC = b"SKMMv1\n"  # payload-only checksum: such entries are recomputed, never trusted
_DIGEST = 16
_LENGTH = 4
#: Temporary files older than this are left over from a killed writer (a live one renames
#: its file within milliseconds).
ORPHAN_AGE_S = 600


class CorruptEntry(ValueError):
    """The bytes on disk are not a whole entry for the key that was asked for."""


class OldFormatEntry(CorruptEntry):
    """An entry written by an earlier skmm, whose checksum did not bind its key."""


def _checksum(header, payload):
    h = hashlib.blake2b(digest_size=_DIGEST)
    h.update(len(header).to_bytes(_LENGTH, "little"))
    h.update(header)
    h.update(payload)
    return h.digest()


def encode_entry(vector, namespace, key):
    """The bytes of ``vector`` stored as ``key`` of ``namespace``.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm._cache_entry import decode_entry, encode_entry
    >>> blob = encode_entry(np.arange(3, dtype=np.float32), "ns", "k1")
    >>> decode_entry(blob, "ns", "k1")
    array([0., 1., 2.], dtype=float32)
    >>> decode_entry(blob, "ns", "k2")
    Traceback (most recent call last):
    ...
    skmm._cache_entry.CorruptEntry: entry written for key 'k1' of namespace 'ns', not for key 'k2' of namespace 'ns'
    """
    arr = np.ascontiguousarray(vector)
    header = json.dumps(
        {"namespace": namespace, "key": key, "dtype": arr.dtype.str, "shape": list(arr.shape)},
        sort_keys=True,
    ).encode()
    payload = arr.tobytes()
    length = len(header).to_bytes(_LENGTH, "little")
    return MAGIC + _checksum(header, payload) + length + header + payload


def decode_entry(blob, namespace, key):
    """The vector stored in ``blob``; raises :class:`CorruptEntry` unless it is ``key``'s."""
    if blob.startswith(_OLD_MAGIC):
        raise OldFormatEntry("entry of an earlier cache format")
    start = len(MAGIC) + _DIGEST + _LENGTH
    if len(blob) < start or not blob.startswith(MAGIC):
        raise CorruptEntry("bad header")
    digest = blob[len(MAGIC) : len(MAGIC) + _DIGEST]
    n_header = int.from_bytes(blob[start - _LENGTH : start], "little")
    header, payload = blob[start : start + n_header], blob[start + n_header :]
    if len(header) != n_header or _checksum(header, payload) != digest:
        raise CorruptEntry("checksum mismatch")
    try:
        meta = json.loads(header)
        dtype = np.dtype(meta["dtype"])
        shape = tuple(int(n) for n in meta["shape"])
    except (ValueError, TypeError, KeyError) as exc:
        raise CorruptEntry(f"unreadable header ({exc})") from None
    if (meta.get("namespace"), meta.get("key")) != (namespace, key):
        raise CorruptEntry(
            f"entry written for key {meta.get('key')!r} of namespace {meta.get('namespace')!r}, "
            f"not for key {key!r} of namespace {namespace!r}"
        )
    if dtype.kind not in "biufc" or any(n < 0 for n in shape):
        raise CorruptEntry(f"not a numeric vector (dtype {dtype}, shape {shape})")
    if len(payload) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
        raise CorruptEntry(f"{len(payload)} payload bytes for dtype {dtype} and shape {shape}")
    return np.frombuffer(payload, dtype=dtype).reshape(shape)


def sweep_orphans(directory, max_age=ORPHAN_AGE_S, now=None):
    """Delete temporary files and claims older than ``max_age`` seconds under a namespace folder.

    A writer killed between creating its temporary file and renaming it leaves the file
    behind, and one killed while encoding leaves its claims (live owners refresh theirs
    far more often); nothing else would remove those no one needs again. Returns the
    number deleted.

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from skmm._cache_entry import sweep_orphans
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "ab").mkdir()
    >>> (folder / "ab" / ".abc.npy.x1.tmp").write_bytes(b"half")
    4
    >>> sweep_orphans(folder, max_age=60), sweep_orphans(folder, max_age=60, now=1e12)
    (0, 1)
    """
    now = time.time() if now is None else now
    removed = 0
    for pattern in (".*.tmp", "*/.*.tmp", "*/*.claim"):
        for path in directory.glob(pattern):
            try:
                if now - path.stat().st_mtime > max_age:
                    os.unlink(path)
                    removed += 1
            except OSError:  # another process swept it first, or the folder is read-only
                continue
    return removed
