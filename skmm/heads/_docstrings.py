"""The parameters FusionClassifier and FusionRegressor share, documented once.

A head's docstring says ``%(shared_parameters)s`` and ``%(routed_parameters)s`` where these
go; :func:`shared_docstring` fills them in when the class is defined (the API pages read
the filled-in text).
"""

import inspect

SHARED_PARAMETERS = """\
head : {"mlp", "gated", "attention"}, default="mlp"
    ``"mlp"``: concatenate the modality embeddings, then an MLP. ``"gated"``: a
    softmax gate per modality and sample weights a sum of the embeddings.
    ``"attention"``: modality embeddings as tokens, ``n_layers`` transformer layers
    and a learned-query attention pool; the pool's weights are the modality weights.
blocks : dict or None, default=None
    Which columns form which modality: ``{modality: columns}`` where columns is a
    slice, a list of positions or of DataFrame column names, or ``{"features": ...,
    "missing": indicator_column}``. None reads ``"{modality}__{feature}"`` column
    names of a DataFrame (with ``"{modality}__missing"`` indicators); a plain array
    is one block ``"all"``.
hidden_size : int, default=128
    Width of the modality embeddings and hidden layers. The attention head rounds
    it up to a multiple of ``n_heads`` (10 with 4 heads gives 12), so every value
    a search draws trains; ``hidden_size_`` holds the width used.
n_layers : int, default=1
    Hidden layers after fusion (mlp, gated) or transformer layers (attention).
n_heads : int, default=4
    Attention heads of the attention head (each ``hidden_size_ / n_heads`` wide).
dropout : float, default=0.1
    Dropout in projections and hidden layers.
modality_dropout : float, default=0.1
    While training, probability of marking a present modality absent for a sample.
alignment : {"cosine", "infonce"}, default="cosine"
    Cross-modal alignment loss between the projected embeddings of the present
    modalities of a sample: cosine matching, or InfoNCE (other samples are negatives).
alignment_weight : float, default=0.0
    Weight of the alignment loss; 0 turns it off.
temperature : float, default=0.1
    InfoNCE temperature.
max_epochs : int, default=50
    Passes over the training data (fewer with early stopping).
lr : float, default=1e-3
    Learning rate of the optimizer.
batch_size : int, default=64
    Samples per training batch; -1 trains on the whole set at once.
optimizer : {"adamw", "adam", "sgd"} or torch optimizer class, default="adamw"
    ``"sgd"`` uses momentum 0.9 unless ``optimizer__momentum`` says otherwise.
weight_decay : float, default=1e-2
    Weight decay of the optimizer.
early_stopping : bool or int, default=False
    Patience in epochs on the validation loss (True means 10); the best epoch's
    weights are restored.
validation_fraction : float or None, default=None
    Share of the training data held out for validation (stratified by class for
    the classifier). None means 0.1 when early stopping is on and no validation
    otherwise; set it to record ``valid_loss`` (e.g. for pruning) without early
    stopping.
device : str, default="auto"
    ``"auto"`` uses CUDA when available, else the CPU.
random_state : int, RandomState instance or None, default=None
    Seeds weights, shuffling, dropout and the validation split; torch's global RNG
    state is restored after ``fit``.
callbacks : list of skorch callbacks or None, default=None
    Extra callbacks, passed to the skorch net unchanged (e.g. a pruning callback).
verbose : int, default=0
    Log skorch's per-epoch table to the ``skmm.heads._net`` logger.
n_threads : int or None, default=1
    torch's intra-op thread count while fitting and predicting; the caller's count
    is restored afterwards, also when the call fails. One thread trains a small
    head fastest, most of all on a busy CPU (see ``benchmarks/RESULTS.md``); None
    keeps torch's current setting, e.g. for a wide head on an idle many-core machine."""

ROUTED_PARAMETERS = """\
**kwargs : dict
    skorch's routed parameters, passed to the skorch net as skorch's ``NeuralNet``
    takes them: ``optimizer__momentum``, ``optimizer__nesterov``,
    ``module__feedforward_size``, ``iterator_train__shuffle``,
    ``iterator_valid__batch_size``, ``callbacks__{name}__{parameter}``.
    ``get_params`` lists them, so searches tune them and ``clone`` keeps them;
    ``set_params`` sets them. A name that reaches nothing, or one the head sets
    from its own parameters (``module__hidden_size``: set ``hidden_size``), is a
    ValueError at ``fit``."""


def shared_docstring(cls):
    """Class decorator: put the shared parameter texts where the docstring says so."""
    doc = inspect.cleandoc(cls.__doc__)
    for placeholder, text in (
        ("%(shared_parameters)s", SHARED_PARAMETERS),
        ("%(routed_parameters)s", ROUTED_PARAMETERS),
    ):
        if placeholder not in doc:
            raise ValueError(f"The docstring of {cls.__name__} has no {placeholder}.")
        doc = doc.replace(placeholder, text)
    cls.__doc__ = doc
    return cls
