"""A typed view of one node of a converted hls4ml graph: what triggernn's layer kinds read, and nothing else.

The layer kinds (:mod:`triggernn.layers`) emulate, trace, cost and type hls4ml's nodes; they read a node only
through :class:`NodeView`, so hls4ml's classes and attribute names stay in this adapter:

- types as :class:`~triggernn.quantize.FixedSpec` (``type_spec``, ``in_specs``, ``res``); a type the exact paths
  cannot reproduce (exponents, binary, floats) raises :class:`~triggernn.errors.NotExact` naming it;
- weights as the C++ holds them (``weights``: the decimals hls4ml writes, parsed as doubles and assigned to the
  weight type), oriented as Keras lays them out whichever way hls4ml transposed them (``oriented``);
- the value range of a type for exact-type rules (``value_spec``: a binary weight as ``int<2>``, an exponent
  as None), windows (``window``), shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ...errors import NotExact
from ...quantize import FixedSpec

__all__ = ["GraphView", "NodeView", "fixed_spec", "graph_views", "is_binary", "value_spec"]


def fixed_spec(precision, what: str) -> FixedSpec:
    """The type of a value the exact paths reproduce: plain fixed-point and integers only. Other hls4ml types
    change the arithmetic itself: ExponentPrecisionType (quantized_po2 weights, a shift in
    ``weight_exponential``), XnorPrecisionType (binary weights and outputs, 0 standing for -1), floats...:
    :class:`NotExact` names them. (hls4ml wraps the classes per backend, hence isinstance.)"""
    from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType

    from ...emulation.fixed import spec_of

    if not isinstance(precision, FixedPrecisionType | IntegerPrecisionType):
        raise NotExact(f"{what} of type {type(precision).__name__} ({precision})")
    return spec_of(precision)


def value_spec(precision) -> FixedSpec | None:
    """The values a type holds, as a fixed-point type: a binary (XnorPrecisionType, 0 standing for -1) as
    ``int<2>``; None for exponent and float types."""
    from hls4ml.model.types import FixedPrecisionType, IntegerPrecisionType, XnorPrecisionType

    if isinstance(precision, XnorPrecisionType):
        return FixedSpec(2, 2)
    if not isinstance(precision, FixedPrecisionType | IntegerPrecisionType):
        return None
    width = int(precision.width)
    return FixedSpec(width, int(getattr(precision, "integer", width)), signed=bool(precision.signed))


def is_binary(precision) -> bool:
    """A binary type (XnorPrecisionType: 0 stands for -1)."""
    from hls4ml.model.types import XnorPrecisionType

    return isinstance(precision, XnorPrecisionType)


def _shape(var) -> tuple[int, ...]:
    return tuple(int(d) for d in var.shape)


@dataclass(frozen=True)
class NodeView:
    """One hls4ml node, read through typed accessors (see the module docs)."""

    node: Any

    @property
    def name(self) -> str:
        return str(self.node.name)

    @property
    def kind(self) -> str:
        """hls4ml's class name of the node (``Dense``, ``Merge``, ``GlobalPooling1D``, ...)."""
        return str(self.node.class_name)

    @property
    def index(self) -> int:
        return int(self.node.index)

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(self.node.inputs)

    @property
    def output(self) -> str:
        return str(self.node.outputs[0])

    def attr(self, key: str, default: Any = None) -> Any:
        return self.node.get_attr(key, default)

    def text(self, key: str, default: str = "") -> str:
        """A string attribute, lower case (``activation``, ``pool_op``, ``op``, ``implementation``)."""
        return str(self.node.get_attr(key, default) or default).lower()

    # shapes and types --------------------------------------------------------------------------------------
    @property
    def in_shapes(self) -> tuple[tuple[int, ...], ...]:
        return tuple(_shape(self.node.get_input_variable(v)) for v in self.node.inputs)

    @property
    def in_shape(self) -> tuple[int, ...]:
        return _shape(self.node.get_input_variable())

    @property
    def out_shape(self) -> tuple[int, ...]:
        return _shape(self.node.get_output_variable())

    def in_specs(self) -> tuple[FixedSpec, ...]:
        return tuple(
            fixed_spec(self.node.get_input_variable(v).type.precision, "input") for v in self.node.inputs
        )

    def res(self) -> FixedSpec:
        return fixed_spec(self.node.get_output_variable().type.precision, "result")

    def type_spec(self, attr: str) -> FixedSpec:
        """A type attribute of the node (``accum_t``, ``table_t``, ``slope_t``...) as a fixed-point type."""
        return fixed_spec(self.node.get_attr(attr).precision, attr)

    def in_value_specs(self) -> tuple[FixedSpec | None, ...]:
        """The values each input holds (:func:`value_spec`), for exact-type rules."""
        return tuple(value_spec(self.node.get_input_variable(v).type.precision) for v in self.node.inputs)

    def type_name(self, which: str = "input") -> str:
        """The C++ name of the input's (or ``"result"``'s) type, as the firmware's tables are instantiated."""
        var = self.node.get_input_variable() if which == "input" else self.node.get_output_variable()
        return str(var.type.name)

    def width(self, which: str) -> int:
        """Bits of the first input's (``"input"``) or the result's (``"result"``) type."""
        var = self.node.get_input_variable() if which == "input" else self.node.get_output_variable()
        return int(var.type.precision.width)

    # weights -----------------------------------------------------------------------------------------------
    def has_weights(self, key: str) -> bool:
        return self.node.weights.get(key) is not None

    def weight_data(self, key: str) -> np.ndarray:
        """The weight values hls4ml holds (float64, hls4ml's orientation)."""
        return np.asarray(self.node.get_weights(key).data, dtype=np.float64)

    def weight_value_spec(self, key: str) -> FixedSpec | None:
        return value_spec(self.node.get_weights(key).type.precision)

    def weight_is_exponent(self, key: str) -> bool:
        from hls4ml.model.types import ExponentPrecisionType

        return isinstance(self.node.get_weights(key).type.precision, ExponentPrecisionType)

    def weight_is_binary(self, key: str) -> bool:
        """Binary weights (XnorPrecisionType: 0 stands for -1, the product is ``+-x``)."""
        return is_binary(self.node.get_weights(key).type.precision)

    def weight_width(self, key: str = "weight") -> int:
        return int(self.node.get_weights(key).type.precision.width)

    def nonzeros(self, key: str = "weight") -> int:
        return int(self.node.get_weights(key).nonzeros)

    def weight_size(self, key: str = "weight") -> int:
        return int(self.node.get_weights(key).data.size)

    def exponent_weights(self) -> list[np.ndarray]:
        """Every weight array stored as exponents (``quantized_po2``), as values."""
        from hls4ml.model.types import ExponentWeightVariable

        return [
            np.asarray(v.data, dtype=np.float64)
            for v in self.node.weights.values()
            if isinstance(v, ExponentWeightVariable)
        ]

    def weights(self, key: str) -> tuple[np.ndarray, FixedSpec]:
        """A weight array as the C++ holds it (hls4ml's orientation): hls4ml writes each value with as many
        decimals as the type has fraction bits, the C++ parses that text as a double and assigns it to the weight
        type."""
        from hls4ml.model.types import CompressedWeightVariable, ExponentWeightVariable

        from ...emulation.fixed import cast

        var = self.node.get_weights(key)
        if isinstance(var, ExponentWeightVariable | CompressedWeightVariable):
            raise NotExact(f"{key} stored as {type(var).__mro__[1].__name__}")
        spec = fixed_spec(var.type.precision, key)
        fmt = f"{{:.{max(0, spec.fractional)}f}}"
        text = np.array([float(fmt.format(v)) for v in np.asarray(var.data, dtype=np.float64).ravel()])
        return cast(text, spec).reshape(np.shape(var.data)), spec

    def oriented(self, key: str) -> tuple[np.ndarray, FixedSpec]:
        """:meth:`weights` in Keras' layout (``(..., inputs, outputs)``), whichever way hls4ml stored them: a
        Dense's or a GRU's ``(outputs, inputs)`` transposed back, a convolution's ``(F, *kernel, C)`` moved to
        ``(*kernel, C, F)``."""
        W, spec = self.weights(key)
        if self.node.get_attr("_weights_transposed", False):
            W = W.T if W.ndim == 2 else np.moveaxis(W, 0, -1)
        return W, spec

    def window(self, prefix: str, nd: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """(window, stride, pads) of a convolution (``prefix="filt"``) or pooling (``"pool"``) node; pads are
        (before, after) per spatial axis."""
        axes = ("width",) if nd == 1 else ("height", "width")
        sides = ("left", "right") if nd == 1 else ("top", "bottom", "left", "right")
        window = tuple(int(self.node.get_attr(f"{prefix}_{a}")) for a in axes)
        stride = tuple(int(self.node.get_attr(f"stride_{a}")) for a in axes)
        return window, stride, tuple(int(self.node.get_attr(f"pad_{s}") or 0) for s in sides)

    def pads(self, nd: int) -> list[int]:
        names = ("left", "right") if nd == 1 else ("top", "bottom", "left", "right")
        return [int(self.node.get_attr(f"pad_{s}") or 0) for s in names]


@dataclass(frozen=True)
class GraphView:
    """The graph around the nodes: its inputs and outputs (variable names, types, shapes) and its nodes, in
    hls4ml's topological order (the ``Input`` nodes left out)."""

    nodes: tuple[NodeView, ...]
    input_vars: tuple[str, ...]
    output_vars: tuple[str, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    output_shapes: tuple[tuple[int, ...], ...]
    graph: Any

    def input_specs(self) -> tuple[FixedSpec, ...]:
        return tuple(fixed_spec(v.type.precision, "the input") for v in self.graph.get_input_variables())

    @property
    def output_dir(self) -> str:
        return str(self.graph.config.get_output_dir())


def graph_views(hls_model) -> GraphView:
    """The :class:`GraphView` of a converted hls4ml ``ModelGraph``."""
    return GraphView(
        nodes=tuple(NodeView(n) for n in hls_model.get_layers() if n.class_name != "Input"),
        input_vars=tuple(hls_model.inputs),
        output_vars=tuple(hls_model.outputs),
        input_shapes=tuple(_shape(v) for v in hls_model.get_input_variables()),
        output_shapes=tuple(_shape(v) for v in hls_model.get_output_variables()),
        graph=hls_model,
    )
