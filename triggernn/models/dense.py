"""The dense jet tagger of the hls4ml tutorial: 16 -> 64 -> 32 -> 32 -> 5 with 6-bit weights and ReLUs."""

from __future__ import annotations

from ..quantize import qkeras_bits, qkeras_relu
from .registry import register_model

INPUT_NAME = "features"  # 'input' is reserved by hls4ml's ModelGraph


@register_model("jet_dense")
def build_dense(cfg, *, input_shape: tuple[int, ...], n_classes: int, quantized: bool):
    """A multilayer perceptron ``fc1, relu1, ..., output[, softmax]``.

    Quantized: ``QDense`` with ``quantized_bits`` kernels and biases, ``QActivation(quantized_relu)``, the
    bits per layer from ``cfg.quantization``. Float: the same layers in plain Keras.
    """
    import tensorflow as tf
    from qkeras import QActivation, QDense

    m, q = cfg.model, cfg.quantization
    reg = tf.keras.regularizers.l1(m.l1) if m.l1 > 0 else None
    x = inputs = tf.keras.Input(shape=input_shape, name=INPUT_NAME)
    names = [f"fc{i + 1}" for i in range(len(m.hidden))] + ["output"]
    for i, (name, width) in enumerate(zip(names, (*m.hidden, n_classes), strict=True)):
        common = dict(kernel_initializer="lecun_uniform", kernel_regularizer=reg, name=name)
        if quantized:
            w, b = q.for_layer(name, "weight"), q.for_layer(name, "bias")
            x = QDense(
                width,
                kernel_quantizer=qkeras_bits(w.bits, w.integer),
                bias_quantizer=qkeras_bits(b.bits, b.integer),
                **common,
            )(x)
        else:
            x = tf.keras.layers.Dense(width, **common)(x)
        if name != "output" and m.activation == "relu":
            act = f"relu{i + 1}"
            if quantized:
                a = q.for_layer(name, "activation")
                x = QActivation(qkeras_relu(a.bits, a.integer), name=act)(x)
            else:
                x = tf.keras.layers.Activation("relu", name=act)(x)
    if m.softmax:
        x = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inputs, x, name=f"{cfg.name}_{'qkeras' if quantized else 'float'}")
