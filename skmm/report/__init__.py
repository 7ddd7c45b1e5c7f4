"""Reports: metric tables, figures and model cards, in a folder linked by ``index.md`` and ``index.html``.

Figures need matplotlib (``pip install 'skmm[tune]'``); they are drawn without
``pyplot``, so writing a report changes no global matplotlib state.
"""

from ._card import describe_encoders, write_model_card
from ._evaluate import evaluate_classifier, head_input, modality_weights_of
from ._index import Report
from ._plots import (
    modality_weight_table,
    plot_confusion_matrix,
    plot_modality_weights,
    plot_scores,
    plot_search,
    plot_search_history,
)
from ._tables import (
    METRICS,
    classification_metrics,
    markdown_table,
    mean_std_columns,
    per_class_table,
    summarize_cv,
    write_table,
)

__all__ = [
    "METRICS",
    "Report",
    "classification_metrics",
    "describe_encoders",
    "evaluate_classifier",
    "head_input",
    "markdown_table",
    "mean_std_columns",
    "modality_weight_table",
    "modality_weights_of",
    "per_class_table",
    "plot_confusion_matrix",
    "plot_modality_weights",
    "plot_scores",
    "plot_search",
    "plot_search_history",
    "summarize_cv",
    "write_model_card",
    "write_table",
]
