"""Encoding a Dask collection partition by partition on the workers."""

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from skmm._deps import import_optional
from skmm.encoders import BaseEncoder


def transform(estimator, collection, *, meta=None):
    """Encode a Dask collection on the workers, partition by partition, lazily.

    Nothing runs until the result is computed (``.compute()``, ``.persist()``,
    ``client.compute``), so Dask's own progress bar (``distributed.progress``) and
    dashboard show the encoding.

    An skmm encoder travels as its parameters only (a ``clone``, no weights, a few
    hundred bytes in the task graph) and is fitted on each worker, so a worker resolves
    its own device (a GPU worker uses its GPU) and loads the model once per worker
    process, through skmm's model registry. Any other transformer (e.g. a fitted
    pipeline ending in a fusion step) must be fitted; it goes into the graph once,
    pickled (skmm encoders inside it carry no weights either).

    Parameters
    ----------
    estimator : skmm encoder or fitted transformer
        ``TextEncoder``, ``ImageEncoder``, ``MelEncoder`` (fitted or not), or any
        fitted object with ``transform``.
    collection : dask DataFrame, Series, Bag or 1-D Array
        The raw inputs: a Series or one-column DataFrame of texts or paths, a bag of
        paths, a 1-D array. A multi-column DataFrame suits a fitted transformer that
        selects its columns (``ColumnTransformer``, ``ModalityUnion``).
    meta : pandas DataFrame, optional
        Empty frame with the output's columns and dtypes, for a transformer whose
        ``get_feature_names_out`` cannot tell them. Encoders need none: their
        columns are ``get_feature_names_out()`` and their dtype float32.

    Returns
    -------
    embeddings : dask DataFrame or dask Array
        A DataFrame with the input's index and one float column per feature for a
        DataFrame or Series input; an array of shape (n_rows, n_features) for a bag
        or an array (rows per chunk unknown for a bag, as for any bag).

    See Also
    --------
    fill_cache : Encode on the workers for the cache only, returning nothing.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> import skmm.dask
    >>> from skmm import TextEncoder
    >>> texts = dd.from_pandas(pd.Series(["a happy day", "a sad night", "calm"]), npartitions=2)
    >>> emb = skmm.dask.transform(TextEncoder(cache=False), texts)
    >>> list(emb.columns[:2]), emb.dtypes.iloc[0]
    (['text_0', 'text_1'], dtype('float32'))
    >>> emb.compute(scheduler="sync").shape  # or on a distributed Client
    (3, 384)
    """
    dask = import_optional("dask", "encoding a Dask collection")
    kind = _kind(collection)
    if kind is None:
        raise TypeError(
            f"skmm.dask.transform takes a dask collection, got {type(collection).__name__}; "
            "wrap it (dask.dataframe.from_pandas, dask.bag.from_sequence) or call the "
            "estimator's own transform for data in memory."
        )
    meta = _output_meta(estimator, meta)
    layout = (list(meta.columns), [str(t) for t in meta.dtypes])  # plain data for the tasks
    # One copy in the graph, shared by every partition's task: the parameters of an
    # encoder, or the fitted transformer.
    payload = clone(estimator) if isinstance(estimator, BaseEncoder) else estimator
    shipped = dask.delayed(payload, pure=True)
    if kind == "frame":
        return collection.map_partitions(_transform_partition, shipped, layout, meta=meta)
    parts = collection.to_delayed()
    if kind == "array":
        if collection.ndim != 1:
            raise ValueError(
                f"skmm.dask.transform expects a 1-D dask array of inputs, got shape "
                f"{collection.shape}; ravel it or pass a Series."
            )
        sizes = collection.chunks[0]
        parts = list(parts)
    else:
        sizes = [np.nan] * len(parts)
    array = import_optional("dask.array", "encoding a Dask collection")
    encode = dask.delayed(_transform_block, pure=True)
    blocks = [
        array.from_delayed(
            encode(part, shipped, layout), shape=(size, meta.shape[1]), dtype=meta.dtypes.iloc[0]
        )
        for part, size in zip(parts, sizes)
    ]
    return array.concatenate(blocks, axis=0)


def fill_cache(encoder, collection, *, npartitions=None):
    """Encode inputs on the workers for the shared disk cache only; returns rows seen.

    An optional pre-warm before a search (``GridSearchCV``, ``cross_validate``,
    ``OptunaSearchCV`` under joblib's Dask backend) over a pipeline with the same
    encoder: the distinct inputs are encoded spread over every worker at once, and the
    search's fits only read the cache. A search encodes each input once without it too
    (the cache's claims keep two fits from encoding the same input), but its first fits
    then share the encoding by folds. The encoder's ``cache`` must be True and its
    ``cache_dir`` a folder every worker sees.

    Parameters
    ----------
    encoder : skmm encoder
        Configured as in the pipeline (same model and output parameters, same
        ``cache_dir``), so its cache entries are the ones the pipeline looks up.
    collection : list, Series or dask collection
        In-memory inputs are de-duplicated and split into ``npartitions``.
    npartitions : int, optional
        Default: four per worker of the current Dask client (at least one).

    Returns
    -------
    n_rows : int
        Rows the workers went through (encoded, or found in the cache).

    Examples
    --------
    >>> import tempfile
    >>> import skmm.dask
    >>> from skmm import TextEncoder
    >>> with tempfile.TemporaryDirectory() as folder:  # a shared folder on a cluster
    ...     skmm.dask.fill_cache(TextEncoder(cache_dir=folder), ["hi", "hi", "bye"], npartitions=1)
    2
    """
    if not isinstance(encoder, BaseEncoder):
        raise TypeError(
            f"fill_cache takes an skmm encoder (TextEncoder, ImageEncoder, MelEncoder), got "
            f"{type(encoder).__name__}; pass the encoder step of your pipeline."
        )
    if encoder.cache is not True:
        raise ValueError(
            f"fill_cache needs cache=True (memory and disk) so workers share entries; the "
            f"encoder has cache={encoder.cache!r}."
        )
    dask = import_optional("dask", "encoding a Dask collection")
    if _kind(collection) is None:
        bag = import_optional("dask.bag", "encoding a Dask collection")
        items = _distinct(_as_list(collection))
        if not items:
            return 0
        collection = bag.from_sequence(
            items, npartitions=min(len(items), npartitions or _default_partitions())
        )
    shipped = dask.delayed(clone(encoder), pure=True)
    count = dask.delayed(_fill_block, pure=False)
    return int(sum(dask.compute(*[count(p, shipped) for p in collection.to_delayed()])))


# -- runs on the workers ---------------------------------------------------------------
def _transform_partition(part, estimator, layout):
    """One pandas partition to a DataFrame of embeddings with the partition's index."""
    columns, dtypes = layout
    values = _run(estimator, part, len(part), layout)
    frame = pd.DataFrame(values, index=part.index, columns=columns)
    return frame.astype(dict(zip(columns, dtypes)))


def _transform_block(part, estimator, layout):
    """One bag partition (a list) or array chunk to an ndarray of embeddings."""
    rows = list(part)
    return _run(estimator, rows, len(rows), layout).astype(layout[1][0], copy=False)


def _fill_block(part, encoder):
    rows = _as_list(part)
    if rows:
        clone(encoder).fit(rows).transform(rows)
    return len(rows)


def _run(estimator, rows, n_rows, layout):
    columns, dtypes = layout
    if n_rows == 0:
        return np.empty((0, len(columns)), dtype=dtypes[0])
    if isinstance(estimator, BaseEncoder):
        # fit only resolves device and model identity; the model comes from the registry
        estimator = clone(estimator).fit(rows)
    values = estimator.transform(rows)
    values = values.to_numpy() if hasattr(values, "to_numpy") else np.asarray(values)
    if values.shape != (n_rows, len(columns)):
        raise ValueError(
            f"{type(estimator).__name__}.transform returned shape {values.shape} for "
            f"{n_rows} rows, but meta announces {len(columns)} columns; pass the right "
            "meta= to skmm.dask.transform."
        )
    return values


# -- runs on the client ------------------------------------------------------------------
def _output_meta(estimator, meta):
    if meta is not None:
        if not isinstance(meta, pd.DataFrame) or len(meta.columns) == 0:
            raise ValueError(
                "meta must be an empty pandas DataFrame with the output columns and dtypes, "
                "e.g. pd.DataFrame({'f0': np.array([], dtype='float32')})."
            )
        return meta.iloc[:0]
    if isinstance(estimator, BaseEncoder):
        if not hasattr(estimator, "n_features_out_"):
            # fit checks the input's shape only, so one placeholder row will do; on the
            # CPU, as the client may have no GPU that the workers have
            estimator = clone(estimator).set_params(device="cpu").fit(["placeholder"])
        names, dtype = estimator.get_feature_names_out(), np.float32
    else:
        check_is_fitted(estimator)
        try:
            names = estimator.get_feature_names_out()
        except (AttributeError, ValueError, TypeError) as exc:
            raise ValueError(
                f"Cannot tell the output columns of {type(estimator).__name__} (its "
                f"get_feature_names_out failed: {exc}). Pass meta=, an empty DataFrame "
                "with the output columns and dtypes."
            ) from exc
        dtype = np.float64
    return pd.DataFrame({str(name): np.array([], dtype=dtype) for name in names})


def _kind(collection):
    """The kind of collection: "frame", "array", "bag", or None for data in memory."""
    module = type(collection).__module__
    if not module.startswith("dask."):
        return None
    if hasattr(collection, "map_partitions") and hasattr(collection, "divisions"):
        return "frame"
    if hasattr(collection, "chunks") and hasattr(collection, "ndim"):
        return "array"
    if hasattr(collection, "map_partitions") and hasattr(collection, "to_delayed"):
        return "bag"
    raise TypeError(
        f"skmm.dask.transform takes a dask DataFrame, Series, Bag or Array; got "
        f"{type(collection).__name__}."
    )


def _as_list(collection):
    if isinstance(collection, (str, bytes)):
        raise ValueError("Pass a list of inputs, not a single string; wrap it in a list: [x].")
    if hasattr(collection, "iloc") and hasattr(collection, "columns"):
        return collection.iloc[:, 0].tolist()
    return list(collection)


def _distinct(items):
    """Items in first-seen order without repeats (all of them when they cannot be hashed)."""
    try:
        return list(dict.fromkeys(items))
    except TypeError:  # e.g. waveforms as arrays: the encoder still dedupes within a partition
        return items


def _default_partitions():
    distributed = import_optional("distributed", "encoding on a Dask cluster")
    try:
        client = distributed.get_client()
    except ValueError:  # no client: the local scheduler
        return 4
    return max(1, 4 * len(client.nthreads()))
