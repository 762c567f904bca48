"""Vivado/Vitis ``ap_fixed`` arithmetic on numpy float64 arrays, bit for bit.

A value of ``ap_fixed<W, I, Q, O>`` is held as the float64 it represents; that is exact for ``W <= 53``.
:func:`cast` is the C++ assignment ``T y = x;`` for an exact ``x``: the quantization mode ``Q`` acts on the
bits below the type's LSB, then the overflow mode ``O`` on the bits above its MSB (the order of Xilinx's
``ap_fixed_base`` constructor).
"""

from __future__ import annotations

import numpy as np

from ..errors import HLSError
from ..quantize import FixedSpec

__all__ = ["EXACT_BITS", "cast", "spec_of"]

#: Significant bits a float64 holds exactly.
EXACT_BITS = 53


def spec_of(precision) -> FixedSpec:
    """The :class:`FixedSpec` of an hls4ml precision type (``FixedPrecisionType`` or ``IntegerPrecisionType``)."""
    width, signed = int(precision.width), bool(precision.signed)
    integer = int(getattr(precision, "integer", width))
    rounding = str(getattr(precision, "rounding_mode", None) or "TRN")
    saturation = str(getattr(precision, "saturation_mode", None) or "WRAP")
    if getattr(precision, "saturation_bits", None) not in (None, 0):
        raise HLSError(f"{precision}: saturation bits are not emulated; use the C++ engine")
    return FixedSpec(width, integer, signed=signed, rounding=rounding, saturation=saturation)


def _quantize(v: np.ndarray, mode: str) -> np.ndarray:
    """Integer part of ``v`` (a value in units of the LSB, a scratch array: modified) under HLS ``mode``."""
    if mode == "TRN":
        return np.floor(v, out=v)
    if mode == "TRN_ZERO":
        return np.trunc(v, out=v)
    if mode == "RND":  # half towards +inf
        v += 0.5
        return np.floor(v, out=v)
    if mode == "RND_MIN_INF":  # half towards -inf
        v -= 0.5
        return np.ceil(v, out=v)
    if mode == "RND_ZERO":  # half towards zero
        return np.where(v >= 0, np.ceil(v - 0.5), np.floor(v + 0.5))
    if mode == "RND_INF":  # half away from zero
        return np.where(v >= 0, np.floor(v + 0.5), np.ceil(v - 0.5))
    if mode == "RND_CONV":  # half to even
        return np.rint(v, out=v)
    raise HLSError(f"rounding mode '{mode}' is not an HLS mode (TRN, TRN_ZERO, RND, RND_ZERO, RND_INF, ...)")


def cast(x, spec: FixedSpec) -> np.ndarray:
    """``x`` (exact values, float64) assigned to ``spec``: quantized, then wrapped or saturated. A new array."""
    if spec.width > EXACT_BITS:
        raise HLSError(
            f"{spec} is wider than the {EXACT_BITS} bits a float64 holds exactly: use the C++ engine"
        )
    scale = 2.0**spec.fractional
    n = _quantize(np.multiply(x, scale, dtype=np.float64), spec.rounding)  # integer, in LSBs
    lo = -(2.0 ** (spec.width - 1)) if spec.signed else 0.0
    hi = (2.0 ** (spec.width - 1) if spec.signed else 2.0**spec.width) - 1
    if n.size and lo <= n.min() and n.max() <= hi:  # the common case: nothing overflows
        n *= 1.0 / scale
        return n
    mode = spec.saturation
    if mode == "WRAP":
        span = 2.0**spec.width
        shifted = n - lo
        n = shifted - np.floor(shifted / span) * span + lo  # (n - lo) mod 2^W + lo
    elif mode == "SAT":
        n = np.clip(n, lo, hi)
    elif mode == "SAT_SYM":
        n = np.clip(n, -hi if spec.signed else lo, hi)
    elif mode == "SAT_ZERO":
        n = np.where((n < lo) | (n > hi), 0.0, n)
    else:
        raise HLSError(f"overflow mode '{mode}' is not an HLS mode (WRAP, SAT, SAT_SYM, SAT_ZERO)")
    return n / scale
