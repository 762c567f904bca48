"""Fitting: seeds, early stopping, progress."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

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

    seed_everything(train_cfg.seed)
    from_logits = model.layers[-1].name != "softmax"
    model.compile(
        optimizer=tf.keras.optimizers.Adam(train_cfg.learning_rate),
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits),
        metrics=["accuracy"],
    )
    callbacks = [
        tf.keras.callbacks.EarlyStopping(patience=train_cfg.patience, restore_best_weights=True),
        tf.keras.callbacks.ReduceLROnPlateau(
            factor=0.5, patience=max(1, train_cfg.patience // 2), min_lr=1e-5
        ),
    ]
    if progress:
        from tqdm.keras import TqdmCallback

        callbacks.append(TqdmCallback(verbose=0, desc=f"train {label}".strip()))
    hist = model.fit(
        np.asarray(X_train),
        np.asarray(y_train),
        validation_data=(np.asarray(X_val), np.asarray(y_val)),
        epochs=train_cfg.epochs,
        batch_size=train_cfg.batch_size,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
    )
    history = {k: [float(x) for x in v] for k, v in hist.history.items()}
    best = float(min(history["val_loss"]))
    log.info("%s: %d epochs, best validation loss %.4f", label or model.name, len(history["val_loss"]), best)
    return TrainResult(epochs_run=len(history["val_loss"]), best_val_loss=best, history=history)
