"""What happened on each worker: models loaded and cache counters, gathered with ``client.run``."""

from skmm.cache import cache_stats
from skmm.encoders import loaded_models


def worker_models(client):
    """The models loaded in each worker process (skmm's registry holds one per identity).

    Parameters
    ----------
    client : distributed.Client

    Returns
    -------
    models : dict
        ``{worker address: [model key, ...]}``; a key names the encoder class, the
        model identity, the device and the dtype. After encoding, each worker that ran
        a task holds one key per model: a model loads once per worker process, not
        once per task.

    Examples
    --------
    >>> from distributed import Client
    >>> from skmm.dask import worker_models
    >>> with Client(processes=False, n_workers=1, dashboard_address=None) as client:
    ...     len(worker_models(client))  # one worker: {address: [model keys]}
    1
    """
    return client.run(loaded_models)


def worker_cache_stats(client, reset=False):
    """Each worker's embedding-cache counters (see :func:`skmm.cache.cache_stats`).

    ``misses`` counts the items a worker's model had to encode; ``disk_hits`` and
    ``memory_hits`` those it found in the cache. Summed over workers, ``misses`` is
    how many inputs the cluster encoded.

    Parameters
    ----------
    client : distributed.Client
    reset : bool, default=False
        Set the counters back to zero after reading them.

    Returns
    -------
    stats : dict
        ``{worker address: {"misses": int, "disk_hits": int, ...}}``.

    Examples
    --------
    >>> from distributed import Client
    >>> from skmm.dask import worker_cache_stats
    >>> with Client(processes=False, n_workers=1, dashboard_address=None) as client:
    ...     [sorted(stats) for stats in worker_cache_stats(client).values()]
    [['corrupt', 'disk_hits', 'memory_hits', 'misses', 'writes']]
    """
    return client.run(cache_stats, reset=reset)
