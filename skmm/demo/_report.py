"""The demo's report folder: what :func:`skmm.demo.run_demo` computed, as tables, figures and a card."""

import joblib
import pandas as pd

from ..report import (
    METRICS,
    Report,
    classification_metrics,
    mean_std_columns,
    modality_weight_table,
    per_class_table,
    plot_confusion_matrix,
    plot_modality_weights,
    plot_scores,
    plot_search,
    write_model_card,
)
from ..report._tables import markdown_table
from ._report_tables import ablation_table, fold_table, trials_table, weights_by_group

_SHOWN = ("accuracy", "macro_f1", "uar", "roc_auc_ovr")


def _data_text(frame, config, random_state):
    counts = ", ".join(f"{k}: {v}" for k, v in frame["label"].value_counts().items())
    missing = ", ".join(f"{m} {int(frame[m].isna().sum())}" for m in config.modalities)
    media = (
        "video clips (h264 + AAC mp4: a drawn face whose expression builds up over the "
        "frames, and a voiced tone on the audio track; the `face` and `voice` columns name "
        "the same clip)"
        if config.video
        else "drawn faces (96 px PNG), voiced tones (1 s WAV)"
    )
    return (
        f"**Synthetic** data from `skmm.datasets.make_multimodal_emotion` (random_state="
        f"{random_state}): {len(frame)} samples of {media} and template sentences, by {frame['group'].nunique()} synthetic speakers. "
        f"Classes ({config.n_classes}, imbalance {config.imbalance:g}:1): {counts}. Rows "
        f"missing a modality: {missing}. Nothing here shows real people; the files and "
        "`manifest.csv` are in [data/](data/manifest.csv)."
    )


def write_demo_report(
    directory,
    *,
    frame,
    config,
    random_state,
    encoded,
    search,
    nested,
    final,
    summary,
    oof,
    comparison,
    cache,
    timings,
    model,
):
    """Write the demo's report folder; returns the path of its ``index.md`` (``index.html`` beside it)."""
    chosen = nested.results["chosen"]
    n_splits = len(chosen["test_uar"])
    choosable = comparison.loc[comparison["validation_uar"].notna(), "model"].tolist()
    report = Report(
        directory,
        title="skmm demo: multimodal emotion recognition",
        intro=(
            "Multimodal pipelines (TextEncoder + ImageEncoder on face crops + MelEncoder, "
            "fused by a ModalityUnion and rebalanced by imbalanced-learn's RandomOverSampler) "
            f"with three heads to choose from: {', '.join(choosable)}. The headline model is "
            "chosen **without the test folds**: the candidate with the best UAR on a "
            "validation third of the training speakers wins (the attention head is tuned "
            "with Optuna on that split first). Nested cross-validation makes that choice "
            f"inside each of {n_splits} speaker-grouped folds (GroupKFold on `group`: no "
            "speaker is in both the training and the test part of a fold) and scores every "
            "candidate on the test fold; the saved model is chosen the same way on all "
            "speakers and refitted.\n\n" + _data_text(frame, config, random_state)
        ),
    )

    cols = ["model", "winner", "kind", "chosen_in_folds", "validation_uar"] + [
        c for m in _SHOWN for c in (m, f"{m}_std")
    ]
    shown = mean_std_columns(comparison[cols])
    shown["chosen_in_folds"] = [
        "" if pd.isna(k) else f"{int(k)} of {n_splits}" for k in comparison["chosen_in_folds"]
    ]
    shown["winner"] = ["winner" if w else "" for w in comparison["winner"]]
    report.add_table(
        "comparison",
        comparison[cols],
        "Which model won",
        markdown=shown,
        text=(
            summary
            + "\n\nScores are means ± std over the test folds of the nested CV; every model "
            "saw the same folds. `chosen_in_folds`: how many outer folds chose it; "
            "`validation_uar`: its score in the choice for the saved model. Early fusion "
            "joins the blocks before one classifier; late fusion stacks one classifier per "
            "modality; the single-modality heads are references, never chosen."
        ),
    )
    plot_scores(
        comparison,
        report.path("comparison.png"),
        metric="uar",
        group="kind",
        title="UAR on the test folds (nested, speaker-grouped CV)",
    )
    report.add_figure("comparison.png", "Comparison (UAR)")

    report.add_table(
        "metrics",
        fold_table(chosen, nested.chosen),
        "Metrics of the model chosen in each fold",
        text=(
            "Per test fold (with the model chosen on that fold's training speakers), then "
            "mean and standard deviation. UAR (unweighted average recall) and macro-F1 "
            "weigh every class equally, so the small classes count."
        ),
    )

    y = frame["label"].to_numpy()
    pooled = classification_metrics(y, oof.y_pred, oof.proba, classes=oof.classes)
    report.add_table(
        "per_class",
        per_class_table(y, oof.y_pred),
        "Per class (out-of-fold)",
        text=f"Pooled over the test folds: UAR {pooled['uar']:.3f}, macro-F1 "
        f"{pooled['macro_f1']:.3f}.",
    )
    plot_confusion_matrix(
        y, oof.y_pred, report.path("confusion_matrix.png"), labels=list(oof.classes)
    )
    report.add_figure(
        "confusion_matrix.png",
        "Confusion matrix",
        text="Out-of-fold predictions; each row is normalised by its class size.",
    )

    ablation = ablation_table(oof, comparison)
    report.add_table(
        "ablation",
        ablation,
        "Per-modality ablation",
        markdown=mean_std_columns(ablation, metrics=("uar",)),
        text=(
            "*without m*: the model chosen in each fold with modality *m* removed from "
            "every test row (the union marks it missing); *m only*: the attention "
            "head, with its default settings, trained on that modality alone."
        ),
    )
    plot_scores(
        ablation,
        report.path("ablation.png"),
        metric="uar",
        label="condition",
        group="trained on",
        title="Per-modality ablation (UAR)",
    )
    report.add_figure("ablation.png", "Ablation (UAR)")

    if oof.weights is not None:
        weights, by = weights_by_group(oof.weights, frame)
        report.add_table(
            "modality_weights",
            modality_weight_table(weights, by=by, sort=False),
            "Attention weights per modality",
            text=(
                "Mean weight of each modality in the tuned attention head's pooling on "
                "the test rows of each fold (whether or not the fold chose it): per true "
                "class, then over the rows where one modality is missing."
            ),
        )
        plot_modality_weights(
            weights,
            report.path("modality_weights.png"),
            by=by,
            sort=False,
            title="Attention head: mean modality weight",
        )
        report.add_figure("modality_weights.png", "Modality weights")

    report.add_table(
        "optuna_trials",
        trials_table(search),
        "Optuna trials",
        text=(
            f"The tuning behind the saved model's choice: {len(search.cv_results_['params'])} "
            "trials, each trained on two thirds of the speakers and scored on the other "
            "third (pruned trials stop early; the first trial is the head's defaults). "
            f"Best UAR {search.best_score_:.3f}."
        ),
    )
    plots = plot_search(search, directory)
    report.add_figure("optuna_history.png", "Optuna history")
    if "importances" in plots:
        report.add_figure("optuna_importances.png", "Optuna parameter importances")

    joblib.dump(model, report.path("model.joblib"))
    metrics = comparison.loc[comparison["model"] == final.winner]
    metrics = metrics[["model"] + [c for c in metrics if c in METRICS or c.endswith("_std")]]
    tuned = (
        f", with the tuned parameters `{final.params[final.winner]}`"
        if final.winner in final.params
        else ""
    )
    write_model_card(
        report.path("model_card.md"),
        model,
        title="Model card: skmm demo model",
        data=_data_text(frame, config, random_state),
        metrics=mean_std_columns(metrics),
        extra={
            "Training": (
                f"{final.winner} was chosen among {', '.join(final.scores)} by UAR on a "
                f"validation third of the speakers ({', '.join(f'{k} {v:.3f}' for k, v in final.scores.items())})"
                f"{tuned}, then refitted on all {len(frame)} samples. The metrics are from "
                "nested speaker-grouped cross-validation of this candidate. Classes rebalanced "
                "by random over-sampling of the fused embeddings in each fit."
            )
        },
    )
    report.add_link(
        "model_card.md",
        "Model card",
        text="Encoders, weights and licences, data, metrics, intended use and limits.",
    )
    report.add_link(
        "model.joblib",
        "Fitted model",
        text=(
            f"The winner ({final.winner}) refitted on all the data. Try: `skmm predict "
            f"{directory}/model.joblib {directory}/data/manifest.csv -o predictions.csv`."
        ),
    )

    encoded_rows = sum(e["rows"] for e in encoded.values())
    times = pd.DataFrame([{"stage": k, "seconds": v} for k, v in timings.items()])
    encoders = pd.DataFrame(
        [
            {
                "modality": m,
                "rows": e["rows"],
                "features": e["features"],
                "seconds": e["seconds"],
                "encoder": type(e["encoder"]).__name__,
                # with a face crop, the share of rows where a face was found (else whole image)
                "faces_found": e.get("faces_found", ""),
            }
            for m, e in encoded.items()
        ]
    )
    report.add_table(
        "timings",
        times,
        "Where the time went",
        digits=1,
        text=(
            f"Encoding: {encoded_rows} items encoded once. Every later stage (all trials, folds "
            f"and models) took its embeddings from the cache: {cache['memory_hits']} memory hits, "
            f"{cache['disk_hits']} disk hits, {cache['misses']} items encoded again.\n\n"
            + markdown_table(encoders, digits=1)
        ),
    )
    return report.write_index()
