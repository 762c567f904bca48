"""One numpy function per hls4ml layer, each the C++ of ``nnet_utils`` for a batch of events, bit for bit.

Values are exact float64 (see :mod:`.fixed`). Each function takes the batch of the layer's input and returns
its output, already cast to the layer's result type. Where float64 could not hold a sum exactly, the layer
builder refuses (:class:`NotEmulated`) and the C++ engine is used instead.
"""

from __future__ import annotations

import numpy as np

from ..errors import NotExact
from ..quantize import FixedSpec
from .fixed import EXACT_BITS, cast

__all__ = [
    "NotEmulated",
    "cast_to",
    "conv_patches",
    "dense_op",
    "max_pool",
    "reduce_tree",
    "softmax_op",
    "table_activation",
]


class NotEmulated(NotExact):
    """A layer (or a setting of one) the numpy engine does not reproduce; the message says which."""


def same_grid(a: FixedSpec, b: FixedSpec) -> bool:
    """Whether every value of ``a`` is a value of ``b`` unchanged (so a cast from a to b does nothing)."""
    return a.fractional <= b.fractional and a.min >= b.min and a.max <= b.max


def cast_to(x_spec: FixedSpec, res: FixedSpec):
    """The cast from ``x_spec`` to ``res``, or nothing where every input value is already a value of ``res``."""
    return (lambda x: x) if same_grid(x_spec, res) else (lambda x: cast(x, res))


def _max_abs(spec: FixedSpec) -> float:
    return max(abs(spec.min), abs(spec.max))


def dense_op(
    W: np.ndarray, b: np.ndarray, x_spec: FixedSpec, w_spec: FixedSpec, acc: FixedSpec, res: FixedSpec
):
    """``nnet::dense`` (latency, resource and stream alike): ``acc = (accum_t) b; acc += (accum_t)(x * w)``, then
    ``(res_T) acc``. ``W`` is (n_in, n_out), on the weight grid. Returns ``f(x) -> y`` for x of shape (..., n_in).

    With an accumulator at least as fine as the products, every product enters the sum exactly and the sum is
    one float64 matrix product (exact while the largest possible sum stays below 2**53 LSBs); wrapping, being
    modular, can be applied once at the end. Otherwise each product is truncated on its own, as in C++.
    """
    n_in = W.shape[0]
    prod_frac = x_spec.fractional + w_spec.fractional
    bias = cast(b, acc)
    bound = float(np.abs(bias).max(initial=0)) + n_in * float(np.abs(W).max(initial=0)) * _max_abs(x_spec)
    exact_products = acc.fractional >= prod_frac
    lsb = 2.0 ** -max(prod_frac, acc.fractional)
    if bound / lsb >= 2.0**EXACT_BITS or x_spec.width + w_spec.width > EXACT_BITS:
        raise NotEmulated(f"sums of up to {bound:g} at an LSB of {lsb:g} exceed float64's 53 bits")
    if acc.saturation != "WRAP" and bound > _max_abs(acc):
        raise NotEmulated(f"the accumulator {acc} saturates, which depends on the order of the sum")
    W = np.ascontiguousarray(W, dtype=np.float64)
    fits = acc.min <= -bound and bound <= acc.max  # no sum can overflow: the accumulator cast is the identity

    if exact_products:

        def f(x):
            flat = x.reshape(-1, n_in)
            y = flat @ W
            y += bias
            return cast(y if fits else cast(y, acc), res).reshape(*x.shape[:-1], -1)

        return f

    n_out = W.shape[1]
    shift = prod_frac - acc.fractional  # product bits below the accumulator's LSB
    if acc.rounding in ("TRN", "RND", "RND_MIN_INF") and shift <= 12:
        return _dense_split(W, bias, x_spec, w_spec, acc, res, shift)
    chunk = max(1, 2_000_000 // (n_in * n_out))

    def f(x):
        flat = x.reshape(-1, n_in)
        out = np.empty((len(flat), n_out))
        for i in range(0, len(flat), chunk):
            part = flat[i : i + chunk]
            products = cast(part[:, :, None] * W[None], acc)  # each product cast to accum_t on its own
            out[i : i + chunk] = products.sum(axis=1)
        y = cast(out + bias, acc)
        return cast(y, res).reshape(*x.shape[:-1], -1)

    return f


def _dense_split(W, bias, x_spec: FixedSpec, w_spec: FixedSpec, acc: FixedSpec, res: FixedSpec, shift: int):
    """Products truncated one by one, as matrix products: with integers ``X = x 2^xf``, ``V = w 2^wf`` and
    ``s = shift``, split ``X = 2^s H + L`` (``0 <= L < 2^s``); then ``Q(X V / 2^s) = H V + Q(L V / 2^s)`` for the
    quantizations that commute with integer shifts (TRN, RND, RND_MIN_INF), and the second term takes only
    ``2^s`` values per weight: a table ``T[i, L, j]``, gathered and summed."""
    n_in = W.shape[0]
    base = 1 << shift
    V = W * 2.0**w_spec.fractional  # integer weights
    lows = np.arange(base, dtype=np.float64)
    T = lows[None, :, None] * V[:, None, :] / base  # (n_in, 2^s, n_out), in accumulator LSBs before rounding
    if acc.rounding == "TRN":
        T = np.floor(T)
    elif acc.rounding == "RND":
        T = np.floor(T + 0.5)
    else:
        T = np.ceil(T - 0.5)
    # float32 where every partial sum of the table terms is an integer below 2**24 (exact), else float64
    exact32 = float(np.abs(T).max(initial=0)) * n_in < 2.0**24
    T = np.ascontiguousarray(T.reshape(n_in * base, -1), dtype=np.float32 if exact32 else np.float64)
    offsets = np.arange(n_in) * base
    bias_int = bias * 2.0**acc.fractional
    x_scale, acc_scale = 2.0**x_spec.fractional, 2.0**-acc.fractional

    def f(x):
        flat = x.reshape(-1, n_in) * x_scale  # integers
        high = np.floor(flat / base)  # (np.mod on floats is ~40x slower than this)
        low = flat - high * base
        out = high @ V
        rows = low.astype(np.intp) + offsets
        table = T[rows[:, 0]]  # a copy: the table rows of input 0, then the others added one input at a time
        for i in range(1, n_in):
            table += T[rows[:, i]]
        out += table
        out += bias_int
        return cast(cast(out * acc_scale, acc), res).reshape(*x.shape[:-1], -1)

    return f


def conv_patches(x: np.ndarray, kernel: tuple[int, ...], stride: tuple[int, ...], pads: tuple[int, ...]):
    """im2col for channels-last ``x`` of shape (B, *spatial, C): (B, *out_spatial, prod(kernel) * C), zero padded.

    ``pads`` is (before, after) per spatial axis. The patch is ordered (kernel rows, kernel cols, channels), the
    order of a Keras kernel reshaped to (-1, n_filt).
    """
    nd = len(kernel)
    pad_width = [(0, 0)] + [(pads[2 * i], pads[2 * i + 1]) for i in range(nd)] + [(0, 0)]
    xp = np.pad(x, pad_width)
    win = np.lib.stride_tricks.sliding_window_view(xp, kernel, axis=tuple(range(1, nd + 1)))
    sl = (slice(None), *(slice(None, None, s) for s in stride))
    win = win[sl]  # (B, *out, C, *kernel)
    axes = (0, *range(1, nd + 1), *range(nd + 2, 2 * nd + 2), nd + 1)
    win = win.transpose(axes)  # (B, *out, *kernel, C)
    return win.reshape(*win.shape[: nd + 1], -1)


def max_pool(x: np.ndarray, pool: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """Max pooling without padding over the spatial axes of channels-last ``x``."""
    nd = len(pool)
    win = np.lib.stride_tricks.sliding_window_view(x, pool, axis=tuple(range(1, nd + 1)))
    win = win[(slice(None), *(slice(None, None, s) for s in stride))]
    return win.max(axis=tuple(range(-nd, 0)))


def reduce_tree(x: np.ndarray, op) -> np.ndarray:
    """``nnet::reduce`` over the last axis: the same balanced tree, so casts happen at the same nodes."""
    n = x.shape[-1]
    if n == 1:
        return x[..., 0]
    if n == 2:
        return op(x[..., 0], x[..., 1])
    left = 1 << ((n - 1).bit_length() - 1)  # pow2(floorlog2(n - 1))
    return op(reduce_tree(x[..., :left], op), reduce_tree(x[..., left:], op))


def table_index(x: np.ndarray, spec: FixedSpec, n_bits: int) -> np.ndarray:
    """``softmax_idx_from_real_val``: the top ``n_bits`` of ``x``'s bit pattern in ``spec``."""
    v = x * 2.0**spec.fractional
    span = 2.0**spec.width
    raw = v - np.floor(v / span) * span  # the two's complement bit pattern, as an integer
    return np.floor(raw / 2.0 ** (spec.width - n_bits)).astype(np.int64)


def softmax_op(impl: str, tables: dict, types: dict[str, FixedSpec], in_spec: FixedSpec, res: FixedSpec):
    """``nnet::softmax_stable`` / ``softmax_latency`` over the last axis."""
    exp_t, inv_t = tables["exp"], tables["inv"]
    exp_bits, inv_bits = int(np.log2(len(exp_t))), int(np.log2(len(inv_t)))
    acc, inv_inp = types["accum_t"], types["inv_inp_t"]

    def add(a, b):
        return cast(a + b, acc)

    def f(x):
        if impl == "stable":
            x_max = x.max(axis=-1, keepdims=True)
            norm = cast(x_max - x, types["inp_norm_t"])
            e = exp_t[table_index(norm, types["inp_norm_t"], exp_bits)]
        else:
            e = exp_t[table_index(x, in_spec, exp_bits)]
        e = cast(e, acc)
        total = cast(reduce_tree(e, add), inv_inp)
        inv = inv_t[table_index(total, inv_inp, inv_bits)]
        return cast(e * inv[..., None], res)

    return f


def table_activation(kind: str, table: np.ndarray, res: FixedSpec):
    """``nnet::sigmoid`` (inputs -8..8) and ``nnet::tanh`` (-4..4): index ``trunc(x * N / span) + N / 2``."""
    n = len(table)
    span = 16 if kind == "sigmoid" else 8

    def f(x):
        idx = np.trunc(x * n / span).astype(np.int64) + (span // 2) * n // span
        return cast(table[np.clip(idx, 0, n - 1)], res)

    return f


def average(x: np.ndarray, axis: int, length, x_spec: FixedSpec, acc: FixedSpec) -> np.ndarray:
    """nnet's ``avg``: ``accum_t y = 0; y += x[i]`` over ``axis`` (each sum cast to ``accum_t``), then ``y /=
    length``: ap_fixed divided by an unsigned keeps ``y``'s fraction bits and divides its integer pattern as C
    does, truncating toward zero (floor for an unsigned accumulator). ``length`` a number, or an array of the
    result's shape (less the batch axis: windows of a padded pooling cover different numbers of cells). Returns
    the ``accum_t`` values."""
    if acc.fractional >= x_spec.fractional and acc.saturation == "WRAP":  # every sum exact, wrapping modular
        if x_spec.width + int(np.ceil(np.log2(max(2, x.shape[axis])))) > EXACT_BITS:
            raise NotEmulated(f"sums of {x.shape[axis]} values of {x_spec} beyond float64's 53 bits")
        y = cast(x.sum(axis=axis), acc)
    else:  # each partial sum quantized or saturated on its own, in the firmware's order
        xs = np.moveaxis(x, axis, -1)
        y = np.zeros(xs.shape[:-1])
        for i in range(xs.shape[-1]):
            y = cast(y + xs[..., i], acc)
    raw = np.round(y * 2.0**acc.fractional)  # y's integer pattern (exact: y is on acc's grid)
    return np.trunc(raw / length) * 2.0**-acc.fractional
