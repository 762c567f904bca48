"""``triggernn data benchmark FILE``: the reference tagger trained on a jet sample, its per-class AUCs and
accuracy printed beside the official ``hls4ml_lhc_jets_hlf`` numbers for the same 16 features.

``model="dense"`` is the hls4ml tutorial's float tagger (16-64-32-32-5, ReLU, softmax; standardized features,
Adam, early stopping on the validation loss); ``model="hgb"`` scikit-learn's HistGradientBoosting (the
classifier of the issue's first measurement: seconds, no GPU). One-vs-rest AUCs on the test split.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .errors import DataError

__all__ = ["OFFICIAL_ACCURACY", "OFFICIAL_AUC", "SampleBenchmark", "benchmark_sample"]

#: The dense tagger on the official dataset: JEDI-net's dense baseline (10-fold mean); accuracy: the hls4ml
#: tutorial's float 16-64-32-32-5 (0.764-0.766).
OFFICIAL_AUC = {"g": 0.938, "q": 0.903, "w": 0.954, "z": 0.946, "t": 0.962}
OFFICIAL_ACCURACY = 0.765


@dataclass
class SampleBenchmark:
    """Per-class one-vs-rest AUCs and accuracy of the reference tagger on a sample's test split."""

    source: str
    model: str
    auc: dict[str, float]
    accuracy: float
    n_train: int
    n_test: int
    extra: dict = field(default_factory=dict)

    def max_auc_gap(self) -> float:
        return max(abs(self.auc[c] - OFFICIAL_AUC[c]) for c in self.auc if c in OFFICIAL_AUC)

    def summary(self) -> list[str]:
        names = [c for c in self.auc if c in OFFICIAL_AUC]
        lines = [
            f"{self.source}: {self.model} tagger, {self.n_train:,} training / {self.n_test:,} test jets",
            f"{'':<12}" + "".join(f"{c:>8}" for c in names) + f"{'accuracy':>10}",
            f"{'this sample':<12}"
            + "".join(f"{self.auc[c]:>8.3f}" for c in names)
            + f"{self.accuracy:>10.3f}",
            f"{'official':<12}"
            + "".join(f"{OFFICIAL_AUC[c]:>8.3f}" for c in names)
            + f"{OFFICIAL_ACCURACY:>10.3f}",
            f"{'difference':<12}"
            + "".join(f"{self.auc[c] - OFFICIAL_AUC[c]:>+8.3f}" for c in names)
            + f"{self.accuracy - OFFICIAL_ACCURACY:>+10.3f}",
        ]
        return lines


def _aucs(y: np.ndarray, p: np.ndarray, names) -> dict[str, float]:
    from sklearn.metrics import roc_auc_score

    return {
        c: float(roc_auc_score(y == i, p[:, i])) for i, c in enumerate(names) if 0 < np.sum(y == i) < len(y)
    }


def _dense(ds, seed: int, epochs: int):
    import tensorflow as tf

    from ..train import seed_everything

    seed_everything(seed)
    mu, sd = ds.X_train.mean(0), ds.X_train.std(0) + 1e-9
    norm = lambda X: ((X - mu) / sd).astype(np.float32)  # noqa: E731
    n = len(ds.class_names)
    model = tf.keras.Sequential(
        [tf.keras.Input((ds.X_train.shape[1],))]
        + [tf.keras.layers.Dense(u, activation="relu") for u in (64, 32, 32)]
        + [tf.keras.layers.Dense(n, activation="softmax")]
    )
    model.compile(tf.keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    val = (norm(ds.X_val), ds.y_val) if len(ds.y_val) else None
    stop = tf.keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True,
                                            monitor="val_loss" if val else "loss")  # fmt: skip
    model.fit(norm(ds.X_train), ds.y_train, validation_data=val, epochs=epochs, batch_size=1024, verbose=0,
              callbacks=[stop])  # fmt: skip
    return model.predict(norm(ds.X_test), batch_size=8192, verbose=0)


def _hgb(ds, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(max_iter=300, random_state=seed, early_stopping=True)
    clf.fit(np.concatenate([ds.X_train, ds.X_val]), np.concatenate([ds.y_train, ds.y_val]))
    return clf.predict_proba(ds.X_test)


#: The fewest test jets a benchmark reports AUCs on (as ``run`` and ``check`` need for a verdict).
MIN_TEST_EVENTS = 50


def benchmark_sample(
    source: str | os.PathLike | None = None, *, model: str = "dense", seed: int = 0, epochs: int = 60
) -> SampleBenchmark:
    """Train the reference tagger on ``source`` (any jet file or folder :func:`load_jets` reads; default the
    embedded jets) and measure it on its test split."""
    from ..config import MAX_SEED
    from ..validate import number
    from . import load_jets

    if model not in ("dense", "hgb"):
        raise DataError(f"model must be 'dense' or 'hgb', got {model!r}")
    seed = int(number(seed, "seed", low=0, high=MAX_SEED, integer=True))
    epochs = int(number(epochs, "epochs", low=1, high=10_000, integer=True))
    ds = load_jets(source)
    if len(ds.y_test) < MIN_TEST_EVENTS:
        raise DataError(
            f"{ds.source}: its test split holds {len(ds.y_test)} jets; a benchmark's AUCs need at least "
            f"{MIN_TEST_EVENTS}: use a larger sample"
        )
    p = _dense(ds, seed, epochs) if model == "dense" else _hgb(ds, seed)
    acc = float(np.mean(p.argmax(1) == ds.y_test))
    return SampleBenchmark(str(ds.source), model, _aucs(ds.y_test, p, ds.class_names), acc, len(ds.y_train),
                           len(ds.y_test))  # fmt: skip
