"""The memory layer of the embedding cache: one LRU per process, bounded in bytes.

Its keys are ``(folder, namespace, key)``: the disk folder a cache object reads and
writes (None for a memory-only cache) is part of every key, so caches in different
folders never serve each other's entries.
"""

import os
import threading
from collections import OrderedDict


class MemoryStore:
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
        """Forget every entry, or those of one namespace (in every folder)."""
        with self._lock:
            if namespace is None:
                self._data.clear()
                self._bytes = 0
                return
            for key in [k for k in self._data if k[1] == namespace]:
                self._bytes -= self._data.pop(key).nbytes

    def info(self):
        with self._lock:
            return len(self._data), self._bytes
