"""Build the numpy emulation of a compiled hls4ml model from its graph: one operation per firmware node, each
the ``emulate`` of its registered layer kind (:mod:`triggernn.layers`), walked by node inputs so that
merges, several inputs and several outputs are the normal case."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import NotExact
from ..hls.adapter.view import NodeView, graph_views
from ..layers import LayerKind, Node, kind_of
from ..quantize import FixedSpec
from . import layers as L
from .fixed import cast
from .tables import read_tables

__all__ = ["NumpyModel", "build_numpy_model", "kinds_of", "layer_tables"]


@dataclass
class NumpyModel:
    """The firmware as numpy: a walk of its graph. ``ops`` in hls4ml's (topological) order, each ``(layer name,
    input vars, output var, function of the input arrays)``; a value is dropped after its last reader."""

    input_specs: tuple[FixedSpec, ...]
    input_vars: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    output_vars: tuple[str, ...]
    output_shapes: tuple[tuple[int, ...], ...]
    ops: list = field(default_factory=list)
    #: the largest array one event needs in any layer (im2col patches included), in values
    values_per_event: int = 1

    @property
    def input_spec(self) -> FixedSpec:
        return self.input_specs[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.input_shapes[0]

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.output_shapes[0]

    def __call__(self, X, keep: tuple[str, ...] = ()):
        """Outputs for a batch (float events; a list of arrays, one per input, for a model of several inputs),
        and the outputs of the layers named in ``keep``. One output is an array, several a list of arrays."""
        xs = list(X) if isinstance(X, list | tuple) else [X]
        if len(xs) != len(self.input_vars):
            raise L.NotEmulated(f"{len(xs)} input arrays for a model of {len(self.input_vars)} inputs")
        n = len(xs[0])
        values = {
            var: cast(np.asarray(x).reshape(n, *shape), spec)
            for var, x, shape, spec in zip(
                self.input_vars, xs, self.input_shapes, self.input_specs, strict=True
            )
        }
        last = {v: i for i, (_, srcs, _, _) in enumerate(self.ops) for v in srcs}
        kept = {}
        for i, (name, srcs, dst, fn) in enumerate(self.ops):
            args = [values[v] for v in srcs]
            for v in set(srcs):
                if last[v] == i and v not in self.output_vars:
                    del values[v]
            values[dst] = fn(*args)
            if name in keep:
                kept[name] = values[dst].reshape(n, -1)
        outs = [values[v].reshape(n, *s) for v, s in zip(self.output_vars, self.output_shapes, strict=True)]
        return (outs[0] if len(outs) == 1 else outs), kept


def layer_tables(nodes: tuple[NodeView, ...] | list[NodeView], project: Path) -> dict:
    """The lookup tables the registered kinds of ``nodes`` read, as the firmware in ``project`` fills them."""
    requests = []
    for view in nodes:
        kind = kind_of(view.kind)
        requests += kind.tables(view, project) if kind else []
    return read_tables(project, requests) if requests else {}


def kinds_of(nodes, refuse: type[NotExact]) -> list[tuple[NodeView, LayerKind]]:
    """Each node with its registered kind; refuses (``refuse``) the first node whose class has none, or that
    has several inputs and is not a merge."""
    found = []
    for view in nodes:
        kind = kind_of(view.kind)
        if kind is None:
            raise refuse(f"layer '{view.name}' ({view.kind}): {view.kind} layers")
        if len(view.inputs) != 1 and not kind.merges:
            raise refuse(f"layer '{view.name}' ({view.kind}) with {len(view.inputs)} inputs")
        found.append((view, kind))
    return found


def build_numpy_model(hls_model, project: Path | None = None) -> NumpyModel:
    """The numpy emulation of ``hls_model`` (written to ``project``, its output folder by default), from the
    registered layer kinds.

    Raises :class:`~.layers.NotEmulated` naming the first layer it cannot reproduce exactly.
    """
    graph = graph_views(hls_model)
    project = Path(project or graph.output_dir)
    kinds = kinds_of(graph.nodes, L.NotEmulated)
    tables = layer_tables(graph.nodes, project)
    ops = []
    largest = 1
    for view, kind in kinds:
        try:
            node = Node.of(view, tables)
            fn = kind.emulate(node)
        except NotExact as err:
            raise L.NotEmulated(f"layer '{view.name}' ({view.kind}): {err}") from None
        ops.append((view.name, view.inputs, view.output, _shaped(fn, node.shape)))
        largest = max(largest, kind.values(view, node.shape))
    try:
        input_specs = graph.input_specs()
    except NotExact as err:
        raise L.NotEmulated(str(err)) from None
    return NumpyModel(
        input_specs=input_specs,
        input_vars=graph.input_vars,
        input_shapes=graph.input_shapes,
        output_vars=graph.output_vars,
        output_shapes=graph.output_shapes,
        ops=ops,
        values_per_event=largest,
    )


def _shaped(fn, shape):
    return lambda *x: fn(*x).reshape(len(x[0]), *shape)
