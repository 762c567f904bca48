"""Pooling: ``nnet::pooling1d_cl``/``2d_cl`` (a window's max, or its average) and ``global_pooling1d_cl``/``2d_cl``.

The average is nnet's ``avg``: the window summed in ``accum_t``, then ``accum_t /= N``, which keeps the
accumulator's fraction bits and truncates the rest. hls4ml 1.3.0 gives the accumulator the input's fraction
bits, so the division loses bits: :meth:`Pooling.exact_types` adds ``log2 N``, exact for a window of ``N = 2^k``
values; another ``N`` cannot be exact in any type (judged on argmax agreement).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..emulation import layers as L
from ..emulation.fixed import cast
from ..errors import NotExact
from ..hls.adapter.view import NodeView
from ..quantize import FixedSpec
from .base import LayerKind, Node, register
from .exact import is_auto

__all__ = ["GlobalPooling", "Pooling"]


def _average_types(view: NodeView, n: int, conf: dict[str, Any]) -> dict[str, str]:
    """An accumulator with the integer bits of the sum and ``log2 N`` more fraction bits than the input, and a
    result of the input's range at that precision."""
    x = view.in_value_specs()[0]
    if x is None or view.text("pool_op") != "average":
        return {}
    extra = math.ceil(math.log2(max(n, 2)))
    types = {}
    if is_auto(conf, "accum"):
        types["accum"] = FixedSpec(x.width + 2 * extra, x.integer + extra, x.signed).hls()
    if is_auto(conf, "result"):
        types["result"] = FixedSpec(x.width + extra, x.integer, x.signed).hls()
    return types


def _trace_average(values, x_spec: FixedSpec, acc: FixedSpec, n: int):
    """nnet's ``avg`` traced where the division is exact (``n = 2^k`` and the accumulator ``k`` fraction bits
    finer than the input, as triggernn types it): the C++ truncates toward zero, which no alkaid operation does
    on a signed remainder."""
    from ..hdl import ops as R

    k = n.bit_length() - 1
    if n != 1 << k or acc.fractional < x_spec.fractional + k or acc.saturation != "WRAP":
        raise NotExact(
            f"an average over {n} values in {acc} (exact only over 2^k values, with k more fraction bits)"
        )
    return R.fixed(R.fixed(np.sum(values, axis=-1), acc) * 2.0**-k, acc)


@register
class Pooling(LayerKind):
    handles = ("Pooling1D", "Pooling2D")
    calibration = (
        ("MaxPooling1D", "pass_through"),
        ("MaxPooling2D", "pass_through"),
        ("AveragePooling1D", "range"),
        ("AveragePooling2D", "range"),
    )
    inexact_defaults = ("AveragePooling1D", "AveragePooling2D")

    @staticmethod
    def _window(view: NodeView):
        op = view.text("pool_op")
        if op not in ("max", "average"):
            raise NotExact(f"{op} pooling")
        pool, stride, pads = view.window("pool", 1 if view.kind == "Pooling1D" else 2)
        if any(pads):
            raise NotExact("padded pooling")
        return op, pool, stride

    def emulate(self, n: Node):
        op, pool, stride = self._window(n.view)
        if op == "max":
            to_res = L.cast_to(n.x_spec, n.res)
            return lambda x: to_res(L.max_pool(x, pool, stride))
        acc, res, x_spec = n.view.type_spec("accum_t"), n.res, n.x_spec
        size, nd = math.prod(pool), len(pool)

        def f(x):
            win = np.lib.stride_tricks.sliding_window_view(x, pool, axis=tuple(range(1, nd + 1)))
            win = win[(slice(None), *(slice(None, None, st) for st in stride))]  # (B, *out, C, *pool)
            win = win.reshape(*win.shape[: nd + 2], size)  # the window in the firmware's (row, column) order
            return cast(L.average(win, axis=-1, length=size, x_spec=x_spec, acc=acc), res)

        return f

    def trace(self, n: Node):
        from ..hdl import ops as R

        op, pool, stride = self._window(n.view)
        nd = len(pool)
        pos = R.positions(n.x_shapes[0])
        win = np.lib.stride_tricks.sliding_window_view(pos, pool, axis=tuple(range(1, nd + 1)))  # type: ignore[call-overload]
        win = win[(slice(None), *(slice(None, None, s) for s in stride))][0]  # (*out, C, *pool)
        index = win.reshape(*win.shape[: nd + 1], -1)  # the emulator's windows, on positions
        if op == "average":
            acc = n.view.type_spec("accum_t")
            return lambda x: R.fixed(
                _trace_average(R.gather(x, index), n.x_spec, acc, math.prod(pool)), n.res
            )
        return lambda x: R.fixed(np.max(R.gather(x, index), axis=-1), n.res)

    def exact_types(self, view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
        n = int(view.attr("pool_width")) * int(view.attr("pool_height", 1) or 1)
        return _average_types(view, n, conf)


@register
class GlobalPooling(LayerKind):
    """Over every position of each channel: the max (kept in the input type, returned as ``accum_t``) or the
    average, cast to the result."""

    handles = ("GlobalPooling1D", "GlobalPooling2D")
    inexact_defaults = ("GlobalAveragePooling1D", "GlobalAveragePooling2D")

    def emulate(self, n: Node):
        op = n.view.text("pool_op")
        acc, res, x_spec = n.view.type_spec("accum_t"), n.res, n.x_spec
        if op == "max":
            return lambda x: cast(cast(x.reshape(len(x), -1, x.shape[-1]).max(axis=1), acc), res)
        if op != "average":
            raise NotExact(f"{op} pooling")

        def f(x):
            flat = x.reshape(len(x), -1, x.shape[-1])
            return cast(L.average(flat, axis=1, length=flat.shape[1], x_spec=x_spec, acc=acc), res)

        return f

    def trace(self, n: Node):
        from ..hdl import ops as R

        op = n.view.text("pool_op")
        acc = n.view.type_spec("accum_t")
        if op == "max":
            return lambda x: R.fixed(R.fixed(np.max(x.reshape(-1, x.shape[-1]), axis=0), acc), n.res)
        if op != "average":
            raise NotExact(f"{op} pooling")

        def f(x):
            flat = x.reshape(-1, x.shape[-1])
            return R.fixed(_trace_average(flat.T, n.x_spec, acc, flat.shape[0]), n.res)

        return f

    def exact_types(self, view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
        return _average_types(view, math.prod(view.in_shape[:-1]), conf)
