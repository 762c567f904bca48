"""A user's trained model, made ready for hls4ml: loaded from any of the usual files, layers that do nothing
at inference removed, fused activations split into their own layers.

Splitting ``Dense(..., activation="relu")`` into ``Dense`` + ``Activation`` named ``<layer>_relu`` is what
hls4ml does internally; doing it first makes every hls4ml node a Keras layer of the same name, so each one's
values can be measured on data, its type chosen from them, and the firmware compared with it layer by layer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..compat import graph_of, layer_output_shape, qkeras_custom_objects
from ..errors import ModelError
from .io import load_model

__all__ = ["INFERENCE_NO_OPS", "PreparedModel", "load_any", "prepare_for_hls"]

#: Layers that are the identity at inference. hls4ml 1.3.0's Keras converter skips only Dropout; triggernn
#: removes all of them before conversion.
INFERENCE_NO_OPS = (
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
)
_SPLIT = ("Dense", "Conv1D", "Conv2D", "SeparableConv2D", "DepthwiseConv2D")
_SPLIT += tuple(f"Q{kind}" for kind in (*_SPLIT, "SeparableConv1D"))
#: Keras' own activation names (a QKeras quantizer in ``activation`` stays: hls4ml types it exactly).
_KERAS_ACTIVATIONS = ("relu", "softmax", "sigmoid", "tanh", "elu", "selu", "softplus", "softsign", "swish",
                      "gelu", "hard_sigmoid", "exponential")  # fmt: skip


@dataclass
class PreparedModel:
    model: Any
    removed: list[str] = field(default_factory=list)
    """Layers removed as inactive at inference, as 'name (Kind)'."""
    split: list[str] = field(default_factory=list)
    """Fused activations moved into their own layer, as 'layer -> layer_activation'."""
    source: str = ""


def load_any(path: str | os.PathLike, weights: str | os.PathLike | None = None):
    """Load a Keras/QKeras model from a full-model file (``.h5``, ``.keras``), a SavedModel folder, or a JSON
    architecture plus an H5 weights file (``weights``, default: the JSON's name with ``.h5``; the form of
    hls4ml's published example models). QKeras layers and quantizers are registered automatically."""
    import tensorflow as tf

    from ..validate import path_name

    path = path_name(Path(path), "the model file")
    if path.suffix.lower() != ".json":
        if weights is not None:
            raise ModelError(
                f"'{path}' holds its own weights; --weights is for a .json architecture: drop --weights (or "
                "pass the .json)"
            )
        return load_model(path)
    weights = Path(weights) if weights is not None else path.with_suffix(".h5")
    if not path.is_file():
        raise ModelError(f"architecture file '{path}' does not exist")
    if not weights.is_file():
        raise ModelError(
            f"'{path}' holds only the architecture and no weights file was found at '{weights}': "
            "pass --weights FILE.h5 (saved with model.save_weights)"
        )
    try:
        text = path.read_text()
        json.loads(text)
        model = tf.keras.models.model_from_json(text, custom_objects=qkeras_custom_objects())
    except Exception as err:
        raise ModelError(f"'{path}' is not a Keras model architecture (model.to_json()): {err}") from None
    try:
        model.load_weights(weights)
    except Exception as err:
        raise ModelError(
            f"the weights in '{weights}' do not fit the architecture in '{path}': {err}"
        ) from None
    return model


def prepare_for_hls(model, source: str = "") -> PreparedModel:
    """A copy of ``model`` with no-op layers removed and fused activations split (see the module docstring).

    Sequential and functional models alike: a graph is rebuilt layer by layer from its config (skip
    connections, branches, merges, several inputs and outputs). An input layer called 'input' is renamed
    'features' (a name hls4ml reserves).
    """
    import tensorflow as tf

    out = PreparedModel(model=None, source=source)
    built = []
    tensors: dict[str, list] = {}
    if isinstance(model, tf.keras.Sequential):
        in_name = model.layers[0].name if model.layers[0].__class__.__name__ == "InputLayer" else "features"
        inputs = [in_name]
        order = [layer for layer in model.layers if layer.__class__.__name__ != "InputLayer"]
        inbound, prev = {}, in_name
        for layer in order:
            inbound[layer.name] = [(prev, 0)]
            prev = layer.name
        outputs = [(prev, 0)]
        shapes = {in_name: model.input_shape[1:]}
    else:
        inputs, inbound, outputs = graph_of(model)
        order = [layer for layer in model.layers if layer.name not in inputs]
        shapes = {layer.name: layer_output_shape(layer) for layer in model.layers if layer.name in inputs}
    new_inputs = []
    for name in inputs:
        inp = tf.keras.Input(shapes[name], name="features" if name == "input" else name)
        new_inputs.append(inp)
        tensors[name] = [inp]
    with tf.keras.utils.custom_object_scope(qkeras_custom_objects()):
        for layer in order:
            kind = layer.__class__.__name__
            args = [tensors[src][i] for src, i in inbound[layer.name]]
            x = args[0] if len(args) == 1 else args
            if kind in INFERENCE_NO_OPS:
                out.removed.append(f"{layer.name} ({kind})")
                tensors[layer.name] = [x]
                continue
            conf = layer.get_config()
            act = conf.get("activation")
            split = kind in _SPLIT and act in _KERAS_ACTIVATIONS
            if split:
                conf["activation"] = "linear"
            new = layer.__class__.from_config(conf)
            y = new(x)
            built.append((new, layer))
            if split:
                name = f"{layer.name}_{act}"
                y = tf.keras.layers.Activation(act, name=name)(y)
                out.split.append(f"{layer.name} -> {name}")
            tensors[layer.name] = y if isinstance(y, list) else [y]
    outs = [tensors[name][i] for name, i in outputs]
    out.model = tf.keras.Model(new_inputs if len(new_inputs) > 1 else new_inputs[0],
                               outs if len(outs) > 1 else outs[0], name=model.name)  # fmt: skip
    for new, old in built:
        new.set_weights(old.get_weights())
    return out
