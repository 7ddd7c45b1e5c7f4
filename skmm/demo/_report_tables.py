"""The demo report's tables, built from what :func:`skmm.demo.run_demo` computed."""

import numpy as np
import pandas as pd

from ..report import METRICS


def fold_table(results, chosen):
    rows = [
        {
            "fold": str(k),
            "chosen": chosen[k],
            **{m: float(results[f"test_{m}"][k]) for m in METRICS},
        }
        for k in range(len(results["test_uar"]))
    ]
    table = pd.DataFrame(rows)
    numbers = table[list(METRICS)]
    summary = pd.DataFrame(
        [
            {"fold": "mean", "chosen": "", **numbers.mean().to_dict()},
            {"fold": "std", "chosen": "", **numbers.std(ddof=0).to_dict()},
        ]
    )
    return pd.concat([table, summary], ignore_index=True)


def ablation_table(oof, comparison):
    per_fold = oof.ablation.drop(columns="fold")
    rows = [
        {
            "condition": c,
            "trained on": "all modalities",
            "uar": per_fold[c].mean(),
            "uar_std": per_fold[c].std(ddof=0),
        }
        for c in per_fold.columns
    ]
    for row in comparison[comparison["kind"] == "single modality"].itertuples():
        rows.append(
            {
                "condition": row.model.split(",")[0],
                "trained on": "that modality only",
                "uar": row.uar,
                "uar_std": row.uar_std,
            }
        )
    return pd.DataFrame(rows)


def trials_table(search):
    results = search.cv_results_
    table = pd.DataFrame(
        {
            "trial": results["trial_number"],
            "state": results["state"],
            "uar": results["mean_test_uar"],
            "uar_std": results["std_test_uar"],
        }
    )
    params = pd.DataFrame(list(results["params"]))
    params.columns = [c.replace("head__", "") for c in params.columns]
    return pd.concat([table, params], axis=1)


def weights_by_group(weights, frame):
    """Rows labelled by true class (sorted), then copies of the rows missing each modality."""
    labels = frame["label"].to_numpy()[weights.index]
    order = np.argsort(labels, kind="stable")
    parts, by = [weights.iloc[order]], [labels[order]]
    for m in weights.columns:
        absent = frame[m].isna().to_numpy()[weights.index]
        if absent.any():
            parts.append(weights[absent])
            by.append(np.full(absent.sum(), f"rows without {m}", dtype=object))
    return pd.concat(parts), np.concatenate(by)
