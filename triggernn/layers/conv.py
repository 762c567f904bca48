"""Convolutions, as hls4ml's classes name them: ``nnet::conv_1d/2d`` as im2col patches times a matrix.

Conv2DBatchnorm is QConv2DBatchnorm with the batch norm folded into the kernel (the same ``nnet::conv_2d``); the
depthwise ones weigh each channel by its own kernel; the pointwise ones (1x1: the second half of a separable
convolution, and hls4ml's form of a Dense applied per particle) are convolutions of width 1.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..emulation import layers as L
from ..errors import NotExact
from ..hls.adapter.view import NodeView
from ..quantize import FixedSpec
from .base import LayerKind, Node, register
from .dense import weighted_exact_types

__all__ = ["Conv", "conv_matrix"]

#: classes whose sum runs over the whole fan-in (a depthwise kernel's sum is per channel)
_FULL_FAN_IN = ("Conv1D", "Conv2D", "PointwiseConv1D", "PointwiseConv2D")


def conv_matrix(view: NodeView) -> tuple[np.ndarray, np.ndarray, FixedSpec, int]:
    """A convolution node as (W, b, weight type, spatial dims): W the (kernel x channels, filters) matrix its
    im2col patches (in (kernel position, channel) order) are multiplied by. A depthwise kernel becomes the
    block-diagonal matrix of the same products: nnet's depthwise loops cast each product to ``accum_t`` and
    add it to its channel's accumulator, as ``nnet::dense`` does, and the zeros add exact zeros."""
    W, w_spec = view.oriented("weight")
    b, _ = view.weights("bias")
    if (view.attr("dilation") or 1) != 1:
        raise NotExact("dilated convolutions")
    nd = 1 if view.kind.endswith("1D") else 2
    if view.kind.startswith("Depthwise"):
        if int(view.attr("depth_multiplier") or 1) != 1:
            raise NotExact("a depth multiplier above 1")
        w = W.reshape(-1, int(view.attr("n_chan")))  # (kernel positions, C)
        full = np.zeros((*w.shape, w.shape[1]))
        full[:, np.arange(w.shape[1]), np.arange(w.shape[1])] = w
        return full.reshape(-1, w.shape[1]), b.ravel(), w_spec, nd
    return W.reshape(-1, W.shape[-1]), b.ravel(), w_spec, nd


@register
class Conv(LayerKind):
    handles = ("Conv1D", "Conv2D", "Conv2DBatchnorm", "DepthwiseConv1D", "DepthwiseConv2D", "PointwiseConv1D",
               "PointwiseConv2D")  # fmt: skip
    calibration = (
        ("Conv1D", "weighted"),
        ("Conv2D", "weighted"),
    )
    weighted = True

    def emulate(self, n: Node):
        W, b, w_spec, nd = conv_matrix(n.view)
        kernel, stride, pads = n.view.window("filt", nd)
        dense = L.dense_op(W, b, n.x_spec, w_spec, n.view.type_spec("accum_t"), n.res)
        return lambda x: dense(L.conv_patches(x, kernel, stride, pads))

    def trace(self, n: Node):
        from ..hdl import ops as R

        W, b, w_spec, nd = conv_matrix(n.view)
        kernel, stride, pads = n.view.window("filt", nd)
        # im2col on positions: the same patches as the emulator's, padding as -1 (a zero)
        index = L.conv_patches(R.positions(n.x_shapes[0]) + 1, kernel, stride, pads)[0] - 1
        affine = R.affine(W, b, n.x_spec, w_spec, n.view.type_spec("accum_t"), n.res)

        def f(x):
            patches = R.gather(x, index)
            return affine(patches.reshape(-1, patches.shape[-1]))

        return f

    def values(self, view: NodeView, shape: tuple[int, ...]) -> int:
        """im2col: each output position holds its whole receptive field."""
        return math.prod(shape) * (view.weight_size() // int(shape[-1]))

    def exact_types(self, view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
        return weighted_exact_types(view, conf) if view.kind in _FULL_FAN_IN else {}

    def macs(self, view: NodeView) -> int:
        return view.weight_size() * math.prod(view.out_shape[:-1])
