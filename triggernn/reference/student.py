"""How much of the flow's anomaly power survives on a trigger FPGA: a small QKeras network regressing the
flow's score (knowledge distillation), compiled with hls4ml and verified in C simulation.

The student sees the jets' features without labels (as a trigger would) and learns the flow's ``-log p(x)``,
standardized and clipped at the 99.5th percentile (the far tail only says "anomalous"). Its firmware output
is compared with QKeras bit for bit, and the anomaly AUC of the flow, the QKeras student and its C
simulation is reported per class, side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import load_config
from ..quantize import to_fixed_grid
from .flow import anomaly_aucs

__all__ = ["StudentResult", "distill"]

STUDENT = {
    "name": "flow_student",
    "model": {"family": "dense", "hidden": [32, 16], "softmax": False},
    "quantization": {"weight": {"bits": 8, "integer": 1}, "bias": {"bits": 8, "integer": 1},
                     "activation": {"bits": 8, "integer": 2}},
    "hls": {"io_type": "io_parallel", "strategy": "Latency"},
}  # fmt: skip


@dataclass
class StudentResult:
    auc: dict[str, dict[str, float]]  # {"flow" | "qkeras" | "csim": {class: AUC}}
    bit_exact: float
    max_abs_diff: float
    project: Path
    model: object
    scores: dict[str, np.ndarray]  # {"qkeras" | "csim": the student's output on the test jets}


def distill(flow_scores, ds, project_dir, *, epochs: int = 60, config: dict | None = None, seed: int = 0):
    """Train the student on ``flow_scores`` (``{"train", "val", "test"}``: the flow's NLL of ``ds``'s splits),
    emit and C-simulate it, and compare. Returns a :class:`StudentResult`."""
    import tensorflow as tf

    from ..hls import emit
    from ..models import build_model
    from ..train import seed_everything

    cfg = load_config({**STUDENT, **(config or {})})
    spec = cfg.quantization.input_type
    X = {k: to_fixed_grid(getattr(ds, f"X_{k}"), spec) for k in ("train", "val", "test")}
    lo, hi = np.percentile(flow_scores["train"], [0.5, 99.5])
    mu, sd = flow_scores["train"].mean(), flow_scores["train"].std()

    def target(s):
        return ((np.clip(s, lo, hi) - mu) / sd).astype(np.float32)

    seed_everything(seed)
    model = build_model(cfg, (X["train"].shape[1],), 1, quantized=True)
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(X["train"], target(flow_scores["train"]), validation_data=(X["val"], target(flow_scores["val"])),
              epochs=epochs, batch_size=256, verbose=0,
              callbacks=[tf.keras.callbacks.EarlyStopping(patience=8, restore_best_weights=True)])  # fmt: skip
    qk = model.predict(X["test"], batch_size=4096, verbose=0).ravel()
    project = emit(model, cfg, project_dir, csim_inputs=X["test"], tb_inputs=X["test"][:100],
                   tb_outputs=qk[:100, None])  # fmt: skip
    cs = project.csim.outputs.ravel()
    auc = {
        "flow": anomaly_aucs(flow_scores["test"], ds.y_test, ds.class_names),
        "qkeras": anomaly_aucs(qk, ds.y_test, ds.class_names),
        "csim": anomaly_aucs(cs, ds.y_test, ds.class_names),
    }
    return StudentResult(auc, float(np.mean(cs == qk)), float(np.abs(cs - qk).max()), project.path, model,
                         {"qkeras": qk, "csim": cs})  # fmt: skip
