"""The firmware's arithmetic, traced with alkaid into shift-and-add logic: each node by the ``trace`` of its
registered layer kind (:mod:`triggernn.layers`), on the operations of :mod:`.ops`.

The tracers read the same hls4ml graph, weights and types as the numpy emulator and apply the same C++
semantics, on alkaid's symbolic fixed-point arrays instead of numbers: a constant matrix-vector product becomes
an adder graph (distributed arithmetic), a cast ``(res_T) x`` becomes alkaid's ``quantize`` with the type's
rounding and overflow modes, a table activation (sigmoid, tanh, softmax) becomes alkaid lookup tables holding
the firmware's own entries, indexed as the C++ indexes them. A layer, type or mode alkaid cannot reproduce bit
for bit is refused (:class:`NotTraced`) with its name. Several inputs are one input port of their values side by
side (in the order of the model's inputs), several outputs one output port likewise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..emulation.graph import kinds_of, layer_tables
from ..errors import NotExact
from ..hls.adapter.view import graph_views
from ..layers import Node
from ..quantize import FixedSpec
from .ops import NotTraced, fixed

__all__ = ["NotTraced", "TracedModel", "fixed", "trace_graph"]


@dataclass
class TracedModel:
    """The traced firmware: alkaid's combinational logic, the input types it reads (one per model input, side
    by side on its one input port), the shapes, the node(s) whose values it outputs, what was left out."""

    comb: Any
    input_specs: tuple[FixedSpec, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    output_node: str
    dropped: list[str]

    @property
    def input_spec(self) -> FixedSpec:
        return self.input_specs[0]

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The shape of the (first) input; with several inputs, their values side by side."""
        if len(self.input_shapes) == 1:
            return self.input_shapes[0]
        return (sum(math.prod(s) for s in self.input_shapes),)

    def cast_inputs(self, X: np.ndarray) -> np.ndarray:
        """Events (one row of every input's values side by side) cast to the input types, as the port reads them."""
        from ..emulation.fixed import cast

        X = X.reshape(len(X), -1).astype(np.float64)
        parts, start = [], 0
        for spec, shape in zip(self.input_specs, self.input_shapes, strict=True):
            size = math.prod(shape)
            parts.append(cast(X[:, start : start + size], spec))
            start += size
        return np.concatenate(parts, axis=1)


def _final_softmax(view) -> bool:
    return view.kind == "Softmax" or view.text("activation") == "softmax"


def trace_graph(hls_model, *, keep_softmax: bool = False, project=None) -> TracedModel:
    """Trace the compiled hls4ml ``hls_model`` into alkaid's combinational logic, node by node through the
    registered layer kinds. A final softmax is left out (the RTL outputs the logits a trigger's argmax reads)
    unless ``keep_softmax``. Lookup tables (sigmoid, tanh, softmax) are the firmware's own, read from ``project``
    (default: the graph's output folder) as the emulator reads them.

    Raises :class:`NotTraced` naming the first layer it cannot reproduce.
    """
    from alkaid.trace import FVArrayInput, trace

    graph = graph_views(hls_model)
    nodes = list(graph.nodes)
    outputs = list(graph.output_vars)
    dropped = []
    if not keep_softmax and len(outputs) == 1 and nodes and _final_softmax(nodes[-1]):
        last = nodes.pop()
        dropped.append(last.name)
        outputs = [last.inputs[0]]
    kinds = kinds_of(nodes, NotTraced)
    try:
        tables = layer_tables(nodes, Path(project or graph.output_dir))
        in_specs = graph.input_specs()
    except NotExact as err:
        raise NotTraced(str(err)) from None
    if len(graph.input_vars) == 1:
        x0 = FVArrayInput(graph.input_shapes[0])
        values = {graph.input_vars[0]: fixed(x0, in_specs[0])}
    else:  # every input a slice of the one port, cast to its type
        bounds = np.cumsum([0, *(math.prod(s) for s in graph.input_shapes)])
        x0 = FVArrayInput((int(bounds[-1]),))
        values = {
            var: fixed(x0[bounds[i] : bounds[i + 1]].reshape(shape), spec)
            for i, (var, shape, spec) in enumerate(
                zip(graph.input_vars, graph.input_shapes, in_specs, strict=True)
            )
        }
    for view, kind in kinds:  # the graph walked by node inputs, as the emulator does
        try:
            node = Node.of(view, tables)
            x = kind.trace(node)(*[values[v] for v in view.inputs])
        except NotExact as err:
            raise NotTraced(f"layer '{view.name}' ({view.kind}): {err}") from None
        values[view.output] = x.reshape(node.shape)
    out = values[outputs[0]] if len(outputs) == 1 else np.concatenate([values[v].ravel() for v in outputs])
    producers = {view.output: view.name for view in nodes}
    out_node = "+".join(producers.get(v, "input") for v in outputs)
    widths = [sum(int(v) for v in kif) for kif in np.moveaxis(np.asarray(out.kif).reshape(3, -1), 0, -1)]
    if max(widths, default=0) > 64:
        raise NotTraced(f"layer '{out_node}': outputs wider than 64 bits")
    return TracedModel(trace(x0, out), in_specs, graph.input_shapes, tuple(out.shape), out_node, dropped)
