"""Scans on Dask: a grid over bit widths, integer bits, reuse factors, sparsity (any config key), each point
trained, emitted, C-simulated and verified by the same pipeline as ``triggernn run``, as Dask tasks.

A scan config (``configs/scans/jet_dense.yaml``)::

    name: scan_jet_dense
    base: ../jet_dense.yaml         # a run config, relative to this file
    overrides: {train: {epochs: 8}} # applied to every point
    grid:                           # dotted config keys; 'bits' and 'integer' set weights, biases, activations
      bits: [4, 6, 8, 12, 16]
      hls.reuse_factor: [1, 4]
      train.sparsity: [0.0, 0.5, 0.75]

Every point's result is a JSON file ``<out>/points/<key>.json``, ``key`` a hash of the point's whole config,
written atomically when the point ends, so an interrupted scan resumes where it stopped and a finished
point is never run again. A point that fails is recorded with its error (and not retried unless asked);
it never stops the scan. The table (``results.csv``) and the Pareto plot of C-sim accuracy against the
estimated cost (``pareto.png``) are rebuilt from all records at the end.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from .cluster import local_cluster
from .config import STRICT, RunConfig, check_name, load_config
from .errors import ConfigError
from .trials import interrupted, pareto_front, read_records, run_point

__all__ = ["ScanConfig", "ScanResult", "load_scan", "pareto_front", "run_scan", "scan_points"]

_SHORTHANDS = {
    "bits": ("quantization.weight.bits", "quantization.bias.bits", "quantization.activation.bits"),
    "integer": (
        "quantization.weight.integer",
        "quantization.bias.integer",
        "quantization.activation.integer",
    ),
}


class ScanConfig(BaseModel):
    model_config = STRICT

    name: str
    base: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, list[Any]]
    #: the cost on the Pareto plot's x axis, from the estimates (no synthesis)
    cost: Literal["bops", "multipliers", "bit_weighted_multipliers", "dsp", "rtl_lut"] = "bops"
    """``rtl_lut``: Yosys' LUT count, for scans whose base config enables the RTL stage (``rtl.enabled``)."""

    _name = field_validator("name")(check_name)

    @field_validator("grid")
    @classmethod
    def _distinct(cls, grid: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in grid.items():
            if not values:
                raise ValueError(f"grid '{key}' has no values: give at least one")
            seen = [repr(v) for v in values]
            twice = next((v for v in values if seen.count(repr(v)) > 1), None)
            if twice is not None:
                raise ValueError(f"grid '{key}' lists {twice!r} twice: each point once")
        return grid


@dataclass
class ScanResult:
    """What a scan made: one record per point (``status`` ok/failed), the table and the Pareto plot;
    ``.passed`` (every point ran and verified) and ``.summary()`` (the table as the CLI prints it)."""

    out: Path
    records: list[dict]
    table: Path
    plot: Path
    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> list[dict]:
        """The points that ran to the end, cheapest first."""
        return sorted((r for r in self.records if r["status"] == "ok"), key=lambda r: r["est_bops"])

    @property
    def failed(self) -> list[dict]:
        return [r for r in self.records if r["status"] != "ok"]

    @property
    def passed(self) -> bool:
        """Every point ran, and every one that ran passed its verification."""
        return not self.failed and all(r.get("passed", False) for r in self.records)

    def summary(self) -> list[str]:
        grid = [k for k in (self.records[0] if self.records else {}) if k.startswith("p:")]
        lines = [
            f"{len(self.ran)} points run, {len(self.skipped)} already done, {len(self.failed)} failed",
            " ".join(f"{k[2:]:>16}" for k in grid)
            + f" {'BOPs (est.)':>12} {'mults':>7} {'C-sim acc':>9} {'exact':>7} {'verdict':>7}",
        ]
        for r in self.ok:
            lines.append(
                " ".join(f"{r[k]!s:>16}" for k in grid)
                + f" {r['est_bops']:>12,} {r['est_multipliers']:>7,} {r['accuracy_csim']:>9.4f}"
                f" {r['bit_exact']:>7.2%} {'PASS' if r.get('passed') else 'FAIL':>7}"
            )
        for r in self.failed:
            lines.append("FAILED " + ", ".join(f"{k[2:]}={r[k]}" for k in grid) + f": {r['error'][:200]}")
        return [*lines, f"table {self.table}", f"plot  {self.plot}"]


def load_scan(path: str | os.PathLike) -> tuple[ScanConfig, RunConfig]:
    """The scan config at ``path`` and its validated base run config."""
    from pydantic import ValidationError

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"scan config '{path}' does not exist: pass e.g. configs/scans/jet_dense.yaml")
    from .config_io import format_validation_error, read_yaml, require_kind

    tree = read_yaml(path)  # the one YAML loader: duplicate keys refused
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: a scan config is a mapping (name, base, grid), got {type(tree).__name__}")
    require_kind(tree, path, "scan")
    try:
        scan = ScanConfig.model_validate(tree)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, f"the scan config {path}")) from None
    if not scan.grid or any(not v for v in scan.grid.values()):
        raise ConfigError(f"{path}: 'grid' needs at least one key with at least one value")
    base = load_config((path.parent / scan.base) if not Path(scan.base).is_absolute() else scan.base)
    return scan, base


def _set(tree: dict, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    for p in parents:
        tree = tree.setdefault(p, {})
        if not isinstance(tree, dict):
            raise ConfigError(f"grid key '{dotted}': '{p}' is not a section of the config")
    tree[leaf] = value


def _flatten(tree: dict, prefix: str = ""):
    """``(dotted key, value)`` for every leaf of a nested dict: ``{train: {epochs: 8}}`` -> ``train.epochs``."""
    for k, v in tree.items():
        if isinstance(v, dict) and v:
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def _check_not_shadowed(keys: list[str], cfg: dict) -> None:
    """Refuse a grid key setting a default quantizer (``bits``: ``quantization.weight.bits``...) that a layer's own
    setting (``quantization.layers.<name>.weight``) replaces: on that layer the axis would change nothing."""
    layers = (cfg.get("quantization") or {}).get("layers") or {}
    for key in keys:
        for dotted in _SHORTHANDS.get(key, (key,)):
            parts = dotted.split(".")
            if (
                len(parts) != 3
                or parts[0] != "quantization"
                or parts[1] not in ("weight", "bias", "activation")
            ):
                continue
            shadowing = sorted(name for name, q in layers.items() if (q or {}).get(parts[1]) is not None)
            if shadowing:
                raise ConfigError(
                    f"grid key '{key}' sets {dotted}, which quantization.layers.{shadowing[0]}.{parts[1]} replaces "
                    f"({len(shadowing)} layer{'s' if len(shadowing) > 1 else ''}: {', '.join(shadowing)}): on those "
                    f"layers it would change nothing; scan quantization.layers.<name>.{parts[1]}.{parts[2]} instead, "
                    "or drop the per-layer settings (overrides: {quantization: {layers: {}}})"
                )


def _check_keys_act(scan: ScanConfig) -> None:
    """Refuse scan keys that would do nothing: a name in the grid or the overrides (a scan names its points
    ``<scan>_<hash>``), and an override of a key the grid sets (the grid's values replace it)."""
    overridden = {dotted for dotted, _ in _flatten(scan.overrides)}
    if "name" in scan.grid or "name" in overridden:
        raise ConfigError(
            "a scan names each point <scan name>_<hash of its config>: drop 'name' from the grid and the overrides"
        )
    for key in scan.grid:
        for dotted in _SHORTHANDS.get(key, (key,)):
            hit = sorted(o for o in overridden if o == dotted or o.startswith(f"{dotted}."))
            if hit:
                raise ConfigError(
                    f"'{hit[0]}' is set by the overrides and by the grid key '{key}', whose values replace it at "
                    "every point: drop it from the overrides"
                )


def scan_points(scan: ScanConfig, base: RunConfig) -> list[tuple[str, dict, dict]]:
    """Every grid point as ``(key, {grid key: value}, full config dict)``, each config validated here, so a
    bad value stops the scan before any work, naming the point."""
    base_dict = base.model_dump(mode="json")
    for dotted, v in _flatten(scan.overrides):
        _set(base_dict, dotted, v)
    keys = list(scan.grid)
    _check_not_shadowed(keys, base_dict)
    _check_keys_act(scan)
    points = []
    for values in itertools.product(*(scan.grid[k] for k in keys)):
        point = dict(zip(keys, values, strict=True))
        cfg = json.loads(json.dumps(base_dict))
        for k, v in point.items():
            for dotted in _SHORTHANDS.get(k, (k,)):
                if (
                    isinstance(v, dict) and v
                ):  # a section's fields (grid: {train: [{epochs: 1}, ...]}): merged
                    for leaf, value in _flatten(v, f"{dotted}."):
                        _set(cfg, leaf, value)
                else:
                    _set(cfg, dotted, v)
        digest = hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]
        cfg["name"] = f"{scan.name}_{digest}"
        try:
            load_config(cfg)
        except ConfigError as err:
            raise ConfigError(f"scan point {point} is not a valid config: {err}") from None
        points.append((digest, point, cfg))
    return points


def run_scan(
    path: str | os.PathLike,
    *,
    out: str | os.PathLike | None = None,
    scheduler: str | None = None,
    workers: int = 2,
    retry_failed: bool = False,
    progress: bool = True,
) -> ScanResult:
    """Run (or resume) the scan at ``path`` on Dask; returns a :class:`ScanResult`. ``scheduler`` is a ``tcp://`` address; without it a LocalCluster of
    ``workers`` single-threaded processes is started (and stopped)."""
    from distributed import Client, as_completed

    from .outputs import owned_folder
    from .plans import plan_scan

    plan = plan_scan(path, out=out, scheduler=scheduler, check_models=False)  # before any folder or worker
    scan, points, scheduler = plan.scan, plan.points, plan.scheduler
    out = owned_folder(plan.out, what="scan results folder", inputs=[path])
    done = read_records(out)
    todo = [p for p in points if p[0] not in done or (retry_failed and done[p[0]].get("status") != "ok")]
    skipped = [p[0] for p in points if p not in todo]
    ran: list[str] = []
    if todo:
        cluster = None if scheduler else local_cluster(workers)
        try:
            with Client(scheduler or cluster) as client:
                futures = [
                    client.submit(
                        run_point,
                        key,
                        point,
                        cfg,
                        str(out.absolute()),
                        key=f"triggernn-point-{key}",
                        pure=False,
                    )
                    for key, point, cfg in todo
                ]
                it = as_completed(futures)
                if progress:
                    from tqdm.auto import tqdm

                    it = tqdm(it, total=len(futures), desc=f"scan {scan.name}", unit="point")
                for fut in it:
                    ran.append(fut.result()["key"])
        except KeyboardInterrupt:
            interrupted(cluster, out)
            cluster = None
            raise
        finally:  # also on Ctrl-C: finished points are on disk already, the rest run when started again
            if cluster is not None:
                cluster.close()
    records = [r for k, r in read_records(out).items() if k in {p[0] for p in points}]
    table = _write_table(records, out / "results.csv")
    plot = _plot_pareto(records, scan.cost, out / "pareto.png")
    return ScanResult(out=out, records=records, table=table, plot=plot, ran=ran, skipped=skipped)


def _write_table(records: list[dict], path: Path) -> Path:
    columns: list[str] = []
    for r in records:
        columns += [k for k in r if k not in columns and k != "traceback"]
    tmp = path.with_suffix(".partial")
    with tmp.open("w", newline="") as f:
        w = csv.DictWriter(f, columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(records)
    tmp.replace(path)
    return path


def _plot_pareto(records: list[dict], cost: str, path: Path) -> Path:
    from .report.plots import _plt

    plt = _plt()
    key = cost if cost.startswith("rtl_") else f"est_{cost}"
    ok = [r for r in records if r.get("status") == "ok" and key in r]
    fig, ax = plt.subplots(figsize=(8, 6))
    if ok:
        xy = [(float(r[key]), float(r["accuracy_csim"])) for r in ok]
        bits = [r.get("p:bits") for r in ok]
        sc = ax.scatter(
            *zip(*xy, strict=True), c=[b if isinstance(b, int | float) else 0 for b in bits], cmap="viridis"
        )
        if any(b is not None for b in bits):
            fig.colorbar(sc, ax=ax, label="bits")
        front = pareto_front(xy)
        ax.plot([xy[i][0] for i in front], [xy[i][1] for i in front], "r-", label="Pareto front")
        ax.set_xscale("log")
        ax.legend(loc="lower right")
    failed = len(records) - len(ok)
    label = {"bops": "BOPs", "dsp": "DSPs"}.get(cost, cost.replace("_", " "))
    ax.set_xlabel(
        "LUTs (Yosys synth_xilinx of the RTL)" if cost == "rtl_lut" else f"estimated {label} (no synthesis)"
    )
    ax.set_ylabel("C-sim accuracy")
    ax.set_title(
        f"{len(ok)} points" + (f", {failed} failed (see results.csv)" if failed else ""), fontsize=14
    )
    fig.tight_layout()
    tmp = path.with_suffix(".partial.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
