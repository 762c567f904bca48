"""alkaid's symbolic fixed-point arithmetic as the C++ of ``nnet_utils`` computes it: the operations the layer
kinds' tracers (:mod:`triggernn.layers`) build the RTL from.

A cast ``(res_T) x`` is alkaid's ``quantize`` with the type's rounding and overflow modes (:func:`fixed`); a
constant matrix-vector product becomes an adder graph (:func:`affine`); a table becomes alkaid lookup tables
holding the firmware's own entries (:func:`lookup`). A type or mode alkaid cannot reproduce bit for bit is
refused (:class:`NotTraced`) with its name. alkaid is imported only where an operation runs.
"""

from __future__ import annotations

import numpy as np

from ..emulation.fixed import cast
from ..errors import NotExact
from ..quantize import FixedSpec

__all__ = [
    "NotTraced",
    "affine",
    "average",
    "constants",
    "fixed",
    "floor_int",
    "fv",
    "gather",
    "lookup",
    "positions",
    "table_activation",
    "top_bits",
]


class NotTraced(NotExact):
    """A layer (or a setting of one) the RTL path does not reproduce bit for bit; the message says which."""


#: HLS rounding -> alkaid's; the others (TRN_ZERO, RND_ZERO, RND_INF, RND_MIN_INF) have no alkaid equivalent.
_ROUNDING = {"TRN": "TRN", "RND": "RND", "RND_CONV": "RND_CONV"}


_OVERFLOW = {"WRAP": "WRAP", "SAT": "SAT", "SAT_SYM": "SAT_SYM"}


def fixed(x, spec: FixedSpec):
    """``(spec) x``: alkaid's quantize with ``spec``'s sign, integer bits (without the sign, alkaid's ``i``),
    fraction bits and modes. A no-op where every value of ``x`` is already a value of ``spec``."""
    from alkaid.trace.ops import quantize

    if spec.rounding not in _ROUNDING:
        raise NotTraced(f"rounding mode {spec.rounding} of {spec}")
    if spec.saturation not in _OVERFLOW:
        raise NotTraced(f"overflow mode {spec.saturation} of {spec}")
    k = int(spec.signed)
    if spec.rounding == "RND_CONV" and spec.saturation != "WRAP":
        # alkaid rounds half to even only on wrapping types: round into a type wide enough never to wrap,
        # then saturate (ap_fixed's order: quantization first, then overflow)
        wide = _round_half_even(x, max(int(np.max(x.kif[1])), spec.integer) + 1, spec.fractional)
        lo = -spec.max if spec.saturation == "SAT_SYM" and spec.signed else spec.min
        clipped = np.minimum(np.maximum(wide, lo), spec.max)
        return quantize(clipped, k, spec.integer - k, spec.fractional, "WRAP", "TRN")
    if spec.rounding == "RND_CONV":
        return quantize(_round_half_even(x, spec.integer + 1, spec.fractional), k, spec.integer - k,
                        spec.fractional, "WRAP", "TRN")  # fmt: skip
    return quantize(
        x, k, spec.integer - k, spec.fractional, _OVERFLOW[spec.saturation], _ROUNDING[spec.rounding]
    )


def _round_half_even(x, i: int, f: int):
    """``x`` rounded half to even onto the grid of ``f`` fraction bits, signed with ``i`` integer bits, wrapping.

    alkaid 0.8.2's ``RND_CONV`` tells a tie by the bits of ``x + 2^-(f+1)`` below ``f``, sliced at ``x``'s fraction
    width; where ``x``'s last fraction bit is a constant's (a bias), the sum has fewer fraction bits, the slice
    reads the wrong bit and ties round up (1 LSB off on the ties of a ReLU after a Dense, half of a tagger's
    events). Its method, with the sum's own width, value by value."""
    from alkaid.trace import FVArray

    values = np.asarray(x)
    out = np.array([_round_half_even_one(v, i, f) for v in values.ravel()]).reshape(values.shape)
    return FVArray(out, x.solver_options, hwconf=x.hwconf)


def _round_half_even_one(v, i: int, f: int):
    _f = int(v.kif[2])
    if f >= _f:  # on the grid already
        return v.quantize(1, i, f, "WRAP", "TRN")
    off = v + 2.0 ** (-f - 1)
    f_off = int(off.kif[2])
    if f_off == _f:  # alkaid's slice reads the right bits
        return v.quantize(1, i, f, "WRAP", "RND_CONV")
    up = off.quantize(1, i, f, "WRAP", "TRN")  # rounded half up
    if f_off < f:  # v + 1/2 LSB on a coarser grid: every value a tie, rounded up to an even value
        return up
    if f_off == f:  # every value a tie: the last bit cleared
        return up.bits[:-1].quantize(1, i, f, "WRAP", "TRN")
    not_tie = off.bits[-(f_off - f) :].unary_bit_op("any") * 2.0**-f
    return ((not_tie & up.bits[-1:]) + up.bits[:-1]).quantize(1, i, f, "WRAP", "TRN")


def fv(values: np.ndarray, like):
    """An alkaid array of ``values`` (FVariables and plain numbers, which become constants) shaped as given."""
    from alkaid.trace import FVArray

    return FVArray(np.asarray(values, dtype=object), like.solver_options, hwconf=like.hwconf)


def constants(W: np.ndarray, what: str) -> np.ndarray:
    """Weights as alkaid's solver takes them (float32): refused where a value does not survive the cast."""
    W = np.asarray(W, dtype=np.float64)
    if not np.array_equal(W.astype(np.float32).astype(np.float64), W):
        raise NotTraced(
            f"{what} with more than 24 significant bits (alkaid's solver holds float32 constants)"
        )
    return W


def affine(
    W: np.ndarray, b: np.ndarray, x_spec: FixedSpec, w_spec: FixedSpec, acc: FixedSpec, res: FixedSpec
):
    """``nnet::dense``: ``acc = b; acc += (accum_t)(x * w)``, then ``(res_T) acc``, for rows of ``x``."""
    n_in = W.shape[0]
    W = constants(W, "weights")
    bias = np.asarray(cast(b, acc), dtype=np.float64)
    bound = float(np.abs(bias).max(initial=0)) + n_in * float(np.abs(W).max(initial=0)) * max(
        abs(x_spec.min), abs(x_spec.max)
    )
    if acc.saturation != "WRAP" and bound > max(abs(acc.min), abs(acc.max)):
        raise NotTraced(f"the accumulator {acc} saturates, which depends on the order of the sum")
    exact_products = acc.fractional >= x_spec.fractional + w_spec.fractional

    def f(x):  # x: (rows, n_in)
        # exact products enter the sum exactly (a wrap is modular: once at the end); else each product is cast
        # to accum_t on its own, as in C++
        y = x @ W if exact_products else np.sum(fixed(x[:, :, None] * W[None], acc), axis=1)
        return fixed(fixed(y + bias, acc), res)

    return f


def gather(x, index: np.ndarray, pad: float = 0.0):
    """``x`` (flat) at ``index``, where index -1 stands for the constant ``pad`` (zero padding by default)."""
    flat = np.concatenate([np.asarray(x, dtype=object).ravel(), np.array([pad], dtype=object)])
    return fv(flat[index], x)


def positions(shape: tuple[int, ...]) -> np.ndarray:
    return np.arange(int(np.prod(shape))).reshape(1, *shape)


def lookup(index, fn):
    """``fn`` of an integer-valued alkaid array as a lookup table over the values it can take (alkaid's
    ``apply``: one LUT-mapped table per distinct range)."""
    return index.apply(lambda v: fn(np.round(v).astype(np.int64))).quantize()


def floor_int(v):
    """floor(v) of an alkaid array, into an integer type wide enough never to wrap."""
    from alkaid.trace.ops import quantize

    return quantize(v, 1, int(np.max(v.kif[1])) + 1, 0, "WRAP", "TRN")


def top_bits(v, spec: FixedSpec, n_bits: int):
    """The top ``n_bits`` of ``v``'s bit pattern in ``spec``, as an unsigned integer (``softmax_idx_from_real_val``):
    ``v`` on ``spec``'s grid, truncated to its top bits, wrapped as an unsigned integer."""
    from alkaid.trace.ops import quantize

    shift = spec.width - n_bits
    coarse = quantize(
        v, int(spec.signed), spec.integer - int(spec.signed), spec.fractional - shift, "WRAP", "TRN"
    )
    # the same bits read unsigned: the pattern's value scaled to an integer, modulo 2**n_bits
    return quantize(coarse * 2.0 ** (spec.fractional - shift), 0, n_bits, 0, "WRAP", "TRN")


def table_activation(kind: str, table: np.ndarray, res: FixedSpec):
    """``nnet::sigmoid`` / ``nnet::tanh``: index ``trunc(x N / span) + N / 2`` clipped to the table."""
    n = len(table)
    span = 16 if kind == "sigmoid" else 8

    def f(x):
        a = x * (n / span)  # a power of two: exact
        t = floor_int(np.maximum(a, 0.0)) - floor_int(np.maximum(-a, 0.0))  # trunc(a), toward zero
        index = np.minimum(np.maximum(t + (span // 2) * n // span, 0.0), float(n - 1))
        return lookup(index, lambda i: cast(table[i], res))

    return f


def average(values, x_spec: FixedSpec, acc: FixedSpec, n: int):
    """nnet's ``avg`` of ``values`` (the window on the last axis): summed in ``accum_t``, divided by ``n``. Traced
    where the division is exact (``n = 2^k`` and the accumulator ``k`` fraction bits finer than the input, as
    triggernn types it): the C++ truncates toward zero, which no alkaid operation does on a signed remainder."""
    k = n.bit_length() - 1
    if n != 1 << k or acc.fractional < x_spec.fractional + k or acc.saturation != "WRAP":
        raise NotTraced(
            f"an average over {n} values in {acc} (exact only over 2^k values, with k more fraction bits)"
        )
    return fixed(fixed(np.sum(values, axis=-1), acc) * 2.0**-k, acc)
