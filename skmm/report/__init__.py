"""Reports: metric tables, figures and model cards, written into a folder linked by ``index.md``.

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
)
from ._record import count_training_rows, record_training, training_record
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
    "count_training_rows",
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
    "record_training",
    "summarize_cv",
    "training_record",
    "write_model_card",
    "write_table",
]
