"""make_fusion_pipeline: the usual multimodal pipeline from a table's column roles."""

import importlib

from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .._deps import import_optional
from ._late import LateFusionClassifier
from ._union import ModalityUnion

_DEFAULT_ENCODERS = {
    "text": ("TextEncoder", {}),
    "image": ("ImageEncoder", {}),
    "audio": ("MelEncoder", {}),
    # a clip column gives two blocks: the faces in its frames and the voice on its track
    "face": ("VideoEncoder", {"face_crop": True}),
    "voice": ("MelEncoder", {}),
}
_ROLES = ("text", "image", "audio", "face", "voice", "tabular")


_ON_ERROR = {"missing": "nan", "raise": "raise"}  # make_fusion_pipeline's word -> the encoders'


def _default_encoder(role, on_error):
    if role == "tabular":
        # partial NaN is imputed; rows with every tabular cell missing are ModalityUnion's to fill
        return SimpleImputer(strategy="median", keep_empty_features=True)
    name, params = _DEFAULT_ENCODERS[role]
    encoders = importlib.import_module("skmm.encoders")
    try:
        encoder = getattr(encoders, name)(**params)
    except AttributeError as exc:
        raise ImportError(
            f"skmm.encoders has no {name}; pass your own transformer: encoders={{{role!r}: ...}}."
        ) from exc
    if "on_error" in encoder.get_params():
        encoder.set_params(on_error=_ON_ERROR[on_error])
    return encoder


def make_fusion_pipeline(
    *,
    text=None,
    image=None,
    audio=None,
    video=None,
    tabular=None,
    head=None,
    encoders=None,
    extra=None,
    sampler=None,
    weights=None,
    scale="block",
    handle_missing=True,
    fill_value="mean",
    on_error="missing",
    memory=None,
    n_jobs=None,
    verbose=False,
):
    """Build ``ModalityUnion -> head`` from the roles of a table's columns.

    Each role names a column (``tabular``: a list of columns) and becomes a
    modality of the same name, encoded by the default encoder of that role
    (:class:`~skmm.encoders.TextEncoder`, :class:`~skmm.encoders.ImageEncoder`,
    :class:`~skmm.encoders.MelEncoder`; a median imputer for ``tabular``) unless
    ``encoders`` gives another. The fusion step outputs a DataFrame with columns
    ``"{modality}__{feature}"`` and ``"{modality}__missing"``, so any head can
    find the blocks (see :func:`infer_blocks`).

    Parameters
    ----------
    text, image, audio : str or int, default=None
        Column holding the raw text, image (path, bytes or array) or audio.
    video : str or int, default=None
        Column holding video clips (paths or bytes). It gives two modalities: ``"face"``,
        a :class:`~skmm.encoders.VideoEncoder` with ``face_crop=True`` over sampled
        frames, and ``"voice"``, a :class:`~skmm.encoders.MelEncoder` on the clip's
        audio track. For the FER face-expression net, pass
        ``encoders={"face": VideoEncoder("face-expression", face_crop=True)}``.
    tabular : str or list of str, default=None
        Numeric columns used as they are (after imputation).
    head : estimator or "late", default=None
        Final estimator; :class:`~sklearn.linear_model.LogisticRegression` if
        None; ``"late"`` gives a :class:`LateFusionClassifier` with one
        logistic regression per modality. Any classifier or regressor works,
        e.g. :class:`skmm.heads.FusionClassifier`.
    encoders : dict of str to transformer, default=None
        Replacement transformer per role (``"text"``, ``"image"``, ``"audio"``,
        ``"face"``, ``"voice"``, ``"tabular"``).
    extra : list of (str, transformer, columns) tuples, default=None
        More modalities, as in :class:`ModalityUnion`.
    sampler : imbalanced-learn sampler, default=None
        If given, placed between fusion and head (it resamples embeddings,
        never raw files) and the result is an ``imblearn.pipeline.Pipeline``.
    weights, scale, handle_missing, fill_value, n_jobs, verbose
        Passed to :class:`ModalityUnion`.
    on_error : {"missing", "raise"}, default="missing"
        What a row whose file cannot be decoded (or whose text cannot be encoded) becomes
        with the default encoders: ``"missing"``, an absent modality for that row (its
        block filled, its ``{modality}__missing`` indicator set, the count logged and
        kept in the union's ``n_failed_``), or ``"raise"``, an error naming the row and
        the file. Encoders given in ``encoders`` keep their own ``on_error``.
    memory : str or joblib.Memory, default=None
        Passed to the pipeline, to cache the fitted fusion step.

    Returns
    -------
    pipeline : Pipeline
        Steps ``"fusion"`` (ModalityUnion), optionally ``"sampler"``, and
        ``"head"``; tune e.g. ``fusion__weights__audio`` or ``head__C``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skmm.fusion import make_fusion_pipeline
    >>> df = pd.DataFrame({"note": ["so happy", "sad", "", "glad!", None, "down"],
    ...                    "age": [21, 30, np.nan, 25, 44, 39]})
    >>> words = FunctionTransformer(lambda s: np.c_[s.str.len(), s.str.count("a")])
    >>> pipe = make_fusion_pipeline(text="note", tabular=["age"], encoders={"text": words})
    >>> pipe.fit(df, [1, 0, 1, 1, 0, 0]).predict(df).shape
    (6,)
    >>> list(pipe[:-1].get_feature_names_out())
    ['text__x0', 'text__x1', 'text__missing', 'tabular__age', 'tabular__missing']
    """
    if on_error not in _ON_ERROR:
        raise ValueError(f"on_error={on_error!r}; use 'missing' or 'raise'.")
    encoders = dict(encoders or {})
    unknown = sorted(set(encoders) - set(_ROLES))
    if unknown:
        raise ValueError(f"encoders has unknown roles {unknown}; roles are {', '.join(_ROLES)}.")
    roles = {
        "text": text,
        "image": image,
        "audio": audio,
        "face": video,
        "voice": video,
        "tabular": tabular,
    }
    transformers = []
    for role, columns in roles.items():
        if columns is None:
            continue
        if role == "tabular" and isinstance(columns, str):
            columns = [columns]  # tabular columns are always a 2-D table
        encoder = encoders.get(role)
        encoder = _default_encoder(role, on_error) if encoder is None else encoder
        transformers.append((role, encoder, columns))
    transformers += list(extra or [])
    if not transformers:
        raise ValueError(
            "Name at least one column role (text=, image=, audio=, video=, tabular=) or extra=."
        )
    union = ModalityUnion(
        transformers,
        weights=weights,
        scale=scale,
        handle_missing=handle_missing,
        fill_value=fill_value,
        n_jobs=n_jobs,
        verbose=verbose,
    ).set_output(transform="pandas")
    if head is None:
        head = LogisticRegression(max_iter=1000)
    elif isinstance(head, str):
        if head != "late":
            raise ValueError(f"head must be an estimator, None or 'late', got {head!r}.")
        head = LateFusionClassifier(
            [(name, LogisticRegression(max_iter=1000)) for name, *_ in transformers]
        )
    steps = [("fusion", union), ("head", head)]
    if sampler is None:
        return Pipeline(steps, memory=memory)
    imblearn_pipeline = import_optional("imblearn.pipeline", "resampling inside a fusion pipeline")
    return imblearn_pipeline.Pipeline([steps[0], ("sampler", sampler), steps[1]], memory=memory)
