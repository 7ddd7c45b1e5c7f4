"""run_demo: generate, encode once, choose and score by nested CV, refit, write the report."""

import dataclasses
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold
from sklearn.utils import Bunch

from ..cache import cache_stats
from ..metrics import emotion_scoring, unweighted_average_recall
from ..report import modality_weights_of, record_training, summarize_cv
from ._config import FULL, QUICK, Stages, torch_threads
from ._parts import demo_candidates, demo_encoders, make_demo_data
from ._report import write_demo_report
from ._select import ModelSelection, describe_winner

logger = logging.getLogger("skmm.demo")

#: The comparison table's name for the model chosen inside each outer fold.
CHOSEN = "chosen in each fold (nested CV)"


def _attention_weights(results, X):
    """Modality weights of the fold models on their test rows, or None for heads without them."""
    weights = []
    for model, test in zip(results["estimator"], results["indices"]["test"]):
        w = modality_weights_of(model, X.iloc[test])
        if w is not None:
            weights.append(w.set_axis(test))
    return pd.concat(weights).sort_index() if weights else None


def _out_of_fold(results, X, y):
    """Predictions, probabilities and test-time ablation from the fold models."""
    n = len(X)
    classes = results["estimator"][0].classes_
    y_pred, proba = np.empty(n, dtype=object), np.zeros((n, len(classes)))
    ablation = []
    for fold, (model, test) in enumerate(zip(results["estimator"], results["indices"]["test"])):
        X_test = X.iloc[test]
        y_pred[test] = model.predict(X_test)
        proba[test] = model.predict_proba(X_test)
        row = {"fold": fold, "all modalities": unweighted_average_recall(y[test], y_pred[test])}
        for m in X.columns:
            without = X_test.assign(**{m: None})  # the union marks it absent, as at predict time
            row[f"without {m}"] = unweighted_average_recall(y[test], model.predict(without))
        ablation.append(row)
    return Bunch(y_pred=y_pred, proba=proba, classes=classes, ablation=pd.DataFrame(ablation))


def _comparison(selection, nested, final):
    """One row per candidate, after the nested choice: test-fold scores, validation score, choices."""
    rows = [
        {
            "model": CHOSEN,
            "kind": "nested choice",
            "chosen_in_folds": np.nan,
            "validation_uar": np.nan,
            "winner": False,
            **summarize_cv(nested.results["chosen"]),
        }
    ]
    for c in selection.candidates:
        rows.append(
            {
                "model": c.name,
                "kind": c.kind,
                "chosen_in_folds": nested.chosen.count(c.name) if c.choosable else np.nan,
                "validation_uar": final.scores.get(c.name, np.nan),
                "winner": c.name == final.winner,
                **summarize_cv(nested.results[c.name]),
            }
        )
    return pd.DataFrame(rows)


def run_demo(
    output_dir="skmm-report",
    *,
    quick=False,
    config=None,
    random_state=0,
    cache_dir=None,
    n_threads=1,
    video=False,
):
    """Run the demo workflow and write its report folder.

    The headline model is chosen without the test folds: among an Optuna-tuned
    attention head, early fusion with a logistic regression and late fusion, the one
    with the best UAR on a validation third of the training speakers wins
    (:class:`ModelSelection`). Nested speaker-grouped cross-validation makes that choice
    inside each outer fold and scores every candidate on the outer test fold; the
    saved model is chosen the same way on all the data and refitted.

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
    video : bool, default=False
        Video mode (see :class:`DemoConfig`): the faces and voices come from one mp4 clip
        per sample, read by ``VideoEncoder`` and ``MelEncoder``.
    n_threads : int or None, default=1
        torch threads while heads train (see :func:`torch_threads`); None leaves torch's
        setting.

    Returns
    -------
    result : sklearn.utils.Bunch
        ``index`` and ``html`` (paths of ``index.md`` and ``index.html``), ``directory``,
        ``winner`` (name of the chosen model), ``summary`` (which won and by how much,
        Markdown), ``metrics`` (nested-CV metrics of the choice), ``comparison``
        (DataFrame, one row per candidate), ``timings`` (seconds per stage) and ``model``
        (the winner fitted on all data).

    Examples
    --------
    >>> from skmm.demo import run_demo
    >>> result = run_demo("skmm-report", quick=True)  # doctest: +SKIP
    >>> result.comparison[["model", "uar"]]  # doctest: +SKIP
    """
    config = config or (QUICK if quick else FULL)
    if video:
        config = dataclasses.replace(config, video=True)
    directory = Path(output_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stage = Stages(total=4)
    started = time.perf_counter()

    media = "video clips, texts" if config.video else "faces, voices, texts"
    with stage("data", f"Writing a synthetic dataset ({config.n_samples} {media})"):
        frame = make_demo_data(directory / "data", config, random_state)
        # models see the modality columns only, so the saved model predicts any manifest
        X, y = frame[list(config.modalities)], frame["label"].to_numpy()
        groups = frame["group"].to_numpy()
        counts = frame["label"].value_counts()
        logger.info(
            "      classes: %s; %d speakers",
            ", ".join(f"{k} {v}" for k, v in counts.items()),
            frame["group"].nunique(),
        )

    with stage("encode", "Encoding each modality once (the cache serves every later stage)"):
        encoded = {}
        for m, encoder in demo_encoders(cache_dir, progress=True, config=config).items():
            present = frame[m].dropna()
            start = time.perf_counter()
            _, report = encoder.fit(present).transform(present, return_report=True)
            encoded[m] = {
                "rows": len(present),
                "features": encoder.n_features_out_,
                "seconds": time.perf_counter() - start,
                "encoder": encoder,
            }
            if "face_found" in report.facts:
                found = np.nanmean(report.facts["face_found"])
                encoded[m]["faces_found"] = f"{found:.0%}"
                logger.info("      %s: a face was found in %.0f%% of the rows", m, 100 * found)
            logger.info(
                "      %-5s %d rows -> %d features in %.1f s",
                m,
                len(present),
                encoder.n_features_out_,
                encoded[m]["seconds"],
            )
        cache_stats(reset=True)

    selection = ModelSelection(
        demo_candidates(config, cache_dir, random_state),
        scoring=emotion_scoring(),
        n_trials=config.n_trials,
        random_state=random_state,
    )
    with torch_threads(n_threads):
        with stage(
            "nested_cv",
            f"Nested CV, {config.n_splits} speaker-grouped folds: in each, tune the attention "
            f"head ({config.n_trials} trials) and choose a model on a third of the training "
            "speakers, then score every model on the test fold",
        ):
            nested = selection.nested(X, y, groups, GroupKFold(config.n_splits))
            oof = _out_of_fold(nested.results["chosen"], X, y)
            # the attention head's weights explain it in every fold, chosen there or not
            oof.weights = _attention_weights(nested.results[selection.candidates[0].name], X)

        with stage("choose", "Choosing the saved model the same way on all speakers"):
            final = selection.choose(X, y, groups)
            model = selection.fit_candidate(final.winner, final, X, y)
            record_training(  # `skmm report` then knows which rows the model was trained on
                model,
                X,
                y,
                name=f"{directory}/data/manifest.csv",
                cv=f"nested {config.n_splits}-fold CV grouped by speaker (choice inside each fold)",
                cv_scores=summarize_cv(nested.results["chosen"]),
                command="skmm demo",
            )
            summary = describe_winner(nested, final)
            logger.info("      %s", summary.replace("**", ""))
    cache = cache_stats()
    timings = dict(stage.times, total=time.perf_counter() - started)
    comparison = _comparison(selection, nested, final)
    index = write_demo_report(
        directory,
        frame=frame,
        config=config,
        random_state=random_state,
        encoded=encoded,
        search=final.searches[selection.candidates[0].name],
        nested=nested,
        final=final,
        summary=summary,
        oof=oof,
        comparison=comparison,
        cache=cache,
        timings=timings,
        model=model,
    )
    logger.info(
        "Report written to %s (%.0f s in all)", index.with_suffix(".html"), timings["total"]
    )
    return Bunch(
        index=index,
        html=index.with_suffix(".html"),
        directory=directory,
        winner=final.winner,
        summary=summary,
        metrics=summarize_cv(nested.results["chosen"]),
        comparison=comparison,
        timings=timings,
        model=model,
    )
