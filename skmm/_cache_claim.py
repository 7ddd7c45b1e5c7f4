"""Claims on disk cache entries being computed, so that processes encode each input once.

Before a process encodes an input the cache lacks, it creates ``KEY.claim`` beside the
entry (``O_CREAT | O_EXCL``: one process wins). Another process that needs the same
input then waits for the entry instead of encoding it; the owner writes the entry and
then deletes its claim. A claim whose owner is gone is *stale* and is taken over: its
process no longer runs on this host, or (owner on another host) it has not been
refreshed for :data:`CLAIM_STALE_S` seconds; owners refresh theirs as they store
batches. Claims only decide who computes: what is served is always a checksummed
entry, so a race between two takers of one stale claim costs a second encode, never a
wrong vector.
"""

import os
import socket
import threading
import time

#: A claim untouched for this long is stale whoever holds it (owners refresh theirs
#: every :data:`REFRESH_S` seconds while they store batches).
CLAIM_STALE_S = 300
REFRESH_S = 30
_HOST = socket.gethostname()


def _running(pid):
    """Whether process ``pid`` runs on this host (a zombie, killed but not reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it exists
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):  # no /proc (macOS): trust kill()
        return True
    return state not in (b"Z", b"X")


def claim_state(path, now=None):
    """``"gone"``, ``"stale"`` or ``"live"``: whether a claim file's owner may still be working.

    Examples
    --------
    >>> import os, socket, tempfile
    >>> from skmm._cache_claim import claim_state
    >>> path = os.path.join(tempfile.mkdtemp(), "k.claim")
    >>> claim_state(path)
    'gone'
    >>> _ = open(path, "w").write(f"{socket.gethostname()} {os.getpid()}")
    >>> claim_state(path), claim_state(path, now=1e12)  # this process runs; but 1e12 is late
    ('live', 'stale')
    """
    try:
        with open(path, "rb") as handle:
            age = (time.time() if now is None else now) - os.fstat(handle.fileno()).st_mtime
            words = handle.read(300).split()
    except FileNotFoundError:
        return "gone"
    except OSError:
        return "live"  # unreadable: let its age decide on a later look
    if age > CLAIM_STALE_S:
        return "stale"
    if len(words) == 2 and words[0].decode(errors="replace") == _HOST and words[1].isdigit():
        return "live" if _running(int(words[1])) else "stale"
    return "live"  # another host's owner (or one still writing its name): trust its age


class Claims:
    """The claims one cache object holds: taken before encoding, dropped once stored."""

    def __init__(self):
        self._held = {}  # key -> claim path
        self._lock = threading.Lock()
        self._refreshed = time.monotonic()

    def take(self, key, path):
        """Claim ``key``: True when this process should compute it, False while another does.

        True also when the claim cannot be written (read-only or missing folder): the
        input is then computed here, as without claims, rather than waited for.
        """
        for _ in range(3):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                state = claim_state(path)
                if state == "live":
                    return False
                if state == "stale":  # its owner is gone: remove it and claim again
                    _unlink(path)
                continue
            except FileNotFoundError:  # the entry's folder is not there yet
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                except OSError:
                    return True
                continue
            except OSError:
                return True
            try:
                os.write(fd, f"{_HOST} {os.getpid()}".encode())
            finally:
                os.close(fd)
            with self._lock:
                self._held[key] = path
            return True
        return False  # two takers raced for it: look again on the next round

    def release(self, keys=None):
        """Delete this object's claims on ``keys`` (all of them when None)."""
        with self._lock:
            if keys is None:
                paths = list(self._held.values())
                self._held.clear()
            else:
                paths = [p for p in (self._held.pop(k, None) for k in keys) if p is not None]
        for path in paths:
            _unlink(path)

    def refresh(self):
        """Touch the claims still held, at most every :data:`REFRESH_S` s: their owner lives."""
        now = time.monotonic()
        with self._lock:
            if now - self._refreshed < REFRESH_S or not self._held:
                return
            self._refreshed = now
            paths = list(self._held.values())
        for path in paths:
            try:
                os.utime(path)
            except OSError:
                pass


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:  # already gone (its owner finished), or a read-only folder
        pass
