"""Build the numpy emulation of a compiled hls4ml model from its graph: one operation per firmware layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..quantize import FixedSpec
from . import layers as L
from .fixed import cast, spec_of
from .tables import config_struct, named_struct, read_tables

__all__ = ["NumpyModel", "build_numpy_model"]


@dataclass
class NumpyModel:
    """The firmware as numpy: ``ops`` in order, each ``(layer name, input var, output var, function)``."""

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
        kept = {}
        for name, src, dst, fn in self.ops:
            values[dst] = fn(values.pop(src) if src != dst else values[src])
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


def _dense(node, x_spec, res):
    W, w_spec = _weights(node, "weight")
    if node.get_attr("_weights_transposed", False):
        W = W.T
    b, _ = _weights(node, "bias")
    return L.dense_op(W.reshape(-1, W.shape[-1]), b.ravel(), x_spec, w_spec, _type(node, "accum_t"), res)


def _conv(node, x_spec, res, nd: int):
    W, w_spec = _weights(node, "weight")
    if node.get_attr("_weights_transposed", False):  # (F, *kernel, C) -> (*kernel, C, F)
        W = np.moveaxis(W, 0, -1)
    b, _ = _weights(node, "bias")
    kernel, stride, pads = _window(node, "filt", nd)
    if (node.get_attr("dilation") or 1) != 1:
        raise L.NotEmulated("dilated convolutions")
    dense = L.dense_op(W.reshape(-1, W.shape[-1]), b.ravel(), x_spec, w_spec, _type(node, "accum_t"), res)

    def f(x):
        return dense(L.conv_patches(x, kernel, stride, pads))

    return f


def _activation(node, x_spec, res, tables):
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
        return L.softmax_op(impl, t, types, x_spec, res)
    raise L.NotEmulated(f"activation '{act}'")


def _table_requests(hls_model, project: Path) -> list:
    reqs = []
    for node in hls_model.get_layers():
        if node.class_name == "GRU":
            rec, act = str(node.get_attr("recurrent_activation")), str(node.get_attr("activation"))
            if {rec, act} <= {"sigmoid", "tanh"}:
                in_type = node.get_input_variable().type.name
                reqs.append(
                    (
                        node.name,
                        f"recr_{rec}",
                        named_struct(project, f"{rec}_config{node.index}_recr"),
                        in_type,
                    )
                )
                reqs.append(
                    (node.name, f"act_{act}", named_struct(project, f"{act}_config{node.index}"), in_type)
                )
            continue
        act = str(node.get_attr("activation", "")).lower()
        if node.class_name not in ("Activation", "Softmax") or act not in ("sigmoid", "tanh", "softmax"):
            continue
        struct = config_struct(project, node.index)
        in_type = node.get_input_variable().type.name
        if act == "softmax":
            impl = str(node.get_attr("implementation", "stable")).lower()
            if impl in ("stable", "latency"):
                reqs += [(node.name, f"exp_{impl}", struct, in_type), (node.name, "invert", struct, in_type)]
        else:
            reqs.append((node.name, act, struct, in_type))
    return reqs


def build_numpy_model(hls_model, project: Path | None = None) -> NumpyModel:
    """The numpy emulation of ``hls_model`` (written to ``project``, its output folder by default).

    Raises :class:`~.layers.NotEmulated` naming the first layer it cannot reproduce exactly.
    """
    project = Path(project or hls_model.config.get_output_dir())
    inputs, outputs = hls_model.get_input_variables(), hls_model.get_output_variables()
    if len(inputs) != 1 or len(outputs) != 1:
        raise L.NotEmulated("models with several inputs or outputs")
    tables = read_tables(project, _table_requests(hls_model, project))
    ops = []
    largest = 1
    for node in hls_model.get_layers():
        kind = node.class_name
        if kind == "Input":
            continue
        if len(node.inputs) != 1:
            raise L.NotEmulated(f"layer '{node.name}' ({kind}) with {len(node.inputs)} inputs")
        out_var = node.get_output_variable()
        shape = tuple(int(d) for d in out_var.shape)
        try:
            x_spec = _spec(node.get_input_variable().type.precision, "input")
            res = _spec(out_var.type.precision, "result")
            if kind == "Dense":
                fn = _dense(node, x_spec, res)
            elif kind in ("Conv1D", "Conv2D"):
                fn = _conv(node, x_spec, res, 1 if kind == "Conv1D" else 2)
            elif kind in ("Activation", "Softmax"):
                fn = _activation(node, x_spec, res, tables)
            elif kind in ("Pooling1D", "Pooling2D") and str(node.get_attr("pool_op")).lower() == "max":
                fn = _max_pool(node, x_spec, res, 1 if kind == "Pooling1D" else 2)
            elif kind in ("Reshape", "Repack", "Flatten"):
                fn = _reshape(shape, x_spec, res)
            elif kind in ("ZeroPadding1D", "ZeroPadding2D"):
                fn = _zero_pad(node, x_spec, res, 1 if kind == "ZeroPadding1D" else 2)
            elif kind == "BatchNormalization":
                fn = _batchnorm(node, res)
            elif kind == "GRU":
                fn = _gru(node, x_spec, res, tables)
            else:
                raise L.NotEmulated(f"{kind} layers")
        except L.NotEmulated as err:
            raise L.NotEmulated(f"layer '{node.name}' ({kind}): {err}") from None
        ops.append((node.name, node.inputs[0], node.outputs[0], _shaped(fn, shape)))
        size = int(np.prod(shape))
        if kind in ("Conv1D", "Conv2D"):
            size *= int(np.prod(node.get_weights("weight").data.shape)) // int(shape[-1])  # im2col patches
        elif kind in ("GRU", "LSTM"):  # products of every step: (inputs + state) x 3 gates x state
            in_shape = node.get_input_variable().shape
            size = int(in_shape[0]) * int(node.get_weights("recurrent_weight").data.size) * 2
        largest = max(largest, size)
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
    return lambda x: fn(x).reshape(len(x), *shape)


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


def _max_pool(node, x_spec, res, nd):
    pool, stride, pads = _window(node, "pool", nd)
    if any(pads):
        raise L.NotEmulated("padded pooling")
    to_res = _cast_to(x_spec, res)
    return lambda x: to_res(L.max_pool(x, pool, stride))


def _reshape(shape, x_spec, res):
    to_res = _cast_to(x_spec, res)
    return lambda x: to_res(x.reshape(len(x), *shape))


def _zero_pad(node, x_spec, res, nd):
    names = ("left", "right") if nd == 1 else ("top", "bottom", "left", "right")
    p = [int(node.get_attr(f"pad_{s}") or 0) for s in names]
    width = [(0, 0)] + [(p[2 * i], p[2 * i + 1]) for i in range(nd)] + [(0, 0)]
    to_res = _cast_to(x_spec, res)
    return lambda x: to_res(np.pad(x, width))


def _batchnorm(node, res):
    scale, _ = _weights(node, "scale")
    bias, _ = _weights(node, "bias")
    return lambda x: cast(x * scale.ravel() + bias.ravel(), res)


def _gru(node, x_spec, res, tables):
    """``nnet::gru_stack`` (Keras gate order z, r, h; reset after): per time step two dense layers into the
    accumulator type, the sigmoid and tanh tables of the layer's own configs, and the state update
    ``(res_T)(h~ * (1 - z) + h * z)`` computed exactly (the widths are checked to fit float64)."""
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
    n = U.shape[0]
    dense_x = L.dense_op(W.reshape(-1, 3 * n), b.ravel(), x_spec, w_spec, acc, acc)
    dense_h = L.dense_op(U.reshape(n, 3 * n), br.ravel(), res, u_spec, acc, acc)
    sigma = L.table_activation(rec, tables[(node.name, f"recr_{rec}")], acc)
    phi = L.table_activation(act, tables[(node.name, f"act_{act}")], acc)
    sequences = bool(node.get_attr("return_sequences"))

    def f(x):
        h = np.zeros((len(x), n))
        steps = []
        x_all = dense_x(x)  # the input products of every step at once: (B, T, 3n)
        for t in range(x.shape[1]):
            xs, hs = x_all[:, t], dense_h(h)
            zr = sigma(cast(xs[:, : 2 * n] + hs[:, : 2 * n], acc))
            z, r = zr[:, :n], zr[:, n:]
            h_tilde = phi(cast(xs[:, 2 * n :] + cast(r * hs[:, 2 * n :], acc), acc))
            h = cast(h_tilde * (1 - z) + h * z, res)
            steps.append(h)
        return np.stack(steps, axis=1) if sequences else h

    return f
