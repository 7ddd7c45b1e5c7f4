"""The heads' parameter checks, run by ``fit`` (``__init__`` only stores, as in sklearn)."""

import numbers

from skmm._threads import check_n_threads
from skmm.heads._routing import extra_params, is_routed, unexpected_name_message

HEADS = ("mlp", "gated", "attention")
ALIGNMENTS = ("cosine", "infonce")
OPTIMIZERS = {"adamw": "AdamW", "adam": "Adam", "sgd": "SGD"}


def check_params(head):
    """Raise a ValueError naming the first parameter of ``head`` that is not valid."""

    def bad(name, what):
        return ValueError(f"{name} must be {what}; got {getattr(head, name)!r}.")

    if head.head not in HEADS:
        raise bad("head", f"one of {HEADS}")
    for name, low in (("hidden_size", 1), ("n_layers", 0), ("n_heads", 1), ("max_epochs", 1)):
        value = getattr(head, name)
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
            raise bad(name, f"an int >= {low}")
    if not (
        isinstance(head.batch_size, numbers.Integral)
        and (head.batch_size >= 1 or head.batch_size == -1)
    ):
        raise bad("batch_size", "an int >= 1 (or -1 for full batch)")
    for name in ("dropout", "modality_dropout"):
        value = getattr(head, name)
        if not isinstance(value, numbers.Real) or not 0 <= value < 1:
            raise bad(name, "a float in [0, 1)")
    if head.alignment not in ALIGNMENTS:
        raise bad("alignment", f"one of {ALIGNMENTS}")
    for name, low in (("alignment_weight", 0), ("weight_decay", 0)):
        if not isinstance(getattr(head, name), numbers.Real) or getattr(head, name) < low:
            raise bad(name, "a float >= 0")
    for name in ("lr", "temperature"):
        if not isinstance(getattr(head, name), numbers.Real) or getattr(head, name) <= 0:
            raise bad(name, "a float > 0")
    es = head.early_stopping
    if not (es is None or (isinstance(es, numbers.Integral) and es >= 0)):
        raise bad("early_stopping", "False, True or a patience (int >= 1)")
    vf = head.validation_fraction
    if vf is not None and not (isinstance(vf, numbers.Real) and 0 < vf < 1):
        raise bad("validation_fraction", "None or a float in (0, 1)")
    if isinstance(head.optimizer, str) and head.optimizer.lower() not in OPTIMIZERS:
        raise bad("optimizer", f"one of {tuple(OPTIMIZERS)} or a torch optimizer class")
    if head.callbacks is not None and not isinstance(head.callbacks, (list, tuple)):
        raise bad("callbacks", "None or a list of skorch callbacks")
    check_n_threads(head.n_threads)
    for name in extra_params(head):
        if not is_routed(name):
            raise ValueError(unexpected_name_message(type(head).__name__, name))
