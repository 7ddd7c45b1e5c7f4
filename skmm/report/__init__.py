"""Reports: metric tables, figures and model cards, in a folder linked by ``index.md`` and ``index.html``.

Figures need matplotlib (``pip install 'skmm[tune]'``); they are drawn without
``pyplot``, so writing a report changes no global matplotlib state.
"""

from ._card import describe_encoders, write_model_card
from ._evaluate import evaluate_classifier, modality_weights_of
from ._index import Report
from ._plots import (
    modality_weight_table,
    plot_confusion_matrix,
    plot_modality_weights,
    plot_scores,
    plot_search,
    plot_search_history,
)
from ._record import count_training_rows, record_training, training_record
from ._tables import (
    METRICS,
    classification_metrics,
    mean_std_columns,
    per_class_table,
    summarize_cv,
)

__all__ = [
    "METRICS",
    "Report",
    "classification_metrics",
    "count_training_rows",
    "describe_encoders",
    "evaluate_classifier",
    "mean_std_columns",
    "modality_weight_table",
    "modality_weights_of",
    "per_class_table",
    "plot_confusion_matrix",
    "plot_modality_weights",
    "plot_scores",
    "plot_search",
    "plot_search_history",
    "record_training",
    "summarize_cv",
    "training_record",
    "write_model_card",
]
