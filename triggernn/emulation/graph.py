"""Build the numpy emulation of a compiled hls4ml model from its graph: one operation per firmware layer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..quantize import FixedSpec
from . import layers as L
from .fixed import cast, spec_of
from .tables import config_struct, named_struct, read_tables

__all__ = ["HANDLERS", "Handler", "Node", "NumpyModel", "build_numpy_model", "emulates"]


@dataclass
class NumpyModel:
    """The firmware as numpy: a walk of its graph. ``ops`` in hls4ml's (topological) order, each ``(layer name,
    input vars, output var, function of the input arrays)``; a value is dropped after its last reader."""

    input_spec: FixedSpec
    input_var: str
    output_var: str
    output_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    ops: list = field(default_factory=list)
    #: the largest array one event needs in any layer (im2col patches included), in values
    values_per_event: int = 1

    def __call__(self, X: np.ndarray, keep: tuple[str, ...] = ()) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Outputs for a batch ``X`` (float32 events), and the outputs of the layers named in ``keep``."""
        values = {self.input_var: cast(X.reshape(len(X), *self.input_shape), self.input_spec)}
        last = {v: i for i, (_, srcs, _, _) in enumerate(self.ops) for v in srcs}
        kept = {}
        for i, (name, srcs, dst, fn) in enumerate(self.ops):
            args = [values[v] for v in srcs]
            for v in set(srcs):
                if last[v] == i and v != self.output_var:
                    del values[v]
            values[dst] = fn(*args)
            if name in keep:
                kept[name] = values[dst].reshape(len(X), -1)
        return values[self.output_var].reshape(len(X), *self.output_shape), kept


def _spec(precision, what: str) -> FixedSpec:
    """The type of a value the numpy engine reproduces: plain fixed-point and integers only. Other hls4ml
    types change the arithmetic itself: ExponentPrecisionType (quantized_po2 weights, a shift in
    ``weight_exponential``), XnorPrecisionType (binary weights and outputs, 0 standing for -1), floats...:
    those layers go to the C++ engine. (hls4ml wraps the classes per backend, hence isinstance.)"""
    from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType

    if not isinstance(precision, FixedPrecisionType | IntegerPrecisionType):
        raise L.NotEmulated(f"{what} of type {type(precision).__name__} ({precision})")
    return spec_of(precision)


def _weights(node, key: str) -> tuple[np.ndarray, FixedSpec]:
    """A weight array as the C++ holds it: hls4ml writes each value with as many decimals as the type has
    fraction bits, the C++ parses that text as a double and assigns it to the weight type."""
    var = node.get_weights(key)
    from hls4ml.model.types import CompressedWeightVariable, ExponentWeightVariable

    if isinstance(var, ExponentWeightVariable | CompressedWeightVariable):
        raise L.NotEmulated(f"{key} stored as {type(var).__mro__[1].__name__}")
    spec = _spec(var.type.precision, key)
    fmt = f"{{:.{max(0, spec.fractional)}f}}"
    text = np.array([float(fmt.format(v)) for v in np.asarray(var.data, dtype=np.float64).ravel()])
    return cast(text, spec).reshape(np.shape(var.data)), spec


def _type(node, attr: str) -> FixedSpec:
    return _spec(node.get_attr(attr).precision, attr)


@dataclass(frozen=True)
class Node:
    """What a handler builds from: the hls4ml node, its (first) input and result types, output shape, tables;
    ``x_specs`` and ``x_shapes`` of every input (merges have two)."""

    node: Any
    x_spec: FixedSpec
    res: FixedSpec
    shape: tuple[int, ...]
    tables: dict
    x_specs: tuple[FixedSpec, ...] = ()
    x_shapes: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class Handler:
    """How one hls4ml layer class is emulated: ``build(Node) -> f(x)``; the lookup tables it reads out of
    the firmware (``tables(node, project) -> [(node, key, struct, input type)]``); the values one event
    needs inside it (``values(node, shape) -> int``, for the batch size)."""

    build: Callable[[Node], Callable[..., np.ndarray]]
    tables: Callable[[Any, Path], list] | None = None
    values: Callable[[Any, tuple[int, ...]], int] | None = None
    #: takes several inputs (a merge): ``f(x1, x2, ...)``
    merges: bool = False


#: hls4ml layer class -> its handler; filled by :func:`emulates`. A class not here is not emulated.
HANDLERS: dict[str, Handler] = {}


def emulates(*kinds: str, tables=None, values=None, merges: bool = False):
    """Register the decorated builder as the numpy emulation of hls4ml layer classes ``kinds`` (a class
    registered twice is refused): hls4ml's ``@keras_handler`` pattern, one place to add a layer."""

    def wrap(build):
        for kind in kinds:
            if kind in HANDLERS:
                raise ValueError(
                    f"hls4ml layer class '{kind}' already has an emulation: {HANDLERS[kind].build}"
                )
            HANDLERS[kind] = Handler(build, tables, values, merges)
        return build

    return wrap


def _patch_values(node, shape: tuple[int, ...]) -> int:
    """im2col: each output position holds its whole receptive field."""
    return int(np.prod(shape)) * (int(np.prod(node.get_weights("weight").data.shape)) // int(shape[-1]))


@emulates("Dense")
def _dense(n: Node):
    node = n.node
    W, w_spec = _weights(node, "weight")
    if node.get_attr("_weights_transposed", False):
        W = W.T
    b, _ = _weights(node, "bias")
    return L.dense_op(W.reshape(-1, W.shape[-1]), b.ravel(), n.x_spec, w_spec, _type(node, "accum_t"), n.res)


#: Convolutions, as hls4ml's class names them: Conv2DBatchnorm is QConv2DBatchnorm with the batch norm folded
#: into the kernel (the same nnet::conv_2d); the depthwise ones weigh each channel by its own kernel; the
#: pointwise ones (1x1: the second half of a separable convolution) are convolutions of width 1.
CONV_CLASSES = ("Conv1D", "Conv2D", "Conv2DBatchnorm", "DepthwiseConv1D", "DepthwiseConv2D", "PointwiseConv1D",
                "PointwiseConv2D")  # fmt: skip


def conv_matrix(node) -> tuple[np.ndarray, np.ndarray, FixedSpec, int]:
    """A convolution node as (W, b, weight type, spatial dims): W the (kernel x channels, filters) matrix its
    im2col patches (in (kernel position, channel) order) are multiplied by. A depthwise kernel becomes the
    block-diagonal matrix of the same products: nnet's depthwise loops cast each product to ``accum_t`` and
    add it to its channel's accumulator, as ``nnet::dense`` does, and the zeros add exact zeros."""
    W, w_spec = _weights(node, "weight")
    if node.get_attr("_weights_transposed", False):  # (F, *kernel, C) -> (*kernel, C, F)
        W = np.moveaxis(W, 0, -1)
    b, _ = _weights(node, "bias")
    if (node.get_attr("dilation") or 1) != 1:
        raise L.NotEmulated("dilated convolutions")
    nd = 1 if node.class_name.endswith("1D") else 2
    if node.class_name.startswith("Depthwise"):
        if int(node.get_attr("depth_multiplier") or 1) != 1:
            raise L.NotEmulated("a depth multiplier above 1")
        w = W.reshape(-1, int(node.get_attr("n_chan")))  # (kernel positions, C)
        full = np.zeros((*w.shape, w.shape[1]))
        full[:, np.arange(w.shape[1]), np.arange(w.shape[1])] = w
        return full.reshape(-1, w.shape[1]), b.ravel(), w_spec, nd
    return W.reshape(-1, W.shape[-1]), b.ravel(), w_spec, nd


@emulates(*CONV_CLASSES, values=_patch_values)
def _conv(n: Node):
    node = n.node
    W, b, w_spec, nd = conv_matrix(node)
    kernel, stride, pads = _window(node, "filt", nd)
    dense = L.dense_op(W, b, n.x_spec, w_spec, _type(node, "accum_t"), n.res)

    def f(x):
        return dense(L.conv_patches(x, kernel, stride, pads))

    return f


def _activation_tables(node, project: Path) -> list:
    act = str(node.get_attr("activation", "")).lower()
    if act not in ("sigmoid", "tanh", "softmax"):
        return []
    struct = config_struct(project, node.index)
    in_type = node.get_input_variable().type.name
    if act != "softmax":
        return [(node.name, act, struct, in_type)]
    impl = str(node.get_attr("implementation", "stable")).lower()
    if impl not in ("stable", "latency"):
        return []
    return [(node.name, f"exp_{impl}", struct, in_type), (node.name, "invert", struct, in_type)]


@emulates("Activation", "Softmax", tables=_activation_tables)
def _activation(n: Node):
    node, res, tables = n.node, n.res, n.tables
    act = str(node.get_attr("activation")).lower()
    if act == "linear":
        return lambda x: cast(x, res)
    if act == "relu":
        return lambda x: cast(np.where(x > 0, x, 0.0), res)
    if act in ("sigmoid", "tanh"):
        return L.table_activation(act, tables[(node.name, act)], res)
    if act == "softmax":
        impl = str(node.get_attr("implementation", "stable")).lower()
        if impl not in ("stable", "latency"):
            raise L.NotEmulated(f"softmax implementation '{impl}'")
        types = {k: _type(node, k) for k in ("accum_t", "inv_inp_t", "inp_norm_t")}
        t = {"exp": tables[(node.name, f"exp_{impl}")], "inv": tables[(node.name, "invert")]}
        return L.softmax_op(impl, t, types, n.x_spec, res)
    raise L.NotEmulated(f"activation '{act}'")


def hard_activation(node) -> tuple[str, float, float]:
    """A HardActivation's function (``hard_sigmoid`` or ``hard_tanh``) and its ``slope`` and ``shift`` as the
    C++ holds them: the decimal hls4ml writes, assigned to ``slope_t`` / ``shift_t``. The firmware computes
    ``s = clip(slope * x + shift, 0, 1)`` exactly (``auto``: ap_fixed's full-width product and sum, whose
    integer bits always hold 1), then ``res_T(s)`` or ``res_T(2 * s - 1)``."""
    act = str(node.get_attr("activation")).lower()
    if act not in ("hard_sigmoid", "hard_tanh"):
        raise L.NotEmulated(f"hard activation '{act}'")
    consts = []
    for key in ("slope", "shift"):
        spec = _spec(node.get_attr(f"{key}_t").precision, key)
        consts.append(float(cast(np.array([float(node.get_attr(key))]), spec)[0]))
    return act, consts[0], consts[1]


@emulates("HardActivation")
def _hard_activation(n: Node):
    act, slope, shift = hard_activation(n.node)
    res = n.res
    if act == "hard_sigmoid":
        return lambda x: cast(np.clip(slope * x + shift, 0.0, 1.0), res)
    return lambda x: cast(2.0 * np.clip(slope * x + shift, 0.0, 1.0) - 1.0, res)


def leaky_relu_alpha(node) -> float:
    """A LeakyReLU's negative slope as the C++ holds it: the decimal hls4ml writes into the call, passed as
    ``param_t``. The firmware gives ``res_T(x)`` for ``x > 0``, else ``res_T(alpha * x)`` (the product
    exact)."""
    act = str(node.get_attr("activation")).lower()
    if act not in ("leakyrelu", "leaky_relu"):
        raise L.NotEmulated(f"parametrized activation '{act}'")
    spec = _spec(node.get_attr("param_t").precision, "the slope")
    return float(cast(np.array([float(node.get_attr("activ_param", 1.0))]), spec)[0])


@emulates("LeakyReLU", "ParametrizedActivation")
def _leaky_relu(n: Node):
    alpha, res = leaky_relu_alpha(n.node), n.res
    return lambda x: cast(np.where(x > 0, x, alpha * x), res)


def layer_tables(layers, project: Path) -> dict:
    """The lookup tables the registered handlers of ``layers`` read, as the firmware in ``project`` fills them."""
    requests = []
    for node in layers:
        handler = HANDLERS.get(node.class_name)
        requests += handler.tables(node, project) if handler and handler.tables else []
    return read_tables(project, requests) if requests else {}


def build_numpy_model(hls_model, project: Path | None = None) -> NumpyModel:
    """The numpy emulation of ``hls_model`` (written to ``project``, its output folder by default), from
    the registered :data:`HANDLERS`.

    Raises :class:`~.layers.NotEmulated` naming the first layer it cannot reproduce exactly.
    """
    project = Path(project or hls_model.config.get_output_dir())
    inputs, outputs = hls_model.get_input_variables(), hls_model.get_output_variables()
    if len(inputs) != 1 or len(outputs) != 1:
        raise L.NotEmulated("models with several inputs or outputs")
    layers = [node for node in hls_model.get_layers() if node.class_name != "Input"]
    for node in layers:
        if node.class_name not in HANDLERS:
            raise L.NotEmulated(f"layer '{node.name}' ({node.class_name}): {node.class_name} layers")
    tables = layer_tables(layers, project)
    ops = []
    largest = 1
    for node in layers:
        kind = node.class_name
        handler = HANDLERS[kind]
        if len(node.inputs) != 1 and not handler.merges:
            raise L.NotEmulated(f"layer '{node.name}' ({kind}) with {len(node.inputs)} inputs")
        out_var = node.get_output_variable()
        shape = tuple(int(d) for d in out_var.shape)
        try:
            in_vars = [node.get_input_variable(v) for v in node.inputs]
            x_specs = tuple(_spec(v.type.precision, "input") for v in in_vars)
            x_shapes = tuple(tuple(int(d) for d in v.shape) for v in in_vars)
            res = _spec(out_var.type.precision, "result")
            fn = handler.build(Node(node, x_specs[0], res, shape, tables, x_specs, x_shapes))
        except L.NotEmulated as err:
            raise L.NotEmulated(f"layer '{node.name}' ({kind}): {err}") from None
        ops.append((node.name, tuple(node.inputs), node.outputs[0], _shaped(fn, shape)))
        largest = max(largest, handler.values(node, shape) if handler.values else int(np.prod(shape)))
    return NumpyModel(
        input_spec=_spec(inputs[0].type.precision, "the input"),
        input_var=hls_model.inputs[0],
        output_var=hls_model.outputs[0],
        output_shape=tuple(int(d) for d in outputs[0].shape),
        input_shape=tuple(int(d) for d in inputs[0].shape),
        ops=ops,
        values_per_event=largest,
    )


def _shaped(fn, shape):
    return lambda *x: fn(*x).reshape(len(x[0]), *shape)


def _window(node, prefix: str, nd: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(window, stride, pads) of a convolution (``prefix="filt"``) or pooling (``"pool"``) node; pads are
    (before, after) per spatial axis."""
    axes = ("width",) if nd == 1 else ("height", "width")
    sides = ("left", "right") if nd == 1 else ("top", "bottom", "left", "right")
    window = tuple(int(node.get_attr(f"{prefix}_{a}")) for a in axes)
    stride = tuple(int(node.get_attr(f"stride_{a}")) for a in axes)
    return window, stride, tuple(int(node.get_attr(f"pad_{s}") or 0) for s in sides)


def _cast_to(x_spec, res):
    """The cast from ``x_spec`` to ``res``, or nothing where every input value is already a value of ``res``."""
    return (lambda x: x) if L.same_grid(x_spec, res) else (lambda x: cast(x, res))


@emulates("Pooling1D", "Pooling2D")
def _pool(n: Node):
    """``nnet::pooling1d_cl`` / ``pooling2d_cl``: the window's max (in the input type) or its average
    (:func:`~.layers.average`: summed in ``accum_t``, divided as ap_fixed divides), cast to the result."""
    op = str(n.node.get_attr("pool_op")).lower()
    pool, stride, pads = _window(n.node, "pool", 1 if n.node.class_name == "Pooling1D" else 2)
    if any(pads):
        raise L.NotEmulated("padded pooling")
    if op == "max":
        to_res = _cast_to(n.x_spec, n.res)
        return lambda x: to_res(L.max_pool(x, pool, stride))
    if op != "average":
        raise L.NotEmulated(f"{op} pooling")
    acc, res, x_spec = _type(n.node, "accum_t"), n.res, n.x_spec
    size = int(np.prod(pool))

    nd = len(pool)

    def f(x):
        win = np.lib.stride_tricks.sliding_window_view(x, pool, axis=tuple(range(1, nd + 1)))
        win = win[(slice(None), *(slice(None, None, st) for st in stride))]  # (B, *out, C, *pool)
        win = win.reshape(*win.shape[: nd + 2], size)  # the window in the firmware's (row, column) order
        return cast(L.average(win, axis=-1, length=size, x_spec=x_spec, acc=acc), res)

    return f


@emulates("GlobalPooling1D", "GlobalPooling2D")
def _global_pool(n: Node):
    """``nnet::global_pooling1d_cl`` / ``2d_cl``: over every position of each channel, the max (kept in the
    input type, returned as ``accum_t``) or the average, cast to the result."""
    op = str(n.node.get_attr("pool_op")).lower()
    acc, res, x_spec = _type(n.node, "accum_t"), n.res, n.x_spec
    if op == "max":
        return lambda x: cast(cast(x.reshape(len(x), -1, x.shape[-1]).max(axis=1), acc), res)
    if op != "average":
        raise L.NotEmulated(f"{op} pooling")

    def f(x):
        flat = x.reshape(len(x), -1, x.shape[-1])
        return cast(L.average(flat, axis=1, length=flat.shape[1], x_spec=x_spec, acc=acc), res)

    return f


#: hls4ml's Merge ops (nnet_merge.h): the exact value of the expression, then one cast to the result.
MERGE_OPS = {
    "add": lambda a, b: a + b,
    "subtract": lambda a, b: a - b,
    "multiply": lambda a, b: a * b,
    "average": lambda a, b: (a + b) * 0.5,  # times ap_ufixed<1,0>(0.5): exact
    "maximum": np.maximum,
    "minimum": np.minimum,
}


@emulates("Merge", merges=True)
def _merge(n: Node):
    """``nnet::add`` ... ``nnet::minimum``: element by element (an input of fewer elements repeats, as the
    C++'s ``data[ii % n_elem]``), the exact value cast to the result type. The products of ``multiply`` are
    exact in float64 while both inputs together hold at most 53 bits."""
    op = str(n.node.get_attr("op")).lower()
    if op not in MERGE_OPS or len(n.x_specs) != 2:
        raise L.NotEmulated(f"merge '{op}' of {len(n.x_specs)} inputs")
    if op == "multiply" and sum(s.width for s in n.x_specs) > 53:
        raise L.NotEmulated(f"products of {n.x_specs[0]} and {n.x_specs[1]} beyond float64's 53 bits")
    fn, res, size = MERGE_OPS[op], n.res, int(np.prod(n.shape))

    def f(a, b):
        a, b = a.reshape(len(a), -1), b.reshape(len(b), -1)
        a = np.tile(a, (1, size // a.shape[1])) if a.shape[1] != size else a
        b = np.tile(b, (1, size // b.shape[1])) if b.shape[1] != size else b
        return cast(fn(a, b), res)

    return f


@emulates("Concatenate", merges=True)
def _concatenate(n: Node):
    """``nnet::concatenate1d/2d/3d``: the inputs side by side along ``axis``, each value cast to the result."""
    axis = int(n.node.get_attr("axis", -1))
    shapes, res = n.x_shapes, n.res
    nd = len(shapes[0])
    axis = axis - 1 if axis > 0 else axis  # Keras counts the batch axis, the firmware's shapes do not
    if not -nd <= axis < nd:
        raise L.NotEmulated(f"concatenation along axis {axis}")

    def f(*xs):
        parts = [cast(x.reshape(len(x), *shape), res) for x, shape in zip(xs, shapes, strict=True)]
        return np.concatenate(parts, axis=axis + 1 if axis >= 0 else axis)

    return f


@emulates("Reshape", "Repack", "Flatten")
def _reshape(n: Node):
    to_res, shape = _cast_to(n.x_spec, n.res), n.shape
    return lambda x: to_res(x.reshape(len(x), *shape))


@emulates("ZeroPadding1D", "ZeroPadding2D")
def _zero_pad(n: Node):
    nd = 1 if n.node.class_name == "ZeroPadding1D" else 2
    names = ("left", "right") if nd == 1 else ("top", "bottom", "left", "right")
    p = [int(n.node.get_attr(f"pad_{s}") or 0) for s in names]
    width = [(0, 0)] + [(p[2 * i], p[2 * i + 1]) for i in range(nd)] + [(0, 0)]
    to_res = _cast_to(n.x_spec, n.res)
    return lambda x: to_res(np.pad(x, width))


# ApplyAlpha: hls4ml's BatchNormalization subclass for a quantizer's alpha (same nnet::normalize)
@emulates("BatchNormalization", "ApplyAlpha")
def _batchnorm(n: Node):
    scale, _ = _weights(n.node, "scale")
    bias, _ = _weights(n.node, "bias")
    res = n.res
    return lambda x: cast(x * scale.ravel() + bias.ravel(), res)


def _gru_tables(node, project: Path) -> list:
    rec, act = str(node.get_attr("recurrent_activation")), str(node.get_attr("activation"))
    if not {rec, act} <= {"sigmoid", "tanh"}:
        return []
    in_type = node.get_input_variable().type.name
    return [
        (node.name, f"recr_{rec}", named_struct(project, f"{rec}_config{node.index}_recr"), in_type),
        (node.name, f"act_{act}", named_struct(project, f"{act}_config{node.index}"), in_type),
    ]


def _gru_values(node, shape: tuple[int, ...]) -> int:
    """The products of every step at once: (inputs + state) x 3 gates x state."""
    return int(node.get_input_variable().shape[0]) * int(node.get_weights("recurrent_weight").data.size) * 2


@emulates("GRU", tables=_gru_tables, values=_gru_values)
def _gru(n: Node):
    """``nnet::gru_stack`` (Keras gate order z, r, h; reset after): per time step two dense layers into the
    accumulator type, the sigmoid and tanh tables of the layer's own configs, and the state update
    ``(res_T)(h~ * (1 - z) + h * z)`` computed exactly (the widths are checked to fit float64)."""
    node, x_spec, res, tables = n.node, n.x_spec, n.res, n.tables
    if node.get_attr("pytorch", False) or node.get_attr("direction", "forward") != "forward":
        raise L.NotEmulated("PyTorch-ordered or backward GRUs")
    if node.get_attr("apply_reset_gate", "after") != "after":
        raise L.NotEmulated("reset_after=False")
    rec, act = str(node.get_attr("recurrent_activation")), str(node.get_attr("activation"))
    if (node.name, f"recr_{rec}") not in tables or (node.name, f"act_{act}") not in tables:
        raise L.NotEmulated(f"activations {rec}/{act} (sigmoid/tanh tables only)")
    acc = _type(node, "accum_t")
    table_t = _type(node, "table_t")
    if acc.width + table_t.width > 53 or res.width + table_t.width + 2 > 53 or 2 * table_t.width + 2 > 53:
        raise L.NotEmulated(f"state {res}, accumulator {acc} and tables {table_t} are too wide for float64")
    transposed = node.get_attr("_weights_transposed", False)
    W, w_spec = _weights(node, "weight")
    U, u_spec = _weights(node, "recurrent_weight")
    W, U = (W.T, U.T) if transposed else (W, U)
    b, _ = _weights(node, "bias")
    br, _ = _weights(node, "recurrent_bias")
    units = U.shape[0]
    dense_x = L.dense_op(W.reshape(-1, 3 * units), b.ravel(), x_spec, w_spec, acc, acc)
    dense_h = L.dense_op(U.reshape(units, 3 * units), br.ravel(), res, u_spec, acc, acc)
    sigma = L.table_activation(rec, tables[(node.name, f"recr_{rec}")], acc)
    phi = L.table_activation(act, tables[(node.name, f"act_{act}")], acc)
    sequences = bool(node.get_attr("return_sequences"))

    def f(x):
        h = np.zeros((len(x), units))
        steps = []
        x_all = dense_x(x)  # the input products of every step at once: (B, T, 3n)
        for t in range(x.shape[1]):
            xs, hs = x_all[:, t], dense_h(h)
            zr = sigma(cast(xs[:, : 2 * units] + hs[:, : 2 * units], acc))
            z, r = zr[:, :units], zr[:, units:]
            h_tilde = phi(cast(xs[:, 2 * units :] + cast(r * hs[:, 2 * units :], acc), acc))
            h = cast(h_tilde * (1 - z) + h * z, res)
            steps.append(h)
        return np.stack(steps, axis=1) if sequences else h

    return f
