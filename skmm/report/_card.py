"""Model cards.

What a fitted multimodal pipeline is made of, where its weights come from, and under
which licences.
"""

import datetime
from pathlib import Path

import pandas as pd
from sklearn.base import BaseEstimator

from ._record import training_record
from ._tables import markdown_table, mean_std_columns

DEFAULT_INTENDED_USE = (
    "Research, teaching and prototyping: trying fusion strategies, heads and rebalancing on "
    "multimodal emotion data, and comparing them with grouped cross-validation. It is not "
    "meant for decisions about people (hiring, policing, health, education, surveillance)."
)

DEFAULT_LIMITATIONS = (
    "Scores hold for data like the evaluation data only; other speakers, languages, cameras, "
    "microphones or cultures can score much lower. Emotion labels describe expressed (often "
    "acted) emotion, not what a person feels. The pretrained encoders carry the biases of "
    "their training data (English web text, ImageNet photos, FER2013 web faces). A model "
    "fitted on synthetic data has learned the generator's rules, not human emotion."
)


def _identify(encoder):
    """(model, licence, source) of an encoder's backbone, from its spec."""
    backbone = getattr(encoder, "backbone_", None)
    if backbone is None:  # an encoder skmm does not know: only its identity is known
        return "unknown model", "see the model's own licence", str(encoder.model_id_)
    spec = backbone.spec
    title, source = spec.title or spec.name, spec.source
    if backbone.folder is not None:
        title, source = f"{title} at {backbone.folder}", backbone.folder
    return title, spec.licence, source


def _walk(estimator, name=""):
    """Yield (name, estimator) for every estimator nested in pipelines, unions and heads."""
    yield name, estimator
    children = []
    if hasattr(estimator, "steps"):
        children = [(n, s) for n, s in estimator.steps]
    elif hasattr(estimator, "named_transformers_"):
        children = list(estimator.named_transformers_.items())
    elif hasattr(estimator, "transformers"):
        children = [(t[0], t[1]) for t in estimator.transformers]
    for child_name, child in children:
        if isinstance(child, BaseEstimator):
            # a pipeline inside a union's modality keeps the modality's name
            yield from _walk(child, name if name and hasattr(estimator, "steps") else child_name)


def describe_encoders(model):
    """One row per pretrained encoder inside ``model``: modality, encoder, weights and licence.

    Parameters
    ----------
    model : estimator
        A fitted pipeline (e.g. from :func:`skmm.fusion.make_fusion_pipeline`) or encoder.

    Returns
    -------
    table : pandas.DataFrame
        Columns ``modality``, ``encoder``, ``model``, ``licence``, ``source`` and
        ``model_id`` (the encoder's ``model_id_``: model name or folder, and weights
        fingerprint). Model, licence and source come from the backbone's spec.

    Examples
    --------
    >>> from skmm.encoders import TextEncoder
    >>> from skmm.report import describe_encoders
    >>> describe_encoders(TextEncoder().fit(["hi"]))[["encoder", "licence"]].iloc[0].tolist()
    ['TextEncoder', 'Apache-2.0 (model); MIT (package)']
    """
    rows = []
    for name, est in _walk(model):
        model_id = getattr(est, "model_id_", None)
        if model_id is None:
            continue
        label, licence, source = _identify(est)
        rows.append(
            {
                "modality": name or "-",
                "encoder": type(est).__name__,
                "model": label,
                "licence": licence,
                "source": source,
                "model_id": str(model_id),
            }
        )
    return pd.DataFrame(
        rows, columns=["modality", "encoder", "model", "licence", "source", "model_id"]
    )


def record_text(record):
    """Markdown for the training data of a training record (table, rows, hash, labels)."""
    table = record.get("table") or {}
    name = f"`{table['name']}`" if table.get("name") else "A table"
    labels = ", ".join(f"{k} ({n})" for k, n in (record.get("labels") or {}).items())
    columns = ", ".join(f"`{c}`" for c in table.get("columns") or [])
    return (
        f"{name}: {table.get('n_rows', '?')} rows (content hash `{table.get('hash', '?')}`), "
        f"input columns {columns or '?'}; labels: {labels or '?'}."
    )


def cv_text(record):
    """Markdown for the cross-validation a training record holds (scheme and scores)."""
    scores = record.get("cv_scores")
    if not record.get("cv") and not scores:
        return "Not cross-validated when it was trained."
    text = f"{record.get('cv') or 'Cross-validation'}"
    if scores:
        shown = mean_std_columns(pd.DataFrame([scores])).drop(columns="n_folds", errors="ignore")
        text += ":\n\n" + markdown_table(shown)
    return text


def provenance_text(record):
    """Markdown for when and with which library versions a model was trained."""
    versions = ", ".join(f"{k} {v}" for k, v in (record.get("versions") or {}).items())
    text = f"Trained on {record.get('date', '?')} with {versions}."
    if record.get("command"):
        text += f"\n\n```\n{record['command']}\n```"
    return text


def _steps(model):
    steps = model.steps if hasattr(model, "steps") else [("model", model)]
    lines = []
    for name, step in steps:
        detail = ""
        if hasattr(step, "transformers"):
            detail = ": " + ", ".join(
                f"{t[0]} = {_name(t[1])} on {t[2]!r}" for t in step.transformers
            )
        elif hasattr(step, "head") and isinstance(step.head, str):
            detail = f" (head={step.head!r}, hidden_size={getattr(step, 'hidden_size', '?')})"
        lines.append(f"- `{name}`: {type(step).__name__}{detail}")
    return "\n".join(lines)


def _name(step):
    return step if isinstance(step, str) else type(step).__name__


def _section(title, body):
    if body is None:
        return ""
    if isinstance(body, pd.DataFrame):
        body = markdown_table(body)
    return f"## {title}\n\n{str(body).strip()}\n\n"


def write_model_card(
    path,
    model,
    *,
    title="Model card",
    data=None,
    metrics=None,
    evaluation_data=None,
    intended_use=DEFAULT_INTENDED_USE,
    limitations=DEFAULT_LIMITATIONS,
    extra=None,
):
    """Write a Markdown model card for a fitted multimodal pipeline.

    Parameters
    ----------
    path : path-like
        The ``.md`` file to write.
    model : fitted estimator
        Its steps and the identity and licence of each encoder are listed.
    title : str, default="Model card"
    data : str, optional
        Markdown describing the training data (source, size, classes, groups). By
        default it is written from the model's training record (see
        :func:`record_training`), which also gives the card its cross-validation and
        provenance sections.
    metrics : pandas.DataFrame or str, optional
        The evaluation, as a table or Markdown text.
    evaluation_data : str, optional
        Markdown describing the data ``metrics`` were computed on, when it is not the
        training data.
    intended_use, limitations : str
        Defaults say: research and prototyping; scores hold for similar data only.
    extra : dict of str to str, optional
        More sections, ``{title: markdown}``.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from skmm.encoders import TextEncoder
    >>> from skmm.report import write_model_card
    >>> card = write_model_card(pathlib.Path(tempfile.mkdtemp()) / "model_card.md",
    ...                         TextEncoder().fit(["hi"]), data="Two words.")
    >>> "all-MiniLM-L6-v2" in card.read_text()
    True
    """
    from .. import __version__

    encoders = describe_encoders(model)
    today = datetime.date.today().isoformat()
    parts = [f"# {title}\n\nWritten by skmm {__version__} on {today}.\n\n"]
    parts.append(_section("Model", _steps(model)))
    if len(encoders):
        shown = encoders.drop(columns="model_id")
        ids = "\n".join(f"- {r.modality}: `{r.model_id}`" for r in encoders.itertuples())
        parts.append(
            _section(
                "Encoders",
                markdown_table(shown) + "\n\nModel identities "
                "(weights path @ content fingerprint; part of every cache key):\n\n" + ids,
            )
        )
    record = training_record(model)
    if data is None and record is not None:
        data = record_text(record)
    parts.append(_section("Training data", data))
    if record is not None:
        parts.append(_section("Cross-validation", cv_text(record)))
    parts.append(_section("Evaluation data", evaluation_data))
    parts.append(_section("Evaluation", metrics))
    parts.append(_section("Intended use", intended_use))
    parts.append(_section("Limitations", limitations))
    for section_title, body in (extra or {}).items():
        parts.append(_section(section_title, body))
    parts.append(
        _section(
            "Licences",
            (
                "skmm's code is BSD-3-Clause. Each encoder's weights keep their own licence (table "
                "above); a model you distribute carries those terms, and the terms of the data it "
                "was trained on."
            ),
        )
    )
    if record is not None:
        parts.append(_section("Provenance", provenance_text(record)))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(parts).rstrip() + "\n")
    return path
