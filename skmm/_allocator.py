"""glibc's malloc under a fixed trim threshold: give torch its large buffers back.

Setting ``MALLOC_TRIM_THRESHOLD_`` in the environment (Dask's nanny sets it to 65536 in
every worker it starts) also switches off glibc's adaptive mmap threshold. Every
allocation over 128 KiB then gets fresh pages from the kernel and returns them on free:
a model's activations are faulted in again on every batch. For all-MiniLM-L6-v2 on one
thread that is about 680 faults per text instead of 20, and 1.2-1.4x the encoding time
(``benchmarks/bench_dask.py``, issue 12).

:func:`restore_mmap_threshold` sets what glibc's adaptive rule would reach: the mmap
threshold at its ceiling (32 MiB on 64-bit) and the trim threshold at twice that, so a
process keeps at most 64 MiB of freed memory at the top of its heap (less than any
model it runs). It acts once per process, only where ``MALLOC_TRIM_THRESHOLD_`` is set
and ``MALLOC_MMAP_THRESHOLD_`` is not, and only on glibc. ``SKMM_KEEP_MALLOC=1`` opts out.
"""

import ctypes
import ctypes.util
import logging
import os
import threading

logger = logging.getLogger("skmm")

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers
MMAP_THRESHOLD_CEILING = 32 * 1024 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit

_DONE = threading.Event()


def restore_mmap_threshold():
    """Set glibc's mmap and trim thresholds once per process where a fixed trim froze them.

    Returns
    -------
    changed : bool
        True when this call set the threshold; False when it was done before, not
        needed (``MALLOC_TRIM_THRESHOLD_`` and ``MALLOC_MMAP_THRESHOLD_`` unset or the
        latter set by the user), opted out of, or not glibc.

    Examples
    --------
    >>> from skmm._allocator import restore_mmap_threshold
    >>> _ = restore_mmap_threshold()  # True where Dask's setting was found and changed
    >>> restore_mmap_threshold()  # once per process
    False
    """
    if _DONE.is_set():
        return False
    _DONE.set()
    environ = os.environ
    if (
        "MALLOC_TRIM_THRESHOLD_" not in environ
        or "MALLOC_MMAP_THRESHOLD_" in environ  # the user chose one: theirs stands
        or environ.get("SKMM_KEEP_MALLOC", "0") not in ("", "0")
    ):
        return False
    mallopt = _glibc_mallopt()
    if mallopt is None or mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_CEILING) != 1:
        return False
    mallopt(M_TRIM_THRESHOLD, 2 * MMAP_THRESHOLD_CEILING)  # glibc's own adaptive ratio
    logger.info(
        "skmm: MALLOC_TRIM_THRESHOLD_ is set (as Dask's workers set it), which fixes the "
        "mmap threshold at 128 KiB; set the mmap and trim thresholds to 32 and 64 MiB "
        "so that model activations reuse their memory (SKMM_KEEP_MALLOC=1 opts out)."
    )
    return True


def _glibc_mallopt():
    """``mallopt`` from the C library when it is glibc, else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 (only glibc has it)
    except (OSError, AttributeError):
        return None
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt
