"""Imbalance: three ways to treat a rare class, scored by UAR (mean recall per class).

With a 6:1 imbalance a plain classifier favours the big class. Here the same text + voice
fusion pipeline runs (1) as it is, (2) with imbalanced-learn's RandomOverSampler placed
after the encoders (it resamples embeddings, never files) and (3) with
``class_weight="balanced"`` in the loss. Run: python examples/imbalance.py
"""

import tempfile

from imblearn.over_sampling import RandomOverSampler
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_validate

from skmm.datasets import make_multimodal_emotion
from skmm.fusion import make_fusion_pipeline

N_SAMPLES = 160

with tempfile.TemporaryDirectory() as folder:
    data = make_multimodal_emotion(
        n_samples=N_SAMPLES,
        n_classes=3,
        imbalance=6.0,
        modality_strength=0.5,
        directory=folder,
        random_state=0,
    )
    X, y, groups = data[["text", "audio"]], data["label"], data["group"]
    print("class sizes:", y.value_counts().to_dict())
    variants = {
        "no rebalancing": make_fusion_pipeline(text="text", audio="audio"),
        "RandomOverSampler": make_fusion_pipeline(
            text="text", audio="audio", sampler=RandomOverSampler(random_state=0)
        ),
        "class_weight": make_fusion_pipeline(
            text="text",
            audio="audio",
            head=LogisticRegression(max_iter=1000, class_weight="balanced"),
        ),
    }
    uar = {}
    for name, model in variants.items():
        scores = cross_validate(
            model,
            X,
            y,
            groups=groups,
            cv=GroupKFold(4),
            scoring={"uar": "balanced_accuracy", "accuracy": "accuracy"},
        )
        uar[name] = scores["test_uar"].mean()
        print(f"{name:>18}: UAR {uar[name]:.3f}  accuracy {scores['test_accuracy'].mean():.3f}")
print("Result: UAR " + ", ".join(f"{k} {v:.3f}" for k, v in uar.items()))
