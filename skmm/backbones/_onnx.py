"""A second runtime for a backbone: its forward pass as an ONNX graph run by ONNX Runtime.

A backbone that can run in ONNX Runtime carries an :class:`OnnxGraph` on its spec: the
part of its computation that goes into the graph (a torch module built from the loaded
model), how a batch of prepared items becomes the graph's inputs, and what is done with
the graph's output. Exporting, checking and storing graphs is
:mod:`skmm.backbones._onnx_store`; this module runs them.
"""

import threading
from dataclasses import dataclass, field

import numpy as np

from .._deps import import_optional


@dataclass(frozen=True)
class OnnxGraph:
    """How one backbone runs as an ONNX graph.

    Parameters
    ----------
    module : callable
        ``module(model, options) -> torch.nn.Module``: the exported computation; its
        ``forward`` takes the inputs named in ``inputs`` and returns one (N, ...) tensor.
    feeds : callable
        ``feeds(aux, batch, options) -> (dict of ndarray, context)``: the graph's inputs
        for a batch of prepared items, and what ``finish`` needs besides the output.
    probe : callable
        ``probe(aux, options) -> list``: a few prepared items of varied sizes, used to
        export the graph and to check it against torch.
    inputs : tuple of str
        Input names, each with a dynamic batch axis (0).
    dynamic : dict
        Other dynamic axes per input, e.g. ``{"input_ids": {1: "sequence"}}``.
    finish : callable, optional
        ``finish(output, context) -> (N, D) ndarray``; default: the output itself.
    aux : callable, optional
        ``aux(path) -> object``: what ``feeds`` needs besides the graph (a tokenizer).
    fuse : callable, optional
        ``fuse(model, options) -> dict or None``: keyword arguments of
        ``onnxruntime.transformers.optimizer.optimize_model`` (``model_type``,
        ``num_heads``, ``hidden_size``) that fuse the exported graph into ONNX Runtime's
        transformer kernels (``Attention``, ``SkipLayerNormalization``, ``BiasGelu``...)
        before it is checked, quantized and stored; None keeps the graph as exported.
    auto : bool, default=True
        Whether ``runtime="auto"`` picks ONNX Runtime for this backbone. Set only where
        it was measured faster than skmm's torch path (benchmarks/RESULTS.md): the image
        classifiers yes; MiniLM and Whisper not yet, so they run torch unless
        ``runtime="onnx"`` is asked for.
    """

    module: object
    feeds: object
    probe: object
    inputs: tuple
    dynamic: dict = field(default_factory=dict)
    finish: object = None
    aux: object = None
    fuse: object = None
    auto: bool = True

    def dynamic_axes(self):
        """The ``dynamic_axes`` argument of ``torch.onnx.export``."""
        axes = {name: {0: "batch", **self.dynamic.get(name, {})} for name in self.inputs}
        return {**axes, "output": {0: "batch"}}


def onnx_session(path, threads):
    """An ONNX Runtime CPU session of ``path`` using ``threads`` threads for one run.

    Examples
    --------
    >>> from skmm.backbones._onnx import onnx_session
    >>> callable(onnx_session)
    True
    """
    ort = import_optional("onnxruntime", "runtime='onnx'")
    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads == 1:  # a stream's thread never waits on others: no spinning needed
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxModel:
    """An exported graph ready to encode batches: what the model registry holds for ONNX.

    One session per thread count, made on first use: CPU inference streams (one thread
    each, see :class:`~skmm.encoders._run.EncodeRun`) share the one-thread session, whose
    ``run`` may be called from several threads at once; a single stream gets a session
    with the whole thread budget.

    Parameters
    ----------
    path : path-like
        The ``.onnx`` file.
    graph : OnnxGraph
    options : dict
        The encoder's embed options.
    aux : object
        ``graph.aux(path)`` of the backbone, or None.
    per_item : bool, default=False
        Run each item on its own. A dynamically quantized (int8) graph scales its
        activations by the range of the whole batch it is given, so batched, an item's
        vector would depend on the items beside it; alone, on its content only, which is
        what a content-keyed cache needs.
    """

    def __init__(self, path, graph, options, aux=None, per_item=False):
        self.path = str(path)
        self.graph = graph
        self.options = options
        self.aux = aux
        self.per_item = per_item
        self._sessions = {}
        self._lock = threading.Lock()

    def session(self, threads):
        """The session that runs with ``threads`` intra-op threads."""
        session = self._sessions.get(threads)
        if session is None:
            with self._lock:
                session = self._sessions.get(threads)
                if session is None:
                    session = self._sessions[threads] = onnx_session(self.path, threads)
        return session

    def encode(self, batch, threads=1):
        """Float32 vectors (N, D) for a batch of prepared items."""
        if self.per_item and len(batch) > 1:
            return np.concatenate(
                [self.encode(batch[i : i + 1], threads) for i in range(len(batch))]
            )
        feeds, context = self.graph.feeds(self.aux, batch, self.options)
        output = self.session(threads).run(None, feeds)[0]
        if self.graph.finish is not None:
            output = self.graph.finish(output, context)
        return np.asarray(output, dtype=np.float32)


def torch_graph_output(module, feeds):
    """Run the torch ``module`` on numpy ``feeds`` (the reference the graph is checked against)."""
    torch = import_optional("torch")
    with torch.inference_mode():
        out = module(*[torch.from_numpy(np.ascontiguousarray(v)) for v in feeds.values()])
    return out.float().numpy()
