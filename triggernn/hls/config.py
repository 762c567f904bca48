"""Our typed config -> the hls4ml configuration dict, built in one function."""

from __future__ import annotations

import math
from typing import Any

from ..compat import inbound_layers, input_names
from ..errors import ConfigError
from ..quantize import FixedSpec, parse_fixed
from .exact_types import exact_precisions, keep_quantizer_modes, set_types
from .recurrent import recurrent_layers, recurrent_precisions, state_type

__all__ = ["check_precision", "logits_layer", "make_hls_config", "precision_layers", "softmax_precisions"]

# Softmax and recurrent table keys that hls4ml reads as layer attributes rather than from 'Precision' (see shared notes).
_LAYER_KEYS = ("exp_table_t", "inv_table_t", "inv_inp_t", "accum_t", "inp_norm_t", "table_t")


def logits_layer(model) -> str | None:
    """Name of the layer whose output enters the final softmax, or None if the model has no softmax output (or
    several outputs: their values are compared side by side as they are)."""
    if len(model.outputs) > 1:
        return None
    last = model.layers[-1]
    if getattr(last, "activation", None) is None or last.get_config().get("activation") != "softmax":
        return None
    return inbound_layers(last)[0].name


def softmax_precisions(n_classes: int, max_spread: float, table_size: int) -> dict[str, str]:
    """Fixed-point types for hls4ml's 'stable' softmax, sized from the data instead of the 18-bit defaults.

    ``max_spread`` is the largest ``max(logits) - logit`` seen on calibration data. The normalised input
    ``inp_norm_t`` spans that range (capped at 16: ``exp(-16)`` is below the table's LSB) with exactly
    ``log2(table_size)`` bits, so every bit indexes the exp table; exp and 1/sum tables are unsigned with
    17 fractional bits, rounded and saturating. Measured on the 6-bit jet tagger: 16,384 entries gave 100%
    argmax agreement with QKeras and a largest difference of 5e-4 (default config: 99.1%, 0.2).
    """
    n_bits = int(math.log2(table_size))
    integer = min(4, max(1, math.ceil(math.log2(max(max_spread, 1.0) * 1.25))))
    sum_int = max(1, math.ceil(math.log2(n_classes + 1)))
    return {
        "inp_norm_t": FixedSpec(n_bits, integer, signed=False, rounding="RND", saturation="SAT").hls(),
        "exp_table_t": FixedSpec(18, 1, signed=False, rounding="RND", saturation="SAT").hls(),
        "accum_t": FixedSpec(17 + sum_int, sum_int, signed=False, rounding="RND", saturation="SAT").hls(),
        "inv_inp_t": FixedSpec(17 + sum_int, sum_int, signed=False, rounding="RND", saturation="SAT").hls(),
        "inv_table_t": FixedSpec(18, 1, signed=False, rounding="RND", saturation="SAT").hls(),
    }


def check_precision(precision: dict[str, dict[str, str]], layers: dict[str, dict[str, Any]]) -> None:
    """Refuse a ``hls.precision`` entry for a layer hls4ml's graph does not have, or a type key that layer
    does not have (hls4ml would silently ignore ``rezult``). ``layers`` is ``config_from_keras_model``'s
    ``LayerName``, which lists every configurable type of every node."""
    for name, entries in precision.items():
        if name not in layers:
            raise ConfigError(
                f"hls.precision names layer '{name}', which the model does not have: "
                f"choose from {', '.join(sorted(layers))}"
            )
        known = set(layers[name].get("Precision", {}))
        allowed = known | {k for k in _LAYER_KEYS if k.removesuffix("_t") in known or "table" in known}
        for key in entries:
            if key not in allowed:
                raise ConfigError(
                    f"hls.precision.{name}.{key}: layer '{name}' has no type '{key}' (hls4ml would ignore it): "
                    f"choose from {', '.join(sorted(allowed))}"
                )


def precision_layers(model, backend: str) -> dict[str, dict[str, Any]]:
    """hls4ml's per-node configuration of ``model`` (``LayerName``): the names and type keys it accepts."""
    import contextlib
    import io

    from .adapter import load_hls4ml

    hls4ml = load_hls4ml()
    with contextlib.redirect_stdout(io.StringIO()):
        return hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend)["LayerName"]


def make_hls_config(model, cfg, *, softmax_spread: float | None = None) -> dict[str, Any]:
    """Build the hls4ml ``hls_config`` dict for ``model`` from ``cfg`` (a RunConfig).

    - per-layer ('name' granularity) types from hls4ml, which follow the QKeras quantizers exactly and
      infer exact accumulator/result widths ('auto');
    - the input layer typed as ``cfg.quantization.input``;
    - recurrent layers with the wide accumulator/state types and fine tables of :mod:`.recurrent`;
    - the layer feeding the softmax traced, so its (bit-exact) output can be read back from C simulation;
    - softmax tables sized from ``softmax_spread`` (see :func:`softmax_precisions`);
    - then the user's ``hls.precision`` overrides, layer by layer;
    - last, exact types for the nodes hls4ml would leave at its default (po2 sums, split activations:
      :mod:`.exact_types`), where the user set none.
    """
    from .adapter import load_hls4ml

    hls4ml = load_hls4ml()
    hls = cfg.hls
    hc = hls4ml.utils.config_from_keras_model(
        model, granularity="name", backend=hls.backend, default_reuse_factor=hls.reuse_factor
    )
    hc["Model"]["Strategy"] = hls.strategy
    hc["Model"]["ReuseFactor"] = hls.reuse_factor
    layers: dict[str, dict[str, Any]] = hc["LayerName"]
    # every input layer, as hls4ml names it (a Sequential model's input is '<first layer>_input', not the first
    # layer: typing that would give the first layer's result the input type)
    for input_name in input_names(model):
        layers.setdefault(input_name, {}).setdefault("Precision", {})["result"] = (
            cfg.quantization.input_type.hls()
        )

    for name, kv in keep_quantizer_modes(model, layers).items():
        set_types(layers[name], kv)

    for layer in recurrent_layers(model):
        recurrent_precisions(layers[layer.name], hls.recurrent, state_type(layer))

    if hls.activation_table_size is not None:
        for layer in model.layers:
            if layer.get_config().get("activation") in ("sigmoid", "tanh") and layer.name in layers:
                layers[layer.name]["TableSize"] = hls.activation_table_size

    logits = logits_layer(model)
    last = model.layers[-1]
    if logits is not None and last.__class__.__name__ not in ("Activation", "Softmax"):
        raise ConfigError(
            f"layer '{last.name}' ({last.__class__.__name__}) applies its softmax itself: hls4ml would split it into "
            "two nodes sharing one precision (the logits would get the softmax's unsigned type). Split it into "
            f"{last.__class__.__name__}(..., activation='linear') + Activation('softmax'), or use "
            "triggernn.compile, which splits fused activations"
        )
    if logits is not None:
        layers[logits]["Trace"] = True
        sm_name = model.layers[-1].name
        sm = layers[sm_name]
        sm["TableSize"] = hls.softmax.table_size
        sm["Implementation"] = hls.softmax.implementation
        sm["Precision"]["result"] = FixedSpec(16, 0, signed=False, rounding="RND", saturation="SAT").hls()
        n_classes = int(model.output_shape[-1])
        sm.update(softmax_precisions(n_classes, softmax_spread or 8.0, hls.softmax.table_size))

    check_precision(hls.precision, layers)
    for name, entries in hls.precision.items():
        for key, text in entries.items():
            value = parse_fixed(text).hls()
            if key in _LAYER_KEYS:
                layers[name][key] = value
            else:
                layers[name].setdefault("Precision", {})[key] = value
    for name, kv in exact_precisions(model, hc, hls.backend, hls.io_type).items():
        set_types(layers.setdefault(name, {}), kv)
    return hc
