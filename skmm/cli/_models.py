"""The model commands of the ``skmm`` command line: fit, predict and report on manifest tables."""

import logging
import sys
from pathlib import Path

from .._deps import import_optional

logger = logging.getLogger("skmm.cli")


def read_table(path, columns, path_columns=(), optional=()):
    """The manifest as given and with file paths resolved, after checking ``columns`` are there.

    Columns in ``optional`` (a model's modalities, at predict time) may be absent: they are
    added empty, so that modality counts as missing in every row.
    """
    from ..datasets import load_manifest

    raw = load_manifest(path, path_columns=[], check_files="ignore")
    absent = [c for c in dict.fromkeys(columns) if c not in raw.columns]
    required = [c for c in absent if c not in optional]
    if required:
        raise ValueError(
            f"column {required[0]!r} is not in {str(path)!r}; its columns are: "
            f"{', '.join(map(str, raw.columns))}."
        )
    for column in absent:
        logger.warning(
            "Column %r is not in %s: that modality counts as missing in every row.", column, path
        )
    present_paths = [c for c in path_columns if c not in absent]
    frame = load_manifest(path, path_columns=present_paths) if present_paths else raw.copy()
    return raw, frame.assign(**{c: None for c in absent})


def _labelled(frame, label):
    y = frame[label]
    keep = y.notna().to_numpy() & (y.astype(str).str.strip() != "").to_numpy()
    if not keep.all():
        logger.warning("Ignoring %d row(s) without a label in column %r.", (~keep).sum(), label)
    frame, y = frame[keep], y[keep]
    if y.nunique() < 2:
        raise ValueError(
            f"column {label!r} needs at least 2 different labels; it has "
            f"{sorted(map(str, y.unique()))}."
        )
    return frame, y.to_numpy()


def build_model(args):
    """The fusion pipeline the ``fit`` flags describe."""
    from sklearn.linear_model import LogisticRegression

    from ..encoders import ImageEncoder, MelEncoder, TextEncoder
    from ..fusion import LateFusionClassifier, make_fusion_pipeline

    weight = "balanced" if args.rebalance == "class-weight" else None
    roles = {r: getattr(args, r) for r in ("text", "image", "audio", "tabular")}
    modalities = [r for r, c in roles.items() if c]
    encoders = {
        "text": TextEncoder(args.text_model, cache_dir=args.cache_dir),
        "image": ImageEncoder(
            args.image_backbone, face_crop=args.face_crop, cache_dir=args.cache_dir
        ),
        "audio": MelEncoder(args.audio_backbone, cache_dir=args.cache_dir),
    }
    if args.head == "logreg":
        head = LogisticRegression(max_iter=1000, class_weight=weight)
    elif args.head == "late":
        head = LateFusionClassifier(
            [(m, LogisticRegression(max_iter=1000, class_weight=weight)) for m in modalities]
        )
    else:
        from ..heads import FusionClassifier

        head = FusionClassifier(
            head=args.head,
            hidden_size=args.hidden_size,
            lr=args.lr,
            max_epochs=args.max_epochs,
            class_weight=weight,
            random_state=args.seed,
        )
    sampler = None
    if args.rebalance in ("oversample", "undersample"):
        kind = "over" if args.rebalance == "oversample" else "under"
        samplers = import_optional(f"imblearn.{kind}_sampling", f"--rebalance {args.rebalance}")
        cls = samplers.RandomOverSampler if kind == "over" else samplers.RandomUnderSampler
        sampler = cls(random_state=args.seed)
    return make_fusion_pipeline(
        **roles,
        encoders={m: encoders[m] for m in modalities if m in encoders},
        head=head,
        sampler=sampler,
    )


def _cross_validate(model, X, y, groups, args):
    from sklearn.model_selection import GroupKFold, StratifiedKFold, cross_validate

    from ..metrics import emotion_scoring
    from ..report import mean_std_columns, summarize_cv

    k = args.cv if args.cv is not None else (5 if args.group else 0)
    if k == 0:
        return
    if k < 2:
        raise ValueError(f"--cv needs at least 2 folds (or 0 to skip), got {k}.")
    groups = None if groups is None else groups.astype(str).to_numpy()
    if groups is not None and len(set(groups)) < k:
        raise ValueError(
            f"--cv {k} needs at least {k} different values in column {args.group!r}; "
            f"it has {len(set(groups))}. Use a smaller --cv."
        )
    cv = (
        GroupKFold(k)
        if groups is not None
        else StratifiedKFold(k, shuffle=True, random_state=args.seed)
    )
    how = f"{k}-fold CV grouped by {args.group!r}" if groups is not None else f"{k}-fold CV"
    logger.info("Cross-validating (%s)...", how)
    results = cross_validate(model, X, y, groups=groups, cv=cv, scoring=emotion_scoring())
    import pandas as pd

    summary = mean_std_columns(pd.DataFrame([summarize_cv(results)])).drop(columns="n_folds")
    print(f"{how}:")
    print(summary.to_string(index=False))


def fit_command(args):
    """``skmm fit``: cross-validate (optional), fit on all rows, save with joblib."""
    import joblib

    if not args.manifest:
        raise ValueError(
            "name the training table with --manifest FILE (or `manifest:` in --config)."
        )
    if not args.output:
        raise ValueError("name the file to save the model to with -o FILE (e.g. -o model.joblib).")
    roles = {r: getattr(args, r) for r in ("text", "image", "audio")}
    tabular = list(args.tabular or [])
    if not any(roles.values()) and not tabular:
        raise ValueError(
            "name at least one modality column: --text, --image, --audio or --tabular."
        )
    columns = (
        [c for c in roles.values() if c]
        + tabular
        + [args.label]
        + ([args.group] if args.group else [])
    )
    paths = [c for c in (args.image, args.audio) if c]
    _, frame = read_table(args.manifest, columns, paths)
    frame, y = _labelled(frame, args.label)
    model = build_model(args)
    # the model sees its input columns only, so predicting needs no label or group column
    X = frame[[c for c in roles.values() if c] + tabular]
    _cross_validate(model, X, y, frame[args.group] if args.group else None, args)
    logger.info("Fitting on all %d rows...", len(y))
    model.fit(X, y)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, output)
    classes = ", ".join(map(str, model.classes_))
    print(f"Saved the model to {output} ({len(y)} rows; classes: {classes}).")
    print(f"Predict with: skmm predict {output} DATA.csv -o predictions.csv")
    return 0


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


def model_columns(model):
    """The input columns a fitted fusion pipeline reads, and those that hold file paths."""
    from ..encoders import ImageEncoder, MelEncoder
    from ..fusion import ModalityUnion

    steps = [s for _, s in model.steps] if hasattr(model, "steps") else [model]
    union = next((s for s in steps if isinstance(s, ModalityUnion)), None)
    if union is None:
        return [str(c) for c in getattr(model, "feature_names_in_", [])], []
    columns, paths = [str(c) for c in getattr(union, "feature_names_in_", [])], []
    for _, transformer, selected in union.transformers:
        if isinstance(transformer, str) and transformer == "drop":
            continue
        names = (
            [selected]
            if isinstance(selected, str)
            else (list(selected) if isinstance(selected, (list, tuple)) else [])
        )
        names = [c for c in names if isinstance(c, str)]
        columns += [c for c in names if c not in columns]
        inner = (
            [s for _, s in transformer.steps] if hasattr(transformer, "steps") else [transformer]
        )
        if any(isinstance(s, (ImageEncoder, MelEncoder)) for s in inner):
            paths += names
    return columns, paths


def predict_command(args):
    """``skmm predict``: the manifest's columns plus ``prediction`` (and probabilities)."""
    model = load_model(args.model)
    columns, paths = model_columns(model)
    raw, frame = read_table(args.data, columns, paths, optional=columns)
    frame = frame[columns]
    out = raw.copy()
    out["prediction"] = model.predict(frame)
    if args.proba:
        if not hasattr(model, "predict_proba"):
            raise ValueError(f"the model in {args.model!r} gives no probabilities; drop --proba.")
        proba = model.predict_proba(frame)
        for k, name in enumerate(model.classes_):
            out[f"proba_{name}"] = proba[:, k]
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        out.to_csv(args.output, index=False)
        logger.info("Wrote %d predictions to %s", len(out), args.output)
    else:
        out.to_csv(sys.stdout, index=False)
    return 0


def report_command(args):
    """``skmm report``: metrics, confusion matrix, model card... for a labelled manifest."""
    from ..report import evaluate_classifier

    model = load_model(args.model)
    columns, paths = model_columns(model)
    _, frame = read_table(args.data, columns + [args.label], paths, optional=columns)
    frame, y = _labelled(frame, args.label)
    result = evaluate_classifier(
        model,
        frame[columns],
        y,
        args.output,
        title=f"Evaluation of {Path(args.model).name}",
        data=f"{len(y)} labelled rows of `{args.data}` (labels from column `{args.label}`).",
    )
    shown = " ".join(f"{k} {v:.3f}" for k, v in result.metrics.items())
    print(
        f"{shown}\nThe report is in {Path(args.output).resolve()}/ (open {result.index.resolve()})"
    )
    return 0


__all__ = [
    "build_model",
    "fit_command",
    "load_model",
    "model_columns",
    "predict_command",
    "read_table",
    "report_command",
]
