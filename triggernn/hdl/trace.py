"""The firmware's arithmetic, traced with alkaid into shift-and-add logic: one tracer per hls4ml layer class.

The tracers read the same hls4ml graph, weights and types as the numpy emulator (:mod:`triggernn.emulation.graph`)
and apply the same C++ semantics, on alkaid's symbolic fixed-point arrays instead of numbers: a constant
matrix-vector product becomes an adder graph (distributed arithmetic), a cast ``(res_T) x`` becomes alkaid's
``quantize`` with the type's rounding and overflow modes, a table activation (sigmoid, tanh, softmax) becomes
alkaid lookup tables holding the firmware's own entries, indexed as the C++ indexes them. A layer, type or
mode alkaid cannot reproduce bit for bit is refused (:class:`NotTraced`) with its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..emulation import graph as G
from ..emulation.layers import NotEmulated
from ..quantize import FixedSpec

__all__ = ["TRACERS", "NotTraced", "TracedModel", "fixed", "trace_graph", "traces"]


class NotTraced(Exception):
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
        wide = quantize(
            x, 1, max(int(np.max(x.kif[1])), spec.integer) + 1, spec.fractional, "WRAP", "RND_CONV"
        )
        lo = -spec.max if spec.saturation == "SAT_SYM" and spec.signed else spec.min
        clipped = np.minimum(np.maximum(wide, lo), spec.max)
        return quantize(clipped, k, spec.integer - k, spec.fractional, "WRAP", "TRN")
    return quantize(
        x, k, spec.integer - k, spec.fractional, _OVERFLOW[spec.saturation], _ROUNDING[spec.rounding]
    )


def _fv(values: np.ndarray, like):
    """An alkaid array of ``values`` (FVariables and plain numbers, which become constants) shaped as given."""
    from alkaid.trace import FVArray

    return FVArray(np.asarray(values, dtype=object), like.solver_options, hwconf=like.hwconf)


def _constants(W: np.ndarray, what: str) -> np.ndarray:
    """Weights as alkaid's solver takes them (float32): refused where a value does not survive the cast."""
    W = np.asarray(W, dtype=np.float64)
    if not np.array_equal(W.astype(np.float32).astype(np.float64), W):
        raise NotTraced(
            f"{what} with more than 24 significant bits (alkaid's solver holds float32 constants)"
        )
    return W


@dataclass(frozen=True)
class Layer:
    """What a tracer builds from: the hls4ml node, its (first) input and result types and its output shape;
    ``x_specs`` / ``x_shapes`` of every input (a merge has two)."""

    node: Any
    x_spec: FixedSpec
    res: FixedSpec
    shape: tuple[int, ...]
    tables: dict = field(default_factory=dict)
    """The firmware's own lookup tables the layer reads (the emulator's: printed by the project's C++)."""
    x_specs: tuple[FixedSpec, ...] = ()
    x_shapes: tuple[tuple[int, ...], ...] = ()


#: hls4ml layer class -> ``tracer(Layer) -> f(x)``, ``x`` an alkaid array of one event's values.
TRACERS: dict[str, Callable[[Layer], Callable[[Any], Any]]] = {}


def traces(*kinds: str):
    """Register the decorated builder as the RTL tracer of hls4ml layer classes ``kinds`` (one place to add a
    layer, as :func:`triggernn.emulation.graph.emulates` for the emulator)."""

    def wrap(build):
        for kind in kinds:
            if kind in TRACERS:
                raise ValueError(f"hls4ml layer class '{kind}' already has a tracer: {TRACERS[kind]}")
            TRACERS[kind] = build
        return build

    return wrap


def _weights(node, key: str) -> tuple[np.ndarray, FixedSpec]:
    try:
        return G._weights(node, key)
    except NotEmulated as err:
        raise NotTraced(str(err)) from None


def _type(node, attr: str) -> FixedSpec:
    try:
        return G._type(node, attr)
    except NotEmulated as err:
        raise NotTraced(str(err)) from None


def _affine(
    W: np.ndarray, b: np.ndarray, x_spec: FixedSpec, w_spec: FixedSpec, acc: FixedSpec, res: FixedSpec
):
    """``nnet::dense``: ``acc = b; acc += (accum_t)(x * w)``, then ``(res_T) acc``, for rows of ``x``."""
    n_in = W.shape[0]
    W = _constants(W, "weights")
    bias = np.asarray(G.cast(b, acc), dtype=np.float64)
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


@traces("Dense")
def _dense(n: Layer):
    node = n.node
    W, w_spec = _weights(node, "weight")
    if node.get_attr("_weights_transposed", False):
        W = W.T
    b, _ = _weights(node, "bias")
    affine = _affine(W.reshape(-1, W.shape[-1]), b.ravel(), n.x_spec, w_spec, _type(node, "accum_t"), n.res)
    n_in = W.reshape(-1, W.shape[-1]).shape[0]
    return lambda x: affine(x.reshape(-1, n_in))


def _gather(x, index: np.ndarray):
    """``x`` (flat) at ``index``, where index -1 stands for a zero (padding)."""
    flat = np.concatenate([np.asarray(x, dtype=object).ravel(), np.array([0.0], dtype=object)])
    return _fv(flat[index], x)


def _positions(shape: tuple[int, ...]) -> np.ndarray:
    return np.arange(int(np.prod(shape))).reshape(1, *shape)


@traces(*G.CONV_CLASSES)
def _conv(n: Layer):
    from ..emulation.layers import conv_patches

    node = n.node
    W, b, w_spec, nd = G.conv_matrix(node)
    kernel, stride, pads = G._window(node, "filt", nd)
    in_shape = tuple(int(d) for d in node.get_input_variable().shape)
    # im2col on positions: the same patches as the emulator's, padding as -1 (a zero)
    index = conv_patches(_positions(in_shape) + 1, kernel, stride, pads)[0] - 1
    affine = _affine(W, b, n.x_spec, w_spec, _type(node, "accum_t"), n.res)

    def f(x):
        patches = _gather(x, index)
        return affine(patches.reshape(-1, patches.shape[-1]))

    return f


def _lookup(index, fn):
    """``fn`` of an integer-valued alkaid array as a lookup table over the values it can take (alkaid's
    ``apply``: one LUT-mapped table per distinct range)."""
    return index.apply(lambda v: fn(np.round(v).astype(np.int64))).quantize()


def _floor(v):
    """floor(v) of an alkaid array, into an integer type wide enough never to wrap."""
    from alkaid.trace.ops import quantize

    return quantize(v, 1, int(np.max(v.kif[1])) + 1, 0, "WRAP", "TRN")


def _top_bits(v, spec: FixedSpec, n_bits: int):
    """The top ``n_bits`` of ``v``'s bit pattern in ``spec``, as an unsigned integer (``softmax_idx_from_real_val``):
    ``v`` on ``spec``'s grid, truncated to its top bits, wrapped as an unsigned integer."""
    from alkaid.trace.ops import quantize

    shift = spec.width - n_bits
    coarse = quantize(
        v, int(spec.signed), spec.integer - int(spec.signed), spec.fractional - shift, "WRAP", "TRN"
    )
    # the same bits read unsigned: the pattern's value scaled to an integer, modulo 2**n_bits
    return quantize(coarse * 2.0 ** (spec.fractional - shift), 0, n_bits, 0, "WRAP", "TRN")


def _table_activation(kind: str, table: np.ndarray, res: FixedSpec):
    """``nnet::sigmoid`` / ``nnet::tanh``: index ``trunc(x N / span) + N / 2`` clipped to the table."""
    n = len(table)
    span = 16 if kind == "sigmoid" else 8

    def f(x):
        a = x * (n / span)  # a power of two: exact
        t = _floor(np.maximum(a, 0.0)) - _floor(np.maximum(-a, 0.0))  # trunc(a), toward zero
        index = np.minimum(np.maximum(t + (span // 2) * n // span, 0.0), float(n - 1))
        return _lookup(index, lambda i: G.cast(table[i], res))

    return f


def _softmax(n: Layer):
    """``nnet::softmax_stable`` / ``softmax_latency``: the exp table at the top bits of ``max - x`` (or of ``x``),
    the sum over hls4ml's reduction tree in ``accum_t``, the inverse table at the top bits of the sum, one
    product per output (a multiplier: both operands are variables)."""
    from ..emulation.layers import reduce_tree

    node = n.node
    if len(node.get_input_variable().shape) != 1:
        raise NotTraced("a softmax over more than one axis")
    impl = str(node.get_attr("implementation", "stable")).lower()
    if impl not in ("stable", "latency"):
        raise NotTraced(f"softmax implementation '{impl}'")
    exp_t, inv_t = n.tables[(node.name, f"exp_{impl}")], n.tables[(node.name, "invert")]
    exp_bits, inv_bits = int(np.log2(len(exp_t))), int(np.log2(len(inv_t)))
    acc, inv_inp = _type(node, "accum_t"), _type(node, "inv_inp_t")
    norm_t = _type(node, "inp_norm_t")

    def f(x):
        x = x.ravel()
        if impl == "stable":
            norm = fixed(np.max(x.reshape(1, -1), axis=-1) - x, norm_t)  # (1,) - (N,): an array, not a scalar
            e = _lookup(_top_bits(norm, norm_t, exp_bits), lambda i: exp_t[i])
        else:
            e = _lookup(_top_bits(x, n.x_spec, exp_bits), lambda i: exp_t[i])
        e = fixed(e, acc)
        # hls4ml's reduction tree over (1, N): every partial sum cast to accum_t at the same nodes
        total = fixed(reduce_tree(e.reshape(1, -1), lambda a, b: fixed(a + b, acc)), inv_inp)
        inv = _lookup(_top_bits(total, inv_inp, inv_bits), lambda i: inv_t[i])
        return fixed(e * inv, n.res)

    return f


@traces("Activation", "Softmax")
def _activation(n: Layer):
    act = str(n.node.get_attr("activation")).lower()
    res = n.res
    if act == "linear":
        return lambda x: fixed(x, res)
    if act == "relu":
        return lambda x: fixed(np.maximum(x, 0.0), res)
    if act in ("sigmoid", "tanh"):
        return _table_activation(act, n.tables[(n.node.name, act)], res)
    if act == "softmax":
        return _softmax(n)
    raise NotTraced(
        f"activation '{act}' (the RTL path traces ReLU, linear, sigmoid, tanh and softmax activations)"
    )


@traces("HardActivation")
def _hard_activation(n: Layer):
    act, slope, shift = G.hard_activation(n.node)
    res = n.res

    def f(x):
        s = np.minimum(np.maximum(x * slope + shift, 0.0), 1.0)  # exact (ap_fixed's auto type), then (res_T)
        return fixed(s if act == "hard_sigmoid" else s * 2.0 - 1.0, res)

    return f


@traces("LeakyReLU", "ParametrizedActivation")
def _leaky_relu(n: Layer):
    alpha, res = G.leaky_relu_alpha(n.node), n.res
    if not 0 <= alpha <= 1:
        raise NotTraced(f"a negative slope of {alpha:g} (max(x, alpha x) holds for 0 <= alpha <= 1 only)")
    # x > 0 ? x : alpha x  ==  max(x, alpha x) for 0 <= alpha <= 1; the product exact, then (res_T)
    return lambda x: fixed(np.maximum(x, x * alpha), res)


def _average(values, x_spec: FixedSpec, acc: FixedSpec, n: int):
    """nnet's ``avg`` of ``values`` (the window on the last axis): summed in ``accum_t``, divided by ``n``. Traced
    where the division is exact (``n = 2^k`` and the accumulator ``k`` fraction bits finer than the input, as
    triggernn types it): the C++ truncates toward zero, which no alkaid operation does on a signed remainder."""
    k = n.bit_length() - 1
    if n != 1 << k or acc.fractional < x_spec.fractional + k or acc.saturation != "WRAP":
        raise NotTraced(
            f"an average over {n} values in {acc} (exact only over 2^k values, with k more fraction bits)"
        )
    return fixed(fixed(np.sum(values, axis=-1), acc) * 2.0**-k, acc)


@traces("Pooling1D", "Pooling2D")
def _max_pool(n: Layer):
    node = n.node
    op = str(node.get_attr("pool_op")).lower()
    if op not in ("max", "average"):
        raise NotTraced(f"{node.get_attr('pool_op')} pooling")
    pool, stride, pads = G._window(node, "pool", 1 if node.class_name == "Pooling1D" else 2)
    if any(pads):
        raise NotTraced("padded pooling")
    in_shape = tuple(int(d) for d in node.get_input_variable().shape)
    nd = len(pool)
    pos = _positions(in_shape)
    win = np.lib.stride_tricks.sliding_window_view(pos, pool, axis=tuple(range(1, nd + 1)))
    win = win[(slice(None), *(slice(None, None, s) for s in stride))][0]  # (*out, C, *pool)
    index = win.reshape(*win.shape[: nd + 1], -1)  # the emulator's max_pool windows, on positions
    if op == "average":
        acc = _type(node, "accum_t")
        return lambda x: fixed(_average(_gather(x, index), n.x_spec, acc, int(np.prod(pool))), n.res)

    def f(x):
        return fixed(np.max(_gather(x, index), axis=-1), n.res)

    return f


@traces("GlobalPooling1D", "GlobalPooling2D")
def _global_pool(n: Layer):
    op = str(n.node.get_attr("pool_op")).lower()
    acc = _type(n.node, "accum_t")
    if op == "max":
        return lambda x: fixed(fixed(np.max(x.reshape(-1, x.shape[-1]), axis=0), acc), n.res)
    if op != "average":
        raise NotTraced(f"{op} pooling")

    def f(x):
        flat = x.reshape(-1, x.shape[-1])
        return fixed(_average(flat.T, n.x_spec, acc, flat.shape[0]), n.res)

    return f


@traces("Merge")
def _merge(n: Layer):
    """``nnet::add`` ... ``nnet::minimum``: the exact value of the expression, cast to the result."""
    op = str(n.node.get_attr("op")).lower()
    if op not in G.MERGE_OPS or len(n.x_shapes) != 2 or n.x_shapes[0] != n.x_shapes[1]:
        raise NotTraced(f"merge '{op}' of inputs {n.x_shapes}")
    fn = G.MERGE_OPS[op]
    return lambda a, b: fixed(fn(a, b), n.res)


@traces("Concatenate")
def _concatenate(n: Layer):
    axis = int(n.node.get_attr("axis", -1))
    axis = axis - 1 if axis > 0 else axis  # Keras counts the batch axis
    shapes = n.x_shapes
    return lambda *xs: np.concatenate(
        [fixed(x.reshape(s), n.res) for x, s in zip(xs, shapes, strict=True)], axis
    )


@traces("Reshape", "Repack", "Flatten")
def _reshape(n: Layer):
    return lambda x: fixed(x.reshape(n.shape), n.res)


@traces("ZeroPadding1D", "ZeroPadding2D")
def _zero_pad(n: Layer):
    nd = 1 if n.node.class_name == "ZeroPadding1D" else 2
    names = ("left", "right") if nd == 1 else ("top", "bottom", "left", "right")
    p = [int(n.node.get_attr(f"pad_{s}") or 0) for s in names]
    in_shape = tuple(int(d) for d in n.node.get_input_variable().shape)
    width = [(0, 0)] + [(p[2 * i], p[2 * i + 1]) for i in range(nd)] + [(0, 0)]
    index = np.pad(_positions(in_shape) + 1, width)[0] - 1

    return lambda x: fixed(_gather(x, index), n.res)


@traces("BatchNormalization", "ApplyAlpha")
def _batchnorm(n: Layer):
    scale, _ = _weights(n.node, "scale")
    bias, _ = _weights(n.node, "bias")
    scale, bias = _constants(scale.ravel(), "scales"), _constants(bias.ravel(), "biases")
    return lambda x: fixed(x * scale + bias, n.res)  # the product and sum exact, then (res_T)


@dataclass
class TracedModel:
    """The traced firmware: alkaid's combinational logic, the input type it reads, what was left out."""

    comb: Any
    input_spec: FixedSpec
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    output_node: str
    dropped: list[str]


def trace_graph(hls_model, *, keep_softmax: bool = False, project=None) -> TracedModel:
    """Trace the compiled hls4ml ``hls_model`` into alkaid's combinational logic, layer by layer through
    :data:`TRACERS`. A final softmax is left out (the RTL outputs the logits a trigger's argmax reads) unless
    ``keep_softmax``. Lookup tables (sigmoid, tanh, softmax) are the firmware's own, read from ``project``
    (default: the graph's output folder) as the emulator reads them.

    Raises :class:`NotTraced` naming the first layer it cannot reproduce.
    """
    from alkaid.trace import FVArrayInput, trace

    inputs, outputs = hls_model.get_input_variables(), hls_model.get_output_variables()
    if len(inputs) != 1 or len(outputs) != 1:
        raise NotTraced("models with several inputs or outputs")
    layers = [node for node in hls_model.get_layers() if node.class_name != "Input"]
    dropped = []
    if not keep_softmax and (
        (layers and layers[-1].class_name == "Softmax")
        or (layers and str(layers[-1].get_attr("activation", "")).lower() == "softmax")
    ):
        dropped.append(layers.pop().name)
    for node in layers:
        if node.class_name not in TRACERS:
            raise NotTraced(f"layer '{node.name}' ({node.class_name}): {node.class_name} layers")
        if len(node.inputs) != 1 and node.class_name not in ("Merge", "Concatenate"):
            raise NotTraced(f"layer '{node.name}' ({node.class_name}) with {len(node.inputs)} inputs")
    tables = G.layer_tables(layers, Path(project or hls_model.config.get_output_dir()))
    try:
        in_spec = G._spec(inputs[0].type.precision, "the input")
    except NotEmulated as err:
        raise NotTraced(str(err)) from None
    in_shape = tuple(int(d) for d in inputs[0].shape)
    x0 = FVArrayInput(in_shape)
    values = {
        hls_model.inputs[0]: fixed(x0, in_spec)
    }  # the graph walked by node inputs, as the emulator does
    for node in layers:
        out_var = node.get_output_variable()
        shape = tuple(int(d) for d in out_var.shape)
        try:
            in_vars = [node.get_input_variable(v) for v in node.inputs]
            x_specs = tuple(G._spec(v.type.precision, "input") for v in in_vars)
            x_shapes = tuple(tuple(int(d) for d in v.shape) for v in in_vars)
            res = G._spec(out_var.type.precision, "result")
            layer = Layer(node, x_specs[0], res, shape, tables, x_specs, x_shapes)
            x = TRACERS[node.class_name](layer)(*[values[v] for v in node.inputs])
        except (NotTraced, NotEmulated) as err:
            raise NotTraced(f"layer '{node.name}' ({node.class_name}): {err}") from None
        x = values[node.outputs[0]] = x.reshape(shape)
    out_node = layers[-1].name if layers else "input"
    widths = [sum(int(v) for v in kif) for kif in np.moveaxis(np.asarray(x.kif).reshape(3, -1), 0, -1)]
    if max(widths, default=0) > 64:
        raise NotTraced(f"layer '{out_node}': outputs wider than 64 bits")
    return TracedModel(trace(x0, x), in_spec, in_shape, tuple(x.shape), out_node, dropped)
