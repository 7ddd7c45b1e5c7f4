"""Training data for fine-tuning: prepared rows, length-bucketed batches, a validation split.

Rows are prepared once by the encoder itself (tokenised, decoded, resampled), so training
sees exactly what ``transform`` sees. Batches are padded to their own longest item
(the encoder does it), and items of similar length are batched together: a random
order of chunks, each chunk sorted by length and cut into batches, the batches shuffled.
"""

import numpy as np
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split

from .._deps import import_optional

torch = import_optional("torch", "fine-tuning")  # imported by fit only, never by `import skmm`


class PreparedRows(torch.utils.data.Dataset):
    """A map-style dataset of prepared items and their targets (a torch ``Dataset``).

    Parameters
    ----------
    items : list
        Prepared items, as the encoder's ``_embed_batch`` takes them.
    y : ndarray
        Targets (class indices or floats), one per item.
    sizes : ndarray of int or None
        Length of each item (tokens, samples) for bucketing; None: no bucketing.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.finetune._data import PreparedRows
    >>> data = PreparedRows([[1, 2], [3]], np.array([0, 1]), np.array([2, 1]))
    >>> item, target = data[1]
    >>> len(data), item, int(target)
    (2, [3], 1)
    """

    def __init__(self, items, y, sizes=None):
        self.items = items
        self.y = y
        self.sizes = sizes

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i], self.y[i]

    def subset(self, rows):
        """The rows ``rows`` as a new PreparedRows."""
        rows = np.asarray(rows, dtype=np.int64)
        sizes = None if self.sizes is None else self.sizes[rows]
        return PreparedRows([self.items[i] for i in rows], self.y[rows], sizes)


class Items:
    """The prepared items of one batch; skorch counts it as one sequence, not a nest.

    Examples
    --------
    >>> from skmm.finetune._data import Items
    >>> batch = Items([[1, 2], [3]])
    >>> len(batch), list(batch)
    (2, [[1, 2], [3]])
    """

    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __iter__(self):
        return iter(self.items)


def collate(pairs):
    """A batch of ``(item, target)`` pairs to ``(Items, target tensor)``."""
    items = Items([item for item, _ in pairs])
    return items, torch.as_tensor(np.asarray([target for _, target in pairs]))


def length_batches(sizes, batch_size, rng, chunk_batches=50):
    """Batches of row indices with items of similar length, in a random order.

    Rows are shuffled, cut into chunks of ``chunk_batches`` batches, each chunk sorted by
    length and cut into batches; the batches are then shuffled. Padding stays small and
    every epoch still sees new batch compositions.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.finetune._data import length_batches
    >>> batches = length_batches(np.array([1, 9, 2, 8]), 2, np.random.default_rng(0), 1)
    >>> sorted(sorted(b) for b in batches)
    [[0, 2], [1, 3]]
    """
    order = rng.permutation(len(sizes))
    chunk = batch_size * chunk_batches
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start : start + chunk]
        part = part[np.argsort(sizes[part], kind="stable")]
        batches.extend(part[i : i + batch_size].tolist() for i in range(0, len(part), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


class BucketLoaders:
    """Makes the iterator skorch walks each epoch: length-bucketed batches when training.

    skorch calls it once per epoch with ``batch_size``, ``shuffle`` and ``collate_fn``;
    each call draws a new batch order from ``seed`` and the call count, so a fit is
    repeatable and every epoch differs.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.finetune._data import BucketLoaders, PreparedRows
    >>> data = PreparedRows([[1], [2, 2], [3]], np.array([0, 1, 0]), np.array([1, 2, 1]))
    >>> [len(items) for items, _ in BucketLoaders(0)(data, batch_size=2)]
    [2, 1]
    """

    def __init__(self, seed=0):
        self.seed = seed
        self.calls = 0

    def __call__(self, dataset, batch_size=32, shuffle=False, collate_fn=collate, **_):
        self.calls += 1
        n = len(dataset)
        if not shuffle:
            batches = [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
        else:
            rng = np.random.default_rng([self.seed, self.calls])
            sizes = getattr(dataset, "sizes", None)
            if sizes is None:
                order = rng.permutation(n)
                batches = [order[i : i + batch_size].tolist() for i in range(0, n, batch_size)]
            else:
                batches = length_batches(sizes, batch_size, rng)
        return _Batches(dataset, batches, collate_fn)


class _Batches:
    def __init__(self, dataset, batches, collate_fn):
        self.dataset, self.batches, self.collate_fn = dataset, batches, collate_fn

    def __iter__(self):
        for rows in self.batches:
            yield self.collate_fn([self.dataset[i] for i in rows])

    def __len__(self):
        return len(self.batches)


def validation_rows(y, fraction, random_state, stratify):
    """Row indices ``(train, valid)``: a validation split stratified by class when asked.

    Classes with a single row stay in training (they cannot be in both parts), and the
    split is stratified over the others.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.finetune._data import validation_rows
    >>> y = np.array([0] * 8 + [1] * 8 + [2])
    >>> train, valid = validation_rows(y, 0.25, 0, True)
    >>> len(valid), 16 in train, np.bincount(y[valid]).tolist()
    (4, True, [2, 2])
    """
    rows = np.arange(len(y))
    if not stratify:
        return train_test_split(rows, test_size=fraction, random_state=random_state)
    labels, counts = np.unique(y, return_counts=True)
    alone = np.isin(y, labels[counts < 2])
    pool = rows[~alone]
    n_valid = max(len(np.unique(y[pool])), int(round(fraction * len(pool))))
    if len(pool) - n_valid < len(np.unique(y[pool])):
        raise ValueError(
            f"{len(y)} training rows are too few for a validation split of {fraction}; "
            "pass early_stopping=False or more rows"
        )
    split = StratifiedShuffleSplit(n_splits=1, test_size=n_valid, random_state=random_state)
    train, valid = next(split.split(pool, y[pool]))
    return np.sort(np.concatenate([pool[train], rows[alone]])), np.sort(pool[valid])
