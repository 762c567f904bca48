"""Dense: ``nnet::dense`` (``acc = b; acc += (accum_t)(x * w)``, then ``(res_T) acc``), on flat or N-D inputs."""

from __future__ import annotations

from typing import Any

from ..emulation import layers as L
from ..hls.adapter.view import NodeView
from .base import LayerKind, Node, register
from .exact import exact_sum, is_auto

__all__ = ["Dense", "weighted_exact_types"]


def weighted_exact_types(view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
    """A sum of power-of-two or binary products (hls4ml's inference skips their types): the exact accumulator,
    and the result too where the user left it."""
    x = view.in_value_specs()[0]
    if x is None or not is_auto(conf, "accum"):
        return {}
    acc = exact_sum(view, x, "weight")
    if acc is None:
        return {}
    return {"accum": acc.hls(), **({"result": acc.hls()} if is_auto(conf, "result") else {})}


@register
class Dense(LayerKind):
    handles = ("Dense",)
    calibration = (("Dense", "weighted"),)
    weighted = True

    @staticmethod
    def _matrix(view: NodeView):
        W, w_spec = view.oriented("weight")
        b, _ = view.weights("bias")
        return W.reshape(-1, W.shape[-1]), b.ravel(), w_spec

    def emulate(self, n: Node):
        W, b, w_spec = self._matrix(n.view)
        return L.dense_op(W, b, n.x_spec, w_spec, n.view.type_spec("accum_t"), n.res)

    def trace(self, n: Node):
        from ..hdl import ops as R

        W, b, w_spec = self._matrix(n.view)
        affine = R.affine(W, b, n.x_spec, w_spec, n.view.type_spec("accum_t"), n.res)
        return lambda x: affine(x.reshape(-1, W.shape[0]))

    def exact_types(self, view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
        return weighted_exact_types(view, conf)

    def macs(self, view: NodeView) -> int:
        return int(view.attr("n_in")) * int(view.attr("n_out"))
