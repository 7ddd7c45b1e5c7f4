"""run_demo: generate, encode once, tune, evaluate, compare, write the report."""

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_validate
from sklearn.utils import Bunch

from .._deps import import_optional
from ..cache import cache_stats
from ..fusion import LateFusionClassifier
from ..metrics import emotion_scoring, unweighted_average_recall
from ..report import modality_weights_of, summarize_cv
from ._config import FULL, QUICK, Stages, torch_threads
from ._parts import (
    MODALITIES,
    attention_head,
    demo_encoders,
    demo_pipeline,
    make_demo_data,
    search_space,
    start_study,
)
from ._report import write_demo_report

logger = logging.getLogger("skmm.demo")


def _evaluate(pipeline, X, y, groups, cv, name):
    start = time.perf_counter()
    results = cross_validate(
        pipeline,
        X,
        y,
        groups=groups,
        cv=cv,
        scoring=emotion_scoring(),
        return_estimator=True,
        return_indices=True,
    )
    logger.info(
        "      %-34s UAR %.3f ± %.3f  (%.1f s)",
        name,
        results["test_uar"].mean(),
        results["test_uar"].std(),
        time.perf_counter() - start,
    )
    return results


def _out_of_fold(results, X, y):
    """Predictions, probabilities, attention weights and test-time ablation from the fold models."""
    n = len(X)
    classes = results["estimator"][0].classes_
    y_pred, proba = np.empty(n, dtype=object), np.zeros((n, len(classes)))
    weights, ablation = [], []
    for fold, (model, test) in enumerate(zip(results["estimator"], results["indices"]["test"])):
        X_test = X.iloc[test]
        y_pred[test] = model.predict(X_test)
        proba[test] = model.predict_proba(X_test)
        w = modality_weights_of(model, X_test)
        if w is not None:
            weights.append(w.set_axis(test))
        row = {"fold": fold, "all modalities": unweighted_average_recall(y[test], y_pred[test])}
        for m in MODALITIES:
            without = X_test.assign(**{m: None})  # the union marks it absent, as at predict time
            row[f"without {m}"] = unweighted_average_recall(y[test], model.predict(without))
        ablation.append(row)
    weights = pd.concat(weights).sort_index() if weights else None
    return Bunch(
        y_pred=y_pred,
        proba=proba,
        classes=classes,
        weights=weights,
        ablation=pd.DataFrame(ablation),
    )


def run_demo(
    output_dir="skmm-report",
    *,
    quick=False,
    config=None,
    random_state=0,
    cache_dir=None,
    n_threads=1,
):
    """Run the demo workflow and write its report folder.

    Parameters
    ----------
    output_dir : path-like, default="skmm-report"
        The report folder (the synthetic data goes to its ``data/`` sub-folder).
    quick : bool, default=False
        Use the small :data:`QUICK` preset (about a third of the time) instead of :data:`FULL`.
    config : DemoConfig, optional
        Sizes to use instead of a preset.
    random_state : int, default=0
    cache_dir : path-like, optional
        Embedding cache folder; default ``$SKMM_CACHE_DIR`` or ``~/.cache/skmm``.
    n_threads : int or None, default=1
        torch threads while heads train (see :func:`torch_threads`); None leaves torch's
        setting.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``index`` (path of ``index.md``), ``directory``, ``metrics`` (cross-validated
        metrics of the tuned fusion model), ``comparison`` (DataFrame), ``timings``
        (seconds per stage) and ``model`` (the tuned pipeline fitted on all data).

    Examples
    --------
    >>> from skmm.demo import run_demo
    >>> result = run_demo("skmm-report", quick=True)  # doctest: +SKIP
    >>> result.comparison[["model", "uar"]]  # doctest: +SKIP
    """
    from ..model_selection import OptunaSearchCV

    optuna = import_optional("optuna", "tuning in the demo")
    config = config or (QUICK if quick else FULL)
    directory = Path(output_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stage = Stages(total=5)
    started = time.perf_counter()

    with stage("data", f"Writing a synthetic dataset ({config.n_samples} faces, voices, texts)"):
        frame = make_demo_data(directory / "data", config, random_state)
        # models see the modality columns only, so the saved model predicts any manifest
        X, y, groups = frame[list(MODALITIES)], frame["label"].to_numpy(), frame["group"].to_numpy()
        counts = frame["label"].value_counts()
        logger.info(
            "      classes: %s; %d speakers",
            ", ".join(f"{k} {v}" for k, v in counts.items()),
            frame["group"].nunique(),
        )

    with stage("encode", "Encoding each modality once (the cache serves every later stage)"):
        encoded = {}
        for m, encoder in demo_encoders(cache_dir, progress=True).items():
            present = frame[m].dropna()
            start = time.perf_counter()
            encoder.fit(present).transform(present)
            encoded[m] = {
                "rows": len(present),
                "features": encoder.n_features_out_,
                "seconds": time.perf_counter() - start,
                "encoder": encoder,
            }
            logger.info(
                "      %-5s %d rows -> %d features in %.1f s",
                m,
                len(present),
                encoder.n_features_out_,
                encoded[m]["seconds"],
            )
        cache_stats(reset=True)

    with torch_threads(n_threads):
        with stage("tune", f"Tuning the attention head with Optuna ({config.n_trials} trials)"):
            head = attention_head(config, random_state)
            pipeline = demo_pipeline(head, cache_dir=cache_dir, random_state=random_state)
            search = OptunaSearchCV(
                pipeline,
                search_space(),
                n_trials=config.n_trials,
                cv=GroupKFold(config.n_splits),
                scoring=emotion_scoring(proba=False),
                refit="uar",
                study=start_study(optuna, head, random_state),
            ).fit(X, y, groups=groups)
            logger.info("      best UAR %.3f with %s", search.best_score_, search.best_params_)

        cv = GroupKFold(config.n_splits)
        with stage("evaluate", f"Evaluating with {config.n_splits}-fold speaker-grouped CV"):
            tuned = clone(pipeline).set_params(**search.best_params_)
            fusion = _evaluate(tuned, X, y, groups, cv, "fusion, attention head (tuned)")
            oof = _out_of_fold(fusion, X, y)

        with stage("compare", "Comparing with single modalities, early and late fusion"):
            head = tuned.named_steps["head"]
            models = {"fusion, attention head (tuned)": ("multimodal", fusion)}
            models["early fusion, logistic regression"] = (
                "multimodal",
                _evaluate(
                    demo_pipeline(
                        LogisticRegression(max_iter=1000),
                        cache_dir=cache_dir,
                        random_state=random_state,
                    ),
                    X,
                    y,
                    groups,
                    cv,
                    "early fusion, logistic regression",
                ),
            )
            late = LateFusionClassifier(
                [(m, LogisticRegression(max_iter=1000)) for m in MODALITIES], cv=3
            )
            models["late fusion (LateFusionClassifier)"] = (
                "multimodal",
                _evaluate(
                    demo_pipeline(late, cache_dir=cache_dir, random_state=random_state),
                    X,
                    y,
                    groups,
                    cv,
                    "late fusion (LateFusionClassifier)",
                ),
            )
            for m in MODALITIES:
                name = f"{m} only, attention head"
                models[name] = (
                    "single modality",
                    _evaluate(
                        demo_pipeline(clone(head), (m,), cache_dir, random_state),
                        X,
                        y,
                        groups,
                        cv,
                        name,
                    ),
                )
    cache = cache_stats()
    timings = dict(stage.times, total=time.perf_counter() - started)
    comparison = pd.DataFrame(
        [{"model": name, "kind": kind, **summarize_cv(res)} for name, (kind, res) in models.items()]
    )
    index = write_demo_report(
        directory,
        frame=frame,
        config=config,
        random_state=random_state,
        encoded=encoded,
        search=search,
        fusion=fusion,
        oof=oof,
        comparison=comparison,
        cache=cache,
        timings=timings,
        model=search.best_estimator_,
    )
    logger.info("Report written to %s (%.0f s in all)", index, timings["total"])
    return Bunch(
        index=index,
        directory=directory,
        metrics=summarize_cv(fusion),
        comparison=comparison,
        timings=timings,
        model=search.best_estimator_,
    )
