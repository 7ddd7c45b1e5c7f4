"""From prepared items to vectors.

Length bucketing, CPU inference streams, GPU out-of-memory back-off, isolation of the
rows that break a batch, per-row facts.
"""

import logging
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._device import free_accelerator_memory, is_out_of_memory
from ..exceptions import InputError

logger = logging.getLogger("skmm")


class _BatchRunner:
    """The batch loop of :class:`~skmm.encoders.BaseEncoder` (a private mixin).

    It calls the encoder's ``_size``, ``_encode_batch``, ``_failure`` and
    ``_runtime_device`` and fills ``out`` and the cache batch by batch, so work done
    before a failure is never lost.
    """

    def _run_batches(self, model, good, groups, firsts, out, failures, cache, state, bar, index):
        # Longest first, so a GPU out-of-memory shows up on the first batch.
        good.sort(key=lambda kp: -self._size(_value(kp[1])))
        streams = self._cpu_streams()
        if streams > 1 and len(good) > state["batch_size"]:
            self._run_streams(
                streams, model, good, groups, firsts, out, failures, cache, state, bar, index
            )
        else:
            self._run_sequential(
                model, good, groups, firsts, out, failures, cache, state, bar, index
            )

    def _run_sequential(self, model, good, groups, firsts, out, failures, cache, state, bar, index):
        start = 0
        while start < len(good):
            batch = good[start : start + state["batch_size"]]
            try:
                vectors = self._encode_prepared(model, [prep for _, prep in batch])
            except Exception as exc:
                if is_out_of_memory(exc) and state["batch_size"] > 1:
                    free_accelerator_memory()
                    state["batch_size"] = max(1, state["batch_size"] // 2)
                    logger.warning(
                        "%s: out of memory; batch size halved to %d.",
                        type(self).__name__,
                        state["batch_size"],
                    )
                    continue
                vectors = self._encode_one_by_one(
                    model, batch, exc, groups, firsts, failures, index
                )
            self._store(batch, vectors, groups, out, cache, bar)
            start += len(batch)

    def _cpu_streams(self):
        """On the CPU, spend torch's thread budget as that many single-threaded streams.

        Small per-layer operations scale poorly across threads; independent batches on
        one thread each keep every core busy. The budget stays torch's own (joblib workers
        that limit threads get one stream), and is restored after the call.
        """
        if not self._runtime_device()[0].startswith("cpu"):
            return 1
        import torch

        return max(1, torch.get_num_threads())

    def _run_streams(
        self, streams, model, good, groups, firsts, out, failures, cache, state, bar, index
    ):
        import torch

        size = state["batch_size"]
        batches = [good[i : i + size] for i in range(0, len(good), size)]

        def run(batch):
            try:
                return self._encode_prepared(model, [prep for _, prep in batch])
            except Exception as exc:  # isolated below, in the calling thread
                return exc

        previous = torch.get_num_threads()
        try:  # the thread count is per thread for OpenMP: each stream sets its own to one
            with ThreadPoolExecutor(
                max_workers=streams, initializer=torch.set_num_threads, initargs=(1,)
            ) as pool:
                for batch, vectors in zip(batches, pool.map(run, batches)):
                    if is_out_of_memory(vectors):  # let the sequential path halve the batch
                        self._run_sequential(
                            model, batch, groups, firsts, out, failures, cache, state, bar, index
                        )
                        continue
                    if isinstance(vectors, Exception):
                        vectors = self._encode_one_by_one(
                            model, batch, vectors, groups, firsts, failures, index
                        )
                    self._store(batch, vectors, groups, out, cache, bar)
        finally:
            torch.set_num_threads(previous)

    def _store(self, batch, vectors, groups, out, cache, bar):
        done = {}
        for (key, _), vector in zip(batch, vectors):
            if vector is not None:
                out[groups[key]] = vector
                done[key] = vector
        if cache is not None:
            cache.put_many(done)
        bar.update(len(batch))

    def _encode_prepared(self, model, batch):
        """``_encode_batch`` on the prepared values, with each row's facts appended."""
        if not self._row_facts:
            return self._encode_batch(model, batch)
        vectors = self._encode_batch(model, [p.value for p in batch])
        return np.hstack([vectors, np.asarray([p.facts for p in batch], dtype=np.float32)])

    def _encode_one_by_one(self, model, batch, exc, groups, firsts, failures, index):
        """A batch failed: find the rows that cause it, keep the others."""
        if len(batch) == 1:
            results = [exc]
        else:
            results = [
                _capture(lambda p: self._encode_prepared(model, [p])[0], prep) for _, prep in batch
            ]
            if len(batch) >= 4 and all(isinstance(r, Exception) for r in results):
                raise exc  # every row fails alone too: a bug or a setup error, not bad rows
        vectors = []
        for (key, _), result in zip(batch, results):
            if isinstance(result, Exception):
                if is_out_of_memory(result):
                    raise result
                for row in groups[key]:
                    failures[row] = self._failure(row, firsts[key], result, index)
                vectors.append(None)
            else:
                vectors.append(result)
        return vectors


class WithFacts:
    """A prepared item and the facts about its row found while preparing it.

    Examples
    --------
    >>> from skmm.encoders._batching import WithFacts
    >>> WithFacts("pixels", (1.0,)).facts
    (1.0,)
    """

    __slots__ = ("value", "facts")

    def __init__(self, value, facts):
        self.value, self.facts = value, tuple(facts)


def _value(prepared):
    return prepared.value if isinstance(prepared, WithFacts) else prepared


def _capture(fn, item):
    try:
        return fn(item)
    except InputError as exc:
        return exc
    except NotImplementedError:
        raise
    except Exception as exc:  # a reader's unexpected error still names its row
        return InputError(f"{type(exc).__name__}: {exc}")
