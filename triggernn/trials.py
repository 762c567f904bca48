"""Trials: one config run start to end in a Dask worker (a scan's point, a search's trial), its record written
atomically to ``<out>/points/<key>.json``; the records read back; Ctrl-C's clean-up; the Pareto front.
Shared by :mod:`triggernn.scan` and :mod:`triggernn.optimizer`."""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from .cluster import close_quietly
from .config import load_config
from .records import write_json

__all__ = [
    "forget_failures_since",
    "interrupted",
    "pareto_front",
    "quiet_libraries",
    "read_records",
    "run_point",
]


#: What a point records of the RTL stage, where it ran: ``rtl_<name>`` from ``metrics["rtl"][<key>]``.
_RTL_RECORD = {
    "latency_cycles": "latency_cycles",
    "alkaid_lut": "alkaid_cost",
    "exact_vs_csim": "exact_vs_csim",
}


def quiet_libraries() -> dict[str, int]:
    """TensorFlow's, hls4ml's and triggernn's stage logs at errors only (a search's console is its progress);
    returns the levels they had, for :func:`logging.Logger.setLevel` to restore."""
    import logging

    before = {}
    for name in ("tensorflow", "triggernn", "hls4ml"):
        before[name] = logging.getLogger(name).level
        logging.getLogger(name).setLevel(logging.ERROR)
    return before


def run_point(key: str, point: dict, cfg_dict: dict, out: str, validation: bool = False) -> dict:
    """One point, start to end, in a Dask worker: its record, also written to ``<out>/points/<key>.json``.
    With ``validation``, the float and QKeras models' accuracies on the validation split too (what a search
    selects on; QKeras equals the firmware there, bit for bit, where the verification passed)."""
    import warnings

    from .pipeline import run

    # a worker's console is the scan's: keep TensorFlow's and hls4ml's chatter out of it (errors are recorded)
    warnings.filterwarnings("ignore")
    quiet_libraries()

    out_dir = Path(out)
    record: dict[str, Any] = {"key": key, **{f"p:{k}": v for k, v in point.items()}, "status": "ok"}
    t0 = time.perf_counter()
    try:
        r = run(
            load_config(cfg_dict), run_root=out_dir / "runs", project_root=out_dir / "hls", progress=False
        )
        v = r.verification
        metrics = json.loads((r.run_dir / "metrics.json").read_text())
        est = metrics["estimate"]["totals"]
        synth = (metrics.get("rtl") or {}).get("synthesis") or {}
        record.update(
            passed=v.passed,
            bit_exact=v.bit_exact_fraction,
            argmax_agreement=v.output_argmax_agreement,
            **{f"accuracy_{k}": m.accuracy for k, m in v.metrics.items()},
            **{
                f"est_{k}": est[k]
                for k in ("multipliers", "dsp", "lut_multipliers", "bops", "ii", "latency_cycles")
            },
            **{"est_bit_weighted_multipliers": est["bit_weighted_multipliers"]},
            # real numbers where the point ran the RTL stage (rtl.enabled): Yosys cells, alkaid's pipeline
            **{f"rtl_{k}": synth[k] for k in ("lut", "ff", "dsp", "carry") if k in synth},
            **{f"rtl_{k}": metrics["rtl"][key] for k, key in _RTL_RECORD.items() if metrics.get("rtl")},
        )
        if validation:
            from .pipeline import prepare_data

            ds, grid = prepare_data(r.config)
            for which, model in (("float", r.float_model), ("qkeras", r.qkeras_model)):
                scores = model.predict(grid["X_val"], batch_size=4096, verbose=0)
                record[f"val_accuracy_{which}"] = float(np.mean(np.argmax(scores, 1) == ds.y_val))
    except Exception as err:  # a failed point is a result, never the end of the scan
        record.update(
            status="failed", error=f"{type(err).__name__}: {err}"[:2000], traceback=traceback.format_exc()
        )
    finally:
        import tensorflow as tf

        tf.keras.backend.clear_session()
    record["seconds"] = round(time.perf_counter() - t0, 1)
    points = out_dir / "points"
    points.mkdir(parents=True, exist_ok=True)
    write_json(points / f"{key}.json", record, indent=1)
    return record


def read_records(out: Path) -> dict[str, dict]:
    found = {}
    for p in sorted((out / "points").glob("*.json")):
        try:
            found[p.stem] = json.loads(p.read_text())
        except json.JSONDecodeError:  # never written half (atomic), but a hand-edited file should not stop us
            continue
    return found


def interrupted(cluster, out: Path) -> None:
    """After Ctrl-C: it reaches the workers too, and the points (trials) it cut short fail on their way out.
    Close the local cluster (if any), then forget the failures written since, so that the next start runs
    those points again instead of reading them as refused."""
    since = time.time() - 1.0
    if cluster is not None:
        close_quietly(cluster)
    forget_failures_since(out, since)


def forget_failures_since(out: Path, since: float) -> None:
    """Remove the failed point records written after ``since`` (a Unix time): points an interrupt cut short."""
    for path in (out / "points").glob("*.json"):
        try:
            if path.stat().st_mtime >= since and json.loads(path.read_text()).get("status") != "ok":
                path.unlink()
        except (OSError, json.JSONDecodeError):
            continue


def pareto_front(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both cost (lower) and accuracy (higher), by cost."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], -float("inf")
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front
