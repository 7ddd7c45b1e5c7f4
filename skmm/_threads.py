"""Thread policy: torch's intra-op thread count, set for a call and restored afterwards."""

import contextlib
import numbers

from skmm._deps import import_optional


def check_n_threads(n_threads):
    """Raise a ValueError naming ``n_threads`` unless it is None or an int >= 1."""
    if n_threads is None:
        return
    if not isinstance(n_threads, numbers.Integral) or isinstance(n_threads, bool) or n_threads < 1:
        raise ValueError(
            f"n_threads must be None (torch's current thread count) or an int >= 1; "
            f"got {n_threads!r}."
        )


@contextlib.contextmanager
def torch_threads(n_threads):
    """Run the block with ``torch.set_num_threads(n_threads)``, then restore the count.

    The count is restored when the block raises too. A small head trains fastest on one
    thread when the CPU is busy: more threads only wait for each other. ``None`` leaves
    torch's setting alone.

    Parameters
    ----------
    n_threads : int or None

    Examples
    --------
    >>> import torch
    >>> from skmm._threads import torch_threads
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    if n_threads is None:
        yield
        return
    torch = import_optional("torch", "running torch models")
    previous = torch.get_num_threads()
    if previous == n_threads:
        yield
        return
    torch.set_num_threads(int(n_threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)
