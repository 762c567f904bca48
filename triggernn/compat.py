"""Compatibility shims that let QKeras 0.9.0 run on the pinned TensorFlow 2.14.

QKeras' recurrent layers (``qkeras/qrecurrent.py``) call two private TensorFlow functions that TF 2.14 no
longer has: ``tensorflow.python.util.nest.is_sequence`` (renamed ``is_nested``) and
``tensorflow.python.ops.array_ops.unstack`` (public as ``tf.unstack``). Without them a ``QGRU``/``QLSTM``
fails on its first call with ``AttributeError``. :func:`import_qkeras` adds the two names, only if missing,
and returns the ``qkeras`` module; every place in triggernn that needs QKeras imports it through here.
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["import_qkeras", "qkeras_custom_objects"]

_patched = False


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
    """``import qkeras`` with the TensorFlow 2.14 shims applied first."""
    _patch_tensorflow()
    import qkeras

    return qkeras


def qkeras_custom_objects() -> dict[str, object]:
    """The custom objects ``tf.keras.models.load_model`` needs for a saved QKeras model."""
    import_qkeras()
    from qkeras.utils import _add_supported_quantized_objects

    objects: dict[str, object] = {}
    _add_supported_quantized_objects(objects)
    return objects
