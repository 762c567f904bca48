"""Layers that move values without arithmetic: reshapes (``Reshape``, ``Repack``, ``Flatten``) and zero padding.
Each casts to its result type, which does nothing where the input's values already are values of it."""

from __future__ import annotations

import numpy as np

from ..emulation import layers as L
from .base import LayerKind, Node, register

__all__ = ["Reshape", "ZeroPadding"]


@register
class Reshape(LayerKind):
    handles = ("Reshape", "Repack", "Flatten")
    calibration = (
        ("Flatten", "pass_through"),
        ("Reshape", "pass_through"),
    )

    def emulate(self, n: Node):
        to_res, shape = L.cast_to(n.x_spec, n.res), n.shape
        return lambda x: to_res(x.reshape(len(x), *shape))

    def trace(self, n: Node):
        from ..hdl import ops as R

        return lambda x: R.fixed(x.reshape(n.shape), n.res)


def _widths(n: Node) -> list[tuple[int, int]]:
    nd = 1 if n.view.kind == "ZeroPadding1D" else 2
    p = n.view.pads(nd)
    return [(p[2 * i], p[2 * i + 1]) for i in range(nd)]


@register
class ZeroPadding(LayerKind):
    handles = ("ZeroPadding1D", "ZeroPadding2D")
    calibration = (
        ("ZeroPadding1D", "pass_through"),
        ("ZeroPadding2D", "pass_through"),
    )

    def emulate(self, n: Node):
        width = [(0, 0), *_widths(n), (0, 0)]
        to_res = L.cast_to(n.x_spec, n.res)
        return lambda x: to_res(np.pad(x, width))

    def trace(self, n: Node):
        from ..hdl import ops as R

        width = [(0, 0), *_widths(n), (0, 0)]
        index = np.pad(R.positions(n.x_shapes[0]) + 1, width)[0] - 1
        return lambda x: R.fixed(R.gather(x, index), n.res)
