"""Universal approximation: one hidden layer of sigmoid units fits a continuous function on an interval, as
closely as you like given enough units. The error is measured against the hidden width; then, at equal
parameter counts, one wide layer against two and three narrower ones. The widest one-layer network is
compiled with hls4ml: the firmware's curve is drawn over the target and its error stated beside Keras'.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from triggernn.records import write_json

from ..config import STRICT, Seed, check_name
from ..quantize import parse_fixed, to_fixed_grid, user_fixed

__all__ = ["ApproximationConfig", "ApproximationResult", "run_approximation", "target"]


def target(x: np.ndarray) -> np.ndarray:
    """The function to approximate on [-1, 1]: continuous, with two scales of wiggle."""
    return np.sin(2 * np.pi * x) + 0.5 * x + 0.3 * np.cos(5 * np.pi * x)


class ApproximationConfig(BaseModel):
    model_config = STRICT

    example: Literal["approximation"] = "approximation"
    name: str = "approximation"
    _name = field_validator("name")(check_name)
    widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    depths: tuple[int, ...] = (1, 2, 3)
    budgets: tuple[int, ...] = (25, 50, 100, 200, 400)
    """Parameter counts at which one, two and three hidden layers are compared."""
    activation: Literal["sigmoid", "tanh", "relu"] = "sigmoid"
    steps: int = Field(default=3000, ge=10, le=100_000)
    learning_rate: float = Field(default=0.02, gt=0, le=1)
    n_points: int = Field(default=512, ge=16)
    init_slope: float = Field(default=8.0, gt=0)
    seed: Seed = 0
    input_type: str = "ap_fixed<16,2>"

    @field_validator("input_type")
    @classmethod
    def _fixed(cls, v: str) -> str:
        user_fixed(v)
        return v

    """Firmware input type of the compiled network (x in [-1, 1])."""


@dataclass
class ApproximationResult:
    widths: list[int]
    rms_by_width: list[float]
    max_by_width: list[float]
    depth_curves: dict[str, list[tuple[int, float]]]
    """Per depth: (parameter count, RMS error) at each budget."""
    firmware_width: int
    firmware_rms: float
    keras_rms: float
    firmware_max_diff: float
    project: str
    plot: str


def _params(depth: int, width: int) -> int:
    return (1 * width + width) + (depth - 1) * (width * width + width) + (width + 1)


def _width_for(depth: int, budget: int) -> int:
    return min(range(1, 256), key=lambda w: abs(_params(depth, w) - budget))


def _fit(depth: int, width: int, cfg: ApproximationConfig, x: np.ndarray, y: np.ndarray):
    """Full-batch Adam for ``cfg.steps`` steps on (x, y)."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(cfg.seed)
    h = inp = tf.keras.Input((1,), name="x")
    for i in range(1, depth + 1):
        h = tf.keras.layers.Dense(width, activation=cfg.activation, name=f"hidden{i}")(h)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(1, name="y")(h), name=f"approx_d{depth}_w{width}")
    # Steps spread over the interval: unit k switches at c_k in [-1, 1] with slope ~ cfg.init_slope (the
    # constructive picture of the theorem); Keras' default init makes every unit nearly linear on [-1, 1].
    rng = np.random.default_rng(cfg.seed)
    w = rng.normal(scale=cfg.init_slope, size=(1, width)).astype(np.float32)
    c = rng.uniform(-1, 1, size=width).astype(np.float32)
    model.get_layer("hidden1").set_weights([w, -w[0] * c])
    opt = tf.keras.optimizers.Adam(cfg.learning_rate)
    xt, yt = tf.constant(x[:, None]), tf.constant(y[:, None])

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((model(xt, training=True) - yt) ** 2)
        opt.apply_gradients(
            zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables, strict=True)
        )
        return loss

    for _ in range(cfg.steps):
        step()
    return model


def _errors(model, x: np.ndarray) -> tuple[float, float]:
    d = model.predict(x[:, None], verbose=0, batch_size=4096)[:, 0] - target(x)
    return float(np.sqrt(np.mean(d**2))), float(np.max(np.abs(d)))


def run_approximation(cfg: ApproximationConfig, out_dir: str | Path, project_root: str | Path):
    """Fit, measure, compile the widest one-layer fit; writes ``approximation.png`` and ``result.json``."""
    from .firmware import compile_model

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec = parse_fixed(cfg.input_type)
    x_train = to_fixed_grid(np.linspace(-1, 1, cfg.n_points), spec).astype(np.float32)
    y_train = target(x_train).astype(np.float32)
    x_test = to_fixed_grid(np.linspace(-1, 1, 4 * cfg.n_points + 1), spec).astype(np.float32)

    fits = {}
    rms, mx = [], []
    for w in cfg.widths:
        fits[w] = _fit(1, w, cfg, x_train, y_train)
        r, m = _errors(fits[w], x_test)
        rms.append(r)
        mx.append(m)
    curves: dict[str, list[tuple[int, float]]] = {}
    for depth in cfg.depths:
        curves[str(depth)] = []
        for budget in cfg.budgets:
            w = _width_for(depth, budget)
            model = _fit(depth, w, cfg, x_train, y_train)
            curves[str(depth)].append((_params(depth, w), _errors(model, x_test)[0]))

    widest = max(cfg.widths)
    project = compile_model(fits[widest], f"approximation_w{widest}", x_test[:, None], project_root, input_type=cfg.input_type)  # fmt: skip
    fw = project.csim.outputs[:, 0]
    keras = fits[widest].predict(x_test[:, None], verbose=0)[:, 0]
    res = ApproximationResult(
        widths=list(cfg.widths),
        rms_by_width=rms,
        max_by_width=mx,
        depth_curves=curves,
        firmware_width=widest,
        firmware_rms=float(np.sqrt(np.mean((fw - target(x_test)) ** 2))),
        keras_rms=float(np.sqrt(np.mean((keras - target(x_test)) ** 2))),
        firmware_max_diff=float(np.max(np.abs(fw - keras))),
        project=str(project.path),
        plot="",
    )
    res.plot = _plot(res, fits, x_test, fw, out / "approximation.png")
    write_json(out / "result.json", asdict(res))
    return res


def _plot(res: ApproximationResult, fits: dict, x: np.ndarray, fw: np.ndarray, out: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b, c) = plt.subplots(1, 3, figsize=(15, 4.2))
    a.plot(x, target(x), "k", lw=3, alpha=0.35, label="target")
    for w in (res.widths[0], res.widths[len(res.widths) // 2], res.widths[-1]):
        a.plot(x, fits[w].predict(x[:, None], verbose=0)[:, 0], lw=1.2, label=f"{w} hidden units")
    a.plot(x[::8], fw[::8], ".", ms=3, color="C3", label=f"firmware (C sim), {res.firmware_width} units")
    a.set_xlabel("x")
    a.set_title("One hidden layer")
    a.legend(fontsize=8)
    b.loglog(res.widths, res.rms_by_width, "o-", label="RMS error")
    b.loglog(res.widths, res.max_by_width, "s--", label="max error")
    b.set_xlabel("hidden units")
    b.set_title("Error against width")
    b.legend(fontsize=8)
    for depth, pts in res.depth_curves.items():
        p, e = zip(*pts, strict=True)
        c.loglog(p, e, "o-", label=f"{depth} hidden layer{'s' if depth != '1' else ''}")
    c.set_xlabel("parameters")
    c.set_ylabel("RMS error")
    c.set_title("Deeper against wider, equal parameters")
    c.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return str(out)


def summary(r: ApproximationResult) -> list[str]:
    lines = ["hidden units  RMS error   max error"]
    lines += [
        f"{w:<13} {e:<11.4f} {m:.4f}"
        for w, e, m in zip(r.widths, r.rms_by_width, r.max_by_width, strict=True)
    ]
    lines.append("parameters -> RMS error, by depth: " + "; ".join(
        f"{d} layer(s): " + ", ".join(f"{p}->{e:.3f}" for p, e in pts) for d, pts in r.depth_curves.items()
    ))  # fmt: skip
    lines.append(
        f"firmware ({r.firmware_width} units, C sim): RMS error {r.firmware_rms:.4f} vs Keras {r.keras_rms:.4f}, "
        f"largest firmware - Keras difference {r.firmware_max_diff:.4f}"
    )
    return lines
