"""The block layout shared by fusion and the neural heads.

A fused table names its columns ``"{modality}__{feature}"``; the column
``"{modality}__missing"`` is that modality's missing indicator (1.0 where the
modality is absent from the row). Everything that needs blocks reads them
through :func:`infer_blocks`, so the naming rule lives in one place.
"""

import numpy as np

SEPARATOR = "__"
MISSING = "missing"


def missing_column_name(modality):
    """Name of the missing-indicator column of ``modality``.

    Parameters
    ----------
    modality : str
        Modality name, e.g. ``"text"``.

    Returns
    -------
    name : str
        ``"{modality}__missing"``.

    Examples
    --------
    >>> from skmm.fusion import missing_column_name
    >>> missing_column_name("audio")
    'audio__missing'
    """
    return f"{modality}{SEPARATOR}{MISSING}"


def infer_blocks(feature_names, *, default=None):
    """Group fused column names into modality blocks.

    Parameters
    ----------
    feature_names : array-like of str
        Column names such as ``ModalityUnion.get_feature_names_out()`` or the
        ``columns`` of its pandas output. The modality is the part before the
        first ``"__"``; the feature ``"missing"`` marks the indicator column.
    default : str, optional
        Modality given to names without ``"__"``. If None (default), such a
        name raises ``ValueError``.

    Returns
    -------
    blocks : dict
        ``{modality: {"features": [int, ...], "missing": int or None}}``, in
        order of first appearance; ``features`` are positions of the block's
        feature columns, ``missing`` the position of its indicator, if any.

    Raises
    ------
    ValueError
        If a name has no modality prefix and ``default`` is None, or a
        modality has two indicator columns.

    Examples
    --------
    >>> from skmm.fusion import infer_blocks
    >>> infer_blocks(["text__text_0", "text__text_1", "text__missing", "age__age"])
    {'text': {'features': [0, 1], 'missing': 2}, 'age': {'features': [3], 'missing': None}}
    """
    blocks = {}
    for i, name in enumerate(np.asarray(feature_names, dtype=object).ravel()):
        name = str(name)
        modality, sep, feature = name.partition(SEPARATOR)
        if not sep or not modality:
            if default is None:
                raise ValueError(
                    f"Column {name!r} has no modality prefix: fused columns are named "
                    f"'{{modality}}{SEPARATOR}{{feature}}' (ModalityUnion's output). "
                    "Pass default='name' to put such columns in one block."
                )
            modality, feature = default, name
        block = blocks.setdefault(modality, {"features": [], "missing": None})
        if feature == MISSING:
            if block["missing"] is not None:
                raise ValueError(f"Modality {modality!r} has two missing-indicator columns.")
            block["missing"] = i
        else:
            block["features"].append(i)
    return blocks
