"""Loading saved Keras / QKeras models with clear errors."""

from __future__ import annotations

import os
from pathlib import Path

from ..compat import qkeras_custom_objects
from ..errors import ModelError

__all__ = ["load_model"]


def load_model(path: str | os.PathLike):
    """Load a Keras or QKeras model saved as ``.h5``, ``.keras`` or a SavedModel folder.

    Raises :class:`ModelError` naming the file and the fix if it is missing or not a Keras model.
    """
    import tensorflow as tf

    path = Path(path)
    if not path.exists():
        raise ModelError(
            f"model file '{path}' does not exist: pass a model saved with model.save() (e.g. the "
            "runs/<name>/qkeras_model.h5 that `triggernn run` writes)"
        )
    try:
        return tf.keras.models.load_model(path, custom_objects=qkeras_custom_objects(), compile=False)
    except Exception as err:  # Keras raises OSError, ValueError, KeyError... for a bad file
        raise ModelError(
            f"'{path}' could not be loaded as a Keras/QKeras model ({type(err).__name__}: {err}); save it "
            "with model.save('model.h5') under TensorFlow 2.14 / QKeras 0.9"
        ) from None
