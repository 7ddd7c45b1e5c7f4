"""Fine-tuning: a LoRA-tuned MiniLM against frozen embeddings and VADER on real tweets.

The VADER ICWSM-2014 tweets ship with skmm, rated by 20 people each. Three ways to
classify their sentiment (negative / neutral / positive), scored on the same held-out
tweets: VADER's own rule-based compound score, the frozen ``TextEncoder`` with logistic
regression, and ``FineTunedClassifier``, which trains LoRA adapters inside MiniLM and a
linear head on the training tweets only. The tuned model's embeddings (``transform``)
then feed an ordinary scikit-learn model, as any encoder's would.

The example trains on a few hundred tweets for two epochs to stay quick on a laptop CPU;
the accuracy table in ``benchmarks/RESULTS.md`` uses all of them with 5-fold CV.
Run: python examples/fine_tuning_tweets.py
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from skmm import TextEncoder
from skmm.datasets import load_vader_sentences
from skmm.finetune import FineTunedClassifier

N_TWEETS = 600

tweets = load_vader_sentences("tweets").sample(N_TWEETS, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    tweets["text"].to_numpy(dtype=object),
    tweets["sentiment"].to_numpy(),
    test_size=0.25,
    stratify=tweets["sentiment"],
    random_state=0,
)
scores = {}

try:  # VADER's own score, when vaderSentiment is installed (pip install vaderSentiment)
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    compound = np.array(
        [SentimentIntensityAnalyzer().polarity_scores(t)["compound"] for t in X_test]
    )
    vader = np.where(
        compound >= 0.05, "positive", np.where(compound <= -0.05, "negative", "neutral")
    )
    scores["VADER compound score"] = f1_score(y_test, vader, average="macro")
except ImportError:
    pass

frozen = TextEncoder(max_length=128).fit(X_train)
logreg = LogisticRegression(max_iter=2000).fit(frozen.transform(X_train), y_train)
scores["frozen MiniLM + logistic regression"] = f1_score(
    y_test, logreg.predict(frozen.transform(X_test)), average="macro"
)

tuned = FineTunedClassifier(
    TextEncoder(max_length=128), method="lora", max_epochs=2, batch_size=16, random_state=0
).fit(X_train, y_train)
scores["LoRA-tuned MiniLM"] = f1_score(y_test, tuned.predict(X_test), average="macro")

# the tuned embeddings are features like any encoder's
on_tuned = LogisticRegression(max_iter=2000).fit(tuned.transform(X_train), y_train)
scores["LoRA-tuned embeddings + logistic regression"] = f1_score(
    y_test, on_tuned.predict(tuned.transform(X_test)), average="macro"
)

for name, score in scores.items():
    print(f"{name:45s} macro-F1 {score:.3f}")
print(
    f"Result: LoRA-tuned macro-F1 {scores['LoRA-tuned MiniLM']:.3f} on {len(X_test)} held-out tweets"
)
