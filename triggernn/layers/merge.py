"""Merges of several inputs: ``nnet::add`` ... ``nnet::minimum`` (hls4ml's ``Merge``) and ``nnet::concatenate*``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..emulation.fixed import cast
from ..errors import NotExact
from ..hls.adapter.view import NodeView
from ..quantize import FixedSpec
from .base import LayerKind, Node, register
from .exact import is_auto, union

__all__ = ["MERGE_OPS", "Concatenate", "Merge"]

#: hls4ml's Merge ops (nnet_merge.h): the exact value of the expression, then one cast to the result.
MERGE_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "average": lambda a, b: (a + b) * 0.5,  # times ap_ufixed<1,0>(0.5): exact
    "maximum": np.maximum,
    "minimum": np.minimum,
}


@register
class Merge(LayerKind):
    """Element by element (an input of fewer elements repeats, as the C++'s ``data[ii % n_elem]``), the exact
    value cast to the result type. The products of ``multiply`` are exact in float64 while both inputs together
    hold at most 53 bits. hls4ml types an ``Average`` with the input's fraction bits: the halving's bit is set."""

    handles = ("Merge",)
    inexact_defaults = ("Average",)
    merges = True

    @staticmethod
    def _op(n: Node) -> str:
        op = n.view.text("op")
        if op not in MERGE_OPS or len(n.x_specs) != 2:
            raise NotExact(f"merge '{op}' of {len(n.x_specs)} inputs")
        return op

    def emulate(self, n: Node):
        op = self._op(n)
        if op == "multiply" and sum(s.width for s in n.x_specs) > 53:
            raise NotExact(f"products of {n.x_specs[0]} and {n.x_specs[1]} beyond float64's 53 bits")
        fn, res, size = MERGE_OPS[op], n.res, math.prod(n.shape)

        def f(a, b):
            a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
            a = np.tile(a, (1, size // a.shape[1])) if a.shape[1] != size else a
            b = np.tile(b, (1, size // b.shape[1])) if b.shape[1] != size else b
            return cast(fn(a, b), res)

        return f

    def trace(self, n: Node):
        from ..hdl import ops as R

        op = self._op(n)
        if n.x_shapes[0] != n.x_shapes[1]:
            raise NotExact(f"merge '{op}' of inputs {n.x_shapes}")
        fn = MERGE_OPS[op]
        return lambda a, b: R.fixed(fn(a, b), n.res)

    def exact_types(self, view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
        specs = view.in_value_specs()
        if view.text("op") != "average" or not is_auto(conf, "result") or any(sp is None for sp in specs):
            return {}
        u = union([sp for sp in specs if sp is not None])
        return {"result": FixedSpec(u.width + 1, u.integer, u.signed).hls()}


@register
class Concatenate(LayerKind):
    """The inputs side by side along ``axis``, each value cast to the result."""

    handles = ("Concatenate",)
    merges = True

    @staticmethod
    def _axis(n: Node) -> int:
        axis = int(n.view.attr("axis", -1))
        axis = axis - 1 if axis > 0 else axis  # Keras counts the batch axis, the firmware's shapes do not
        nd = len(n.x_shapes[0])
        if not -nd <= axis < nd:
            raise NotExact(f"concatenation along axis {axis}")
        return axis

    def emulate(self, n: Node):
        axis, shapes, res = self._axis(n), n.x_shapes, n.res

        def f(*xs):
            parts = [cast(x.reshape(len(x), *shape), res) for x, shape in zip(xs, shapes, strict=True)]
            return np.concatenate(parts, axis=axis + 1 if axis >= 0 else axis)

        return f

    def trace(self, n: Node):
        from ..hdl import ops as R

        axis, shapes = self._axis(n), n.x_shapes
        return lambda *xs: np.concatenate(
            [R.fixed(x.reshape(s), n.res) for x, s in zip(xs, shapes, strict=True)], axis
        )
