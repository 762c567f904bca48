"""Exact types for the nodes hls4ml 1.3.0 leaves at its default ``fixed<16,6>``.

hls4ml infers exact accumulator and result types for QKeras layers with ``quantized_bits`` weights, but two
kinds of node it leaves at the model's default precision, which truncates and wraps what QKeras computes
exactly (measured on public QKeras models: 0% bit-exact, hundreds of LSB off):

- **Dense/Conv layers with ``quantized_po2`` weights.** Their weights are exponents (``ExponentType``) and
  the product is a shift (``nnet::product::weight_exponential``, exact in its own wide type), but the sum
  is kept in ``accum_t``, which hls4ml's precision inference skips for exponent types (it needs fixed-point
  operands), so the sum and the result get ``fixed<16,6>``.
- **Dense/Conv layers with binary weights** (``XnorPrecisionType``, a product ``+-x``): the same.
- **ApplyAlpha nodes** (a quantizer's ``alpha`` as a power-of-two scale after the layer): their result.
- **Activation quantizers without a fractional bit** typed ``int<W>``, which neither rounds nor saturates
  (:func:`keep_quantizer_modes`; set before the others, since it changes what feeds later nodes).
- **Activation nodes split out of a layer** (``QConv2D(..., activation="relu")`` becomes ``conv`` +
  ``conv_relu``): the new node has no quantizer, and hls4ml gives its result the default type.

:func:`exact_precisions` converts the model once without writing anything, reads the types hls4ml chose,
and returns exact ones for those nodes (a ReLU or linear node takes its input's type, unsigned for the
ReLU; a po2 sum the integer and fractional bits its inputs, exponents and fan-in need). It repeats while a
fix changes what feeds a later node, so a split ReLU after a po2 layer is typed from the po2 layer's new
result. Types the user set (``hls.precision``) are never replaced.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
from typing import Any

from ..compat import inbound_layers
from ..errors import HLSError
from ..layers.exact import is_auto

__all__ = ["default_typed_nodes", "exact_precisions", "keep_quantizer_modes", "set_types"]

log = logging.getLogger(__name__)


def _proposals(hls_model, layer_configs: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Each node's exact types where its kind has a rule (:meth:`triggernn.layers.LayerKind.exact_types`)."""
    from ..layers import kind_of
    from .adapter.view import graph_views

    found: dict[str, dict[str, str]] = {}
    for view in graph_views(hls_model).nodes:
        kind = kind_of(view.kind)
        types = kind.exact_types(view, layer_configs.get(view.name, {})) if kind is not None else {}
        if types:
            found[view.name] = types
    return found


def _convert(model, hc: dict[str, Any], backend: str, io_type: str):
    from .adapter import describe_failure, fixes_applied, load_hls4ml

    hls4ml = load_hls4ml()

    with (
        tempfile.TemporaryDirectory(prefix="triggernn-types-") as tmp,
        contextlib.redirect_stdout(io.StringIO()),
        fixes_applied(),
    ):
        try:
            return hls4ml.converters.convert_from_keras_model(
                model, hls_config=hc, output_dir=tmp, backend=backend, io_type=io_type
            )
        except Exception as err:  # hls4ml raises bare Exceptions (and KeyErrors) for what it cannot convert
            raise HLSError(f"hls4ml 1.3.0 cannot convert this model: {describe_failure(err)}") from err


#: QKeras quantizers whose hls4ml type rounds (RND_CONV) and saturates (SAT), as the quantizer does.
_ROUNDING_QUANTIZERS = ("quantized_bits", "quantized_relu", "quantized_tanh", "quantized_sigmoid")


def keep_quantizer_modes(model, layer_configs: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Result types of activation quantizers with no fractional bit, made to round and saturate again.

    hls4ml types a quantizer's output ``fixed<W, I, RND_CONV, SAT>``, but one with no fractional bit
    (``quantized_relu(3, 2, negative_slope=...)``, ``quantized_bits(4, 3)``) becomes ``int<W>``, which
    truncates and wraps: measured, 0.8 -> 0 where QKeras rounds to 1, and no clipping at the top. Returns
    ``{node: {"result": "fixed<W,W,RND_CONV,SAT>"}}`` (``ufixed`` for unsigned) for those nodes.
    """
    import re

    found: dict[str, dict[str, str]] = {}
    for layer in model.layers:
        quantizer = getattr(layer, "activation", None)
        kind = quantizer.__class__.__name__
        if kind not in _ROUNDING_QUANTIZERS:
            continue
        standalone = layer.__class__.__name__ == "QActivation"
        node = layer.name if standalone else f"{layer.name}_{kind}"
        result = str(layer_configs.get(node, {}).get("Precision", {}).get("result", ""))
        match = re.fullmatch(r"(u?)int<(\d+)>", result.strip())
        if match:
            width = int(match.group(2))
            result = f"{match.group(1)}fixed<{width},{width},RND_CONV,SAT>"
            found[node] = {"result": result}
        if kind == "quantized_bits" and result:
            # hls4ml makes this quantizer a 'linear' activation and merges it into a parent whose type it
            # infers, without the quantizer (MergeLinearActivation keeps only a node's 'quantizer' attribute):
            # the rounding and clipping vanish. Typed explicitly, the parent computes the quantizer's cast.
            parent = inbound_layers(layer)[0] if standalone else layer
            if is_auto(layer_configs.get(parent.name, {}), "result") and parent.name in layer_configs:
                found[parent.name] = {"result": result}
    return found


def set_types(layer_cfg: dict[str, Any], types: dict[str, str]) -> None:
    """Set some types of one node's hls4ml configuration (whose ``Precision`` may be a dict, or one type for
    every key, which then stays the type of the other keys)."""
    prec = layer_cfg.get("Precision")
    if not isinstance(prec, dict):
        prec = {} if prec is None else {"default": prec}  # hls4ml reads 'default' for keys not listed
        layer_cfg["Precision"] = prec
    prec.update(types)


def default_typed_nodes(model, hc: dict[str, Any]) -> bool:
    """Whether ``model`` may have nodes hls4ml leaves at its default type (po2 weights, split activations):
    a cheap check on the configuration, so other models skip the extra conversion."""
    from ..layers import inexact_default

    keras_names = {layer.name for layer in model.layers}
    if any(name not in keras_names for name in hc["LayerName"]):
        return True  # nodes hls4ml adds: split activations (<layer>_relu), ...
    for layer in model.layers:
        if inexact_default(layer.__class__.__name__):
            return True  # hls4ml's average pooling and Average merge keep the input's fraction bits
        for attr in (
            "kernel_quantizer_internal",
            "depthwise_quantizer_internal",
            "pointwise_quantizer_internal",
        ):
            q = getattr(layer, attr, None)
            if q is not None and q.__class__.__name__ in ("quantized_po2", "binary", "stochastic_binary"):
                return True
        alpha = getattr(getattr(layer, "kernel_quantizer_internal", None), "alpha", None)
        if alpha is not None and not (isinstance(alpha, int | float) and alpha == 1):
            return True  # hls4ml scales by alpha in an ApplyAlpha node
    return False


def exact_precisions(model, hc: dict[str, Any], backend: str, io_type: str) -> dict[str, dict[str, str]]:
    """``{node: {key: type}}`` for every node whose default type would lose bits, to merge into ``hc``'s
    ``LayerName`` (the function does not change ``hc``). See the module docstring."""
    import copy

    if not default_typed_nodes(model, hc):
        return {}
    trial = copy.deepcopy(hc)
    chosen: dict[str, dict[str, str]] = {}
    for _ in range(4):  # a fix can change what feeds a later node; chains here are short
        found = _proposals(_convert(model, trial, backend, io_type), hc["LayerName"])
        if all(chosen.get(n, {}).get(k) == v for n, kv in found.items() for k, v in kv.items()):
            break
        for name, kv in found.items():
            chosen.setdefault(name, {}).update(kv)
            set_types(trial["LayerName"].setdefault(name, {}), kv)
    for name, kv in chosen.items():
        log.info("types hls4ml would leave at its default, set exactly: %s %s", name, kv)
    return chosen
