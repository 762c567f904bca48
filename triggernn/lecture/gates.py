"""Logic gates with sigmoid neurons: what one neuron can do (OR, AND) and cannot (XOR), and how a hidden layer
fixes it (XOR = OR AND NAND). Every network is compiled with hls4ml; its C simulation must reproduce the
truth table exactly.

One neuron computes ``sigmoid(a0 + a1 x1 + a2 x2)``: the lecture's hand-set weights are OR: (-10, 15, 15),
AND: (-20, 15, 15). XOR is not linearly separable, so no (a0, a1, a2) gets more than 3 of its 4 rows right;
we show it twice: by training a neuron (best accuracy seen over the whole training) and by an exhaustive
scan of integer weights.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from triggernn.records import write_json

from ..config import STRICT, Seed, check_name

__all__ = ["INPUTS", "TRUTH_TABLES", "GatesConfig", "GatesResult", "run_gates"]

INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
TRUTH_TABLES = {"OR": (0, 1, 1, 1), "AND": (0, 0, 0, 1), "XOR": (0, 1, 1, 0)}
#: The lecture's weights (a0 = bias, a1, a2) of one sigmoid neuron; NAND = NOT AND for the XOR network.
HAND_SET = {"OR": (-10.0, 15.0, 15.0), "AND": (-20.0, 15.0, 15.0), "NAND": (20.0, -15.0, -15.0)}


class GatesConfig(BaseModel):
    model_config = STRICT

    example: Literal["gates"] = "gates"
    name: str = "gates"
    _name = field_validator("name")(check_name)
    seed: Seed = 0
    epochs: int = Field(default=3000, ge=10, le=100_000)
    learning_rate: float = Field(default=0.1, gt=0, le=10)
    tries: int = Field(default=5, ge=1, le=100)
    """Seeds tried for the trained XOR network (two sigmoid hidden units can stall in a local minimum)."""
    scan_range: int = Field(default=20, ge=1, le=50)
    """The exhaustive single-neuron scan tries every integer a0, a1, a2 in [-scan_range, scan_range]."""


@dataclass
class GateNetwork:
    name: str
    expected: tuple[int, ...]
    keras_out: list[float]
    csim_out: list[float]
    keras_table: tuple[int, ...]
    csim_table: tuple[int, ...]
    max_abs_diff: float
    project: str

    @property
    def correct(self) -> bool:
        return self.keras_table == self.expected and self.csim_table == self.expected


@dataclass
class GatesResult:
    networks: dict[str, GateNetwork]
    xor_neuron_trained_best: float
    """Best accuracy on XOR's four rows a trained single neuron reached at any epoch, over all tries."""
    xor_neuron_scan_best: float
    """Best accuracy of any integer-weight single neuron in the scan."""
    xor_trained_tries: int
    plot: str
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Every compiled network reproduces its truth table in Keras and C simulation, and no single neuron
        solved XOR."""
        return all(n.correct for n in self.networks.values()) and self.xor_neuron_scan_best < 1.0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["passed"] = self.passed
        for k, net in self.networks.items():
            d["networks"][k]["correct"] = net.correct
        return d


def _neuron(a0: float, a1: float, a2: float, name: str):
    import tensorflow as tf

    x = inp = tf.keras.Input((2,), name="x")
    x = tf.keras.layers.Dense(1, activation="sigmoid", name="neuron")(x)
    model = tf.keras.Model(inp, x, name=name)
    model.get_layer("neuron").set_weights([np.array([[a1], [a2]], np.float32), np.array([a0], np.float32)])
    return model


def _xor_network(name: str, hidden: tuple | None = None, output: tuple | None = None):
    """x -> 2 sigmoid hidden units (OR, NAND when hand-set) -> 1 sigmoid output (AND)."""
    import tensorflow as tf

    x = inp = tf.keras.Input((2,), name="x")
    x = tf.keras.layers.Dense(2, activation="sigmoid", name="hidden")(x)
    x = tf.keras.layers.Dense(1, activation="sigmoid", name="out")(x)
    model = tf.keras.Model(inp, x, name=name)
    if hidden is not None:
        (o0, o1, o2), (n0, n1, n2) = hidden
        model.get_layer("hidden").set_weights(
            [np.array([[o1, n1], [o2, n2]], np.float32), np.array([o0, n0], np.float32)]
        )
        a0, a1, a2 = output
        model.get_layer("out").set_weights([np.array([[a1], [a2]], np.float32), np.array([a0], np.float32)])
    return model


def _fit(model, y, cfg: GatesConfig, seed: int) -> list[float]:
    """Full-batch Adam on the four rows; returns the accuracy after every epoch."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    model.compile(optimizer=tf.keras.optimizers.Adam(cfg.learning_rate), loss="binary_crossentropy")
    target = np.asarray(y, np.float32)[:, None]
    acc: list[float] = []

    class Track(tf.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch % 10 == 0 or epoch == cfg.epochs - 1:
                pred = self.model(INPUTS, training=False).numpy()[:, 0] > 0.5
                acc.append(float(np.mean(pred == target[:, 0])))

    model.fit(INPUTS, target, epochs=cfg.epochs, batch_size=4, verbose=0, callbacks=[Track()])
    return acc


def _scan_single_neuron(y, r: int) -> tuple[float, tuple[float, float, float]]:
    """Best accuracy of sigmoid(a0 + a1 x1 + a2 x2) > 0.5 over all integer weights in [-r, r]^3, and the
    first weights reaching it."""
    a = np.arange(-r, r + 1, dtype=np.float64)
    a0, a1, a2 = np.meshgrid(a, a, a, indexing="ij")
    z = a0[..., None] + a1[..., None] * INPUTS[:, 0] + a2[..., None] * INPUTS[:, 1]
    acc = np.mean((z > 0) == np.asarray(y, bool), axis=-1)
    best = np.unravel_index(np.argmax(acc), acc.shape)
    return float(acc[best]), (float(a0[best]), float(a1[best]), float(a2[best]))


def _check(model, name: str, expected, project_root: Path) -> GateNetwork:
    from .firmware import compile_model

    project = compile_model(model, name, INPUTS, project_root)
    k = model.predict(INPUTS, verbose=0)[:, 0]
    c = project.csim.outputs[:, 0]
    return GateNetwork(
        name=name,
        expected=tuple(expected),
        keras_out=[float(v) for v in k],
        csim_out=[float(v) for v in c],
        keras_table=tuple(int(v > 0.5) for v in k),
        csim_table=tuple(int(v > 0.5) for v in c),
        max_abs_diff=float(np.max(np.abs(k - c))),
        project=str(project.path),
    )


def _plot(models: dict, out: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = np.linspace(-0.25, 1.25, 121, dtype=np.float32)
    xx, yy = np.meshgrid(g, g)
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)
    fig, axes = plt.subplots(1, len(models), figsize=(3.2 * len(models), 3.3))
    for ax, (title, (model, truth)) in zip(axes, models.items(), strict=True):
        z = model.predict(grid, verbose=0, batch_size=4096).reshape(xx.shape)
        ax.contourf(xx, yy, z, levels=np.linspace(0, 1, 11), cmap="coolwarm", alpha=0.8)
        ax.contour(xx, yy, z, levels=[0.5], colors="k", linewidths=1.5)
        ax.scatter(INPUTS[:, 0], INPUTS[:, 1], c=truth, cmap="coolwarm", edgecolors="k", s=80, vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("$x_1$")
        ax.set_aspect("equal")
    axes[0].set_ylabel("$x_2$")
    fig.suptitle("Sigmoid neurons: output (colour), decision boundary 0.5 (black), truth (dots)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return str(out)


def run_gates(cfg: GatesConfig, out_dir: str | Path, project_root: str | Path) -> GatesResult:
    """Hand-set OR/AND neurons, the XOR impossibility for one neuron, XOR with a hidden layer (hand-set and
    trained); every network compiled and C-simulated on the four inputs. Writes ``gates.png`` and
    ``result.json`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    project_root = Path(project_root)
    xor = TRUTH_TABLES["XOR"]

    models = {
        "or_neuron": (_neuron(*HAND_SET["OR"], name="or_neuron"), TRUTH_TABLES["OR"]),
        "and_neuron": (_neuron(*HAND_SET["AND"], name="and_neuron"), TRUTH_TABLES["AND"]),
        "xor_hand_set": (
            _xor_network("xor_hand_set", (HAND_SET["OR"], HAND_SET["NAND"]), HAND_SET["AND"]),
            xor,
        ),
    }
    # one neuron trained on XOR: the best it ever gets, over every try
    best_neuron = 0.0
    for t in range(cfg.tries):
        m = _neuron(0.0, 0.0, 0.0, name="xor_neuron")
        import tensorflow as tf

        tf.keras.utils.set_random_seed(cfg.seed + t)
        m.get_layer("neuron").set_weights(
            [np.random.default_rng(cfg.seed + t).normal(size=(2, 1)), np.zeros(1)]
        )
        acc = _fit(m, xor, cfg, cfg.seed + t)
        best_neuron = max(best_neuron, *acc)
    # XOR with a hidden layer, trained: seeds until it gets all four rows
    trained, tries = None, 0
    for t in range(cfg.tries):
        tries = t + 1
        m = _xor_network("xor_trained")
        acc = _fit(m, xor, cfg, cfg.seed + 100 + t)
        if acc[-1] == 1.0:
            trained = m
            break
    if trained is not None:
        models["xor_trained"] = (trained, xor)

    networks = {name: _check(m, name, truth, project_root) for name, (m, truth) in models.items()}
    scan_best, scan_weights = _scan_single_neuron(xor, cfg.scan_range)
    plot_models = {
        "OR (hand-set)": models["or_neuron"],
        "AND (hand-set)": models["and_neuron"],
        "XOR, best single neuron " + f"a={tuple(int(w) for w in scan_weights)} ({scan_best:.0%})": (
            _neuron(*scan_weights, name="best"),
            xor,
        ),
        "XOR = OR AND NAND": models["xor_hand_set"],
    }
    if trained is not None:
        plot_models["XOR, hidden layer trained"] = models["xor_trained"]
    result = GatesResult(
        networks=networks,
        xor_neuron_trained_best=best_neuron,
        xor_neuron_scan_best=scan_best,
        xor_trained_tries=tries if trained is not None else -1,
        plot=_plot(plot_models, out / "gates.png"),
    )
    write_json(out / "result.json", result.to_dict())
    return result


def summary(r: GatesResult) -> list[str]:
    lines = ["network         expected  Keras     C-sim     max |Keras - C-sim|"]
    for n in r.networks.values():
        lines.append(
            f"{n.name:<15} {''.join(map(str, n.expected)):<9} {''.join(map(str, n.keras_table)):<9} "
            f"{''.join(map(str, n.csim_table)):<9} {n.max_abs_diff:.2e}  {'ok' if n.correct else 'WRONG'}"
        )
    lines.append(
        f"XOR with one neuron: best accuracy {r.xor_neuron_trained_best:.0%} trained, "
        f"{r.xor_neuron_scan_best:.0%} over the integer-weight scan (never 100%: not linearly separable)"
    )
    if r.xor_trained_tries < 0:
        lines.append("XOR with a hidden layer: training did not reach 4/4 in the seeds tried")
    else:
        lines.append(f"XOR with a hidden layer: trained to 4/4 (seed try {r.xor_trained_tries})")
    return lines
