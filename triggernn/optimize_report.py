"""What ``triggernn optimize`` writes beside its records: the trials as a table, and the Pareto plot (firmware
accuracy on the validation split against alkaid's LUT estimate, latency in colour)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["plot_trials", "write_trials"]


def write_trials(trials: list[dict[str, Any]], path: Path) -> Path:
    """Every trial, cheapest first, as CSV (written whole or not at all)."""
    import csv

    columns = ["key", "p:design", "status", "passed", "val_accuracy_float", "val_accuracy_qkeras",
               "accuracy_csim", "rtl_alkaid_lut", "rtl_latency_cycles", "bit_exact", "seconds", "error"]  # fmt: skip
    rows = sorted(trials, key=lambda t: t.get("rtl_alkaid_lut", math.inf))
    tmp = path.with_suffix(".csv.tmp")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for t in rows:
            w.writerow(t)
    tmp.replace(path)
    return path


def plot_trials(trials, baseline, best, floor: float, path: Path) -> Path:
    """The trials' accuracy against LUTs, the Pareto front, the accuracy floor, the config as written and the best."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .trials import pareto_front

    ok = [t for t in trials if "rtl_alkaid_lut" in t and "val_accuracy_qkeras" in t]
    fig, ax = plt.subplots(figsize=(7, 4.5))
    if ok:
        x = [t["rtl_alkaid_lut"] for t in ok]
        y = [t["val_accuracy_qkeras"] for t in ok]
        c = [t.get("rtl_latency_cycles", 0) for t in ok]
        sc = ax.scatter(x, y, c=c, cmap="viridis", s=22, label="trials")
        fig.colorbar(sc, ax=ax, label="latency (cycles, alkaid pipeline)")
        front = pareto_front(list(zip(x, y, strict=True)))
        fx, fy = zip(*sorted((x[i], y[i]) for i in front), strict=True)
        ax.step(fx, fy, where="post", color="k", lw=1, label="Pareto front")
    ax.axhline(floor, color="r", ls="--", lw=1, label="float accuracy - max drop")
    for r, name, m in ((baseline, "config as written", "s"), (best, "best", "*")):
        if "rtl_alkaid_lut" in r:
            ax.plot(r["rtl_alkaid_lut"], r["val_accuracy_qkeras"], m, ms=12, mfc="none", mec="r", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("LUT (alkaid's estimate of the traced RTL)")
    ax.set_ylabel("firmware accuracy, validation split")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
