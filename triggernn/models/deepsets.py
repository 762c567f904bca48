"""The Deep Sets jet tagger on constituents (Zaheer et al. 2017; for L1, Odagiu et al. 2024, arXiv:2402.01876).

Default (``configs/jet_deepsets.yaml``): 16 particles x (pt_rel, deta, dphi, log_pt_rel) -> ``phi``, the same
QDense(``units``) on every particle, and its ReLU -> ``pool``, the mean over the particles (permutation
invariant) -> the dense head -> 5 classes. With 16 (a power of two) particles the mean is exact in fixed
point, so the firmware is bit-exact with QKeras (triggernn types the pooling's sum and division, and keeps
the per-particle QDense's quantizers that hls4ml 1.3.0 drops).
"""

from __future__ import annotations

from ..errors import ConfigError
from .blocks import INPUT_NAME, activation, dense, head, model_name
from .registry import register_model


@register_model("jet_deepsets")
def build_deepsets(cfg, *, input_shape: tuple[int, ...], n_classes: int, quantized: bool):
    """``phi`` (``cfg.model.units`` per particle) and ``phi_relu``, ``pool`` (global average), then the head."""
    import tensorflow as tf

    if len(input_shape) != 2:
        raise ConfigError(
            f"jet_deepsets needs particles (length, features), got inputs of shape {input_shape}: "
            "set data.representation: sequences"
        )
    x = inputs = tf.keras.Input(shape=input_shape, name=INPUT_NAME)
    x = dense(x, cfg, "phi", cfg.model.units, quantized)  # a Dense on (particles, features): per particle
    x = activation(x, cfg, "phi_relu", quantized, weights_of="phi")
    x = tf.keras.layers.GlobalAveragePooling1D(name="pool")(x)
    return tf.keras.Model(inputs, head(x, cfg, n_classes, quantized), name=model_name(cfg, quantized))
