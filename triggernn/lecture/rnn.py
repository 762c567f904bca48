"""Recurrent networks: predict the next number of a sequence with the lecture's s_t = f(U x_t + W s_{t-1}).

Each sequence samples a sine of random frequency and phase, x_t = sin(w t + phi), t = 0..L-1; the target is
x_L. A SimpleRNN (exactly the lecture's recurrence, f = tanh) and a GRU (gated) are trained in float and as
8-bit QKeras models, then both QKeras models are compiled with hls4ml and C-simulated on the test sequences.
hls4ml 1.3.0 emits no code for a SimpleRNN on Vivado/Vitis; triggernn supplies the template
(:mod:`triggernn.hls.simple_rnn`). The recurrent activations are lookup tables in firmware, so agreement
is judged by the largest |QKeras - C-sim| rather than bit for bit (docs/recurrent.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, field_validator

from triggernn.records import write_json

from ..config import STRICT, Seed, check_name
from ..quantize import parse_fixed, qkeras_bits, to_fixed_grid, user_fixed

__all__ = ["RNNConfig", "RNNResult", "run_rnn", "sine_sequences"]

CELLS = ("simple_rnn", "gru")


class RNNConfig(BaseModel):
    model_config = STRICT

    example: Literal["rnn"] = "rnn"
    name: str = "rnn"
    _name = field_validator("name")(check_name)
    length: int = Field(default=12, ge=2, le=100)
    units: int = Field(default=8, ge=1, le=64)
    bits: int = Field(default=8, ge=2, le=16)
    n_sequences: int = Field(default=4000, ge=100)
    frequency: tuple[float, float] = (0.2, 0.8)
    epochs: int = Field(default=40, ge=1, le=1000)
    learning_rate: float = Field(default=0.01, gt=0, le=1)
    seed: Seed = 0
    input_type: str = "ap_fixed<16,2>"

    @field_validator("input_type")
    @classmethod
    def _fixed(cls, v: str) -> str:
        user_fixed(v)
        return v

    max_abs_error: float = Field(default=0.02, gt=0)
    """Largest |QKeras - C-sim| allowed on any test sequence."""


@dataclass
class CellResult:
    cell: str
    mse_float: float
    mse_qkeras: float
    mse_csim: float
    max_abs_error: float
    project: str


@dataclass
class RNNResult:
    cells: dict[str, CellResult]
    mse_repeat_last: float
    """The naive forecast x_L = x_{L-1}: what a network must beat."""
    n_test: int
    max_abs_error_allowed: float
    plot: str

    @property
    def passed(self) -> bool:
        return all(c.max_abs_error <= self.max_abs_error_allowed for c in self.cells.values())


def sine_sequences(cfg: RNNConfig, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(n, L, 1) sequences on the firmware's input grid and their next values (n,)."""
    n = cfg.n_sequences
    w = rng.uniform(*cfg.frequency, size=n)
    phi = rng.uniform(0, 2 * np.pi, size=n)
    t = np.arange(cfg.length + 1)
    s = np.sin(w[:, None] * t[None, :] + phi[:, None])
    X = to_fixed_grid(s[:, : cfg.length, None], parse_fixed(cfg.input_type))
    return X, s[:, cfg.length].astype(np.float32)


def _model(cell: str, cfg: RNNConfig, quantized: bool):
    import tensorflow as tf

    from ..compat import import_qkeras

    x = inp = tf.keras.Input((cfg.length, 1), name="sequence")
    common = dict(activation="tanh", name=cell)
    if cell == "gru":
        common.update(recurrent_activation="sigmoid", reset_after=True)
    if quantized:
        qk = import_qkeras()
        q = dict(
            kernel_quantizer=qkeras_bits(cfg.bits, 0),
            recurrent_quantizer=qkeras_bits(cfg.bits, 0),
            bias_quantizer=qkeras_bits(cfg.bits, 0),
        )
        layer = qk.QGRU if cell == "gru" else qk.QSimpleRNN
        x = layer(cfg.units, **q, **common)(x)
        x = qk.QDense(1, kernel_quantizer=qkeras_bits(cfg.bits, 0), bias_quantizer=qkeras_bits(cfg.bits, 0), name="next")(x)  # fmt: skip
    else:
        layer = tf.keras.layers.GRU if cell == "gru" else tf.keras.layers.SimpleRNN
        x = layer(cfg.units, **common)(x)
        x = tf.keras.layers.Dense(1, name="next")(x)
    return tf.keras.Model(inp, x, name=f"{cell}_{'qkeras' if quantized else 'float'}")


def _train(model, cfg: RNNConfig, X, y, Xv, yv):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(cfg.seed)
    model.compile(tf.keras.optimizers.Adam(cfg.learning_rate), "mse")
    model.fit(
        X, y, validation_data=(Xv, yv), epochs=cfg.epochs, batch_size=64, verbose=0,
        callbacks=[tf.keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True),
                   tf.keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=4)],
    )  # fmt: skip
    return model


def run_rnn(cfg: RNNConfig, out_dir: str | Path, project_root: str | Path) -> RNNResult:
    """Train, compile and C-simulate both cells; writes ``rnn.png`` and ``result.json``."""
    from .firmware import compile_model

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    X, y = sine_sequences(cfg, np.random.default_rng(cfg.seed))
    n_train, n_val = int(0.6 * len(y)), int(0.2 * len(y))
    Xtr, ytr = X[:n_train], y[:n_train]
    Xva, yva = X[n_train : n_train + n_val], y[n_train : n_train + n_val]
    Xte, yte = X[n_train + n_val :], y[n_train + n_val :]

    def mse(p) -> float:
        return float(np.mean((np.ravel(p) - yte) ** 2))

    cells, preds = {}, {}
    for cell in CELLS:
        f = _train(_model(cell, cfg, quantized=False), cfg, Xtr, ytr, Xva, yva)
        q = _train(_model(cell, cfg, quantized=True), cfg, Xtr, ytr, Xva, yva)
        project = compile_model(q, f"rnn_{cell}", Xte, project_root, input_type=cfg.input_type)
        qout = q.predict(Xte, verbose=0)[:, 0]
        cout = project.csim.outputs[:, 0]
        preds[cell] = (f.predict(Xte, verbose=0)[:, 0], qout, cout)
        cells[cell] = CellResult(
            cell=cell,
            mse_float=mse(preds[cell][0]),
            mse_qkeras=mse(qout),
            mse_csim=mse(cout),
            max_abs_error=float(np.max(np.abs(qout - cout))),
            project=str(project.path),
        )
    res = RNNResult(
        cells=cells,
        mse_repeat_last=mse(Xte[:, -1, 0]),
        n_test=len(yte),
        max_abs_error_allowed=cfg.max_abs_error,
        plot="",
    )
    res.plot = _plot(Xte, yte, preds, out / "rnn.png")
    write_json(out / "result.json", {**asdict(res), "passed": res.passed})
    return res


def _plot(X, y, preds, out: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    L = X.shape[1]
    for k, ax in enumerate(axes[:2]):
        ax.plot(np.arange(L), X[k, :, 0], "ko-", ms=4, label="sequence x_0..x_{L-1}")
        ax.plot(L, y[k], "k*", ms=14, label="next number (truth)")
        for i, (cell, (_, q, c)) in enumerate(preds.items()):
            ax.plot(L + 0.1 * (i + 1), q[k], "o", color=f"C{i}", ms=8, label=f"{cell} QKeras")
            ax.plot(L + 0.1 * (i + 1), c[k], "x", color="k", ms=8, label=f"{cell} firmware (C sim)")
        ax.set_xlabel("t")
        ax.set_title(f"test sequence {k}")
    axes[0].legend(fontsize=7)
    for i, (cell, (_, _, c)) in enumerate(preds.items()):
        axes[2].scatter(y, c, s=4, alpha=0.5, color=f"C{i}", label=f"{cell} (C sim)")
    axes[2].plot([-1, 1], [-1, 1], "k--", lw=1)
    axes[2].set_xlabel("true next number")
    axes[2].set_ylabel("predicted by the firmware")
    axes[2].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return str(out)


def summary(r: RNNResult) -> list[str]:
    lines = [
        f"next-number MSE on {r.n_test} test sequences (repeat-the-last-number baseline: {r.mse_repeat_last:.4f})"
    ]
    lines.append("cell         float     QKeras    C sim     max |QKeras - C sim|")
    for c in r.cells.values():
        lines.append(
            f"{c.cell:<12} {c.mse_float:<9.5f} {c.mse_qkeras:<9.5f} {c.mse_csim:<9.5f} {c.max_abs_error:.4f} "
            f"{'ok' if c.max_abs_error <= r.max_abs_error_allowed else 'FAIL'} (allowed {r.max_abs_error_allowed})"
        )
    return lines
