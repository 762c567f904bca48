"""Recurrent layers: ``nnet::gru_stack`` emulated (Keras gate order z, r, h; reset after); LSTM and SimpleRNN
costed only (the C++ engine runs them). See docs/recurrent.md for what hls4ml 1.3.0 writes for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..emulation import layers as L
from ..emulation.fixed import cast
from ..emulation.tables import named_struct
from ..errors import NotExact
from ..hls.adapter.view import NodeView
from .base import LayerKind, Node, register

__all__ = ["GATES", "Recurrent"]

#: gate outputs per state unit
GATES = {"GRU": 3, "LSTM": 4, "SimpleRNN": 1}


@register
class Recurrent(LayerKind):
    handles = tuple(GATES)
    weighted = True
    recurrent = True

    def tables(self, view: NodeView, project: Path) -> list:
        if view.kind != "GRU":
            return []
        rec, act = view.text("recurrent_activation"), view.text("activation")
        if not {rec, act} <= {"sigmoid", "tanh"}:
            return []
        in_type = view.type_name("input")
        return [
            (view.name, f"recr_{rec}", named_struct(project, f"{rec}_config{view.index}_recr"), in_type),
            (view.name, f"act_{act}", named_struct(project, f"{act}_config{view.index}"), in_type),
        ]

    def values(self, view: NodeView, shape: tuple[int, ...]) -> int:
        """The products of every step at once: (inputs + state) x 3 gates x state."""
        return view.in_shape[0] * view.weight_size("recurrent_weight") * 2

    def macs(self, view: NodeView) -> int:
        return (view.weight_size("weight") + view.weight_size("recurrent_weight")) * view.in_shape[0]

    def emulate(self, n: Node):
        """Per time step two dense layers into the accumulator type, the sigmoid and tanh tables of the layer's
        own configs, and the state update ``(res_T)(h~ * (1 - z) + h * z)`` computed exactly (the widths are
        checked to fit float64)."""
        view, x_spec, res, tables = n.view, n.x_spec, n.res, n.tables
        if view.kind != "GRU":
            raise NotExact(f"{view.kind} layers")
        if view.attr("pytorch", False) or view.attr("direction", "forward") != "forward":
            raise NotExact("PyTorch-ordered or backward GRUs")
        if view.attr("apply_reset_gate", "after") != "after":
            raise NotExact("reset_after=False")
        rec, act = view.text("recurrent_activation"), view.text("activation")
        if (view.name, f"recr_{rec}") not in tables or (view.name, f"act_{act}") not in tables:
            raise NotExact(f"activations {rec}/{act} (sigmoid/tanh tables only)")
        acc, table_t = view.type_spec("accum_t"), view.type_spec("table_t")
        if acc.width + table_t.width > 53 or res.width + table_t.width + 2 > 53 or 2 * table_t.width + 2 > 53:
            raise NotExact(f"state {res}, accumulator {acc} and tables {table_t} are too wide for float64")
        W, w_spec = view.oriented("weight")
        U, u_spec = view.oriented("recurrent_weight")
        b, _ = view.weights("bias")
        br, _ = view.weights("recurrent_bias")
        units = U.shape[0]
        dense_x = L.dense_op(W.reshape(-1, 3 * units), b.ravel(), x_spec, w_spec, acc, acc)
        dense_h = L.dense_op(U.reshape(units, 3 * units), br.ravel(), res, u_spec, acc, acc)
        sigma = L.table_activation(rec, tables[(view.name, f"recr_{rec}")], acc)
        phi = L.table_activation(act, tables[(view.name, f"act_{act}")], acc)
        sequences = bool(view.attr("return_sequences"))

        def f(x):
            h = np.zeros((len(x), units))
            steps = []
            x_all = dense_x(x)  # the input products of every step at once: (B, T, 3n)
            for t in range(x.shape[1]):
                xs, hs = x_all[:, t], dense_h(h)
                zr = sigma(cast(xs[:, : 2 * units] + hs[:, : 2 * units], acc))
                z, r = zr[:, :units], zr[:, units:]
                h_tilde = phi(cast(xs[:, 2 * units :] + cast(r * hs[:, 2 * units :], acc), acc))
                h = cast(h_tilde * (1 - z) + h * z, res)
                steps.append(h)
            return np.stack(steps, axis=1) if sequences else h

        return f
