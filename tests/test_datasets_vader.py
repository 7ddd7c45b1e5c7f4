"""load_vader_sentences: the shipped VADER ICWSM-2014 corpus loads offline with its known sizes."""

import gzip
import hashlib
import re
from importlib import resources

import numpy as np
import pytest

from skmm.datasets import load_vader_sentences

ROWS = {"tweets": 4200, "movie_reviews": 10605, "amazon": 3708, "nyt": 5190}
DATA = resources.files("skmm.datasets").joinpath("data", "vader")


@pytest.fixture(scope="module")
def vader():
    return load_vader_sentences()


def test_row_counts_and_columns(vader):
    assert vader.columns.tolist() == ["subset", "id", "text", "valence", "group", "sentiment"]
    assert vader["subset"].value_counts().to_dict() == ROWS
    assert len(vader) == sum(ROWS.values()) == 23703
    for subset, n in ROWS.items():
        assert len(load_vader_sentences(subset)) == n
    assert len(load_vader_sentences(["amazon", "nyt"])) == ROWS["amazon"] + ROWS["nyt"]


def test_values_texts_and_groups(vader):
    assert vader["valence"].between(-4, 4).all() and vader["valence"].dtype == np.float64
    assert vader["valence"].std() > 1
    assert vader["text"].str.len().min() > 0 and not vader["text"].str.contains("\r").any()
    first = vader.iloc[0]
    assert (
        first["text"].startswith("Somehow I was blessed")
        and abs(first["valence"] - 2.726315789) < 1e-9
    )
    assert vader["id"].is_unique is False and vader[["subset", "id"]].duplicated().sum() == 0
    groups = vader.groupby("subset")["group"].nunique()
    assert groups["amazon"] == 300 and groups["nyt"] == 498 and groups["tweets"] == 4200


def test_sentiment_thresholds(vader):
    positive = vader["sentiment"] == "positive"
    negative = vader["sentiment"] == "negative"
    assert (vader.loc[positive, "valence"] > 0.5).all() and (
        vader.loc[negative, "valence"] < -0.5
    ).all()
    assert vader.loc[~positive & ~negative, "valence"].abs().max() <= 0.5
    wide = load_vader_sentences("tweets", neutral_band=1.0)
    assert (wide["sentiment"] == "neutral").sum() > (
        vader.query("subset == 'tweets'")["sentiment"] == "neutral"
    ).sum()
    with pytest.raises(ValueError, match="neutral_band"):
        load_vader_sentences(neutral_band=-1)


def test_bunch_and_X_y():
    bunch = load_vader_sentences("nyt", as_frame=False)
    assert bunch.data.shape == bunch.target.shape == bunch.group.shape == (5190,)
    assert set(bunch.sentiment) == {"negative", "neutral", "positive"}
    assert "Hutto" in bunch.DESCR
    X, y = load_vader_sentences("amazon", return_X_y=True)
    assert len(X) == len(y) == 3708 and y.dtype == np.float64
    X, y = load_vader_sentences("amazon", return_X_y=True, as_frame=False)
    assert isinstance(X, np.ndarray) and X.dtype == object


def test_unknown_subset():
    with pytest.raises(ValueError, match="subset"):
        load_vader_sentences("reddit")


def test_vendored_files_match_provenance():
    provenance = DATA.joinpath("PROVENANCE.md").read_text(encoding="utf-8")
    assert "MIT License" in DATA.joinpath("LICENSE").read_text(encoding="utf-8")
    recorded = dict(
        re.findall(r"`(\w+_GroundTruth\.txt)` \| [\d ]+ \| `([0-9a-f]{64})`", provenance)
    )
    assert len(recorded) == 4
    total = 0
    for name, sha in recorded.items():
        blob = DATA.joinpath(name + ".gz").read_bytes()
        total += len(blob)
        assert hashlib.sha256(gzip.decompress(blob)).hexdigest() == sha
    assert total < 2_000_000
