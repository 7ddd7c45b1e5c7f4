"""Missing modalities: train with gaps, predict when a whole modality is absent.

ModalityUnion never passes an absent item (None, NaN, "") to its encoder: the block is
filled and a ``{modality}__missing`` indicator is set. The FusionClassifier head learns a
"missing" embedding per modality and, with ``modality_dropout``, practises predicting
without each one. The same fitted model is then scored on test rows with all modalities,
without the voice and without the text. Run: python examples/missing_modalities.py
"""

import tempfile

from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import GroupShuffleSplit

from skmm.datasets import make_multimodal_emotion
from skmm.fusion import make_fusion_pipeline
from skmm.heads import FusionClassifier

N_SAMPLES = 200

with tempfile.TemporaryDirectory() as folder:
    data = make_multimodal_emotion(
        n_samples=N_SAMPLES,
        n_classes=3,
        directory=folder,
        missing_rate={"text": 0.25, "audio": 0.25},
        random_state=0,
    )
    X, y = data[["text", "audio"]], data["label"]
    print("rows without text:", X["text"].isna().sum(), "| without audio:", X["audio"].isna().sum())
    train, test = next(GroupShuffleSplit(test_size=0.3, random_state=0).split(X, y, data["group"]))
    model = make_fusion_pipeline(
        text="text",
        audio="audio",
        head=FusionClassifier(
            head="attention", hidden_size=32, max_epochs=40, modality_dropout=0.3, random_state=0
        ),
    )
    model.fit(X.iloc[train], y.iloc[train])
    X_test, y_test = X.iloc[test], y.iloc[test]
    uar = {
        "all": balanced_accuracy_score(y_test, model.predict(X_test)),
        "no audio": balanced_accuracy_score(y_test, model.predict(X_test.assign(audio=None))),
        "no text": balanced_accuracy_score(y_test, model.predict(X_test.assign(text=None))),
    }
for name, score in uar.items():
    print(f"{name:>9}: UAR {score:.3f}")
print("Result: UAR " + ", ".join(f"{k} {v:.3f}" for k, v in uar.items()) + " (chance 0.333)")
