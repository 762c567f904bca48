"""The dense jet tagger of the hls4ml tutorial: 16 -> 64 -> 32 -> 32 -> 5 with 6-bit weights and ReLUs."""

from __future__ import annotations

from .blocks import INPUT_NAME, head, model_name
from .registry import register_model


@register_model("jet_dense")
@register_model("dense")
def build_dense(cfg, *, input_shape: tuple[int, ...], n_classes: int, quantized: bool):
    """A multilayer perceptron ``fc1, relu1, ..., output[, softmax]``.

    Quantized: ``QDense`` with ``quantized_bits`` kernels and biases, ``QActivation(quantized_relu)``, the
    bits per layer from ``cfg.quantization``. Float: the same layers in plain Keras.
    """
    import tensorflow as tf

    inputs = tf.keras.Input(shape=input_shape, name=INPUT_NAME)
    return tf.keras.Model(inputs, head(inputs, cfg, n_classes, quantized), name=model_name(cfg, quantized))
