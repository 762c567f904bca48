"""hls4ml 1.3.0's Keras 3 parser, taught QKeras-v3's layers through its own extension point.

hls4ml 1.3.0 converts Keras 3 models layer by layer with handlers registered by subclassing
``hls4ml.converters.keras_v3._base.KerasV3LayerHandler`` (its ``handles`` names the layer classes). It has
handlers for HGQ2 but none for QKeras-v3 (``qkeras-v3``, QKeras' API on Keras 3: they came to hls4ml's main
after 1.3.0), so a ``QActivation`` falls back to hls4ml's Keras 2 handler, and that fallback fails on its
activation check (``Activation function for layer relu1 is not a function``: a QKeras activation is a
quantizer object). The handler below does what the fallback does, hls4ml's own Keras 2 (QKeras) handler on
the layer's config and weights, with the activation of a quantized layer split out as the Keras 2 converter
splits it: a ``QActivation`` node of the quantizer, or an ``Activation`` of a Keras function.

Registered once, on the Keras 3 stack with qkeras-v3 installed; no hls4ml file or class is changed.
"""

from __future__ import annotations

from types import FunctionType
from typing import Any

import numpy as np

__all__ = ["QKERAS_V3_LAYERS", "register"]

#: The QKeras-v3 classes converted by hls4ml's Keras 2 QKeras handlers, as ``module.Class``. The recurrent
#: ones are left to hls4ml (its Keras 2 handlers read weights by Keras 2's variable names).
QKERAS_V3_LAYERS = (
    "qkeras.qlayers.QActivation",
    "qkeras.qlayers.QDense",
    "qkeras.qconvolutional.QConv1D",
    "qkeras.qconvolutional.QConv2D",
    "qkeras.qconvolutional.QDepthwiseConv2D",
    "qkeras.qconvolutional.QSeparableConv1D",
    "qkeras.qconvolutional.QSeparableConv2D",
    "qkeras.qnormalization.QBatchNormalization",
    "qkeras.qconv2d_batchnorm.QConv2DBatchnorm",
)

_registered = False


def _activation_layer(layer, act: Any, name_in: str, name_out: str, v2, shape) -> dict[str, Any]:
    """The node of a quantized layer's own activation, as hls4ml's Keras 2 converter builds it."""
    if isinstance(act, FunctionType):  # a Keras function (relu, softmax, ...)
        kind, cfg = "Activation", {"name": f"{layer.name}_{act.__name__}", "activation": act.__name__}
    else:  # a QKeras quantizer
        q = layer.get_config()["activation"]
        if isinstance(q, str):
            q = {"class_name": q.split("(")[0], "config": {}}
        kind, cfg = "QActivation", {"name": f"{layer.name}_{q['class_name']}", "activation": q}
    node, _ = v2[kind]({"class_name": kind, "config": cfg}, None, [shape], None)
    node["input_keras_tensor_names"] = (name_in,)
    node["output_keras_tensor_names"] = (name_out,)
    return node


def register() -> None:
    """Register the QKeras-v3 handlers with hls4ml's Keras 3 parser (once; a no-op after)."""
    global _registered
    if _registered:
        return
    import keras
    from hls4ml.converters.keras_v2_to_hls import layer_handlers as v2
    from hls4ml.converters.keras_v3._base import KerasV3LayerHandler

    class QKerasV3Handler(KerasV3LayerHandler):
        handles = QKERAS_V3_LAYERS

        def __call__(self, layer, in_tensors, out_tensors):
            kind = layer.__class__.__name__

            class Reader:  # the weights of this layer, by the Keras 2 handlers' names
                def get_weights_data(self, layer_name, var_name):
                    for w in layer.weights:
                        if var_name in w.path.split("/")[-1] or var_name in w.name:
                            return np.array(w)
                    return None

            names_in = [t.name for t in in_tensors]
            names_out = [t.name for t in out_tensors]
            node, shape = v2[kind](
                {"class_name": kind, "config": layer.get_config()},
                names_in,
                [list(t.shape) for t in in_tensors],
                Reader(),
            )
            if kind != "QActivation":
                node.pop("activation", None)
            node["input_keras_tensor_names"] = names_in
            node["output_keras_tensor_names"] = names_out
            act = getattr(layer, "activation", None)
            if kind == "QActivation" or act in (keras.activations.linear, None):
                return (node,)
            between = f"{names_out[0]}_activation"
            node["output_keras_tensor_names"] = [between]
            return node, _activation_layer(layer, act, between, names_out[0], v2, shape)

    _registered = True
