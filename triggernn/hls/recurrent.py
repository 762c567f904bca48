"""What hls4ml 1.3.0 needs to compute a quantized GRU/LSTM the way QKeras does (docs/recurrent.md).

Measured facts this module acts on (shared notes, re-measured on our jet_gru):

1. hls4ml registers a recurrent layer's weights *without* its quantizers (QDense passes them), so the
   weight files would hold the float shadow weights, which the C++ then casts with truncation and
   wrap-around (a raw +1.0 becomes -1.0; the recurrent bias is not quantized at all). :func:`with_quantized_weights`
   writes the quantized values into a copy of the model before conversion; quantizers are idempotent, so the
   QKeras outputs do not change.
2. Everything inside the cell (pre-activations, gate outputs, products) is computed in the layer's
   ``accum`` type and the state is cast to ``result`` at every step; tanh/sigmoid are lookup tables whose
   type is the layer key ``table_t`` (the ``Precision: table`` entry is ignored). :func:`recurrent_precisions`
   sets the wide types and fine tables (``hls.recurrent`` in the config) that reach >= 99.9% argmax agreement.
3. Forms the C++ templates do not implement are refused up front (:func:`check_recurrent`).
"""

from __future__ import annotations

from typing import Any

from ..errors import HLSError
from ..quantize import parse_fixed

__all__ = [
    "RECURRENT_KINDS",
    "check_recurrent",
    "recurrent_layers",
    "recurrent_precisions",
    "with_quantized_weights",
]

RECURRENT_KINDS = ("QGRU", "QLSTM", "GRU", "LSTM", "QSimpleRNN", "SimpleRNN")
_SUPPORTED = (
    "QGRU",
    "GRU",
    "QSimpleRNN",
    "SimpleRNN",
)  # SimpleRNN through triggernn's template (simple_rnn.py)


def recurrent_layers(model) -> list:
    return [layer for layer in model.layers if layer.__class__.__name__ in RECURRENT_KINDS]


def check_recurrent(model) -> None:
    """Refuse recurrent layers or options whose emitted C++ would not compute what Keras computes."""
    for layer in recurrent_layers(model):
        kind = layer.__class__.__name__
        conf = layer.get_config()
        where = f"layer '{layer.name}' ({kind})"
        if kind not in _SUPPORTED:
            raise HLSError(
                f"{where}: triggernn compiles GRU and SimpleRNN recurrent layers only (hls4ml 1.3.0's LSTM "
                "did not agree with Keras or did not compile in our tests): use a QGRU"
            )
        gru = "GRU" in kind
        if gru and conf.get("reset_after") is False:
            raise HLSError(
                f"{where} has reset_after=False, but hls4ml's GRU always computes the reset-after form and would "
                "silently disagree: build it with reset_after=True"
            )
        if not conf.get("use_bias", True):
            raise HLSError(
                f"{where} has use_bias=False, which hls4ml's recurrent layers do not support: use_bias=True"
            )
        if conf.get("return_sequences"):
            raise HLSError(f"{where} returns sequences: triggernn supports return_sequences=False only")
        checks = (
            (("activation", "tanh"), ("recurrent_activation", "sigmoid"))
            if gru
            else (("activation", "tanh"),)
        )
        for key, allowed in checks:
            value = conf.get(key)
            if isinstance(value, dict):  # a serialized QKeras quantizer, e.g. quantized_tanh
                value = value.get("class_name", value)
            if value != allowed:
                raise HLSError(
                    f"{where} has {key}={value!r}: hls4ml implements a recurrent {key} as a float lookup "
                    f"table only ('Hard activation not supported' for quantized ones); use {key}='{allowed}'"
                )
        if conf.get("state_quantizer"):
            raise HLSError(
                f"{where} has a state_quantizer, which hls4ml maps onto the in-cell accumulator and so "
                "coarsens every value inside the cell: remove it (the state type is set by triggernn)"
            )


def with_quantized_weights(model):
    """A copy of ``model`` whose recurrent layers hold their quantized weights (see point 1 above)."""
    import tensorflow as tf

    layers = recurrent_layers(model)
    if not layers:
        return model
    copy = tf.keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for layer in layers:
        cell = copy.get_layer(layer.name).cell
        for var, qname in (
            (cell.kernel, "kernel_quantizer_internal"),
            (cell.recurrent_kernel, "recurrent_quantizer_internal"),
            (cell.bias, "bias_quantizer_internal"),
        ):
            quantizer = getattr(cell, qname, None)
            if quantizer is not None:
                var.assign(quantizer(var))
    return copy


def recurrent_precisions(layer_config: dict[str, Any], recipe) -> None:
    """Set ``recipe``'s types (a :class:`triggernn.config.RecurrentConfig`) on one recurrent layer's hls4ml
    config entry, in place: ``accum`` for every in-cell value, ``result`` for the state, ``table_t`` and
    ``TableSize`` for the tanh/sigmoid tables, the recurrent bias typed like the (quantized) bias."""
    prec = layer_config.setdefault("Precision", {})
    prec["accum"] = parse_fixed(recipe.accum).hls()
    prec["result"] = parse_fixed(recipe.state).hls()
    prec["recurrent_bias"] = prec.get("bias", prec.get("recurrent_bias"))
    prec.pop("table", None)  # ignored by hls4ml's recurrent layers: table_t below is what they read
    layer_config["table_t"] = parse_fixed(recipe.table).hls()
    layer_config["TableSize"] = recipe.table_size
