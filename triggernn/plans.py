"""One plan per verb: every input resolved and checked before any work, and ``triggernn check`` builds the same.

A plan is a frozen object holding what the verb will work on: the validated config, the output folders it
may write, the data loaded and checked against the model the config builds. ``run`` works on its plan only;
``check`` builds the plan and stops, so it says ``ok`` exactly where ``run`` would get past every check that
does not need training.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import RunConfig, load_config
from .errors import ConfigError, DataError

__all__ = ["RunPlan", "ScanPlan", "check_file", "check_test_split", "plan_run", "plan_scan"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunPlan:
    """What ``triggernn run`` works on: the config, its two output folders (checked: never a user's), the data
    on the firmware's input grid, and the shape and classes the model is built for (its layer names and
    precision keys already checked against the config)."""

    config: RunConfig
    project_dir: Path
    run_dir: Path
    dataset: Any = field(repr=False)
    inputs: dict = field(repr=False)
    input_shape: tuple[int, ...] = ()
    n_classes: int = 0
    data_seconds: float = 0.0
    """How long loading the data took (the run's ``data`` timing)."""

    def summary(self) -> str:
        c = self.config
        return (
            f"{c.name}, family {c.model.family}, {c.hls.backend} {c.hls.io_type}; data {self.dataset.source}: "
            f"{len(self.dataset.y_train)}/{len(self.dataset.y_val)}/{len(self.dataset.y_test)} events of "
            f"shape {self.input_shape}, {self.n_classes} classes"
        )


def plan_run(
    config: RunConfig | str | os.PathLike | dict,
    *,
    run_root: str | os.PathLike = "runs",
    project_root: str | os.PathLike = "hls_projects",
    force: bool = False,
) -> RunPlan:
    """The plan of ``triggernn run``: everything short of training, checked.

    The config (schema and cross-section rules), the project and run folders (writable, never a user's folder
    without ``force``), the data (loaded, enough test events, more than one class), and the quantized model the
    config builds (its layer names against ``quantization.layers`` and ``hls.precision``). Raises a
    :class:`~triggernn.errors.TriggerNNError` naming the first problem.
    """

    from .models import build_model
    from .outputs import check_output_dir, separate_folders
    from .pipeline import check_layer_names, prepare_data
    from .validate import a_path

    cfg = config if isinstance(config, RunConfig) else load_config(config)
    for name, root in (("run_root", run_root), ("project_root", project_root)):
        a_path(root, name)
    project_dir = check_output_dir(
        cfg.project_dir(project_root), what="HLS project folder",
        force=force, flag="--projects (or hls.output_dir)",
    )  # fmt: skip
    run_dir = check_output_dir(
        Path(run_root) / cfg.name, what="run folder", force=force,
        flag="--runs",
    )  # fmt: skip
    separate_folders(project_dir, run_dir, ("HLS project folder", "run folder"), ("--projects", "--runs"))
    t0 = time.perf_counter()
    ds, X = prepare_data(cfg)
    data_seconds = time.perf_counter() - t0
    n_classes = len(ds.class_names)
    check_test_split(cfg, ds)
    if cfg.hls.tb_events > len(ds.y_test):
        log.warning(
            "hls.tb_events is %d and the test split holds %d events: the testbench gets all %d",
            cfg.hls.tb_events, len(ds.y_test), len(ds.y_test),
        )  # fmt: skip
    input_shape = tuple(int(d) for d in X["X_train"].shape[1:])
    check_layer_names(cfg, build_model(cfg, input_shape, n_classes, quantized=True))
    return RunPlan(cfg, project_dir, run_dir, ds, X, input_shape, n_classes, data_seconds)


def check_test_split(cfg: RunConfig, ds) -> None:
    """Refuse a test split too small for a verdict (``verify.min_events``) or of one class only."""
    import numpy as np

    if len(ds.y_test) < cfg.verify.min_events:
        raise DataError(
            f"{ds.source}: the test split holds {len(ds.y_test)} events, a verdict needs at least "
            f"{cfg.verify.min_events} (verify.min_events): use a larger sample"
        )
    present = np.unique(ds.y_test)
    if len(present) < 2:
        raise DataError(
            f"{ds.source}: every test event is of class {ds.class_names[int(present[0])]}: a classifier cannot "
            "be judged on one class; use a sample with every class"
        )


@dataclass(frozen=True)
class ScanPlan:
    """What ``triggernn scan`` works on: the scan config, its base, and every point's checked config."""

    scan: Any
    base: RunConfig
    points: list = field(repr=False)
    out: Path = Path("runs")
    scheduler: str | None = None

    def summary(self) -> str:
        return f"{self.scan.name}: {len(self.points)} points over {', '.join(self.scan.grid)}"


def plan_scan(
    path: str | os.PathLike, *, out: str | os.PathLike | None = None, scheduler: str | None = None,
    check_models: bool = True,
) -> ScanPlan:  # fmt: skip
    """The plan of ``triggernn scan``: the scan and base configs, every grid point's config validated, the
    results folder writable, the Dask address parsed and reached. With ``check_models`` each distinct model
    of the grid is also built against the data (layer names, precision keys), as ``run`` would before
    training."""
    from .outputs import owned_folder
    from .scan import load_scan, scan_points
    from .validate import dask_address

    scan, base = load_scan(path)
    points = scan_points(scan, base)
    if any(cfg["hls"].get("output_dir") for _, _, cfg in points):
        raise ConfigError(
            f"{path}: hls.output_dir would send every point's project to one folder; a scan writes each under "
            "<out>/hls/<name>: drop hls.output_dir from the scan (its base config and overrides)"
        )
    folder = owned_folder(
        Path(out or Path("runs") / scan.name), what="scan results folder", inputs=[path], create=False
    )
    address = dask_address(scheduler)
    if check_models:
        seen: set[str] = set()
        for _, point, cfg in points:
            shape = repr({k: cfg.get(k) for k in ("data", "model", "quantization")}) + repr(
                (cfg.get("hls") or {}).get("precision")
            )
            if shape in seen:
                continue
            seen.add(shape)
            try:
                _check_model(load_config(cfg))
            except ConfigError as err:
                raise ConfigError(f"scan point {point}: {err}") from None
    return ScanPlan(scan, base, points, folder, address)


def _check_model(cfg: RunConfig) -> None:
    """Build the quantized model ``cfg`` describes on its data's shape and check its layer names."""
    from .models import build_model
    from .pipeline import check_layer_names, prepare_data

    ds, X = prepare_data(cfg)
    shape = tuple(int(d) for d in X["X_train"].shape[1:])
    check_layer_names(cfg, build_model(cfg, shape, len(ds.class_names), quantized=True))


def check_file(path: str | os.PathLike) -> str:
    """``triggernn check FILE``: the plan of the verb the file is for, built and described (one line).

    A run config gets :func:`plan_run` (outputs checked as a first run would find them, ``force`` off); a scan
    config :func:`plan_scan`; a reference config its own validation; a lecture config its loader.
    """
    from .config_io import config_kind
    from .reference.config import check_jet_inputs, check_save_to, load_reference_config

    path = Path(path)
    kind = config_kind(path)
    if kind == "reference":
        ref = load_reference_config(path)
        check_save_to(ref)
        check_jet_inputs(ref)
        return f"ok ({ref.name}, {ref.reference} reference, {'retrained' if ref.retrain else 'shipped'})"
    if kind == "scan":
        return f"ok (scan {plan_scan(path).summary()})"
    if kind == "lecture":
        from .lecture import load_example

        cfg = load_example(path)
        return f"ok (lecture example {cfg.example}, {cfg.name})"
    plan = plan_run(path)
    return f"ok ({plan.summary()})"
