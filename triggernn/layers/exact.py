"""Shared rules for exact types: what a sum of products by power-of-two or binary weights needs, the union of
several types, and whether a key of a node's configuration was left to hls4ml (``auto``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..hls.adapter.view import NodeView
from ..quantize import FixedSpec

__all__ = ["exact_sum", "is_auto", "union"]


def is_auto(layer_cfg: dict[str, Any], key: str) -> bool:
    """Whether ``key`` of one node's hls4ml configuration is left for hls4ml to choose."""
    value = layer_cfg.get("Precision", {}).get(key, "auto")
    return value is None or str(value).lower() == "auto"


def _product_bits(view: NodeView, key: str, x: FixedSpec) -> tuple[int, int] | None:
    """(fractional, integer) bits of ``x * w`` for the ``key`` weights of a type hls4ml's precision inference
    skips: exponents (``x`` shifted: a power of two each) and binary (``+-x``). None otherwise."""
    sign = 0 if x.signed else 1  # the product is signed: w carries a sign
    if view.weight_is_binary(key):
        return x.fractional, x.integer + sign
    if not view.weight_is_exponent(key):
        return None
    w = np.abs(view.weight_data(key))
    w = w[w != 0]
    if not w.size:
        return None
    e_lo, e_hi = int(np.floor(np.log2(w.min()))), int(np.ceil(np.log2(w.max())))
    return x.fractional - e_lo, x.integer + e_hi + sign


def exact_sum(view: NodeView, x: FixedSpec, key: str) -> FixedSpec | None:
    """The exact type of ``sum(x * w) + b`` over the node's ``key`` weights ``w`` (power-of-two or binary):
    ``"weight"`` of a Dense/Conv (a sum over the fan-in), ``"scale"`` of an ApplyAlpha (one term: what
    QKeras' ``alpha`` becomes). None where the weights are of another type (hls4ml infers those)."""
    if not view.has_weights(key):
        return None
    bits = _product_bits(view, key, x)
    if bits is None:
        return None
    shape = view.weight_data(key).shape
    terms = (math.prod(shape[:-1]) if len(shape) > 1 else math.prod(shape)) if key == "weight" else 1
    frac, integer = bits
    b = view.weight_value_spec("bias") if view.has_weights("bias") else None
    if b is not None:
        frac, integer = max(frac, b.fractional), max(integer, b.integer + (0 if b.signed else 1))
    integer += math.ceil(math.log2(terms + 1))  # the terms and the bias
    return FixedSpec(integer + max(frac, 0), integer)


def union(specs: list[FixedSpec]) -> FixedSpec:
    """The narrowest type holding every value of each of ``specs``."""
    signed = any(sp.signed for sp in specs)
    integer = max(sp.integer + (1 if signed and not sp.signed else 0) for sp in specs)
    frac = max(sp.fractional for sp in specs)
    return FixedSpec(integer + frac, integer, signed)
