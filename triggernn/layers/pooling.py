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


def _windows(in_shape: tuple[int, ...], pool, stride, pads) -> np.ndarray:
    """Each output position's window, as flat input positions ``(*out, C, pool size)`` in the firmware's (row,
    column) order, -1 for a padded cell: the windows start every ``stride`` cells of the padded input while one
    fits (``restricted_padded_width`` in nnet_pooling.h)."""
    nd = len(pool)
    width = [(0, 0), *((pads[2 * i], pads[2 * i + 1]) for i in range(nd)), (0, 0)]
    pos = np.pad(np.arange(math.prod(in_shape)).reshape(1, *in_shape) + 1, width)[0] - 1
    win = np.lib.stride_tricks.sliding_window_view(pos, pool, axis=tuple(range(nd)))  # type: ignore[call-overload]
    win = win[tuple(slice(None, None, st) for st in stride)]  # (*out, C, *pool)
    return win.reshape(*win.shape[: nd + 1], -1)


def _pad_value(x: FixedSpec, op: str) -> float:
    """``nnet::pad_val`` as triggernn patches it (:func:`triggernn.hls.adapter.patch_firmware`): 0 for the
    average, the input type's smallest value for the max (hls4ml 1.3.0 gives an unsigned type half its range)."""
    return x.min if op == "max" else 0.0


@register
class Pooling(LayerKind):
    """A window's max or average (``nnet::pooling1d_cl``/``2d_cl``), padding included: the padded cells hold
    :func:`_pad_value`, and an average divides by the cells of the input it covers (``count_pad`` false) or by
    the whole window."""

    handles = ("Pooling1D", "Pooling2D")
    calibration = (
        ("MaxPooling1D", "pass_through"),
        ("MaxPooling2D", "pass_through"),
        ("AveragePooling1D", "range"),
        ("AveragePooling2D", "range"),
    )
    inexact_defaults = ("AveragePooling1D", "AveragePooling2D")

    @staticmethod
    def _layout(n: Node):
        view = n.view
        op = view.text("pool_op")
        if op not in ("max", "average"):
            raise NotExact(f"{op} pooling")
        pool, stride, pads = view.window("pool", 1 if view.kind == "Pooling1D" else 2)
        index = _windows(n.x_shapes[0], pool, stride, pads)
        real = (index >= 0).sum(axis=-1)  # (*out, C): the input cells each window covers
        length = np.full(real.shape, index.shape[-1]) if view.attr("count_pad", False) else real
        return op, index, length

    def emulate(self, n: Node):
        op, index, length = self._layout(n)
        pad, res, x_spec = _pad_value(n.x_spec, op), n.res, n.x_spec
        acc = n.view.type_spec("accum_t")

        def windows(x):
            flat = np.concatenate([x.reshape(len(x), -1), np.full((len(x), 1), pad)], axis=1)
            return flat[:, index]  # (B, *out, C, window): index -1 reads the pad column

        if op == "max":
            return lambda x: cast(
                cast(windows(x).max(axis=-1), acc), res
            )  # max<T, N, accum_t>: returns accum_t
        lengths = length if np.ptp(length) else int(length.flat[0])
        return lambda x: cast(L.average(windows(x), -1, lengths, x_spec, acc), res)

    def trace(self, n: Node):
        from ..hdl import ops as R

        op, index, length = self._layout(n)
        if op == "average":
            if np.ptp(length):
                raise NotExact("an average over windows of different sizes (padding)")
            acc, size = n.view.type_spec("accum_t"), int(length.flat[0])
            return lambda x: R.fixed(_trace_average(R.gather(x, index), n.x_spec, acc, size), n.res)
        acc, pad = n.view.type_spec("accum_t"), _pad_value(n.x_spec, op)
        return lambda x: R.fixed(R.fixed(np.max(R.gather(x, index, pad), axis=-1), acc), n.res)

    def values(self, view: NodeView, shape: tuple[int, ...]) -> int:
        """Every output position holds its window."""
        return math.prod(shape) * _window_size(view)

    def exact_types(self, view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
        return _average_types(view, _window_size(view), conf)


def _window_size(view: NodeView) -> int:
    return int(view.attr("pool_width")) * int(view.attr("pool_height", 1) or 1)


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
