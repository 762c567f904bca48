"""The CNN jet tagger on jet images: conv blocks (QConv2D, quantized ReLU, max pooling), then a dense head.

Default (``configs/jet_cnn.yaml``): 16x16x1 pT images -> conv1 3x3x8 -> pool -> conv2 3x3x8 -> pool ->
flatten -> fc1 16 -> output 5 -> softmax; emitted with ``io_stream`` (line buffers), as CNNs on FPGAs are.
"""

from __future__ import annotations

from ..errors import ConfigError
from .blocks import INPUT_NAME, activation, conv2d, head, model_name
from .registry import register_model


@register_model("jet_cnn")
@register_model("cnn")
def build_cnn(cfg, *, input_shape: tuple[int, ...], n_classes: int, quantized: bool):
    """``conv<i>, crelu<i>, pool<i>`` per entry of ``cfg.model.filters``, ``flatten``, then the dense head."""
    import tensorflow as tf

    if len(input_shape) != 3:
        raise ConfigError(
            f"jet_cnn needs images (height, width, channels), got inputs of shape {input_shape}: "
            "set data.representation: images"
        )
    m = cfg.model
    side = input_shape[0]
    for _ in m.filters:
        side = (side - m.kernel_size + 1) // m.pool_size
    if side < 1:
        raise ConfigError(
            f"{len(m.filters)} conv blocks with kernel {m.kernel_size} and pooling {m.pool_size} shrink a "
            f"{input_shape[0]}x{input_shape[1]} image to nothing: use fewer blocks, a smaller kernel or "
            "a larger data.image_size"
        )
    x = inputs = tf.keras.Input(shape=input_shape, name=INPUT_NAME)
    for i, filters in enumerate(m.filters, start=1):
        x = conv2d(x, cfg, f"conv{i}", filters, quantized)
        x = activation(x, cfg, f"crelu{i}", quantized, weights_of=f"conv{i}")
        if m.pool_size > 1:
            x = tf.keras.layers.MaxPooling2D(m.pool_size, name=f"pool{i}")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    return tf.keras.Model(inputs, head(x, cfg, n_classes, quantized), name=model_name(cfg, quantized))
