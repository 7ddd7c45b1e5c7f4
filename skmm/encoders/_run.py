"""One encoding run: the rows of a ``transform`` call in, vectors and a report out.

A reader follows it top to bottom: :meth:`EncodeRun.run` walks the rows window by
window; :meth:`~EncodeRun._gather` checks, reads and hashes a window's rows, serves what
the cache holds, claims the rest and prepares what it claimed (in the background while
the model runs on the previous window); :meth:`~EncodeRun._encode` cuts the prepared
items into batches (length-sorted, within the encoder's padding budget, CPU inference
streams, GPU out-of-memory back-off, isolation of the rows that break a batch) and
:meth:`~EncodeRun._store` puts each batch's vectors in the output and the cache at once,
so work done before a failure is never lost. Last, :meth:`~EncodeRun._collect_held`
reads the vectors of the inputs another process had claimed, once it has stored them.
"""

import hashlib
import logging
import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._device import free_accelerator_memory, is_out_of_memory
from ..cache import content_hash
from ..exceptions import EncodingError, InputError
from ..io._files import FileContent, open_input_file, read_file_content
from ._input import row_label
from ._report import EncodingReport, WithFacts, value_of

logger = logging.getLogger("skmm")


class EncodeRun:
    """The state of one ``transform`` call, and the loop that fills it.

    Parameters
    ----------
    encoder : BaseEncoder
        A fitted encoder; its hooks say how to check, prepare and encode items.
    rows : list
        The raw items.
    index : pandas.Index or None
        Row labels for error messages.
    """

    def __init__(self, encoder, rows, index):
        self.encoder = encoder
        self.name = type(encoder).__name__
        self.rows = rows
        self.index = index
        self.fact_names = tuple(encoder._row_fact_names())
        self.width = encoder.n_features_out_
        self.out = np.empty((len(rows), self.width + len(self.fact_names)), dtype=np.float32)
        self.cache = encoder._cache()
        self.batch_size = encoder.batch_size
        self.failures = {}  # row -> failure record
        self.counts = Counter()  # counts from preparation (e.g. truncated texts)
        self.rows_of = {}  # input key -> rows holding that input
        self.held = {}  # keys another process is encoding (claimed in the shared cache)
        self.model = None  # loaded on the first input the cache does not hold
        self.n_encoded = self.n_cached = 0
        self.bar = None

    # -- the loop ----------------------------------------------------------------------
    def run(self):
        """Encode every row; return ``(embeddings, report)``."""
        window = max(self.encoder._window_items, self.batch_size)
        windows = [
            range(i, min(i + window, len(self.rows))) for i in range(0, len(self.rows), window)
        ]
        self.bar = self.encoder._progress_bar(len(self.rows))
        stop = self.encoder.on_error == "raise"
        try:
            with ThreadPoolExecutor(max_workers=1) as prefetch:
                pending = prefetch.submit(self._gather, windows[0]) if windows else None
                for i in range(len(windows)):
                    todo, late = pending.result()
                    if stop and self.failures:  # a bad row is reported before the model runs
                        break
                    if i + 1 < len(windows):  # read and prepare the next window meanwhile
                        pending = prefetch.submit(self._gather, windows[i + 1])
                    self._encode(todo)
                    self._copy_late(late)
                    if stop and self.failures:
                        pending.cancel()
                        break
            if not (stop and self.failures):
                self._collect_held()
        finally:
            if self.cache is not None:  # claims of rows not stored (an error): free them
                self.cache.release()
            self.bar.close()
        return self._finish()

    def prepare_all(self):
        """Check, read and prepare every row without encoding: what fine-tuning trains on.

        The cache is not read (the model that will run is not the one that filled it);
        repeated inputs are prepared once and shared. Returns ``(prepared, failed_rows)``:
        the prepared value of each row (None for a failed row) and the failure records.
        With ``on_error="raise"`` the first failure is raised, naming its row and file.
        """
        self.cache = None
        self.bar = self.encoder._progress_bar(0)
        window = max(self.encoder._window_items, self.batch_size)
        values, late = {}, []
        try:
            for start in range(0, len(self.rows), window):
                good, later = self._gather(range(start, min(start + window, len(self.rows))))
                values.update((key, value_of(prep)) for key, prep in good)
                late.extend(later)
        finally:
            self.bar.close()
        for key, row in late:
            first = self.rows_of[key][0]
            if first in self.failures:
                self._fail(row, self.rows[row], InputError(self.failures[first]["error"]))
            else:
                self.rows_of[key].append(row)
        prepared = [None] * len(self.rows)
        for key, value in values.items():
            for row in self.rows_of[key]:
                prepared[row] = value
        if self.failures and self.encoder.on_error == "raise":
            raise self._error(
                done="No model was trained. Pass on_error='nan' or 'zero' to the encoder to "
                "train without the rows that fail (their count is reported)."
            )
        return prepared, [self.failures[row] for row in sorted(self.failures)]

    def _gather(self, rows):
        """Check, read and key a window's rows; serve cache hits; prepare the rest.

        Returns the ``(key, prepared)`` pairs to encode, and the ``(key, row)`` pairs of
        rows whose input was first seen in an earlier window.
        """
        loaded = self._map(self._load, [self.rows[row] for row in rows])
        new, firsts, late = [], {}, []
        for row, result in zip(rows, loaded):
            if isinstance(result, InputError):
                self._fail(row, self.rows[row], result)
                continue
            key, item = result
            if key in self.rows_of:
                if key in firsts:
                    self.rows_of[key].append(row)
                else:
                    late.append((key, row))
                continue
            self.rows_of[key], firsts[key] = [row], item
            new.append(key)
        found, todo, held = {}, new, []
        if self.cache is not None and new:
            found, todo, held = self.cache.get_or_claim(new)
        self._serve(found)
        self.held.update(dict.fromkeys(held))
        self.bar.update(len(rows) - sum(len(self.rows_of[k]) for k in new if k not in found))
        return self._prepare(todo, [firsts[key] for key in todo]), late

    def _prepare(self, keys, items):
        """The ``(key, prepared)`` pairs to encode; an item that cannot be prepared fails its rows."""
        prepared = self.encoder._prepare(items, self.counts) if keys else []
        good = []
        for key, item, prep in zip(keys, items, prepared):
            if isinstance(prep, InputError):
                self._fail_key(key, item, prep)
            else:
                good.append((key, prep))
        return good

    def _serve(self, found):
        for key, vector in found.items():
            self.out[self.rows_of[key]] = vector
        self.n_cached += len(found)

    def _collect_held(self):
        """Inputs another process claimed: serve the vectors it stores, encode those it leaves.

        Runs once this run's own claims are stored, so processes never wait for each
        other; a claim whose owner died is taken over (see :mod:`skmm._cache_claim`).
        """
        held = list(self.held)
        while held:
            found, mine, held = self.cache.wait_for(held)
            self._serve(found)
            self.bar.update(sum(len(self.rows_of[key]) for key in found))
            keys, items = [], []
            for key in mine:
                item = self._reload(key)
                if item is not None:
                    keys.append(key)
                    items.append(item)
            self._encode(self._prepare(keys, items))
            if self.encoder.on_error == "raise" and self.failures:
                break
        self.held.clear()

    def _reload(self, key):
        """The item behind ``key``, read again (unless it changed or fails) to encode it here."""
        raw = self.rows[self.rows_of[key][0]]
        result = capture(self._load, raw)
        if not isinstance(result, InputError) and result[0] != key:
            result = InputError("the file changed while it was being encoded; encode it again")
        if isinstance(result, InputError):
            self._fail_key(key, raw, result)
            return None
        return result[1]

    def _load(self, raw):
        """``(key, item)`` for one raw row: the file read once, hashed and kept for decoding."""
        item = self.encoder._check_item(raw)
        if isinstance(item, os.PathLike) or (
            self.encoder._inputs_are_paths and isinstance(item, str)
        ):
            item = _read_once(item, self.encoder._file_kind, self.encoder._read_once_bytes)
            if isinstance(item, FileContent):
                return _file_key(hashlib.blake2b(item)), item
            return _file_key(_streamed_digest(item)), item
        return self.encoder._item_key(item), item

    def _map(self, fn, items):
        """``fn`` over items, each error captured as an InputError; threaded for file rows."""
        if not self.encoder._threaded_prepare or len(items) < 2:
            return [capture(fn, item) for item in items]
        with ThreadPoolExecutor(max_workers=self.encoder._decode_threads()) as pool:
            return list(pool.map(lambda item: capture(fn, item), items))

    # -- batches -----------------------------------------------------------------------
    def _encode(self, good):
        """Encode prepared items in batches and store each batch's vectors at once."""
        if not good:
            return
        if self.model is None:
            self.model = self.encoder._model()
        size_of = self.encoder._size
        if size_of(value_of(good[0][1])) is not None:
            # longest first: a GPU out-of-memory shows up on the first batch
            good.sort(key=lambda kp: -size_of(value_of(kp[1])))
        streams = self._cpu_streams()
        if streams > 1 and len(good) > self.batch_size:
            self._encode_streams(streams, good)
        else:
            self._encode_sequential(good)

    def _batch_end(self, good, start):
        """End of the batch that starts at ``start`` in length-sorted items.

        ``batch_size`` items, or fewer where padding them to the batch's longest (its
        first) would pass the encoder's budget: a long clip is never padded together
        with many short ones, and one longer than the budget is a batch on its own.
        """
        end = min(start + self.batch_size, len(good))
        budget = self.encoder._batch_budget(self.batch_size)
        longest = self.encoder._size(value_of(good[start][1])) if budget is not None else None
        if not longest:
            return end
        return min(end, start + max(1, budget // longest))

    def _encode_sequential(self, good):
        start = 0
        while start < len(good):
            batch = good[start : self._batch_end(good, start)]
            try:
                vectors = self._forward(batch)
            except Exception as exc:
                if is_out_of_memory(exc) and self.batch_size > 1:
                    free_accelerator_memory()
                    self.batch_size = max(1, self.batch_size // 2)
                    logger.warning(
                        "%s: out of memory; batch size halved to %d.", self.name, self.batch_size
                    )
                    continue
                vectors = self._isolate(batch, exc)
            self._store(batch, vectors)
            start += len(batch)

    def _cpu_streams(self):
        """On the CPU, spend torch's thread budget as that many single-threaded streams.

        Small per-layer operations scale poorly across threads; independent batches on
        one thread each keep every core busy. The budget stays torch's own (joblib workers
        that limit threads get one stream), and is restored after the call.
        """
        if not self.encoder._runtime_device()[0].startswith("cpu"):
            return 1
        import torch

        return max(1, torch.get_num_threads())

    def _encode_streams(self, streams, good):
        import torch

        batches, start = [], 0
        while start < len(good):
            batches.append(good[start : self._batch_end(good, start)])
            start += len(batches[-1])

        def forward(batch):
            try:
                return self._forward(batch)
            except Exception as exc:  # isolated below, in the calling thread
                return exc

        previous = torch.get_num_threads()
        try:  # the thread count is per thread for OpenMP: each stream sets its own to one
            with ThreadPoolExecutor(
                max_workers=streams, initializer=torch.set_num_threads, initargs=(1,)
            ) as pool:
                for batch, vectors in zip(batches, pool.map(forward, batches)):
                    if is_out_of_memory(vectors):  # let the sequential path halve the batch
                        self._encode_sequential(batch)
                        continue
                    if isinstance(vectors, Exception):
                        vectors = self._isolate(batch, vectors)
                    self._store(batch, vectors)
        finally:
            torch.set_num_threads(previous)

    def _forward(self, batch):
        """The encoder's ``_encode_batch`` on prepared values, with each row's facts appended."""
        vectors = self.encoder._run_batch(self.model, [value_of(prep) for _, prep in batch])
        if not self.fact_names:
            return vectors
        facts = np.asarray([prep.facts for _, prep in batch], dtype=np.float32)
        return np.hstack([vectors, facts])

    def _isolate(self, batch, exc):
        """A batch failed: find the rows that cause it, keep the others."""
        if len(batch) == 1:
            results = [exc]
        else:
            results = [capture(lambda kp: self._forward([kp])[0], kp) for kp in batch]
            if len(batch) >= 4 and all(isinstance(r, Exception) for r in results):
                raise exc  # every row fails alone too: a bug or a setup error, not bad rows
        vectors = []
        for (key, _), result in zip(batch, results):
            if isinstance(result, Exception):
                if is_out_of_memory(result):
                    raise result
                self._fail_key(key, self.rows[self.rows_of[key][0]], result)
                vectors.append(None)
            else:
                vectors.append(result)
        return vectors

    def _store(self, batch, vectors):
        done = {}
        for (key, _), vector in zip(batch, vectors):
            if vector is not None:
                self.out[self.rows_of[key]] = vector
                done[key] = vector
        if self.cache is not None:
            self.cache.put_many(done)
        self.n_encoded += len(done)
        self.bar.update(sum(len(self.rows_of[key]) for key, _ in batch))

    def _copy_late(self, late):
        """Rows whose input was first seen in an earlier window share its vector or failure."""
        settled = 0
        for key, row in late:
            if key in self.held:  # another process is encoding it: collected at the end
                self.rows_of[key].append(row)
                continue
            settled += 1
            first = self.rows_of[key][0]
            if first in self.failures:
                self._fail(row, self.rows[row], InputError(self.failures[first]["error"]))
            else:
                self.out[row] = self.out[first]
        self.bar.update(settled)

    # -- failures and the result ---------------------------------------------------------
    def _fail(self, row, item, exc):
        self.failures[row] = {
            "row": row,
            "label": row_label(self.index, row),
            "source": self._source(item),
            "error": str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}",
        }

    def _fail_key(self, key, item, exc):
        for row in self.rows_of[key]:
            self._fail(row, item, exc)
        if self.cache is not None:  # no entry will come: another process may try it
            self.cache.release([key])

    def _source(self, item):
        """The file behind an item, for error messages."""
        if isinstance(item, FileContent):
            return item.path
        if isinstance(item, os.PathLike) or (
            self.encoder._inputs_are_paths and isinstance(item, str)
        ):
            return os.fspath(item)
        return None

    def _finish(self):
        failed = sorted(self.failures)
        if failed and self.encoder.on_error == "raise":
            raise self._error()
        if failed:
            fill = np.nan if self.encoder.on_error == "nan" else 0.0
            self.out[failed] = fill
            logger.warning(
                "%s: %d of %d rows failed and were filled with %s; see the report "
                "(transform(X, return_report=True)).",
                self.name,
                len(failed),
                len(self.rows),
                fill,
            )
        facts = {}
        for j, name in enumerate(self.fact_names):
            column = self.out[:, self.width + j].copy()
            column[failed] = np.nan
            facts[name] = column
        report = EncodingReport(
            n_rows=len(self.rows),
            failed_rows=[self.failures[row] for row in failed],
            facts=facts,
            counts=dict(self.counts),
            n_encoded=self.n_encoded,
            n_cached=self.n_cached,
        )
        embeddings = (
            self.out if not self.fact_names else np.ascontiguousarray(self.out[:, : self.width])
        )
        return embeddings, report

    def _error(self, done=None):
        first = self.failures[min(self.failures)]
        where = f"row {first['row']}" + (
            f" (index {first['label']!r})" if first["label"] is not None else ""
        )
        if first["source"]:
            where += f", file {first['source']!r}"
        more = (
            f" {len(self.failures) - 1} more row(s) failed too." if len(self.failures) > 1 else ""
        )
        return EncodingError(
            f"{self.name} could not encode {where}: {first['error'].rstrip('.')}.{more} "
            + (
                done
                or "Rows encoded so far are cached and will not be encoded again. Pass "
                "on_error='nan' or 'zero' to fill failing rows and go on "
                "(transform(X, return_report=True) lists them)."
            ),
            row=first["row"],
            source=first["source"],
        )


def capture(fn, item):
    """``fn(item)``, or the InputError that says why the item cannot be used."""
    try:
        return fn(item)
    except InputError as exc:
        return exc
    except NotImplementedError:
        raise
    except Exception as exc:  # a reader's unexpected error still names its row
        return InputError(f"{type(exc).__name__}: {exc}")


def _read_once(path, what, limit):
    """The file's content, read once; a file over ``limit`` bytes stays a path (streamed)."""
    try:
        size = os.stat(path).st_size
    except OSError:
        size = 0  # the opener below says what is wrong
    if size > limit:
        return path
    return read_file_content(path, what)


def _streamed_digest(path):
    with open_input_file(path) as handle:
        return hashlib.file_digest(handle, "blake2b")


def _file_key(digest):
    """The cache key of a file's content (the same whether read once or streamed)."""
    return content_hash(b"file", digest.hexdigest().encode())


__all__ = ["EncodeRun", "WithFacts", "capture"]
