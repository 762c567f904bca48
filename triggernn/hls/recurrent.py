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
from ..quantize import FixedSpec, parse_fixed

__all__ = [
    "RECURRENT_KINDS",
    "check_recurrent",
    "recurrent_layers",
    "recurrent_precisions",
    "state_type",
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
            state_type(layer)  # refuses a state quantizer that is not quantized_bits with alpha 1


def state_type(layer) -> str | None:
    """The firmware state type of a recurrent layer with a QKeras ``state_quantizer``, or None without one.

    QKeras quantizes the previous state at every step (``h_tm1 = state_quantizer(h)``), which is what the
    firmware does when the state (hls4ml's ``result``) has the quantizer's type: ``quantized_bits(b, i)``
    rounds half to even and clips, ``ap_fixed<b, i+1, RND_CONV, SAT>``. (hls4ml itself maps the state
    quantizer onto ``accum``, which would coarsen every value inside the cell instead.) Only the output of
    the last step differs: QKeras returns it unquantized, the firmware in the state type (below one LSB).
    """
    q = getattr(getattr(layer, "cell", layer), "state_quantizer_internal", None)
    if q is None:
        return None
    kind = q.__class__.__name__
    alpha = getattr(q, "alpha", None)
    if kind != "quantized_bits" or alpha not in (None, 1, 1.0) or not getattr(q, "keep_negative", True):
        raise HLSError(
            f"layer '{layer.name}' has state_quantizer {q}: triggernn maps quantized_bits(bits, integer, "
            "alpha=1) onto the firmware's state type; use that, or remove the state quantizer"
        )
    return FixedSpec(int(q.bits), int(q.integer) + 1, rounding="RND_CONV", saturation="SAT").hls()


def with_quantized_weights(model):
    """A copy of ``model`` whose variables hold the values QKeras computes with, where hls4ml would read the
    raw float ones: the recurrent layers' kernels and biases (point 1 above), and a QBatchNormalization's
    gamma, beta, moving mean and variance (hls4ml prints "Unsupported quantizer: quantized_po2" and folds
    the float values; QKeras normalizes with the quantized ones). Quantizers are idempotent, so the QKeras
    outputs do not change."""
    import tensorflow as tf

    layers = recurrent_layers(model)
    norms = [layer for layer in model.layers if layer.__class__.__name__ == "QBatchNormalization"]
    if not layers and not norms:
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
    for layer in norms:
        norm = copy.get_layer(layer.name)
        for var, qname, used in (
            (norm.gamma, "gamma_quantizer_internal", norm.scale),
            (norm.beta, "beta_quantizer_internal", norm.center),
            (norm.moving_mean, "mean_quantizer_internal", True),
            (norm.moving_variance, "variance_quantizer_internal", True),
        ):
            quantizer = getattr(norm, qname, None)
            if used and var is not None and quantizer is not None:
                var.assign(quantizer(var))
    return copy


def recurrent_precisions(layer_config: dict[str, Any], recipe, state: str | None = None) -> None:
    """Set ``recipe``'s types (a :class:`triggernn.config.RecurrentConfig`) on one recurrent layer's hls4ml
    config entry, in place: ``accum`` for every in-cell value, ``result`` for the state, ``table_t`` and
    ``TableSize`` for the tanh/sigmoid tables, the recurrent bias typed like the (quantized) bias. ``state``
    (from :func:`state_type`) replaces the recipe's state type where the layer quantizes its state."""
    prec = layer_config.setdefault("Precision", {})
    prec["accum"] = parse_fixed(recipe.accum).hls()
    prec["result"] = state or parse_fixed(recipe.state).hls()
    prec["recurrent_bias"] = prec.get("bias", prec.get("recurrent_bias"))
    prec.pop("table", None)  # ignored by hls4ml's recurrent layers: table_t below is what they read
    layer_config["table_t"] = parse_fixed(recipe.table).hls()
    layer_config["TableSize"] = recipe.table_size
