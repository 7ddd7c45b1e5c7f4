"""Scale-out on Dask: encode Dask collections on the workers, and count what they did.

Importing this module does not import dask; its functions do, with an install hint
(``pip install 'skmm[dask]'``) when it is missing. Searches need nothing from here:
``GridSearchCV``, ``cross_validate`` and ``OptunaSearchCV(n_jobs=...)`` run their fits
on the workers under ``joblib.parallel_backend("dask")``, and the shared disk cache's
claims make each input encoded once across the cluster; :func:`fill_cache` pre-warms
the cache for them (optional).
"""

from skmm.dask._transform import fill_cache, transform
from skmm.dask._workers import worker_cache_stats, worker_models

__all__ = ["fill_cache", "transform", "worker_cache_stats", "worker_models"]
