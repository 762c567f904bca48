"""A user's trained model, made ready for hls4ml: loaded from any of the usual files, layers that do nothing
at inference removed, fused activations split into their own layers.

Splitting ``Dense(..., activation="relu")`` into ``Dense`` + ``Activation`` named ``<layer>_relu`` is what
hls4ml does internally; doing it first makes every hls4ml node a Keras layer of the same name, so each one's
values can be measured on data, its type chosen from them, and the firmware compared with it layer by layer.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..compat import qkeras_custom_objects
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


def _is_chain(model) -> bool:
    """Every layer takes exactly the previous layer's output (Sequential, or a functional chain)."""
    layers = model.layers
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    for prev, layer in itertools.pairwise(layers):
        inbound = layer._inbound_nodes[0].inbound_layers
        inbound = inbound if isinstance(inbound, list) else [inbound]
        if len(inbound) != 1 or inbound[0] is not prev:
            return False
    return True


def prepare_for_hls(model, source: str = "") -> PreparedModel:
    """A copy of ``model`` with no-op layers removed and fused activations split (see the module docstring).

    Supports models whose layers form one chain; branching graphs are refused with the reason. The input
    layer is renamed 'features' if it is called 'input' (a name hls4ml reserves).
    """
    import tensorflow as tf

    if not isinstance(model, tf.keras.Sequential) and not _is_chain(model):
        raise ModelError(
            f"model '{model.name}' is not a single chain of layers (it branches or has several inputs/outputs): "
            "triggernn compile handles Sequential and chain-like functional models; convert a branching model "
            "with hls4ml directly or split it"
        )
    layers = [layer for layer in model.layers if layer.__class__.__name__ != "InputLayer"]
    in_name = model.layers[0].name if model.layers[0].__class__.__name__ == "InputLayer" else "features"
    x = inp = tf.keras.Input(model.input_shape[1:], name="features" if in_name == "input" else in_name)
    out = PreparedModel(model=None, source=source)
    built = []
    with tf.keras.utils.custom_object_scope(qkeras_custom_objects()):
        for layer in layers:
            kind = layer.__class__.__name__
            if kind in INFERENCE_NO_OPS:
                out.removed.append(f"{layer.name} ({kind})")
                continue
            conf = layer.get_config()
            act = conf.get("activation")
            split = kind in _SPLIT and act in _KERAS_ACTIVATIONS
            if split:
                conf["activation"] = "linear"
            new = layer.__class__.from_config(conf)
            x = new(x)
            built.append((new, layer))
            if split:
                name = f"{layer.name}_{act}"
                x = tf.keras.layers.Activation(act, name=name)(x)
                out.split.append(f"{layer.name} -> {name}")
    out.model = tf.keras.Model(inp, x, name=model.name)
    for new, old in built:
        new.set_weights(old.get_weights())
    return out
