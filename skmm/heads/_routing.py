"""skorch's routed parameters (``optimizer__momentum``, ``module__...``) on the heads.

A head stores them as skorch's ``NeuralNet`` does: as attributes named like the
parameter, listed by ``get_params`` (so searches tune them and ``clone`` keeps them),
and passed to the net when ``fit`` builds it.
"""

import inspect

# components of the net a parameter can be routed to, as in skorch
ROUTED_PREFIXES = (
    "module",
    "criterion",
    "optimizer",
    "iterator_train",
    "iterator_valid",
    "callbacks",
)
_EXAMPLE = "e.g. optimizer__momentum=0.9 or iterator_train__shuffle=False"


def is_routed(name):
    """Whether ``name`` is ``"{component}__{parameter}"`` for a routable component."""
    prefix, sep, rest = name.partition("__")
    return bool(sep and rest) and prefix in ROUTED_PREFIXES


def extra_params(head):
    """Parameters given to ``head`` beyond its signature (``**kwargs``), by name.

    As on a skorch net, they are the public, non-fitted attributes that are not
    parameters of the signature; ``fit`` refuses those that are not routed.
    """
    own = set(type(head)._get_param_names())
    return {
        name: value
        for name, value in vars(head).items()
        if name not in own and not name.startswith("_") and not name.endswith("_")
    }


def unexpected_name_message(owner, name):
    """Why ``name`` is not a parameter of ``owner`` (a class name), and what would be."""
    prefixes = ", ".join(f"{p}__" for p in ROUTED_PREFIXES)
    return (
        f"{owner} got an unexpected parameter {name!r}. Besides its own parameters it "
        f"takes skorch's routed parameters, which start with {prefixes} ({_EXAMPLE})."
    )


def _accepted(component):
    """Parameter names ``component`` (a class) takes, or None when it takes any."""
    try:
        parameters = inspect.signature(component).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters}


def _callback_names(net, routed):
    net.initialize_callbacks()
    names = {name for name, _ in net.callbacks_}
    # ``callbacks__name=None`` turns a callback off: skorch then leaves it out of callbacks_
    return names | {key.split("__")[1] for key, value in routed.items() if value is None}


def check_routed(owner, net, routed, set_by_head):
    """Raise a ValueError naming the first routed parameter that reaches nothing.

    Parameters
    ----------
    owner : str
        The head's class name, for the message.
    net : skorch.NeuralNet
        The net built with the routed parameters (not initialized).
    routed : dict
        The routed parameters given to the head.
    set_by_head : dict of str to str
        Routed names the head derives from its own parameters, with what to do instead
        (e.g. ``"set hidden_size instead"``).
    """
    for key in routed:
        if key in set_by_head:
            raise ValueError(f"{owner}: {key} is set by the head itself: {set_by_head[key]}.")
    components = {
        "module": net.module,
        "criterion": net.criterion,
        "optimizer": net.optimizer,
        "iterator_train": net.iterator_train,
        "iterator_valid": net.iterator_valid,
    }
    # what skorch itself passes: the data, the module's parameters
    passed_by_skorch = {"dataset", "params"}
    callbacks = None
    for key in sorted(routed):
        prefix, _, name = key.partition("__")
        first = name.split("__")[0]
        if prefix == "callbacks":
            callbacks = _callback_names(net, routed) if callbacks is None else callbacks
            if first not in callbacks:
                raise ValueError(
                    f"{owner}: {key} names no callback of the net; its callbacks are "
                    f"{sorted(callbacks)} (a callback of yours is named by its class, or "
                    f"give it as a (name, callback) pair in callbacks=)."
                )
            continue
        if prefix == "optimizer" and first == "param_groups":
            continue  # skorch's per-parameter-group options
        component = components[prefix]
        accepted = _accepted(component)
        if accepted is None:
            continue
        own = {k.partition("__")[2] for k in set_by_head if k.startswith(prefix + "__")}
        open_to_users = accepted - own - passed_by_skorch
        if first not in open_to_users:
            what = getattr(component, "__name__", repr(component))
            raise ValueError(
                f"{owner}: {key} reaches nothing: {prefix} {what} has no parameter "
                f"{first!r} that can be routed; it takes {sorted(open_to_users)}."
            )
