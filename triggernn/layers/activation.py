"""Activations: ``nnet::relu``/``linear`` (a cast), the sigmoid/tanh/softmax tables, hard sigmoid/tanh, LeakyReLU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..emulation import layers as L
from ..emulation.fixed import cast
from ..emulation.tables import config_struct
from ..errors import NotExact
from ..hls.adapter.view import NodeView
from ..quantize import FixedSpec
from .base import LayerKind, Node, register
from .exact import is_auto

__all__ = ["Activation", "HardActivation", "LeakyReLU", "hard_activation", "leaky_relu_alpha"]


@register
class Activation(LayerKind):
    """ReLU and linear are casts (exact types: the input's, unsigned after a ReLU); sigmoid and tanh read the
    firmware's tables (index ``trunc(x N / span) + N / 2``); the softmax its exp and inverse tables."""

    handles = ("Activation", "Softmax")
    calibration = (
        ("Activation", "activation"),
        ("ReLU", "activation"),
    )

    def tables(self, view: NodeView, project: Path) -> list:
        act = view.text("activation")
        if act not in ("sigmoid", "tanh", "softmax"):
            return []
        struct = config_struct(project, view.index)
        in_type = view.type_name("input")
        if act != "softmax":
            return [(view.name, act, struct, in_type)]
        impl = view.text("implementation", "stable")
        if impl not in ("stable", "latency"):
            return []
        return [(view.name, f"exp_{impl}", struct, in_type), (view.name, "invert", struct, in_type)]

    def emulate(self, n: Node):
        view, res, tables = n.view, n.res, n.tables
        act = view.text("activation")
        if act == "linear":
            return lambda x: cast(x, res)
        if act == "relu":
            return lambda x: cast(np.where(x > 0, x, 0.0), res)
        if act in ("sigmoid", "tanh"):
            return L.table_activation(act, tables[(view.name, act)], res)
        if act == "softmax":
            impl = view.text("implementation", "stable")
            if impl not in ("stable", "latency"):
                raise NotExact(f"softmax implementation '{impl}'")
            types = {k: view.type_spec(k) for k in ("accum_t", "inv_inp_t", "inp_norm_t")}
            t = {"exp": tables[(view.name, f"exp_{impl}")], "inv": tables[(view.name, "invert")]}
            return L.softmax_op(impl, t, types, n.x_spec, res)
        raise NotExact(f"activation '{act}'")

    def trace(self, n: Node):
        from ..hdl import ops as R

        act, res = n.view.text("activation"), n.res
        if act == "linear":
            return lambda x: R.fixed(x, res)
        if act == "relu":
            return lambda x: R.fixed(np.maximum(x, 0.0), res)
        if act in ("sigmoid", "tanh"):
            return R.table_activation(act, n.tables[(n.view.name, act)], res)
        if act == "softmax":
            return _trace_softmax(n)
        raise NotExact(
            f"activation '{act}' (the RTL path traces ReLU, linear, sigmoid, tanh and softmax activations)"
        )

    def exact_types(self, view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
        """An activation split out of a QKeras layer has no quantizer, and hls4ml gives it the default type:
        a ReLU or linear node takes its input's type (unsigned for the ReLU)."""
        x = view.in_value_specs()[0]
        act = view.text("activation")
        if x is None or act not in ("relu", "linear") or not is_auto(conf, "result"):
            return {}
        if act == "relu" and x.signed:
            x = FixedSpec(x.width - 1, x.integer - 1, signed=False) if x.width > 1 else x
        return {"result": x.hls()}


def _trace_softmax(n: Node):
    """``nnet::softmax_stable`` / ``softmax_latency``: the exp table at the top bits of ``max - x`` (or of ``x``),
    the sum over hls4ml's reduction tree in ``accum_t``, the inverse table at the top bits of the sum, one
    product per output (a multiplier: both operands are variables)."""
    from ..hdl import ops as R

    view = n.view
    if len(n.x_shapes[0]) != 1:
        raise NotExact("a softmax over more than one axis")
    impl = view.text("implementation", "stable")
    if impl not in ("stable", "latency"):
        raise NotExact(f"softmax implementation '{impl}'")
    exp_t, inv_t = n.tables[(view.name, f"exp_{impl}")], n.tables[(view.name, "invert")]
    exp_bits, inv_bits = int(np.log2(len(exp_t))), int(np.log2(len(inv_t)))
    acc, inv_inp, norm_t = (view.type_spec(k) for k in ("accum_t", "inv_inp_t", "inp_norm_t"))

    def f(x):
        x = x.ravel()
        if impl == "stable":
            norm = R.fixed(
                np.max(x.reshape(1, -1), axis=-1) - x, norm_t
            )  # (1,) - (N,): an array, not a scalar
            e = R.lookup(R.top_bits(norm, norm_t, exp_bits), lambda i: exp_t[i])
        else:
            e = R.lookup(R.top_bits(x, n.x_spec, exp_bits), lambda i: exp_t[i])
        e = R.fixed(e, acc)
        # hls4ml's reduction tree over (1, N): every partial sum cast to accum_t at the same nodes
        total = R.fixed(L.reduce_tree(e.reshape(1, -1), lambda a, b: R.fixed(a + b, acc)), inv_inp)
        inv = R.lookup(R.top_bits(total, inv_inp, inv_bits), lambda i: inv_t[i])
        return R.fixed(e * inv, n.res)

    return f


def hard_activation(view: NodeView) -> tuple[str, float, float]:
    """A HardActivation's function (``hard_sigmoid`` or ``hard_tanh``) and its ``slope`` and ``shift`` as the
    C++ holds them: the decimal hls4ml writes, assigned to ``slope_t`` / ``shift_t``. The firmware computes
    ``s = clip(slope * x + shift, 0, 1)`` exactly (``auto``: ap_fixed's full-width product and sum, whose
    integer bits always hold 1), then ``res_T(s)`` or ``res_T(2 * s - 1)``."""
    act = view.text("activation")
    if act not in ("hard_sigmoid", "hard_tanh"):
        raise NotExact(f"hard activation '{act}'")
    consts = [
        float(cast(np.array([float(view.attr(k))]), view.type_spec(f"{k}_t"))[0]) for k in ("slope", "shift")
    ]
    return act, consts[0], consts[1]


@register
class HardActivation(LayerKind):
    handles = ("HardActivation",)

    def emulate(self, n: Node):
        act, slope, shift = hard_activation(n.view)
        res = n.res
        if act == "hard_sigmoid":
            return lambda x: cast(np.clip(slope * x + shift, 0.0, 1.0), res)
        return lambda x: cast(2.0 * np.clip(slope * x + shift, 0.0, 1.0) - 1.0, res)

    def trace(self, n: Node):
        from ..hdl import ops as R

        act, slope, shift = hard_activation(n.view)
        res = n.res

        def f(x):  # exact (ap_fixed's auto type), then (res_T)
            s = np.minimum(np.maximum(x * slope + shift, 0.0), 1.0)
            return R.fixed(s if act == "hard_sigmoid" else s * 2.0 - 1.0, res)

        return f


def leaky_relu_alpha(view: NodeView) -> float:
    """A LeakyReLU's negative slope as the C++ holds it: the decimal hls4ml writes into the call, passed as
    ``param_t``. The firmware gives ``res_T(x)`` for ``x > 0``, else ``res_T(alpha * x)`` (the product
    exact)."""
    act = view.text("activation")
    if act not in ("leakyrelu", "leaky_relu"):
        raise NotExact(f"parametrized activation '{act}'")
    spec = view.type_spec("param_t")
    return float(cast(np.array([float(view.attr("activ_param", 1.0))]), spec)[0])


@register
class LeakyReLU(LayerKind):
    handles = ("LeakyReLU", "ParametrizedActivation")
    calibration = (("LeakyReLU", "range"),)

    def emulate(self, n: Node):
        alpha, res = leaky_relu_alpha(n.view), n.res
        return lambda x: cast(np.where(x > 0, x, alpha * x), res)

    def trace(self, n: Node):
        from ..hdl import ops as R

        alpha, res = leaky_relu_alpha(n.view), n.res
        if not 0 <= alpha <= 1:
            raise NotExact(f"a negative slope of {alpha:g} (max(x, alpha x) holds for 0 <= alpha <= 1 only)")
        # x > 0 ? x : alpha x  ==  max(x, alpha x) for 0 <= alpha <= 1; the product exact, then (res_T)
        return lambda x: R.fixed(np.maximum(x, x * alpha), res)
