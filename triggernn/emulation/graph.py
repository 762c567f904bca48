"""Build the numpy emulation of a compiled hls4ml model from its graph: one operation per firmware layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..quantize import FixedSpec
from . import layers as L
from .fixed import cast, spec_of
from .tables import config_struct, read_tables

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

    def __call__(self, X: np.ndarray, keep: tuple[str, ...] = ()) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Outputs for a batch ``X`` (float32 events), and the outputs of the layers named in ``keep``."""
        values = {self.input_var: cast(X.reshape(len(X), *self.input_shape), self.input_spec)}
        kept = {}
        for name, src, dst, fn in self.ops:
            values[dst] = fn(values.pop(src) if src != dst else values[src])
            if name in keep:
                kept[name] = values[dst].reshape(len(X), -1)
        return values[self.output_var].reshape(len(X), *self.output_shape), kept


def _weights(node, key: str) -> tuple[np.ndarray, FixedSpec]:
    """A weight array as the C++ holds it: hls4ml writes each value with as many decimals as the type has
    fraction bits, the C++ parses that text as a double and assigns it to the weight type."""
    var = node.get_weights(key)
    spec = spec_of(var.type.precision)
    fmt = f"{{:.{max(0, spec.fractional)}f}}"
    text = np.array([float(fmt.format(v)) for v in np.asarray(var.data, dtype=np.float64).ravel()])
    return cast(text, spec).reshape(np.shape(var.data)), spec


def _type(node, attr: str) -> FixedSpec:
    return spec_of(node.get_attr(attr).precision)


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
    for node in hls_model.get_layers():
        kind = node.class_name
        if kind == "Input":
            continue
        if len(node.inputs) != 1:
            raise L.NotEmulated(f"layer '{node.name}' ({kind}) with {len(node.inputs)} inputs")
        x_spec = spec_of(node.get_input_variable().type.precision)
        out_var = node.get_output_variable()
        res = spec_of(out_var.type.precision)
        shape = tuple(int(d) for d in out_var.shape)
        try:
            if kind == "Dense":
                fn = _dense(node, x_spec, res)
            elif kind in ("Conv1D", "Conv2D"):
                fn = _conv(node, x_spec, res, 1 if kind == "Conv1D" else 2)
            elif kind in ("Activation", "Softmax"):
                fn = _activation(node, x_spec, res, tables)
            elif kind in ("Pooling1D", "Pooling2D") and str(node.get_attr("pool_op")).lower() == "max":
                fn = _max_pool(node, res, 1 if kind == "Pooling1D" else 2)
            elif kind in ("Reshape", "Repack", "Flatten"):
                fn = _reshape(shape, res)
            elif kind in ("ZeroPadding1D", "ZeroPadding2D"):
                fn = _zero_pad(node, res, 1 if kind == "ZeroPadding1D" else 2)
            elif kind == "BatchNormalization":
                fn = _batchnorm(node, res)
            else:
                raise L.NotEmulated(f"{kind} layers")
        except L.NotEmulated as err:
            raise L.NotEmulated(f"layer '{node.name}' ({kind}): {err}") from None
        ops.append((node.name, node.inputs[0], node.outputs[0], _shaped(fn, shape)))
    return NumpyModel(
        input_spec=spec_of(inputs[0].type.precision),
        input_var=hls_model.inputs[0],
        output_var=hls_model.outputs[0],
        output_shape=tuple(int(d) for d in outputs[0].shape),
        input_shape=tuple(int(d) for d in inputs[0].shape),
        ops=ops,
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


def _max_pool(node, res, nd):
    pool, stride, pads = _window(node, "pool", nd)
    if any(pads):
        raise L.NotEmulated("padded pooling")
    return lambda x: cast(L.max_pool(x, pool, stride), res)


def _reshape(shape, res):
    return lambda x: cast(x.reshape(len(x), *shape), res)


def _zero_pad(node, res, nd):
    names = ("left", "right") if nd == 1 else ("top", "bottom", "left", "right")
    p = [int(node.get_attr(f"pad_{s}") or 0) for s in names]
    width = [(0, 0)] + [(p[2 * i], p[2 * i + 1]) for i in range(nd)] + [(0, 0)]
    return lambda x: cast(np.pad(x, width), res)


def _batchnorm(node, res):
    scale, _ = _weights(node, "scale")
    bias, _ = _weights(node, "bias")
    return lambda x: cast(x * scale.ravel() + bias.ravel(), res)
