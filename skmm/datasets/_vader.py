"""The VADER ICWSM-2014 human-rated sentences, shipped with skmm (MIT licence)."""

import gzip
from importlib import resources

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

VADER_SUBSETS = {
    "tweets": "tweets_GroundTruth.txt.gz",
    "movie_reviews": "movieReviewSnippets_GroundTruth.txt.gz",
    "amazon": "amazonReviewSnippets_GroundTruth.txt.gz",
    "nyt": "nytEditorialSnippets_GroundTruth.txt.gz",
}
# IDs of these subsets are "document_sentence"; the others have one ID per text.
_DOCUMENT_IDS = ("amazon", "nyt")

_DESCR = """VADER ICWSM-2014 ground-truth sentences (shipped with skmm, MIT licence)
-------------------------------------------------------------------------------
Sentence-level English texts, each rated for sentiment by at least 20 trained
human raters on a scale from -4 (extremely negative) to +4 (extremely positive);
``valence`` is their mean. Subsets: tweets (4 200 tweet-like texts, user names
replaced by @anonymous and links by http://url_removed), movie_reviews (10 605
rottentomatoes.com snippets, Pang & Lee 2004), amazon (3 708 product-review
snippets, Hu & Liu 2004), nyt (5 190 New York Times editorial snippets).

Source: vaderSentiment 3.3.2 sdist, additional_resources/hutto_ICWSM_2014.tar.gz
(see skmm/datasets/data/vader/PROVENANCE.md). Cite: Hutto, C.J. & Gilbert, E.E.
(2014). VADER: A Parsimonious Rule-based Model for Sentiment Analysis of Social
Media Text. ICWSM-14.
"""


def _read_subset(subset):
    blob = (
        resources.files("skmm.datasets")
        .joinpath("data", "vader", VADER_SUBSETS[subset])
        .read_bytes()
    )
    lines = gzip.decompress(blob).decode("utf-8").splitlines()
    ids, valence, texts = [], [], []
    for line in lines:
        if not line.strip():
            continue
        sid, value, text = line.split("\t", 2)
        ids.append(sid)
        valence.append(float(value))
        texts.append(text.strip())
    frame = pd.DataFrame({"id": ids, "text": texts, "valence": np.asarray(valence)})
    frame.insert(0, "subset", subset)
    doc = frame["id"].str.split("_").str[0] if subset in _DOCUMENT_IDS else frame["id"]
    frame["group"] = subset + ":" + doc
    return frame


def load_vader_sentences(subset="all", *, as_frame=True, return_X_y=False, neutral_band=0.5):
    """Load the VADER ICWSM-2014 sentences rated for sentiment by humans (shipped, offline).

    A real, human-labelled English text corpus of 23 703 sentences that ships
    inside skmm (1.1 MB; MIT licence, from the vaderSentiment source package).
    Each text has the mean valence of at least 20 raters in [-4, 4] and a
    derived three-way sentiment label.

    =================  ======  ===============================================
    subset             rows    texts
    =================  ======  ===============================================
    ``"tweets"``        4 200  tweet-like texts (@anonymous, http://url_removed)
    ``"movie_reviews"`` 10 605 rottentomatoes.com review sentences
    ``"amazon"``        3 708  product-review sentences (300 reviews)
    ``"nyt"``           5 190  New York Times editorial sentences (498 articles)
    ``"all"``          23 703  the four, in this order
    =================  ======  ===============================================

    Parameters
    ----------
    subset : {"all", "tweets", "movie_reviews", "amazon", "nyt"} or list of them, default="all"
    as_frame : bool, default=True
        Return a DataFrame; when False a :class:`~sklearn.utils.Bunch` of arrays.
    return_X_y : bool, default=False
        Return ``(texts, valence)`` (a Series and a float Series when
        ``as_frame``, else two arrays) instead.
    neutral_band : float, default=0.5
        Half-width of the neutral band: ``sentiment`` is ``"negative"`` when
        ``valence < -neutral_band``, ``"positive"`` when ``valence > neutral_band``,
        otherwise ``"neutral"``.

    Returns
    -------
    frame : pandas.DataFrame
        Columns ``subset``, ``id`` (the dataset's ID), ``text``, ``valence``
        (float in [-4, 4]), ``group`` (the source document for amazon and nyt,
        whose sentences come several per review or article, else the text's own
        ID; use it for grouped CV) and ``sentiment``.
    bunch : sklearn.utils.Bunch
        When ``as_frame=False``: ``data`` (texts), ``target`` (valence),
        ``sentiment``, ``group``, ``subset``, ``DESCR``.

    Examples
    --------
    >>> from skmm.datasets import load_vader_sentences
    >>> df = load_vader_sentences("tweets")
    >>> len(df), float(df["valence"].min()) >= -4, sorted(df["sentiment"].unique())
    (4200, True, ['negative', 'neutral', 'positive'])
    >>> df["text"].iloc[1]
    'Yay. Another good phone interview.'
    """
    if subset == "all":
        names = list(VADER_SUBSETS)
    else:
        names = [subset] if isinstance(subset, str) else list(subset)
    unknown = [n for n in names if n not in VADER_SUBSETS]
    if unknown or not names:
        raise ValueError(f"subset must be 'all' or among {list(VADER_SUBSETS)}, got {subset!r}.")
    if not (isinstance(neutral_band, (int, float)) and 0 <= neutral_band < 4):
        raise ValueError(f"neutral_band must be a number in [0, 4), got {neutral_band!r}.")

    frame = pd.concat([_read_subset(n) for n in names], ignore_index=True)
    frame["sentiment"] = np.where(
        frame["valence"] < -neutral_band,
        "negative",
        np.where(frame["valence"] > neutral_band, "positive", "neutral"),
    )
    if return_X_y:
        if as_frame:
            return frame["text"], frame["valence"]
        return frame["text"].to_numpy(dtype=object), frame["valence"].to_numpy()
    if as_frame:
        return frame
    return Bunch(
        data=frame["text"].to_numpy(dtype=object),
        target=frame["valence"].to_numpy(),
        sentiment=frame["sentiment"].to_numpy(dtype=object),
        group=frame["group"].to_numpy(dtype=object),
        subset=frame["subset"].to_numpy(dtype=object),
        feature_names=["text"],
        target_names=["valence"],
        DESCR=_DESCR,
    )
