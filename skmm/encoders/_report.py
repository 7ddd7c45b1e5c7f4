"""What one ``transform`` call found: failed rows, per-row facts and counts.

``transform`` never writes to the estimator (two threads may share one fitted encoder);
what a call learns about its rows is returned in an :class:`EncodingReport` instead.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class EncodingReport:
    """What one encoding call found about its rows.

    Returned by ``encoder.transform(X, return_report=True)``; ``fit_transform`` keeps the
    report of the training rows as ``training_report_``.

    Attributes
    ----------
    n_rows : int
        Rows in the call.
    failed_rows : list of dict
        One ``{"row", "label", "source", "error"}`` per row that could not be encoded
        (``label`` is the pandas index label, ``source`` the file), in row order.
    facts : dict of str to ndarray
        Per-row facts found while preparing the rows (e.g. ``"face_found"``), each an
        array of shape (n_rows,); NaN for rows that failed. Cached with the embedding,
        so rows served from the cache have them too.
    counts : dict of str to int
        Counts found while preparing the rows that were encoded (e.g. ``"truncated"``
        texts); rows served from the cache are not prepared again.
    n_encoded : int
        Distinct inputs the model encoded in this call.
    n_cached : int
        Distinct inputs served from the cache.

    Examples
    --------
    >>> from skmm import TextEncoder
    >>> enc = TextEncoder(cache=False, on_error="nan").fit(["a"])
    >>> X, report = enc.transform(["fine", None], return_report=True)
    >>> report.failed_mask.tolist(), report.n_encoded
    ([False, True], 1)
    """

    n_rows: int
    failed_rows: list = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    n_encoded: int = 0
    n_cached: int = 0

    @property
    def failed_mask(self):
        """Boolean array of shape (n_rows,): True where the row could not be encoded."""
        mask = np.zeros(self.n_rows, dtype=bool)
        mask[[f["row"] for f in self.failed_rows]] = True
        return mask


class WithFacts:
    """A prepared item and the facts about its row found while preparing it.

    An encoder that names facts in ``_row_fact_names()`` returns these from
    ``_prepare_one``; the facts are cached with the embedding and reach
    :attr:`EncodingReport.facts`.

    Examples
    --------
    >>> from skmm.encoders import WithFacts
    >>> WithFacts("pixels", (1.0,)).facts
    (1.0,)
    """

    __slots__ = ("value", "facts")

    def __init__(self, value, facts):
        self.value, self.facts = value, tuple(facts)


def value_of(prepared):
    """The prepared value, without its facts."""
    return prepared.value if isinstance(prepared, WithFacts) else prepared
