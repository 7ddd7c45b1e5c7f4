"""Fusion heads: the same fused embeddings, three neural heads (mlp, gated, attention).

make_fusion_pipeline encodes each modality (here text and voice), scales each block and
adds a missing-modality indicator per block; a skorch FusionClassifier head then learns
from the blocks. The gated and attention heads also say how much each modality counted,
per sample (``modality_weights``). Run: python examples/fusion_heads.py
"""

import tempfile

from sklearn.model_selection import GroupKFold, cross_val_score

from skmm.datasets import make_multimodal_emotion
from skmm.fusion import make_fusion_pipeline
from skmm.heads import FusionClassifier

N_SAMPLES = 160

with tempfile.TemporaryDirectory() as folder:
    data = make_multimodal_emotion(
        n_samples=N_SAMPLES, n_classes=3, directory=folder, missing_rate=0.1, random_state=0
    )
    X, y, groups = data[["text", "audio"]], data["label"], data["group"]
    scores = {}
    for head in ("mlp", "gated", "attention"):
        model = make_fusion_pipeline(
            text="text",
            audio="audio",
            head=FusionClassifier(head=head, hidden_size=32, max_epochs=30, random_state=0),
        )
        # the encoders run in the first fit only; later folds and heads read the cache
        scores[head] = cross_val_score(
            model, X, y, groups=groups, cv=GroupKFold(4), scoring="balanced_accuracy"
        ).mean()
        print(f"{head:>9}: UAR {scores[head]:.3f}")
    model.fit(X, y)  # the attention head, on all rows
    weights = model[-1].modality_weights(model.named_steps["fusion"].transform(X))
    print("mean attention weight per modality:", weights.mean().round(2).to_dict())
best = max(scores, key=scores.get)
print(f"Result: best head {best} with UAR {scores[best]:.3f} (text + voice, {N_SAMPLES} samples)")
