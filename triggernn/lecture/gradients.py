"""Vanishing gradients: the same deep network with sigmoid, ReLU and LeakyReLU hidden activations, trained on
the embedded jets' 16 features, with the norm of the loss gradient of every layer's weights measured at
initialization and after every epoch.

The sigmoid's derivative is at most 0.25, so through four sigmoid layers the back-propagated signal is scaled
by at most (0.25)^4 = 0.0039 (times the weights): the first layers of a deep sigmoid network barely learn.
ReLU's derivative is 1 where it is active, so its gradients reach the first layer.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from triggernn.records import write_json

from ..config import STRICT, Seed, check_name

__all__ = ["SIGMOID_BOUND", "GradientsConfig", "GradientsResult", "run_gradients"]

#: The largest slope of the sigmoid, to the power of the four sigmoid layers between the first and last.
SIGMOID_BOUND = 0.25**4

ACTIVATIONS = ("sigmoid", "relu", "leaky_relu")


class GradientsConfig(BaseModel):
    model_config = STRICT

    example: Literal["gradients"] = "gradients"
    name: str = "gradients"
    _name = field_validator("name")(check_name)
    depth: int = Field(default=5, ge=2, le=20)
    """Hidden layers (the lecture's bound counts the depth - 1 = 4 sigmoids between first and last)."""
    width: int = Field(default=32, ge=2, le=512)
    epochs: int = Field(default=10, ge=1, le=500)
    batch_size: int = Field(default=256, ge=1)
    learning_rate: float = Field(default=1e-3, gt=0, le=1)
    seed: Seed = 0
    max_jets: int | None = Field(default=None, ge=100)


@dataclass
class GradientsResult:
    layers: list[str]
    norms_at_init: dict[str, list[float]]
    """Per activation: the gradient norm of each layer's kernel (first hidden layer first) at initialization."""
    norms_by_epoch: dict[str, list[list[float]]]
    """Per activation: every layer's gradient norm at initialization (entry 0) and after each epoch."""
    val_accuracy: dict[str, list[float]]
    sigmoid_to_relu_first_layer: float
    first_to_last_at_init: dict[str, float]
    bound: float
    data: str
    plot: str


def _network(activation: str, cfg: GradientsConfig, n_in: int, n_out: int):
    import tensorflow as tf

    act = tf.keras.layers.LeakyReLU(0.1) if activation == "leaky_relu" else activation
    x = inp = tf.keras.Input((n_in,), name="features")
    for i in range(1, cfg.depth + 1):
        x = tf.keras.layers.Dense(
            cfg.width, activation=act, kernel_initializer="glorot_uniform", name=f"fc{i}"
        )(x)
    x = tf.keras.layers.Dense(n_out, name="output")(x)
    return tf.keras.Model(inp, x, name=f"deep_{activation}")


def _kernel_grad_norms(model, X, y) -> list[float]:
    """Norm of d(loss)/d(kernel) of each hidden layer, on one fixed batch."""
    import tensorflow as tf

    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    kernels = [layer.kernel for layer in model.layers if layer.name.startswith("fc")]
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(X, training=False))
    return [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]


def _plot(res: GradientsResult, out: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4.2))
    layers = np.arange(1, len(res.layers) + 1)
    for act, norms in res.norms_at_init.items():
        a.plot(layers, norms, "o-", label=act)
    a.set_yscale("log")
    a.set_xticks(layers)
    a.set_xlabel("hidden layer (1 = nearest the input)")
    a.set_ylabel(r"$\|\partial L / \partial W\|$ at initialization")
    last = res.norms_at_init["sigmoid"][-1]
    a.axhline(
        last * res.bound, color="grey", ls="--", label=f"last sigmoid layer x $0.25^4$ = x{res.bound:.4f}"
    )
    a.legend(fontsize=8)
    a.set_title("Gradient reaching each layer")
    for i, (act, per_epoch) in enumerate(res.norms_by_epoch.items()):
        n = np.asarray(per_epoch)
        b.plot(np.arange(len(n)), n[:, 0], "o-", color=f"C{i}", label=f"{act}: first layer")
        b.plot(np.arange(len(n)), n[:, -1], "--", color=f"C{i}", label=f"{act}: last hidden layer")
    b.set_yscale("log")
    b.set_xlabel("epoch (0 = initialization)")
    b.set_ylabel("gradient norm")
    b.set_title("First and last hidden layers during training")
    b.legend(fontsize=8)
    fig.suptitle(f"Vanishing gradients: {len(res.layers)} hidden layers, {res.data}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return str(out)


def run_gradients(cfg: GradientsConfig, out_dir: str | Path, project_root: str | Path | None = None):
    """Train the three networks from the same seed; writes ``gradients.png`` and ``result.json``."""
    import tensorflow as tf

    from ..data import load_jets

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ds = load_jets(None, "features", max_jets=cfg.max_jets, seed=cfg.seed + 42)
    probe = slice(0, 1024)
    norms, by_epoch, val_acc = {}, {}, {}
    for act in ACTIVATIONS:
        tf.keras.utils.set_random_seed(cfg.seed)
        model = _network(act, cfg, ds.X_train.shape[1], ds.n_classes)
        norms[act] = _kernel_grad_norms(model, ds.X_train[probe], ds.y_train[probe])
        by_epoch[act] = [norms[act]]
        model.compile(
            tf.keras.optimizers.Adam(cfg.learning_rate),
            tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
        )
        val_acc[act] = []
        for _ in range(cfg.epochs):
            h = model.fit(
                ds.X_train, ds.y_train, validation_data=(ds.X_val, ds.y_val), epochs=1,
                batch_size=cfg.batch_size, verbose=0,
            )  # fmt: skip
            val_acc[act].append(float(h.history["val_accuracy"][-1]))
            by_epoch[act].append(_kernel_grad_norms(model, ds.X_train[probe], ds.y_train[probe]))
    res = GradientsResult(
        layers=[f"fc{i}" for i in range(1, cfg.depth + 1)],
        norms_at_init=norms,
        norms_by_epoch=by_epoch,
        val_accuracy=val_acc,
        sigmoid_to_relu_first_layer=norms["sigmoid"][0] / norms["relu"][0],
        first_to_last_at_init={a: n[0] / n[-1] for a, n in norms.items()},
        bound=SIGMOID_BOUND,
        data=f"{ds.source} jets ({len(ds.y_train)} for training)",
        plot="",
    )
    res.plot = _plot(res, out / "gradients.png")
    write_json(out / "result.json", asdict(res))
    return res


def summary(r: GradientsResult) -> list[str]:
    lines = ["activation   |grad| first layer   first/last layer   val. accuracy after training"]
    for act in ACTIVATIONS:
        lines.append(
            f"{act:<12} {r.norms_at_init[act][0]:<20.3e} {r.first_to_last_at_init[act]:<18.4f} "
            f"{r.val_accuracy[act][-1]:.3f}"
        )
    lines.append(
        f"sigmoid / ReLU gradient at the first layer: {r.sigmoid_to_relu_first_layer:.4f} "
        f"(the lecture's bound through four sigmoids: 0.25^4 = {r.bound:.4f})"
    )
    return lines
