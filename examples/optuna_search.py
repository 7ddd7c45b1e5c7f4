"""Optuna search: tune a multimodal pipeline with OptunaSearchCV, grouped CV and a stored study.

OptunaSearchCV has scikit-learn's search API (``best_params_``, ``cv_results_``, refit)
and Optuna's samplers, pruners and storages. Here it tunes the logistic-regression head
and the weight of the audio block of a text + voice fusion pipeline, with speaker-grouped
folds; the study lives in a journal file, so another run (or machine) could add trials to
it. The encoders run once: every trial reads the embedding cache.
Run: python examples/optuna_search.py
"""

import tempfile
from pathlib import Path

from optuna.distributions import FloatDistribution
from sklearn.model_selection import GroupKFold

from skmm.cache import cache_stats
from skmm.datasets import make_multimodal_emotion
from skmm.fusion import make_fusion_pipeline
from skmm.metrics import emotion_scoring
from skmm.model_selection import OptunaSearchCV

N_SAMPLES, N_TRIALS = 120, 8

with tempfile.TemporaryDirectory() as folder:
    data = make_multimodal_emotion(
        n_samples=N_SAMPLES, n_classes=3, directory=folder, random_state=0
    )
    pipeline = make_fusion_pipeline(text="text", audio="audio")  # LogisticRegression head
    search = OptunaSearchCV(
        pipeline,
        {
            "head__C": FloatDistribution(1e-2, 1e2, log=True),
            "fusion__weights__audio": FloatDistribution(0.25, 4.0, log=True),
        },
        n_trials=N_TRIALS,
        cv=GroupKFold(3),
        scoring=emotion_scoring(proba=False),
        refit="uar",
        storage=str(Path(folder) / "study.log"),
        study_name="fusion-demo",
        random_state=0,
    )
    search.fit(data[["text", "audio"]], data["label"], groups=data["group"])
    search.plot_optimization_history(Path(folder) / "history.png")
    stats = cache_stats()
    print(f"best parameters: { {k: round(v, 3) for k, v in search.best_params_.items()} }")
    print(f"{stats['misses']} items encoded for {N_TRIALS} trials x 3 folds + refit")
print(f"Result: best UAR {search.best_score_:.3f} after {N_TRIALS} trials (chance 0.333)")
