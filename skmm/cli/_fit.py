"""``skmm fit``: check the table, build the pipeline the flags describe, fit, cross-validate, save."""

import logging
import shlex
from pathlib import Path

from .._deps import import_optional
from ..exceptions import EncodingError
from ._table import (
    check_files,
    check_numeric,
    describe_rows,
    labelled,
    read_table,
    rows_without_input,
    treat_absent_files,
)

logger = logging.getLogger("skmm.cli")

# --on-error as the encoders spell it; "missing": the union counts a failed row as absent
ENCODER_ON_ERROR = {"raise": "raise", "missing": "nan", "zero": "zero"}


def encoding_failed(exc):
    """An encoder's row error, with the flag that lets the command go on."""
    return ValueError(f"{exc} On the command line: --on-error missing or --on-error zero.")


def _encoders(args, modalities):
    from ..encoders import ImageEncoder, MelEncoder, TextEncoder, VideoEncoder

    common = {"cache_dir": args.cache_dir, "on_error": ENCODER_ON_ERROR[args.on_error]}
    makers = {
        "text": lambda: TextEncoder(args.text_model, **common),
        "image": lambda: ImageEncoder(args.image_backbone, face_crop=args.face_crop, **common),
        "audio": lambda: MelEncoder(args.audio_backbone, **common),
        # a clip column: the faces over its frames and the voice on its audio track
        "face": lambda: VideoEncoder(args.image_backbone, face_crop=args.face_crop, **common),
        "voice": lambda: MelEncoder(args.audio_backbone, **common),
    }
    encoders = {m: makers[m]() for m in modalities if m in makers}
    for encoder in encoders.values():
        if args.threads and "n_threads" in encoder.get_params():
            encoder.set_params(n_threads=args.threads)
    return encoders


def build_model(args):
    """The fusion pipeline the ``fit`` flags describe."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder

    from ..fusion import LateFusionClassifier, make_fusion_pipeline

    weight = "balanced" if args.rebalance == "class-weight" else None
    roles = {r: getattr(args, r) for r in ("text", "image", "audio", "video", "tabular")}
    modalities = [r for r, c in roles.items() if c and r != "video"]
    if args.video:
        modalities += ["face", "voice"]
    extra = []
    if getattr(args, "categorical", None):
        onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        extra.append(("categorical", onehot, list(args.categorical)))
        modalities.append("categorical")
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
            n_threads=args.threads or 1,  # a small head trains fastest on one thread
        )
    sampler = None
    if args.rebalance in ("oversample", "undersample"):
        kind = "over" if args.rebalance == "oversample" else "under"
        samplers = import_optional(f"imblearn.{kind}_sampling", f"--rebalance {args.rebalance}")
        cls = samplers.RandomOverSampler if kind == "over" else samplers.RandomUnderSampler
        sampler = cls(random_state=args.seed)
    return make_fusion_pipeline(
        **roles,
        encoders=_encoders(args, modalities),
        extra=extra or None,
        head=head,
        sampler=sampler,
    )


def cv_splitter(args, y, groups):
    """The folds ``--cv`` and ``--group`` ask for and their description, or ``(None, None)``."""
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    k = args.cv if args.cv is not None else (5 if args.group else 0)
    if k == 0:
        return None, None
    if groups is not None:
        if len(set(groups)) < k:
            raise ValueError(
                f"--cv {k} needs at least {k} different values in column {args.group!r}; "
                f"it has {len(set(groups))}. Use a smaller --cv."
            )
        return GroupKFold(k), f"{k}-fold CV grouped by {args.group!r}"
    smallest = min(list(y).count(c) for c in set(y))
    if smallest < k:
        raise ValueError(
            f"--cv {k} needs at least {k} rows of each label; the rarest label has {smallest}. "
            "Use a smaller --cv."
        )
    return StratifiedKFold(k, shuffle=True, random_state=args.seed), f"{k}-fold CV"


def _cross_validate(model, X, y, groups, cv, how, n_jobs):
    from sklearn.model_selection import cross_validate

    from ..metrics import emotion_scoring
    from ..report import mean_std_columns, summarize_cv

    logger.info("Cross-validating (%s)...", how)
    # error_score="raise": a failing fold stops the run with its own error, said once
    results = cross_validate(
        model,
        X,
        y,
        groups=groups,
        cv=cv,
        scoring=emotion_scoring(),
        error_score="raise",
        n_jobs=n_jobs,
    )
    import pandas as pd

    summary = summarize_cv(results)
    shown = mean_std_columns(pd.DataFrame([summary])).drop(columns="n_folds")
    print(f"{how}:")
    print(shown.to_string(index=False))
    return summary


def _check_args(args):
    if not args.manifest:
        raise ValueError(
            "name the training table with --manifest FILE (or `manifest:` in --config)."
        )
    if not args.output:
        raise ValueError("name the file to save the model to with -o FILE (e.g. -o model.joblib).")
    inputs = [getattr(args, r) for r in ("text", "image", "audio", "video") if getattr(args, r)]
    inputs += list(args.tabular or []) + list(args.categorical or [])
    if not inputs:
        raise ValueError(
            "name at least one modality column: --text, --image, --audio, --video, --tabular or "
            "--categorical."
        )
    repeated = sorted({c for c in inputs if inputs.count(c) > 1})
    if repeated:
        raise ValueError(f"column {repeated[0]!r} is named by two flags; name each column once.")
    if args.label in inputs or (args.group and args.group in inputs):
        taken = args.label if args.label in inputs else args.group
        raise ValueError(f"column {taken!r} cannot be both an input and the label or group.")
    return inputs


def _prepared_table(args, inputs):
    """The labelled rows the model learns from, checked, and their groups."""
    paths = [c for c in (args.image, args.audio, args.video) if c]
    columns = inputs + [args.label] + ([args.group] if args.group else [])
    _, frame = read_table(args.manifest, columns, paths)
    check_numeric(frame, list(args.tabular or []), args.manifest)
    frame, y = labelled(frame, args.label)
    if args.check_files:
        check_files(frame, paths, args.manifest, args.on_error)
    frame = treat_absent_files(frame, paths, args.on_error, args.manifest)
    empty = rows_without_input(frame, inputs)
    if empty.any():
        logger.warning(
            "Dropping %d of %d labelled row(s) that have none of the inputs (%s): nothing to "
            "learn from (rows %s).",
            empty.sum(),
            len(frame),
            ", ".join(inputs),
            describe_rows(frame, empty),
        )
        frame, y = frame[~empty], y[~empty]
        if len(set(y)) < 2:
            raise ValueError("after dropping rows without inputs, fewer than 2 labels are left.")
    groups = frame[args.group].astype(str).to_numpy() if args.group else None
    return frame[inputs], y, groups


def fit_command(args):
    """``skmm fit``: check the table, fit on all rows, cross-validate (optional), save."""
    import joblib

    from .._threads import torch_threads
    from ..report import record_training

    inputs = _check_args(args)
    X, y, groups = _prepared_table(args, inputs)
    cv, how = cv_splitter(args, y, groups)
    model = build_model(args)
    summary = None
    try:
        with torch_threads(args.threads):
            # the full fit comes first: a mistake in the data or the parameters surfaces
            # once, with its own message, before any fold; the folds then read the cache
            logger.info("Fitting on all %d rows...", len(y))
            model.fit(X, y)
            if cv is not None:
                summary = _cross_validate(model, X, y, groups, cv, how, args.n_jobs)
    except EncodingError as exc:
        raise encoding_failed(exc) from exc
    record_training(
        model,
        X,
        y,
        name=args.manifest,
        cv=how,
        cv_scores=summary,
        command=shlex.join(["skmm", *args.argv]) if getattr(args, "argv", None) else None,
    )
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, output)
    classes = ", ".join(map(str, model.classes_))
    print(f"Saved the model to {output} ({len(y)} rows; classes: {classes}).")
    print(f"Predict with: skmm predict {output} DATA.csv -o predictions.csv")
    return 0
