"""One benchmark, measured side by side in one run: C-sim build, hls4ml ``predict()`` against ``emulate()``.

Per shipped model (trained on its config's data, as ``triggernn run`` does): the C-simulation build time,
cold and from the build cache; hls4ml ``predict()`` events/s (one event per call) against triggernn's
``emulate()`` events/s on a large sample and their ratio; the fraction of test events whose emulated outputs
equal ``predict()``'s bit for bit; float / QKeras / C-sim accuracy; and the MACs per event, to show how the
rate falls as the model grows. ``scripts/benchmark.py`` and ``triggernn bench`` print the table and save JSON.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from triggernn.records import write_json

__all__ = ["DEFAULT_MODELS", "benchmark_model", "format_table", "run_benchmark"]

DEFAULT_MODELS = ("jet_dense", "jet_cnn", "jet_gru", "mnist_cnn", "mnist_dense")


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def benchmark_model(
    r, *, predict_seconds: float = 10.0, emulate_seconds: float = 10.0, workers: int = 1
) -> dict:
    """Measure one run (a :class:`~triggernn.pipeline.RunResult`)."""
    from .emulation import Emulator
    from .hls.build_cache import build_library
    from .hls.cost import macs_per_event

    graph = r.project.hls_model
    name = graph.config.get_project_name()
    with tempfile.TemporaryDirectory() as cache:  # a cold build of the project on disk, then from the cache
        _, cold = _timed(build_library, r.project.path, name, cache=Path(cache))
        _, warm = _timed(build_library, r.project.path, name, cache=Path(cache))
    X = r.X_test
    # hls4ml predict(): a sample sized to take about predict_seconds
    _, t_small = _timed(graph.predict, X[:20])
    n_pred = int(np.clip(predict_seconds / max(t_small / 20, 1e-7), 50, len(X)))
    with contextlib.redirect_stdout(io.StringIO()):
        ref, t_pred = _timed(graph.predict, X[:n_pred])
    ref = np.asarray(ref).reshape(n_pred, -1)
    em, t_setup = _timed(Emulator, r.project)
    out = em.predict(X).reshape(len(X), -1)
    exact = float(np.mean(np.all(out[:n_pred] == ref, axis=1)))
    exact_test = float(np.mean(np.all(out == r.project.csim.outputs.reshape(len(X), -1), axis=1)))
    # emulate(): a large sample (the test set repeated) sized to take about emulate_seconds, up to 10M events
    _, t_probe = _timed(em.predict, X)
    n_emu = int(np.clip(emulate_seconds / max(t_probe / len(X), 1e-9), len(X), 10_000_000))
    big = np.resize(X, (n_emu, *X.shape[1:]))
    _, t_emu = _timed(em.predict, big, workers=workers)
    m = r.verification.metrics
    return {
        "model": r.config.name,
        "engine": em.engine,
        "macs_per_event": macs_per_event(graph),
        "build_s": cold,
        "cached_build_s": warm,
        "emulator_setup_s": t_setup,
        "predict_events": n_pred,
        "predict_per_s": n_pred / t_pred,
        "emulate_events": n_emu,
        "emulate_per_s": n_emu / t_emu,
        "speedup": (n_emu / t_emu) / (n_pred / t_pred),
        "bit_exact_vs_predict": exact,
        "bit_exact_vs_csim_test": exact_test,
        "accuracy": {k: m[k].accuracy for k in ("float", "qkeras", "csim") if k in m},
        "data": getattr(r, "data_source", ""),
    }


def format_table(rows: list[dict]) -> str:
    head = (
        f"{'model':<12} {'MACs/ev':>9} {'build s':>8} {'cached s':>8} {'predict ev/s':>13} {'emulate ev/s':>13} "
        f"{'ratio':>7} {'engine':>6} {'exact':>7} {'float':>7} {'QKeras':>7} {'C-sim':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in sorted(rows, key=lambda r: r["macs_per_event"]):
        a = r["accuracy"]
        lines.append(
            f"{r['model']:<12} {r['macs_per_event']:>9,} {r['build_s']:>8.1f} {r['cached_build_s']:>8.2f} "
            f"{r['predict_per_s']:>13,.0f} {r['emulate_per_s']:>13,.0f} {r['speedup']:>6.0f}x {r['engine']:>6} "
            f"{min(r['bit_exact_vs_predict'], r['bit_exact_vs_csim_test']):>7.2%} "
            + " ".join(f"{a[k]:>7.2%}" if k in a else f"{'-':>7}" for k in ("float", "qkeras", "csim"))
        )
    lines.append(
        "(exact: events whose emulated outputs equal hls4ml predict()'s bit for bit, on the predict() sample and "
        "on the whole test set; emulate ran on the test set repeated to millions of events where the rate allows)"
    )
    return "\n".join(lines)


def _plot(rows: list[dict], path: Path) -> None:
    from .report.plots import _plt

    plt = _plt()  # the reports' style (mplhep's ROOT style), at the reports' figure size
    rows = sorted(rows, key=lambda r: r["macs_per_event"])
    macs = [r["macs_per_event"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 6))
    ax.loglog(macs, [r["predict_per_s"] for r in rows], "o-", label="hls4ml predict()")
    ax.loglog(macs, [r["emulate_per_s"] for r in rows], "s-", label="triggernn emulate()")
    for r in rows:
        ax.annotate(r["model"], (r["macs_per_event"], r["emulate_per_s"]), fontsize=12, xytext=(4, 4),
                    textcoords="offset points")  # fmt: skip
    ax.set_xlabel("multiply-accumulates per event")
    ax.set_ylabel("events / s (bit-exact outputs)")
    ax.legend(loc="upper right", fontsize=14)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_benchmark(
    models=DEFAULT_MODELS,
    out: str | os.PathLike = "runs/benchmark",
    *,
    epochs: int | None = None,
    workers: int = 1,
) -> list[dict]:
    """Train, emit and measure each model; print the table; write ``benchmark.json`` and ``rate_vs_macs.png``."""
    from .config import load_config
    from .errors import ConfigError
    from .outputs import owned_folder
    from .pipeline import run

    root = Path(__file__).parents[1] / "configs"
    configs = []  # every config loaded and the folder checked before any work (nothing made on a refusal)
    if len(set(map(str, models))) < len(models):
        twice = next(m for m in models if list(map(str, models)).count(str(m)) > 1)
        raise ConfigError(f"the model '{twice}' is given twice: give each model once")
    for name in models:
        path = Path(name) if str(name).endswith((".yaml", ".yml")) else root / f"{name}.yaml"
        cfg = load_config(path)
        configs.append(cfg if epochs is None else cfg.with_overrides(train={"epochs": epochs}))
    out = owned_folder(out, what="benchmark folder", create=False)
    owned_folder(out, what="benchmark folder")
    rows = []
    for cfg in configs:
        r = run(cfg, run_root=out / "runs", project_root=out / "hls", progress=False)
        rows.append(benchmark_model(r, workers=workers))
        print(f"done: {cfg.name}", flush=True)
    write_json(out / "benchmark.json", rows)
    _plot(rows, out / "rate_vs_macs.png")
    print(format_table(rows))
    print(f"wrote {out / 'benchmark.json'} and {out / 'rate_vs_macs.png'}")
    return rows
