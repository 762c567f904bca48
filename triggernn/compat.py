"""The one door to Keras and its quantized layers, on both supported stacks (docs/keras3.md).

- **Keras 2** (Python 3.11): TensorFlow 2.14, Keras 2.14, QKeras 0.9.0. QKeras' recurrent layers
  (``qkeras/qrecurrent.py``) call two private TensorFlow functions that TF 2.14 no longer has:
  ``tensorflow.python.util.nest.is_sequence`` (renamed ``is_nested``) and ``tensorflow.python.ops.array_ops.unstack``
  (public as ``tf.unstack``). :func:`import_qkeras` adds the two names, only if missing.
- **Keras 3** (Python 3.12): TensorFlow 2.21, Keras 3.15, with the quantized layers of one extra: ``hgq2`` (HGQ2,
  bit-exact by construction) or ``qkeras-v3`` (QKeras' API on Keras 3). Both install a top-level ``qkeras``
  package and overwrite each other's files, so one environment holds one of them (:func:`check_stack`).

Every place in triggernn that needs QKeras, a model's custom objects or a model's graph goes through here; the
differences between the stacks live in this module and in ``hls/adapter/`` (hls4ml's side), nowhere else.
"""

from __future__ import annotations

import functools
from importlib import metadata
from types import ModuleType
from typing import Any

from .errors import ModelError

__all__ = [
    "check_stack",
    "custom_objects",
    "graph_of",
    "import_qkeras",
    "inbound_layers",
    "input_names",
    "keras3",
    "layer_output_shape",
    "magnitude_pruning",
    "probe_model",
    "qkeras_custom_objects",
    "quantized_display_name",
    "quantized_library",
    "stack_name",
]

_patched = False


def _installed(dist: str) -> bool:
    try:
        metadata.version(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


@functools.cache
def keras3() -> bool:
    """Whether this environment's Keras is Keras 3 (the Python 3.12 stack)."""
    try:
        return int(metadata.version("keras").split(".")[0]) >= 3
    except metadata.PackageNotFoundError:  # TensorFlow's own tf.keras only (not a supported stack)
        return False


@functools.cache
def quantized_library() -> str | None:
    """The quantized-layer library of this environment: ``"qkeras"`` (0.9, Keras 2), ``"hgq2"`` or
    ``"qkeras-v3"`` (Keras 3), or None where none is installed."""
    if not keras3():
        return "qkeras" if _installed("qkeras") else None
    check_stack()
    for dist in ("hgq2", "qkeras-v3"):
        if _installed(dist):
            return dist
    return None


def quantized_display_name() -> str:
    """How reports name the quantized model: QKeras (0.9 or v3), or HGQ2."""
    return "HGQ2" if quantized_library() == "hgq2" else "QKeras"


def stack_name() -> str:
    """A one-line name of this environment's stack, for reports and messages."""
    import platform

    lib = quantized_library() or "no quantized layers"
    return (
        f"Keras {metadata.version('keras') if keras3() else '2'} + {lib} (Python {platform.python_version()})"
    )


def check_stack() -> None:
    """Refuse an environment holding both hgq2 and qkeras-v3: both install a top-level ``qkeras`` package and
    overwrite each other's files, so ``import qkeras`` breaks in ways that look like bugs elsewhere."""
    if _installed("hgq2") and _installed("qkeras-v3"):
        raise ModelError(
            "hgq2 and qkeras-v3 are both installed here; both ship a top-level 'qkeras' package and break each "
            "other: keep one (pip uninstall -y qkeras-v3, or make keras3 KERAS3_LAYERS=qkeras-v3 for a fresh "
            "environment with the other)"
        )


def _patch_tensorflow() -> None:
    global _patched
    if _patched:
        return
    import tensorflow as tf
    from tensorflow.python.ops import array_ops
    from tensorflow.python.util import nest

    if not hasattr(nest, "is_sequence"):
        nest.is_sequence = nest.is_nested
    if not hasattr(array_ops, "unstack"):
        array_ops.unstack = tf.unstack
    _patched = True


def import_qkeras() -> ModuleType:
    """``import qkeras``: QKeras 0.9 with the TensorFlow 2.14 shims applied first, or QKeras-v3 on Keras 3."""
    if keras3():
        if quantized_library() != "qkeras-v3":
            raise ModelError(
                "QKeras layers on the Keras 3 stack need qkeras-v3, and this environment has "
                f"{quantized_library() or 'no quantized layers'}: make keras3 KERAS3_LAYERS=qkeras-v3 (or use "
                "the Keras 2 stack, Python 3.11: make install)"
            )
    else:
        _patch_tensorflow()
    import qkeras

    return qkeras


def custom_objects() -> dict[str, object]:
    """The custom objects loading a saved quantized model needs: QKeras' (0.9 or v3); HGQ2 registers its own
    layers with Keras when imported."""
    lib = quantized_library()
    if lib == "hgq2":
        import hgq  # noqa: F401  (registers HGQ2's layers and quantizers as Keras serializables)

        return {}
    if lib is None:
        return {}
    import_qkeras()
    from qkeras.utils import _add_supported_quantized_objects

    objects: dict[str, object] = {}
    _add_supported_quantized_objects(objects)
    return objects


#: The name the Keras 2 stack's code has always used.
qkeras_custom_objects = custom_objects


def layer_output_shape(layer) -> tuple[int | None, ...]:
    """A layer's output shape without the batch axis (the first output's, for a layer with several)."""
    if keras3():
        out = layer.output
        out = out[0] if isinstance(out, list | tuple) else out
        return tuple(out.shape[1:])
    shape = layer.output_shape
    return tuple((shape[0] if isinstance(shape, list) else shape)[1:])


def inbound_layers(layer) -> list:
    """The layers whose outputs a layer (called once) takes, in order."""
    node = layer._inbound_nodes[0]
    if keras3():
        return [t._keras_history.operation for t in node.input_tensors]
    inbound = node.inbound_layers
    return list(inbound) if isinstance(inbound, list | tuple) else [inbound]


def input_names(model) -> list[str]:
    """The names of a model's input layers, in order (hls4ml names its input nodes so)."""
    return [x.name.split(":")[0] for x in model.inputs]


def probe_model(model, outputs):
    """A model from ``model``'s inputs to ``outputs`` (intermediate tensors), called as ``model`` is: on Keras 3 a
    one-input model takes its input bare (a list of one warns there)."""
    import tensorflow as tf

    inputs = model.inputs[0] if keras3() and len(model.inputs) == 1 else model.inputs
    return tf.keras.Model(inputs, outputs)


def _history(arg: Any) -> list[tuple[str, int]]:
    """The (layer, tensor index) of every Keras 3 ``__keras_tensor__`` in a serialized call argument, in order."""
    if isinstance(arg, dict):
        if arg.get("class_name") == "__keras_tensor__":
            name, _node, index = arg["config"]["keras_history"]
            return [(name, int(index))]
        return [h for v in arg.values() for h in _history(v)]
    if isinstance(arg, list | tuple):
        return [h for v in arg for h in _history(v)]
    return []


def graph_of(model) -> tuple[list[str], dict[str, list[tuple[str, int]]], list[tuple[str, int]]]:
    """A functional model's graph from its config: input layer names, each layer's inputs as (layer, tensor
    index), and the outputs. A layer called on several inputs sets (a shared layer) is refused."""
    cfg = model.get_config()
    inbound: dict[str, list[tuple[str, int]]] = {}
    for layer in cfg["layers"]:
        nodes = layer.get("inbound_nodes") or []
        if len(nodes) > 1:
            raise ModelError(
                f"layer '{layer['name']}' is applied {len(nodes)} times (a shared layer): hls4ml converts each call "
                "as its own layer; give each call its own layer"
            )
        if not nodes:
            inbound[layer["name"]] = []
        elif isinstance(nodes[0], dict):  # Keras 3: {"args": [...], "kwargs": {...}}
            inbound[layer["name"]] = _history(nodes[0].get("args", []))
        else:  # Keras 2: [[layer, node, tensor, kwargs], ...]
            inbound[layer["name"]] = [(n[0], int(n[2])) for n in nodes[0]]

    def ends(entries) -> list[tuple[str, int]]:
        if entries and isinstance(entries[0], str):  # one tensor, written flat
            entries = [entries]
        return [(n[0], int(n[2])) for n in entries]

    return [n for n, _ in ends(cfg["input_layers"])], inbound, ends(cfg["output_layers"])


def magnitude_pruning(model, sparsity: float, prunable, frequency: int = 20):
    """A Keras 3 callback pruning ``model``'s prunable kernels to ``sparsity`` by magnitude, as the Keras 2
    stack's tensorflow-model-optimization does it (``ConstantSparsity`` from the first step, masks renewed every
    ``frequency`` steps and applied after every step, the weights that training ends with pruned again: the
    callback goes after EarlyStopping); tfmot runs on Keras 2 only. ``prunable(layer)`` picks the layers."""
    import keras
    import numpy as np

    kernels = [layer.kernel for layer in model.layers if prunable(layer)]

    class MagnitudePruning(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.masks: list = [None] * len(kernels)
            self.step = 0

        def _apply(self, renew: bool) -> None:
            for i, k in enumerate(kernels):
                w = keras.ops.convert_to_numpy(k.value)
                if renew or self.masks[i] is None:
                    n = round(sparsity * w.size)
                    threshold = np.sort(np.abs(w), axis=None)[n - 1] if n > 0 else -1.0
                    self.masks[i] = (np.abs(w) > threshold).astype(w.dtype)
                k.assign(w * self.masks[i])

        def on_train_batch_end(self, batch, logs=None) -> None:
            self._apply(renew=self.step % frequency == 0)
            self.step += 1

        def on_train_end(self, logs=None) -> None:  # after EarlyStopping restored the best weights
            self._apply(renew=True)

    return MagnitudePruning()
