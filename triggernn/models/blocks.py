"""Layer blocks shared by the model families: each adds float or QKeras layers with fixed names.

Names matter: the float and QKeras variants of a family share them, ``quantization.layers`` overrides and
``hls.precision`` entries refer to them, and hls4ml's per-layer config is keyed by them.
"""

from __future__ import annotations

from ..compat import import_qkeras
from ..quantize import qkeras_bits, qkeras_relu

INPUT_NAME = "features"  # 'input' is reserved by hls4ml's ModelGraph


def _quantizers(cfg, name: str) -> dict:
    w, b = cfg.quantization.for_layer(name, "weight"), cfg.quantization.for_layer(name, "bias")
    return dict(
        kernel_quantizer=qkeras_bits(w.bits, w.integer), bias_quantizer=qkeras_bits(b.bits, b.integer)
    )


def activation(x, cfg, name: str, quantized: bool, *, weights_of: str):
    """A ReLU named ``name`` (``quantized_relu`` with the activation bits of layer ``weights_of``)."""
    import tensorflow as tf

    if cfg.model.activation != "relu":
        return x
    if quantized:
        a = cfg.quantization.for_layer(weights_of, "activation")
        return import_qkeras().QActivation(qkeras_relu(a.bits, a.integer), name=name)(x)
    return tf.keras.layers.Activation("relu", name=name)(x)


def dense(x, cfg, name: str, width: int, quantized: bool):
    """``Dense``/``QDense`` with ``quantized_bits`` kernel and bias, L1-regularized as ``cfg.model.l1``."""
    import tensorflow as tf

    l1 = cfg.model.l1
    common = dict(
        kernel_initializer="lecun_uniform",
        kernel_regularizer=tf.keras.regularizers.l1(l1) if l1 > 0 else None,
        name=name,
    )
    if quantized:
        return import_qkeras().QDense(width, **_quantizers(cfg, name), **common)(x)
    return tf.keras.layers.Dense(width, **common)(x)


def conv2d(x, cfg, name: str, filters: int, quantized: bool):
    """``Conv2D``/``QConv2D`` (valid padding, stride 1) with ``quantized_bits`` kernel and bias."""
    import tensorflow as tf

    k = cfg.model.kernel_size
    common = dict(kernel_size=(k, k), kernel_initializer="he_uniform", name=name)
    if quantized:
        return import_qkeras().QConv2D(filters, **_quantizers(cfg, name), **common)(x)
    return tf.keras.layers.Conv2D(filters, **common)(x)


def head(x, cfg, n_classes: int, quantized: bool, *, start: int = 1):
    """Dense layers ``fc<start>, relu<start>[, drop<start>], ...`` of widths ``cfg.model.hidden``, then
    ``output`` and (if ``cfg.model.softmax``) ``softmax``."""
    import tensorflow as tf

    for i, width in enumerate(cfg.model.hidden, start=start):
        x = dense(x, cfg, f"fc{i}", width, quantized)
        x = activation(x, cfg, f"relu{i}", quantized, weights_of=f"fc{i}")
        if cfg.model.dropout > 0:  # inactive at inference: hls4ml drops it from the firmware
            x = tf.keras.layers.Dropout(cfg.model.dropout, name=f"drop{i}")(x)
    x = dense(x, cfg, "output", n_classes, quantized)
    if cfg.model.softmax:
        x = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return x


def model_name(cfg, quantized: bool) -> str:
    return f"{cfg.name}_{'qkeras' if quantized else 'float'}"
