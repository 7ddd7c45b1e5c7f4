"""Text in a tabular pipeline: a text column next to numeric columns, in one ColumnTransformer.

TextEncoder is an ordinary scikit-learn transformer, so a free-text column joins numeric
columns in a ColumnTransformer, and a grid search tunes the classifier without encoding
the texts again (the embedding cache serves every fold and candidate).

Data: real tweets rated for sentiment by about 20 people each (VADER ICWSM-2014, shipped
with skmm). Run: python examples/text_in_a_tabular_pipeline.py
"""

from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmm import TextEncoder
from skmm.cache import cache_stats
from skmm.datasets import load_vader_sentences

N_ROWS = 300  # raise it for better scores; encoding takes about 1 s per 100 tweets on a CPU

tweets = load_vader_sentences("tweets").sample(N_ROWS, random_state=0)
tweets["n_words"] = tweets["text"].str.split().str.len()
tweets["n_exclamations"] = tweets["text"].str.count("!")
X, y = tweets[["text", "n_words", "n_exclamations"]], tweets["sentiment"]

model = Pipeline(
    [
        (
            "columns",
            ColumnTransformer(
                [
                    ("text", TextEncoder(), "text"),  # one column name: the encoder gets 1-D texts
                    ("numbers", StandardScaler(), ["n_words", "n_exclamations"]),
                ]
            ),
        ),
        ("clf", LogisticRegression(max_iter=2000)),
    ]
)
search = GridSearchCV(model, {"clf__C": [0.3, 1.0, 3.0]}, cv=3, scoring="f1_macro")
search.fit(X, y)

stats = cache_stats()
print(
    f"best C: {search.best_params_['clf__C']}; texts encoded: {stats['misses']} "
    f"(then served from the cache {stats['memory_hits'] + stats['disk_hits']} times)"
)
print(f"Result: macro-F1 {search.best_score_:.3f} on {N_ROWS} tweets (3-fold CV, 3 sentiments)")
