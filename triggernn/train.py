"""Fitting: seeds, early stopping, progress."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from .compat import keras3, magnitude_pruning

__all__ = ["TrainResult", "seed_everything", "train_model"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    epochs_run: int
    best_val_loss: float
    history: dict[str, list[float]]


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and TensorFlow and make TF ops deterministic, so a config + seed gives the same weights."""
    import tensorflow as tf

    os.environ.setdefault("PYTHONHASHSEED", str(seed))
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def train_model(
    model, train_cfg, X_train, y_train, X_val, y_val, *, progress: bool = True, label: str = ""
) -> TrainResult:
    """Compile (Adam, cross-entropy) and fit ``model`` with early stopping on the validation loss.

    The best weights (lowest validation loss) are restored at the end. ``train_cfg`` is a
    :class:`triggernn.config.TrainConfig`.
    """
    import tensorflow as tf

    from .config import TrainConfig
    from .errors import ConfigError
    from .validate import class_labels, event_array, keras_model

    keras_model(model)
    if not isinstance(train_cfg, TrainConfig):
        raise ConfigError(f"train_cfg must be a TrainConfig (cfg.train), got {type(train_cfg).__name__}")
    shape = tuple(int(d) for d in model.input_shape[1:])
    n_out = int(model.output_shape[-1])
    X_train, X_val = event_array(X_train, "X_train", shape), event_array(X_val, "X_val", shape)
    y_train = class_labels(y_train, len(X_train), n_out, "y_train")
    y_val = class_labels(y_val, len(X_val), n_out, "y_val")

    seed_everything(train_cfg.seed)
    from_logits = model.layers[-1].name != "softmax"
    trained = model
    sparsity = getattr(train_cfg, "sparsity", 0.0)
    if sparsity > 0:
        trained = _with_pruning(model, sparsity)
    trained.compile(
        optimizer=tf.keras.optimizers.Adam(train_cfg.learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
        metrics=["accuracy"],
    )
    callbacks = [
        *_pruning_callbacks(sparsity),
        tf.keras.callbacks.EarlyStopping(patience=train_cfg.patience, restore_best_weights=True),
        tf.keras.callbacks.ReduceLROnPlateau(
            factor=0.5, patience=max(1, train_cfg.patience // 2), min_lr=1e-5
        ),
    ]
    if sparsity > 0 and keras3():
        callbacks.append(magnitude_pruning(model, sparsity, _prunable))
    if progress:
        from tqdm.keras import TqdmCallback

        callbacks.append(TqdmCallback(verbose=0, desc=f"train {label}".strip()))
    hist = trained.fit(
        np.asarray(X_train),
        np.asarray(y_train),
        validation_data=(np.asarray(X_val), np.asarray(y_val)),
        epochs=train_cfg.epochs,
        batch_size=train_cfg.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    if sparsity > 0:
        _strip_pruning(trained, model)
    history = {k: [float(x) for x in v] for k, v in hist.history.items()}
    best = float(min(history["val_loss"]))
    log.info("%s: %d epochs, best validation loss %.4f", label or model.name, len(history["val_loss"]), best)
    return TrainResult(epochs_run=len(history["val_loss"]), best_val_loss=best, history=history)


def _prunable(layer) -> bool:
    return hasattr(layer, "kernel") and layer.__class__.__name__.lstrip("Q") in ("Dense", "Conv1D", "Conv2D")


def _with_pruning(model, sparsity: float):
    """``model`` with its Dense/Conv layers (QKeras ones included) wrapped for magnitude pruning; the wrapped
    layers are ``model``'s own, so training the result trains ``model``. On the Keras 3 stack ``model`` itself,
    pruned by a callback (:func:`triggernn.compat.magnitude_pruning`)."""
    if keras3():
        return model
    import tensorflow as tf
    import tensorflow_model_optimization as tfmot

    schedule = tfmot.sparsity.keras.ConstantSparsity(sparsity, begin_step=0, frequency=20)

    def wrap(layer):
        return (
            tfmot.sparsity.keras.prune_low_magnitude(layer, pruning_schedule=schedule)
            if _prunable(layer)
            else layer
        )

    return tf.keras.models.clone_model(model, clone_function=wrap)


def _pruning_callbacks(sparsity: float) -> list:
    if sparsity <= 0 or keras3():  # Keras 3: magnitude_pruning, after EarlyStopping
        return []
    import tensorflow_model_optimization as tfmot

    return [tfmot.sparsity.keras.UpdatePruningStep()]


def _strip_pruning(pruned, model) -> None:
    """Apply the final masks to ``model``'s kernels (the wrapped layers are ``model``'s own)."""
    if pruned is model:  # Keras 3: the callback applied the final masks
        return
    for wrapper in pruned.layers:
        mask = getattr(wrapper, "pruning_vars", None)
        if not mask:
            continue
        for weight, m, _threshold in mask:
            weight.assign(weight * m)
