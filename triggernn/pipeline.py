"""The main job: data -> float and QKeras models -> hls4ml project -> C simulation -> verification -> report."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .compat import probe_model
from .config import RunConfig
from .hls import HLSProject, emit, run_testbench
from .hls.config import logits_layer
from .inputs import Events, concat, n_events, side_by_side, take
from .models import build_model
from .outputs import staged_dir
from .quantize import to_fixed_grid
from .ranges import layer_ranges, plot_ranges
from .train import seed_everything, train_model
from .verify import MAX_PLOTTED_CLASSES, VerificationResult, float32_rounded_layers, verify_outputs

__all__ = [
    "KerasOutputs",
    "RunResult",
    "keras_outputs",
    "prepare_data",
    "run",
    "verify_model",
    "write_run_report",
]

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What a run made: the models, the emitted project, the verification and where the report is."""

    config: RunConfig
    float_model: Any
    qkeras_model: Any
    project: HLSProject
    verification: VerificationResult
    run_dir: Path
    timings: dict[str, float] = field(default_factory=dict)
    data_source: str = ""
    X_test: np.ndarray | None = None
    """The test inputs on the firmware's input grid (what was C-simulated)."""
    rtl: Any = None
    """The :class:`~triggernn.hdl.RTLResult` where ``rtl.enabled``."""

    @property
    def passed(self) -> bool:
        return self.verification.passed and (self.rtl is None or self.rtl.passed)

    def summary(self) -> list[str]:
        """The verdict, where everything went and how long each stage took, as the CLI prints it."""
        stages = ", ".join(f"{k} {s:.1f}s" for k, s in self.timings.items())
        return [
            f"== {self.config.name}: {'PASS' if self.passed else 'FAIL'}",
            f"project        {self.project.path}",
            f"report         {self.run_dir / 'report.html'}",
            *self.verification.summary(),
            *(self.rtl.summary() if self.rtl is not None else []),
            f"data           {self.data_source}",
            f"time per stage {stages}; total {sum(self.timings.values()):.1f}s",
        ]


@contextlib.contextmanager
def _stage(timings: dict[str, float], name: str) -> Iterator[None]:
    log.info("stage %s ...", name)
    t0 = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - t0
    log.info("stage %s done in %.1f s", name, timings[name])


def prepare_data(cfg: RunConfig):
    """Load the dataset of ``cfg.data`` and put every input on the firmware's input grid (``quantization.input``)."""
    from .data import load_jets
    from .data.digits import DIGIT_SOURCES, load_digits

    d = cfg.data
    if d.source in DIGIT_SOURCES:
        ds = load_digits(
            d.source,
            d.representation,
            path=d.path,
            fractions=d.fractions,
            seed=d.seed,
            max_events=d.max_events,
        )
    else:
        ds = load_jets(
            None if d.source == "embedded" else d.source,
            d.representation,
            fractions=d.fractions,
            seed=d.seed,
            max_jets=d.max_jets,
            image_size=d.image_size,
            sequence_length=d.sequence_length,
            sequence_features=d.sequence_features,
        )
    spec = cfg.quantization.input_type
    grid = {k: to_fixed_grid(getattr(ds, k), spec) for k in ("X_train", "X_val", "X_test")}
    return ds, grid


def _logits_and_outputs(model):
    """``(name of the logits layer or None, a model giving [logits, outputs] in one pass)``."""

    name = logits_layer(model)
    if len(model.outputs) > 1:  # several heads: their outputs side by side (inputs.side_by_side)
        return None, _SideBySide(model)
    if name is None:
        return None, probe_model(model, [model.output, model.output])
    return name, probe_model(model, [model.get_layer(name).output, model.output])


class _SideBySide:
    """A model of several outputs as ``[outputs, outputs]``, each its heads side by side."""

    def __init__(self, model) -> None:
        self.model = model

    def predict(self, X, **kw):
        out = side_by_side(self.model.predict(X, **kw))
        return out, out


@dataclass
class KerasOutputs:
    """The Keras models' outputs on the test set, and the logit spread that sizes the softmax tables."""

    float_out: np.ndarray | None
    qkeras_out: np.ndarray
    qkeras_logits: np.ndarray
    compared_layer: str
    spread: float


def keras_outputs(qkeras_model, X: dict[str, Events], float_model=None) -> KerasOutputs:
    """QKeras outputs and logits on ``X["X_test"]``, the float outputs, and the largest logit spread on
    ``X["X_train"]`` (calibration for the softmax tables)."""
    layer, both = _logits_and_outputs(qkeras_model)
    train_logits, _ = both.predict(X["X_train"], batch_size=4096, verbose=0)
    test_logits, test_out = both.predict(X["X_test"], batch_size=4096, verbose=0)
    return KerasOutputs(
        float_out=None
        if float_model is None
        else side_by_side(float_model.predict(X["X_test"], batch_size=4096, verbose=0)),
        qkeras_out=test_out,
        qkeras_logits=test_logits,
        compared_layer=layer or qkeras_model.layers[-1].name,
        spread=float(np.max(train_logits.max(1, keepdims=True) - train_logits)),
    )


def verify_model(
    cfg: RunConfig,
    qkeras_model,
    ds,
    X: dict[str, Events],
    *,
    project_dir: str | os.PathLike,
    float_model=None,
    timings: dict[str, float] | None = None,
    task: str | None = None,
    **emit_options,
) -> tuple[HLSProject, VerificationResult, KerasOutputs]:
    """Emit ``qkeras_model`` to ``project_dir``, C-simulate the test set, run the project's testbench and
    compare float, QKeras and C-sim with the thresholds of ``cfg.verify``.

    ``ds`` is the :class:`~triggernn.data.JetDataset` (labels, class names), ``X`` its inputs on the firmware's
    input grid (from :func:`prepare_data`). ``emit_options`` go to :func:`~triggernn.hls.emit` (``force``,
    ``inputs``, ``defer``). Returns the project, the verification and the Keras outputs.
    """
    timings = {} if timings is None else timings
    with _stage(timings, "predict_keras"):
        keras = keras_outputs(qkeras_model, X, float_model)

    with _stage(timings, "emit_and_csim"):
        n_tb = min(cfg.hls.tb_events, n_events(X["X_test"]))
        project = emit(
            qkeras_model,
            cfg,
            project_dir,
            tb_inputs=take(X["X_test"], slice(n_tb)),
            tb_outputs=keras.qkeras_out[:n_tb],
            csim_inputs=X["X_test"],
            softmax_spread=keras.spread,
            **emit_options,
        )

    with _stage(timings, "testbench"):
        tb_out = run_testbench(project.files, cfg.hls.project_name)

    with _stage(timings, "verify"):
        csim = _csim(project)
        outputs = project.decode_outputs(csim.outputs)
        logits = outputs if csim.logits is None else csim.logits
        compared = project.logits_layer or project.output_node
        ctype = project.output_type(project.logits_layer)
        n = len(logits)
        exact = np.array_equal(np.reshape(logits, (n, -1)), np.reshape(keras.qkeras_logits, (n, -1)))
        out_shape = tuple(qkeras_model.output_shape[1:]) if len(qkeras_model.outputs) == 1 else (0, 0)
        verification = verify_outputs(
            ds.y_test,
            ds.class_names,
            float_out=keras.float_out,
            qkeras_out=keras.qkeras_out,
            qkeras_logits=keras.qkeras_logits,
            csim_out=outputs,
            csim_logits=logits,
            compared_layer=compared,
            compared_lsb=ctype.lsb,
            compared_type=_type_label(project, ctype),
            thresholds=cfg.verify,
            testbench_out=None if tb_out is None else project.decode_outputs(tb_out),
            output_lsb=project.output_type().lsb,
            float32_limits=() if exact else float32_rounded_layers(
                qkeras_model, X["X_test"], cfg.quantization.input_type
            ),
            task=task or ("classification" if len(out_shape) == 1 and out_shape[0] >= 2 else "values"),
            reference=reference_label(qkeras_model),
        )  # fmt: skip
    return project, verification, keras


def _csim(project: HLSProject):
    """The C simulation of the test set that :func:`~triggernn.hls.emit` ran (it always does here)."""
    if project.csim is None:
        raise RuntimeError("the project was emitted without C-simulated test inputs")
    return project.csim


def reference_label(model) -> str:
    """``"qkeras"`` for a model with QKeras layers, ``"keras"`` for a float one: what the metrics are named."""
    return "qkeras" if any(layer.__class__.__name__.startswith("Q") for layer in model.layers) else "keras"


def _type_label(project: HLSProject, spec) -> str:
    return (
        "uint<1> (0 = -1), decoded" if project.binary_output and project.logits_layer is None else str(spec)
    )


def write_run_report(
    run_dir: Path,
    cfg: RunConfig,
    ds,
    X: dict[str, Events],
    qkeras_model,
    project: HLSProject,
    verification: VerificationResult,
    keras: KerasOutputs,
    timings: dict[str, float],
    title: str | None = None,
    *,
    extra: dict | None = None,
    tables: dict | None = None,
) -> Path:
    """Layer ranges against the firmware types, plots, ``report.md``/``report.html`` and ``metrics.json``
    in ``run_dir``; returns the path of the HTML report. ``extra`` items go into metrics.json (and the run
    table when scalar), ``tables`` (``{title: (header, rows)}``) become sections of the report."""
    from .hls.estimate import estimate, estimate_table
    from .report import plot_confusion, plot_residuals, plot_roc, write_report

    run_dir.mkdir(parents=True, exist_ok=True)
    est = estimate(project.hls_model)
    tables = {
        "Resource and latency estimate (from the hls4ml graph, no synthesis)": estimate_table(est),
        **(tables or {}),
    }
    with _stage(timings, "ranges"):
        ranges = layer_ranges(qkeras_model, project, concat(X["X_train"], X["X_test"]))

    with _stage(timings, "report"):
        csim = _csim(project)
        outputs = project.decode_outputs(csim.outputs)
        logits = outputs if csim.logits is None else csim.logits
        compared = verification.compared_layer
        plots = {}
        if verification.task == "classification" and verification.n_outputs <= MAX_PLOTTED_CLASSES:
            scores = {"float": keras.float_out, verification.reference: keras.qkeras_out, "csim": outputs}
            plots["ROC curves"] = plot_roc(
                ds.y_test,
                {k: v for k, v in scores.items() if v is not None},
                ds.class_names,
                run_dir / "roc.png",
            )
            plots["Confusion matrix"] = plot_confusion(
                ds.y_test, outputs, ds.class_names, run_dir / "confusion.png"
            )
        plots["Layer ranges"] = plot_ranges(ranges, run_dir / "ranges.png")
        plots["Residuals"] = plot_residuals(
            keras.qkeras_logits, logits, verification.compared_lsb, run_dir / "residuals.png", compared
        )
        extra = {
            "config": cfg.model_dump(mode="json"),
            "project": str(project.path),
            "dataset": ds.source,
            "n_train": len(ds.y_train),
            "n_test": len(ds.y_test),
            "csim_events_per_second": _csim(project).events_per_second,
            "softmax_max_spread": keras.spread,
            "timings_s": timings,
            "layer_ranges": [r.to_dict() for r in ranges],
            "estimate": est,
            **(extra or {}),
        }
        write_report(
            run_dir,
            title or f"triggernn run: {cfg.name}",
            verification.to_dict(),
            extra,
            plots,
            project.layer_types,
            tables,
        )
    return run_dir / "report.html"


def run(
    config: RunConfig | str | os.PathLike,
    *,
    run_root: str | os.PathLike = "runs",
    project_root: str | os.PathLike = "hls_projects",
    progress: bool = True,
    force: bool = False,
) -> RunResult:
    """Run the whole pipeline for one config; writes ``hls_projects/<name>/`` and ``runs/<name>/``.

    Both folders are checked before any work (a folder triggernn did not write is replaced only with
    ``force``), written to hidden staging folders and moved into place together at the end, so an
    interrupted or failed run leaves the previous run's project and report as they were.
    Returns a :class:`RunResult`; the verification verdict is in ``result.verification.passed``.
    """
    from .plans import plan_run

    plan = plan_run(config, run_root=run_root, project_root=project_root, force=force)  # = `triggernn check`
    cfg = plan.config
    with staged_dir(plan.run_dir, what="run folder", force=force, flag="--runs") as stage:
        # the project is staged as a child of the run folder: both moved into place together, or discarded
        result = _run_staged(plan, stage.path, progress, force, stage.children)
    result.run_dir = stage.final
    if cfg.rtl.enabled:
        _run_rtl(cfg, result)
    return result


def _run_rtl(cfg: RunConfig, result: RunResult) -> None:
    """The RTL stage on the whole test set, its numbers added to ``metrics.json`` and ``report.md``."""
    import json

    from .hdl import rtl
    from .records import write_json

    with _stage(result.timings, "rtl"):
        r = rtl(result.project, result.X_test, latency_cutoff=cfg.rtl.latency_cutoff,
                synthesize=cfg.rtl.synthesize, synth_timeout_s=cfg.rtl.synth_timeout_s,
                synth_jobs=cfg.rtl.synth_jobs, keep_softmax=cfg.rtl.keep_softmax)  # fmt: skip
    result.rtl = r
    metrics_file = result.run_dir / "metrics.json"
    write_json(metrics_file, {**json.loads(metrics_file.read_text()), "rtl": r.to_dict()}, indent=1)
    report = result.run_dir / "report.md"
    if report.is_file():
        lines = ["", "## Open-source RTL (alkaid, Verilator, Yosys)", "", "```", *r.summary(), "```", ""]
        report.write_text(report.read_text() + "\n".join(lines))


def _run_staged(plan, run_dir: Path, progress: bool, force: bool, pending: list) -> RunResult:
    """:func:`run` of ``plan`` (a :class:`~triggernn.plans.RunPlan`) inside the staged run folder ``run_dir``;
    the project is left staged in ``pending``."""
    timings: dict[str, float] = {"data": plan.data_seconds}
    cfg, ds, X, project_dir = plan.config, plan.dataset, plan.inputs, plan.project_dir
    n_classes, input_shape = plan.n_classes, plan.input_shape
    models = {}
    for quantized in (False, True):
        label = "qkeras" if quantized else "float"
        with _stage(timings, f"train_{label}"):
            seed_everything(cfg.train.seed)  # before building: the initial weights come from the seed too
            model = build_model(cfg, input_shape, n_classes, quantized=quantized)
            train_model(
                model,
                cfg.train,
                X["X_train"],
                ds.y_train,
                X["X_val"],
                ds.y_val,
                progress=progress,
                label=label,
            )
            models[label] = model

    project, verification, keras = verify_model(
        cfg,
        models["qkeras"],
        ds,
        X,
        float_model=models["float"],
        project_dir=project_dir,
        timings=timings,
        force=force,
        defer=pending,
    )
    _write_summary(models["qkeras"], run_dir / "model_summary.txt")
    models["float"].save(run_dir / "float_model.h5")
    models["qkeras"].save(run_dir / "qkeras_model.h5")
    write_run_report(run_dir, cfg, ds, X, models["qkeras"], project, verification, keras, timings)
    return RunResult(
        cfg,
        models["float"],
        models["qkeras"],
        project,
        verification,
        run_dir,
        timings,
        ds.source,
        X["X_test"],
    )


def check_layer_names(cfg: RunConfig, qkeras_model) -> None:
    """Refuse, before training, a ``quantization.layers`` or ``hls.precision`` entry naming a layer the model
    does not have, or a type key hls4ml's layer does not have."""
    from .errors import ConfigError
    from .hls.config import check_precision, precision_layers

    names = {layer.name for layer in qkeras_model.layers}
    for name in cfg.quantization.layers:
        if name not in names:
            raise ConfigError(
                f"quantization.layers names layer '{name}', which the {cfg.model.family} model does not have: "
                f"choose from {', '.join(sorted(names))}"
            )
    if cfg.hls.precision:
        check_precision(cfg.hls.precision, precision_layers(qkeras_model, cfg.hls.backend))


def _write_summary(model, path: Path) -> None:
    """Keras' layer-by-layer summary (shapes, parameter counts) as text."""
    lines: list[str] = []
    model.summary(print_fn=lines.append, line_length=80)
    path.write_text("\n".join(lines) + "\n")
