"""``triggernn optimize``: the smallest firmware that keeps the physics (docs/optimize.md).

A greedy descent over the design of a dense model, from the config as written:

- per layer, the weight bits and the bits of the ReLU after it (``quantization.layers``);
- the width of each hidden layer (halved per step, ``model.hidden``);
- the pruning fraction (``train.sparsity``: 0.5, 0.7, 0.8, 0.85, 0.9);
- the input type (``quantization.input``): its integer bits from the range of the training inputs, its width
  lowered two bits per step.

The moves are coarse first (every layer at once: all weights a bit narrower, all ReLUs, all widths halved), then,
once no coarse move is feasible and cheaper, fine (one layer at a time). Each round tries every move from the
current design, and where several are feasible, all of them at once too, as Dask tasks (a LocalCluster, or
``--scheduler``),
each a whole ``triggernn run``: trained, emitted, C-simulated, verified (C-sim = QKeras bit for bit, the
contract) and traced to RTL, whose cost is alkaid's own LUT estimate (seconds, within ~12% of Yosys). A move is
*feasible* when its verification passes and its firmware's accuracy on the validation split stays within
``max_drop`` of the float model of the config as written (the baseline, measured first); the round keeps the
feasible design with the fewest LUTs, and the search stops when no fine move is feasible and cheaper, after
``rounds`` rounds, or before a round that would end after ``time_budget_s`` (the last round's time). Every trial is recorded under ``<out>/points/`` by the digest of its config, so an
interrupted search resumes where it stopped: the rounds replay from the records and only missing trials run.

The best design is written as a run config (``best.yaml``) that ``triggernn run`` reproduces; with ``confirm``
it is run once more with Yosys and Verilator (``rtl.synthesize``), and the table (``trials.csv``), the Pareto
plot (validation accuracy against LUTs, latency in colour, ``pareto.png``) and ``summary.json`` are written.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .config import RunConfig, load_config, write_config
from .errors import ConfigError
from .optimize_report import plot_trials, write_trials
from .optimize_space import SPARSITY_STEPS, Design, layer_names

__all__ = [
    "SPARSITY_STEPS",
    "Design",
    "OptimizePlan",
    "OptimizeResult",
    "optimize",
    "plan_optimize",
    "run_optimize",
]

DENSE_FAMILIES = ("jet_dense", "dense")
#: The fraction of training input values the input type holds without saturating.
INPUT_QUANTILE = 0.9999


def _digest(cfg: dict[str, Any]) -> str:
    body = {k: v for k, v in cfg.items() if k != "name"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]


@dataclass
class OptimizePlan:
    """Everything ``optimize`` needs, checked before any work (``triggernn optimize --check`` stops here)."""

    config: RunConfig
    source: str
    base: dict[str, Any]
    """The trials' config mapping; ``written`` is the config's own (the keys its author wrote)."""
    written: dict[str, Any]
    start: Design
    input_integer: int
    max_drop: float
    rounds: int
    widths: bool
    fine: bool
    time_budget_s: float
    out: Path
    scheduler: str | None
    workers: int
    confirm: bool

    def summary(self) -> str:
        return (
            f"ok ({self.config.name}: from {self.start.label()}, max drop {self.max_drop:g}, at most {self.rounds} "
            f"rounds, results in {self.out})"
        )


@dataclass
class OptimizeResult:
    name: str
    out: Path
    baseline: dict[str, Any]
    best: dict[str, Any]
    best_design: Design
    best_config: Path
    trials: list[dict[str, Any]]
    rounds: list[dict[str, Any]] = field(default_factory=list)
    confirmed: dict[str, Any] | None = None
    table: Path | None = None
    plot: Path | None = None
    ran: int = 0

    def summary(self) -> list[str]:
        b, s = self.baseline, self.best
        lines = [
            f"== optimize {self.name}: {len(self.trials)} trials ({self.ran} run now), "
            f"{len(self.rounds)} rounds",
            f"baseline       {_design_line(b)}",
            f"best           {_design_line(s)}  ({self.best_design.label()})",
            f"config         {self.best_config}",
        ]
        if self.confirmed:
            c = self.confirmed
            lines.append(
                f"confirmed      Yosys {c.get('lut', '-'):,} LUT, {c.get('ff', '-'):,} FF, {c.get('dsp', '-')} DSP, "
                f"{c.get('latency_cycles')} cycles; Verilator = C-sim {c.get('exact_vs_csim', 0):.2%}; "
                f"accuracy float {c.get('accuracy_float', float('nan')):.4f}, firmware {c.get('accuracy_csim', float('nan')):.4f}"
            )
        lines += [f"table          {self.table}", f"plot           {self.plot}"]
        return lines


def _design_line(r: dict[str, Any]) -> str:
    return (
        f"val accuracy {r.get('val_accuracy_qkeras', float('nan')):.4f} (float {r.get('val_accuracy_float', float('nan')):.4f}), "
        f"alkaid {r.get('rtl_alkaid_lut', float('nan')):,.0f} LUT, {r.get('rtl_latency_cycles', '-')} cycles"
    )


def plan_optimize(
    config: str | os.PathLike | RunConfig,
    *,
    max_drop: float = 0.01,
    rounds: int = 30,
    epochs: int | None = None,
    widths: bool = True,
    fine: bool = True,
    time_budget_s: float = 3000.0,
    out: str | os.PathLike | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    confirm: bool = True,
) -> OptimizePlan:
    """The plan of ``optimize``: the config, the search's settings, the results folder and the Dask address,
    all checked before any work."""
    from .outputs import owned_folder
    from .plans import plan_run
    from .validate import dask_address, number

    max_drop = number(max_drop, "max_drop", low=0, high=1, fix="a fraction of accuracy, e.g. 0.01")
    rounds = int(number(rounds, "rounds", low=1, high=100, integer=True))
    workers = int(number(workers, "workers", low=1, high=256, integer=True))
    time_budget_s = number(time_budget_s, "time_budget_s", low=0, low_open=True, high=7 * 86400)
    source = str(config) if isinstance(config, str | os.PathLike) else config.name
    cfg = config if isinstance(config, RunConfig) else load_config(config)
    written = cfg.model_dump(mode="json", exclude_unset=True)  # the keys its author wrote: best.yaml's too
    written.get("hls", {}).pop("output_dir", None)  # never the config's own project folder
    if epochs is not None:
        written.setdefault("train", {})["epochs"] = int(epochs)
        cfg = cfg.with_overrides(
            train={"epochs": int(number(epochs, "epochs", low=1, high=10_000, integer=True))}
        )
    if cfg.model.family not in DENSE_FAMILIES:
        raise ConfigError(
            f"optimize searches the layers of the dense families ({', '.join(DENSE_FAMILIES)}), and this config's "
            f"family is '{cfg.model.family}': pass a dense config (e.g. configs/jet_dense.yaml)"
        )
    if cfg.model.activation != "relu":
        raise ConfigError("optimize searches the bits of ReLUs: set model.activation: relu")
    folder = owned_folder(
        Path(out or Path("runs") / f"optimize_{cfg.name}"), what="optimize results folder",
        inputs=[source] if isinstance(config, str | os.PathLike) else [], create=False,
    )  # fmt: skip
    check_root = Path(out or "runs") / ".optimize-check"  # plan_run checks, it writes nothing
    plan_run(cfg, run_root=check_root / "runs", project_root=check_root / "hls")
    n = len(cfg.model.hidden)
    q = cfg.quantization
    names = layer_names(n)
    start = Design(
        weight=tuple(q.for_layer(layer, "weight").bits for layer in names),
        activation=tuple(q.for_layer(layer, "activation").bits for layer in names[:-1]),
        hidden=tuple(cfg.model.hidden),
        sparsity=float(cfg.train.sparsity),
        input_width=q.input_type.width,
    )
    base = json.loads(json.dumps(written))  # the trials': a small testbench, the RTL traced and costed
    base.setdefault("hls", {})["tb_events"] = min(cfg.hls.tb_events, 200)
    base["rtl"] = {**base.get("rtl", {}), "enabled": True, "synthesize": False}
    return OptimizePlan(
        config=cfg, source=source, base=base, written=written, start=start, input_integer=_input_integer(cfg),
        max_drop=max_drop, rounds=rounds, widths=bool(widths), fine=bool(fine), time_budget_s=time_budget_s, out=folder,
        scheduler=dask_address(scheduler), workers=workers, confirm=bool(confirm),
    )  # fmt: skip


def _input_integer(cfg: RunConfig) -> int:
    """The input type's integer bits (the sign counted) holding all but one in 10,000 training inputs: the rare
    outliers saturate (the inputs are clipped onto the type's range before training and C simulation alike),
    where one more bit for them would widen every adder of the first layer. The standardized jet features: 5
    of 96,000 values beyond +-8, so 4 integer bits where the largest (10.8) would take 5."""
    import numpy as np

    from .pipeline import prepare_data

    ds, _ = prepare_data(cfg)
    top = float(np.quantile(np.abs(ds.X_train), INPUT_QUANTILE)) if np.size(ds.X_train) else 1.0
    return max(1, math.ceil(math.log2(top + 1e-9)) + 1) if top > 0 else 1


def optimize(
    config: str | os.PathLike | RunConfig, *, progress: bool = False, **options: Any
) -> OptimizeResult:
    """``triggernn optimize`` from Python: :func:`plan_optimize` of ``config`` with ``options`` (its keywords),
    then :func:`run_optimize`."""
    return run_optimize(plan_optimize(config, **options), progress=progress)


_OWN = list(inspect.signature(optimize).parameters.values())[:2]
_PLAN = list(inspect.signature(plan_optimize).parameters.values())[1:]
# help() and triggernn.optimize's argument check see plan_optimize's keywords
optimize.__signature__ = inspect.signature(optimize).replace(parameters=[*_OWN, *_PLAN])  # type: ignore[attr-defined]


def run_optimize(plan: OptimizePlan, *, progress: bool = True) -> OptimizeResult:
    """Search (or resume searching) from ``plan``; see the module docs."""
    from distributed import Client, as_completed

    from .cluster import local_cluster
    from .outputs import owned_folder
    from .records import write_json
    from .trials import interrupted, read_records, run_point

    p = plan
    out = owned_folder(p.out, what="optimize results folder", inputs=[p.source])
    t0 = time.monotonic()
    done = read_records(out)
    ran = 0
    cluster = None if p.scheduler else local_cluster(p.workers)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=f"optimize {p.config.name}", unit="trial")

    def evaluate(client, designs: list[Design]) -> list[dict[str, Any]]:
        nonlocal ran
        cfgs = [d.config(p.base, p.input_integer, p.config.name) for d in designs]
        keys = [_digest(c) for c in cfgs]
        for c, k in zip(cfgs, keys, strict=True):
            c["name"] = f"{p.config.name}_{k}"
        todo = [(k, d, c) for k, d, c in zip(keys, designs, cfgs, strict=True) if k not in done]
        if bar is not None:
            bar.total = (bar.total or 0) + len(todo)
            bar.refresh()
        futures = [
            client.submit(
                run_point,
                k,
                {"design": d.label()},
                c,
                str(out.absolute()),
                True,
                key=f"triggernn-trial-{k}",
                pure=False,
            )
            for k, d, c in todo
        ]
        for fut in as_completed(futures):
            rec = fut.result()
            done[rec["key"]] = rec
            ran += 1
            if bar is not None:
                bar.update()
        return [{**done[k], "design": asdict(d)} for k, d in zip(keys, designs, strict=True)]

    try:
        with Client(p.scheduler or cluster) as client:
            baseline = evaluate(client, [p.start])[0]
            if baseline.get("status") != "ok" or "val_accuracy_float" not in baseline:
                raise ConfigError(
                    f"the config as written did not run ({baseline.get('error', 'no record')}): fix it first "
                    f"(triggernn run {p.source})"
                )
            floor = baseline["val_accuracy_float"] - p.max_drop
            current, best = p.start, baseline
            rounds: list[dict[str, Any]] = []
            phase, last_round_s = "coarse", 0.0
            for r in range(p.rounds):
                if time.monotonic() - t0 + last_round_s > p.time_budget_s:
                    rounds.append({"round": r + 1, "stopped": "time budget"})
                    break
                t_round = time.monotonic()
                step, chosen_design, chosen = _round(evaluate, client, current, best, phase, floor, p)
                last_round_s = time.monotonic() - t_round
                rounds.append({"round": r + 1, "phase": phase, **step})
                if chosen_design is None:
                    if phase == "fine" or not p.fine:
                        break
                    phase = "fine"  # no coarse move helps: one layer at a time from here
                    continue
                current, best = chosen_design, chosen
    except KeyboardInterrupt:
        interrupted(cluster, out)
        cluster = None
        raise
    finally:
        if bar is not None:
            bar.close()
        if cluster is not None:
            cluster.close()

    best_cfg = current.config(p.written, p.input_integer, f"{p.config.name}_min")
    best_path = write_config(best_cfg, out / "best.yaml", comment=_best_comment(p, baseline, best))
    trials = list(done.values())
    result = OptimizeResult(name=p.config.name, out=out, baseline=baseline, best=best, best_design=current, best_config=best_path,
                            trials=trials, rounds=rounds, ran=ran)  # fmt: skip
    if p.confirm:
        result.confirmed = _confirm(best_path, out)
    result.table = write_trials(trials, out / "trials.csv")
    result.plot = plot_trials(trials, baseline, best, floor, out / "pareto.png")
    write_json(out / "summary.json", {
        "baseline": baseline, "best": best, "best_design": asdict(current), "rounds": rounds,
        "confirmed": result.confirmed, "max_drop": p.max_drop, "floor": floor,
    }, indent=1)  # fmt: skip
    return result


def _round(
    evaluate, client, current: Design, best: dict[str, Any], phase: str, floor: float, p: OptimizePlan
):
    """One round: every move of ``phase`` from ``current``; where several are feasible, also all of them at once.
    Returns the round's record, and the design taken with its trial (``None`` where nothing cheaper is)."""
    moves = current.moves(p.input_integer, p.widths, coarse=phase == "coarse")
    if not moves:
        return {"tried": 0, "stopped": "no move left"}, None, None
    records = evaluate(client, [d for _, d in moves])
    feasible = [
        (rec["rtl_alkaid_lut"], label, d, rec)
        for (label, d), rec in zip(moves, records, strict=True)
        if _feasible(rec, floor)
    ]
    step: dict[str, Any] = {"tried": len(moves), "feasible": len(feasible)}
    if len(feasible) > 1:  # the feasible moves at once: often as good, always cheaper than each
        both = current.combine([d for _, _, d, _ in feasible])
        rec = evaluate(client, [both])[0]
        step["tried"] += 1
        if _feasible(rec, floor):
            feasible.append(
                (rec["rtl_alkaid_lut"], " + ".join(label for _, label, _, _ in feasible), both, rec)
            )
    if not feasible:
        return {**step, "stopped": "no feasible move"}, None, None
    lut, label, design, chosen = min(feasible, key=lambda t: (t[0], t[1]))
    if lut >= best["rtl_alkaid_lut"]:  # nothing cheaper: a local minimum
        return {**step, "stopped": "no cheaper feasible move"}, None, None
    return {**step, "move": label, "lut": lut, "val_accuracy": chosen["val_accuracy_qkeras"]}, design, chosen


def _feasible(rec: dict[str, Any], floor: float) -> bool:
    """Verified (C-sim = QKeras), its RTL equal to the C-sim on every event, accurate enough."""
    return (
        rec.get("status") == "ok"
        and bool(rec.get("passed"))
        and "rtl_alkaid_lut" in rec
        and rec.get("rtl_exact_vs_csim") == 1.0
        and rec.get("val_accuracy_qkeras", -1.0) >= floor
    )


def _best_comment(p: OptimizePlan, baseline: dict[str, Any], best: dict[str, Any]) -> str:
    return (
        f"The smallest design `triggernn optimize {p.source}` found (max drop {p.max_drop:g} of the float model's\n"
        f"validation accuracy {baseline['val_accuracy_float']:.4f}): validation accuracy "
        f"{best['val_accuracy_qkeras']:.4f}, alkaid's estimate {best['rtl_alkaid_lut']:,.0f} LUT "
        f"(from {baseline['rtl_alkaid_lut']:,.0f}).\n`triggernn run` it, then `triggernn rtl` on its project."
    )


def _confirm(best_path: Path, out: Path) -> dict[str, Any]:
    """Run the best config once more, with Yosys and Verilator: the real numbers of the design."""
    import logging
    import warnings

    from .pipeline import run
    from .trials import quiet_libraries

    cfg = load_config(best_path)
    cfg = cfg.with_overrides(rtl={**cfg.rtl.model_dump(), "enabled": True, "synthesize": True})
    levels = quiet_libraries()  # as the trials: Keras' and hls4ml's warnings are not the user's business here
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = run(cfg, run_root=out / "confirm" / "runs", project_root=out / "confirm" / "hls",
                    progress=False, force=True)  # fmt: skip
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    rtl = r.rtl
    synth = rtl.synthesis
    metrics = r.verification.metrics
    return {
        "passed": r.passed,
        "lut": synth.lut if synth else None,
        "ff": synth.ff if synth else None,
        "dsp": synth.dsp if synth else None,
        "latency_cycles": rtl.latency_cycles,
        "latency_ns": rtl.latency_ns,
        "exact_vs_csim": rtl.exact_vs_csim,
        "alkaid_lut": rtl.alkaid_cost,
        "accuracy_float": metrics["float"].accuracy if "float" in metrics else None,
        "accuracy_csim": metrics["csim"].accuracy if "csim" in metrics else None,
        "run_dir": str(r.run_dir),
    }
