"""``skmm predict`` and ``skmm report``: a saved model on a manifest table."""

import contextlib
import logging
import sys
from pathlib import Path

import numpy as np

from ..exceptions import EncodingError
from ..report._record import input_columns
from ._fit import ENCODER_ON_ERROR, encoding_failed
from ._table import describe_rows, labelled, read_table, rows_without_input

logger = logging.getLogger("skmm.cli")


def load_model(path):
    """Load a model saved by ``skmm fit`` (any joblib-saved estimator with ``predict``)."""
    import joblib

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"model file {str(path)!r} does not exist; save one with `skmm fit ... -o {path}`."
        )
    try:
        model = joblib.load(path)
    except Exception as exc:  # a pickle can fail in many ways; all mean: not a model file
        raise ValueError(
            f"cannot read model file {str(path)!r} ({type(exc).__name__}: {exc}); "
            "it must be a joblib file written by `skmm fit`."
        ) from exc
    if not hasattr(model, "predict"):
        raise ValueError(f"{str(path)!r} holds a {type(model).__name__}, not a fitted model.")
    return model


def set_on_error(model, policy):
    """``--on-error`` for a saved model: the policy of every encoder inside it (None: as fitted)."""
    from ..report._card import _walk

    if policy is None:
        return model
    # the fitted encoders, not the union's unfitted templates that set_params would reach
    for _, estimator in _walk(model):
        if "on_error" in estimator.get_params(deep=False):
            estimator.set_params(on_error=ENCODER_ON_ERROR[policy])
    return model


def _rows_with_input(model_path, data_path, frame, columns, allow_missing, drop):
    """Rows that hold at least one of the model's inputs; the others stop the run unless allowed."""
    empty = rows_without_input(frame, columns)
    if empty.any() and not allow_missing:
        rows = describe_rows(frame, empty)
        raise ValueError(
            f"{empty.sum()} of {len(frame)} rows of {str(data_path)!r} have none of the inputs "
            f"of {str(model_path)!r} ({', '.join(columns)}) (rows {rows}), so there is "
            f"nothing to predict from; fill them in, or pass --allow-missing to {drop}."
        )
    if empty.any():
        logger.warning(
            "%d row(s) have none of the inputs (%s) (rows %s): %s (--allow-missing).",
            empty.sum(),
            ", ".join(columns),
            describe_rows(frame, empty),
            drop,
        )
    return ~empty


@contextlib.contextmanager
def _hint_on_error_flag():
    try:
        yield
    except EncodingError as exc:
        raise encoding_failed(exc) from exc


def predict_command(args):
    """``skmm predict``: the manifest's columns plus ``prediction`` (and probabilities)."""
    import pandas as pd

    from .._threads import torch_threads

    model = load_model(args.model)
    columns, paths = input_columns(model)
    raw, frame = read_table(args.data, columns, paths, optional=columns)
    frame = frame[columns]
    keep = _rows_with_input(
        args.model, args.data, frame, columns, args.allow_missing, "leave their prediction empty"
    )
    out = raw.copy()
    set_on_error(model, args.on_error)
    with torch_threads(args.threads), _hint_on_error_flag():
        predicted = model.predict(frame[keep]) if keep.any() else []
        out["prediction"] = pd.Series(pd.NA, index=out.index, dtype=object)
        out.loc[keep, "prediction"] = list(predicted)
        if args.proba:
            if not hasattr(model, "predict_proba"):
                raise ValueError(
                    f"the model in {args.model!r} gives no probabilities; drop --proba."
                )
            proba = model.predict_proba(frame[keep]) if keep.any() else None
            for k, name in enumerate(model.classes_):
                out[f"proba_{name}"] = np.nan
                if proba is not None:
                    out.loc[keep, f"proba_{name}"] = proba[:, k]
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(args.output, index=False)
        logger.info("Wrote %d predictions to %s", int(keep.sum()), args.output)
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def _evaluation_text(args, n_rows, seen, cross_validated):
    text = f"{n_rows} labelled rows of `{args.data}` (labels from column `{args.label}`)."
    if seen:
        honest = (
            "the cross-validated scores above are the honest estimate"
            if cross_validated
            else "evaluate on rows kept out of training, or fit with --cv K"
        )
        text += (
            f"\n\n**Warning: {seen} of these {n_rows} rows are training rows** (same content "
            f"as rows the model was fitted on), so these scores overstate how the model does on "
            f"new data; {honest}."
        )
    return text


def report_command(args):
    """``skmm report``: metrics, confusion matrix, model card... for a labelled manifest."""
    from .._threads import torch_threads
    from ..report import (
        count_training_rows,
        evaluate_classifier,
        training_record,
        write_model_card,
    )

    model = load_model(args.model)
    columns, paths = input_columns(model)
    _, frame = read_table(args.data, columns + [args.label], paths, optional=columns)
    frame, y = labelled(frame, args.label)
    keep = _rows_with_input(
        args.model, args.data, frame, columns, args.allow_missing, "leave them out of the report"
    )
    X, y = frame[columns][keep], y[keep]
    seen = count_training_rows(model, X)
    if seen is None:
        logger.info(
            "%s carries no training record (models saved by `skmm fit` do), so the evaluation "
            "rows cannot be checked against the training rows.",
            args.model,
        )
    elif seen:
        logger.warning(
            "%d of the %d evaluation rows are training rows (same content as rows the model was "
            "fitted on): these scores overstate how it does on new data.",
            seen,
            len(y),
        )
    record = training_record(model) or {}
    evaluation = _evaluation_text(args, len(y), seen, bool(record.get("cv_scores")))
    title = f"Evaluation of {Path(args.model).name}"
    set_on_error(model, args.on_error)
    with torch_threads(args.threads), _hint_on_error_flag():
        result = evaluate_classifier(model, X, y, args.output, title=title, data=evaluation)
    # the card describes the training data from the model's record, and this file as evaluation
    metrics = pd_metrics(result.metrics, len(y))
    write_model_card(
        result.report.path("model_card.md"), model, evaluation_data=evaluation, metrics=metrics
    )
    shown = " ".join(f"{k} {v:.3f}" for k, v in result.metrics.items())
    print(
        f"{shown}\nThe report is in {Path(args.output).resolve()}/ "
        f"(open {Path(result.html).resolve()} in a browser)"
    )
    return 0


def pd_metrics(metrics, n_rows):
    """The metrics table of a report: ``n_samples`` then each metric."""
    import pandas as pd

    return pd.DataFrame([{"n_samples": n_rows, **metrics}])


__all__ = [
    "load_model",
    "predict_command",
    "report_command",
]
