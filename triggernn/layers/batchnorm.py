"""``nnet::normalize``: ``x * scale + bias`` per channel, then ``(res_T)``. ApplyAlpha is hls4ml's
BatchNormalization subclass for a quantizer's ``alpha`` (a power-of-two scale after the layer, whose result
hls4ml leaves at its default type where the scale is an exponent: typed exactly here)."""

from __future__ import annotations

from typing import Any

from ..emulation.fixed import cast
from ..hls.adapter.view import NodeView
from .base import LayerKind, Node, register
from .exact import exact_sum, is_auto

__all__ = ["BatchNormalization"]


@register
class BatchNormalization(LayerKind):
    handles = ("BatchNormalization", "ApplyAlpha")
    calibration = (("BatchNormalization", "batchnorm"),)

    def emulate(self, n: Node):
        scale, _ = n.view.weights("scale")
        bias, _ = n.view.weights("bias")
        res = n.res
        return lambda x: cast(x * scale.ravel() + bias.ravel(), res)

    def trace(self, n: Node):
        from ..hdl import ops as R

        scale, _ = n.view.weights("scale")
        bias, _ = n.view.weights("bias")
        scale, bias = R.constants(scale.ravel(), "scales"), R.constants(bias.ravel(), "biases")
        return lambda x: R.fixed(x * scale + bias, n.res)  # the product and sum exact, then (res_T)

    def exact_types(self, view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
        x = view.in_value_specs()[0]
        if x is None or not is_auto(conf, "result"):
            return {}
        res = exact_sum(view, x, "scale")
        return {"result": res.hls()} if res is not None else {}
