"""What each fine-tuning method trains: full, LoRA (through peft), the top blocks, the head.

A method is applied to the torch module inside a loaded backbone, in place: LoRA layers
are injected with :func:`peft.inject_adapter_in_model`, then exactly the parameters the
method trains get ``requires_grad``. The learned state is those parameters only, so a
fitted estimator pickles its adapters (or its changed blocks), never the pretrained
weights, which are rebuilt from the backbone and the same method.
"""

import hashlib

import numpy as np

from .._deps import import_optional

METHODS = ("full", "lora", "last_layers", "head")
# Peak learning rate of the encoder's trained parameters when ``lr`` is None
DEFAULT_LR = {"full": 3e-5, "lora": 5e-4, "last_layers": 1e-4, "head": 1e-3}


def torch_module(model):
    """The ``torch.nn.Module`` inside a loaded backbone (a module, or a tuple holding one).

    Examples
    --------
    >>> import torch
    >>> from skmm.finetune._methods import torch_module
    >>> net = torch.nn.Linear(2, 2)
    >>> torch_module(("tokenizer", net)) is net
    True
    """
    torch = import_optional("torch")
    if isinstance(model, torch.nn.Module):
        return model
    for part in model if isinstance(model, (tuple, list)) else ():
        if isinstance(part, torch.nn.Module):
            return part
    raise TypeError(
        f"the backbone loads as {type(model).__name__}, which holds no torch module to "
        "fine-tune; use a backbone that runs in torch"
    )


def blocks(module):
    """The module's stack of repeated blocks, bottom to top: its longest ``ModuleList``.

    Transformer layers (``encoder.layer``, Whisper's ``layers``), EfficientNet's MBConv
    blocks and the FER net's residual modules are each one ``ModuleList``.

    Examples
    --------
    >>> import torch
    >>> from skmm.finetune._methods import blocks
    >>> net = torch.nn.Sequential(torch.nn.ModuleList([torch.nn.Linear(2, 2)] * 3))
    >>> len(blocks(net))
    3
    """
    torch = import_optional("torch")
    lists = [m for m in module.modules() if isinstance(m, torch.nn.ModuleList)]
    if not lists:
        raise ValueError(
            f"{type(module).__name__} has no stack of blocks (no ModuleList) for "
            "method='last_layers'; use method='lora' or 'full'"
        )
    return list(max(lists, key=len))


def default_lora_targets(module):
    """Names of the layers LoRA adapts by default: every linear layer and 1×1 convolution.

    That is the attention projections and feed-forward layers of a transformer (as
    QLoRA recommends over query/value only), and the pointwise convolutions of the
    image CNNs (peft adapts ``Conv2d``; the 1×1 ones keep their input's shape whatever
    padding the backbone uses).

    Examples
    --------
    >>> import torch
    >>> from skmm.finetune._methods import default_lora_targets
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(4, 4, 1))
    >>> default_lora_targets(net)
    ['1']
    """
    torch = import_optional("torch")
    names = []
    for name, layer in module.named_modules():
        pointwise = (
            isinstance(layer, torch.nn.Conv2d)
            and tuple(layer.kernel_size) == (1, 1)
            and tuple(layer.stride) == (1, 1)
            and layer.groups == 1
        )
        if name and (type(layer) is torch.nn.Linear or pointwise):
            names.append(name)
    return names


def apply_method(
    module,
    method,
    *,
    n_layers=2,
    lora_r=8,
    lora_alpha=16,
    lora_dropout=0.1,
    lora_target_modules=None,
):
    """Prepare ``module`` for ``method`` in place: inject adapters, set ``requires_grad``.

    Returns the names of the trainable parameters (empty for ``"head"``).

    Examples
    --------
    >>> import torch
    >>> from skmm.finetune._methods import apply_method
    >>> net = torch.nn.Sequential(torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)]))
    >>> apply_method(net, "last_layers", n_layers=1)
    ['0.2.weight', '0.2.bias']
    """
    if method == "lora":
        peft = import_optional("peft", "method='lora' (pip install 'skmm[finetune]')")
        targets = list(lora_target_modules or default_lora_targets(module))
        if not targets:
            raise ValueError(
                f"{type(module).__name__} has no linear or 1×1 convolution layer for LoRA; "
                "name layers in lora_target_modules or use method='last_layers'"
            )
        config = peft.LoraConfig(
            r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout, target_modules=targets
        )
        peft.inject_adapter_in_model(config, module)
    for param in module.parameters():
        param.requires_grad_(method == "full")
    if method == "lora":
        for name, param in module.named_parameters():
            param.requires_grad_("lora_" in name)
    elif method == "last_layers":
        stack = blocks(module)
        if not 1 <= n_layers <= len(stack):
            raise ValueError(
                f"n_layers={n_layers!r}: {type(module).__name__} has {len(stack)} blocks; "
                f"use 1 to {len(stack)}"
            )
        for block in stack[len(stack) - n_layers :]:
            for param in block.parameters():
                param.requires_grad_(True)
    return [name for name, param in module.named_parameters() if param.requires_grad]


def trainable_state(module, names):
    """The named parameters as float32 numpy arrays (what a fitted estimator keeps).

    Examples
    --------
    >>> import torch
    >>> from skmm.finetune._methods import trainable_state
    >>> state = trainable_state(torch.nn.Linear(2, 3), ["bias"])
    >>> list(state), state["bias"].shape
    (['bias'], (3,))
    """
    params = dict(module.named_parameters())
    return {name: params[name].detach().float().cpu().numpy().copy() for name in names}


def load_trainable_state(module, state):
    """Copy a :func:`trainable_state` back into ``module`` (names must all exist)."""
    torch = import_optional("torch")
    params = dict(module.named_parameters())
    missing = sorted(set(state) - set(params))
    if missing:
        raise ValueError(
            f"the fine-tuned weights name {len(missing)} parameters the backbone does not "
            f"have (first: {missing[0]!r}); was it fitted with another backbone or peft version?"
        )
    with torch.no_grad():
        for name, value in state.items():
            params[name].copy_(torch.from_numpy(np.asarray(value)))


def state_fingerprint(state):
    """A short hash of learned weights: part of the tuned model's identity and cache keys.

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.finetune._methods import state_fingerprint
    >>> a = state_fingerprint({"w": np.zeros(3, np.float32)})
    >>> a == state_fingerprint({"w": np.ones(3, np.float32)}), len(a)
    (False, 16)
    """
    digest = hashlib.blake2b(digest_size=8)
    for name in sorted(state):
        value = np.ascontiguousarray(state[name])
        digest.update(name.encode())
        digest.update(value.dtype.str.encode() + str(value.shape).encode())
        digest.update(value.tobytes())
    return digest.hexdigest()
