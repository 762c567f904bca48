"""HGQ2's quantizers that stay in the graph (the Keras 3 stack): hls4ml folds an HGQ2 quantizer into the type of
the layer before it where it can, and keeps it as a ``FixedPointQuantizer`` node where it cannot (a tensor feeding
several layers, or bits that differ from value to value). hls4ml writes such a node as one cast per value,
``out[j] = ap_[u]fixed<b_j, i_j, RND, SAT>(in[j])`` (0 where ``b_j = 0``), then the result type's assignment."""

from __future__ import annotations

import numpy as np

from ..errors import NotExact
from ..quantize import FixedSpec
from .base import LayerKind, Node, register

__all__ = ["FixedPointQuantizer"]


def _per_value(n: Node) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each value's sign bit, width and integer bits (the sign counted), broadcast to the node's shape."""
    k, b, i = n.view.attr("mask_kbi")
    return tuple(np.broadcast_to(np.asarray(a)[0], n.shape).astype(np.int64) for a in (k, b, i))  # type: ignore[return-value]


def _groups(n: Node) -> list[tuple[FixedSpec | None, np.ndarray]]:
    """The distinct casts of the node, each with the (flat) positions it applies to; None: the value is 0."""
    k, b, i = (a.ravel() for a in _per_value(n))
    rnd, sat = str(n.view.attr("RND")), str(n.view.attr("SAT"))
    groups: list[tuple[FixedSpec | None, np.ndarray]] = []
    for kk, bb, ii in sorted({(int(x), int(y), int(z)) for x, y, z in zip(k, b, i, strict=True)}):
        where = np.flatnonzero((k == kk) & (b == bb) & (i == ii))
        if bb == 0:
            groups.append((None, where))
            continue
        if kk and bb < 2:
            raise NotExact(f"a 1-bit signed value in quantizer '{n.view.name}'")
        groups.append((FixedSpec(bb, ii, signed=bool(kk), rounding=rnd, saturation=sat), where))
    return groups


@register
class FixedPointQuantizer(LayerKind):
    handles = ("FixedPointQuantizer",)

    def emulate(self, n: Node):
        from ..emulation.fixed import cast

        groups = _groups(n)

        def f(x):
            flat = x.reshape(len(x), -1)
            out = np.zeros_like(flat, dtype=np.float64)
            for spec, where in groups:
                if spec is not None:
                    out[:, where] = cast(flat[:, where], spec)
            return cast(out, n.res).reshape(x.shape)

        return f

    def trace(self, n: Node):
        from ..hdl import ops as R

        if str(n.view.attr("RND")) not in ("TRN", "RND") or str(n.view.attr("SAT")) not in ("WRAP", "SAT"):
            raise NotExact(f"quantizer '{n.view.name}' with {n.view.attr('RND')}/{n.view.attr('SAT')}")
        from alkaid.trace.ops import quantize

        k, b, i = _per_value(n)
        i = np.where(b > 0, i, 0)

        def f(x):
            y = quantize(x, k, i - k, b - i, str(n.view.attr("SAT")), str(n.view.attr("RND")))
            return R.fixed(y, n.res)

        return f
