"""The recurrent jet tagger on pT-ordered constituent sequences: one QGRU, then a dense head.

Default (``configs/jet_gru.yaml``): 20 particles x (pt_rel, deta, dphi) -> gru 16 units (tanh, sigmoid,
``reset_after``) -> output 5 -> softmax. The kernel, recurrent kernel and bias are ``quantized_bits``;
the activations stay float in QKeras and become lookup tables in hls4ml (see docs/recurrent.md for the
precision recipe that makes the two agree).
"""

from __future__ import annotations

from ..compat import import_qkeras
from ..errors import ConfigError
from ..quantize import qkeras_bits
from .blocks import INPUT_NAME, head, model_name
from .registry import register_model


@register_model("jet_gru")
def build_gru(cfg, *, input_shape: tuple[int, ...], n_classes: int, quantized: bool):
    """``gru`` (``cfg.model.units``, reset-after form) returning its last state, then the dense head."""
    import tensorflow as tf

    if len(input_shape) != 2:
        raise ConfigError(
            f"jet_gru needs sequences (length, features), got inputs of shape {input_shape}: "
            "set data.representation: sequences"
        )
    m = cfg.model
    name = "gru"
    # reset_after=True: the only form hls4ml's GRU template computes
    common = dict(activation="tanh", recurrent_activation="sigmoid", reset_after=True, name=name)
    x = inputs = tf.keras.Input(shape=input_shape, name=INPUT_NAME)
    if quantized:
        qk = import_qkeras()
        w = cfg.quantization.for_layer(name, "weight")
        b = cfg.quantization.for_layer(name, "bias")
        x = qk.QGRU(
            m.units,
            kernel_quantizer=qkeras_bits(w.bits, w.integer),
            recurrent_quantizer=qkeras_bits(w.bits, w.integer),
            bias_quantizer=qkeras_bits(b.bits, b.integer),
            **common,
        )(x)
    else:
        x = tf.keras.layers.GRU(m.units, **common)(x)
    return tf.keras.Model(inputs, head(x, cfg, n_classes, quantized), name=model_name(cfg, quantized))
