"""Bring your own model: ``triggernn compile MODEL --data FILE`` / ``triggernn.compile(model, X)``.

A model trained elsewhere (Keras or QKeras; ``.h5``, ``.keras``, SavedModel, JSON + weights) is prepared
(no-op layers removed, fused activations split), its precision calibrated on data (:mod:`triggernn.calibrate`),
emitted, C-simulated and verified on held-out data, with the same report as ``triggernn run`` plus the chosen
types, hls4ml's default configuration measured on the same data, and a multiplier estimate of both.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import os
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import compat
from .calibrate import Calibration, PrecisionError, calibrate, fixed_for_range
from .compile_criteria import MIN_TEST_EVENTS, activation_name, criteria, report_tables, table_layers
from .compile_inputs import hls_config, load_calibration_data, load_precision
from .config import check_name, load_config
from .data.errors import DataError
from .errors import ConfigError, HLSError, ModelError
from .hls.config import check_precision
from .hls.cost import multiplier_cost
from .hls.emit import check_supported
from .inputs import Events, as_list, each, n_events, shapes_of, side_by_side, take
from .models.prepare import PreparedModel, load_any, prepare_for_hls
from .outputs import check_output_dir, separate_folders, staged_dir
from .quantize import to_fixed_grid

if TYPE_CHECKING:
    from .config import HLSConfig
    from .hls import HLSProject
    from .verify import VerificationResult

__all__ = [
    "CompilePlan",
    "CompileResult",
    "compile_model",
    "hls_config",
    "load_calibration_data",
    "plan_compile",
    "run_compile",
]

log = logging.getLogger(__name__)

#: Widths tried, narrowest first, when a tolerance instead of a width is given.
TOLERANCE_WIDTHS = (8, 10, 12, 14, 16, 18, 20, 24)


@dataclass
class CompileResult:
    """What ``compile`` made: the project, its verdict, the chosen types; ``.passed`` and ``.summary()``."""

    project: HLSProject
    verification: VerificationResult
    calibration: Calibration
    prepared: PreparedModel
    default: dict
    """hls4ml's default configuration on the same test data: argmax agreement, largest output difference."""
    cost: dict[str, list[dict]]
    run_dir: Path
    report: Path
    widths_tried: dict[int, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.verification.passed

    def summary(self) -> list[str]:
        """The verdict and what was chosen, as the CLI prints it."""
        v, c = self.verification, self.calibration
        lines = [
            f"== {self.run_dir.name}: {'PASS' if v.passed else 'FAIL'}",
            f"project        {self.project.path}",
            f"report         {self.report}",
            *v.summary(),
            f"precision      width {c.width} bits, headroom {c.headroom_bits} bit(s), input {c.input_type}; "
            "every type in the report",
        ]
        if self.default:
            agree = self.default["argmax_agreement"]
            lines.append(
                "hls4ml default "
                + ("" if agree is None else f"argmax agreement {agree:.4%}, ")
                + f"largest output difference {self.default['max_abs_diff']:.3g} (same test events)"
            )
        lines += [f"removed        {note} (inactive at inference)" for note in self.prepared.removed]
        return lines


def _hls4ml_default(model, X: Events, out_dir: Path, io_type: str, backend: str):
    """hls4ml's own configuration (``config_from_keras_model(granularity='name')``), untouched: outputs and graph."""
    from .hls.adapter import load_hls4ml

    hls4ml = load_hls4ml()
    hc = hls4ml.utils.config_from_keras_model(model, granularity="name", backend=backend)
    with contextlib.redirect_stdout(io.StringIO()):
        hm = hls4ml.converters.convert_from_keras_model(
            model, hls_config=hc, output_dir=str(out_dir), backend=backend, io_type=io_type
        )
        hm.compile()
        out = hm.predict(each(X, np.ascontiguousarray))
    return side_by_side(out, n_events(X)).reshape(n_events(X), -1), hm


def _hls4ml_layers(model, backend: str) -> dict[str, dict]:
    """hls4ml's per-node configuration of ``model``; HLSError if hls4ml cannot parse the model."""
    from .hls.config import precision_layers

    try:
        return precision_layers(model, backend)
    except Exception as err:  # hls4ml's parsers raise bare Exceptions for forms they do not handle
        raise HLSError(f"hls4ml 1.3.0 cannot convert this model: {err}") from None


def _precision_for(
    layers: dict[str, dict], calibration: Calibration, user: dict[str, dict[str, str]]
) -> dict[str, dict[str, str]]:
    """The calibrated types of the layers hls4ml's graph actually has (it folds Flatten, for example), with
    the user's types (``--precision``) over them."""
    chosen = {k: dict(v) for k, v in calibration.precision.items() if k in layers}
    for name, entries in user.items():
        chosen.setdefault(name, {}).update(entries)
    return chosen


@dataclass(frozen=True)
class CompilePlan:
    """What ``compile`` works on, checked: the prepared model and its hls4ml layers, the data split into
    calibration and held-out events (labels as classes), the task, the output folders (never a user's)."""

    name: str
    source: str
    model: Any = field(repr=False)
    prepared: PreparedModel = field(repr=False)
    hls: HLSConfig = field(repr=False)
    hls_layers: dict = field(repr=False)
    user_precision: dict = field(repr=False)
    X: Any = field(repr=False)
    labels: np.ndarray | None = field(repr=False)
    task: str = "classification"
    out_shape: tuple[int, ...] = ()
    n_out: int = 0
    approximate: dict = field(default_factory=dict, repr=False)
    cal: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int), repr=False)
    test: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int), repr=False)
    out_dir: Path = Path()
    run_final: Path = Path()
    inputs: tuple = ()
    width: int | None = None
    tolerance: float | None = None
    headroom_bits: int = 1
    class_names: tuple[str, ...] | None = None
    compare_default: bool = True
    force: bool = False

    def summary(self) -> str:
        shapes = ", ".join(
            str(tuple(x.shape[1:])) for x in (self.X if isinstance(self.X, list) else [self.X])
        )
        return (
            f"{self.name}: {self.source}, {len(self.model.layers)} layers, inputs {shapes}; {len(self.cal)} calibration "
            f"/ {len(self.test)} test events, {'labels given' if self.labels is not None else 'no labels'}; task "
            f"{self.task}; project {self.out_dir}, report {self.run_final}"
        )


def plan_compile(
    model,
    data: Events | dict[str, np.ndarray] | str | os.PathLike | None = None,
    *,
    labels: np.ndarray | None = None,
    name: str = "model",
    width: int | None = None,
    tolerance: float | None = None,
    headroom_bits: int = 1,
    input_range: tuple[float, float] | None = None,
    weights: str | os.PathLike | None = None,
    out: str | os.PathLike | None = None,
    run_root: str | os.PathLike = "runs",
    hls: HLSConfig | dict | str | os.PathLike | None = None,
    io_type: str | None = None,
    strategy: str | None = None,
    reuse_factor: int | None = None,
    backend: str | None = None,
    calibration_fraction: float = 0.5,
    class_names: tuple[str, ...] | None = None,
    seed: int = 0,
    compare_default: bool = True,
    force: bool = False,
    precision: str | os.PathLike | dict | None = None,
    task: str | None = None,
) -> CompilePlan:
    """The plan of ``compile``: every argument, the model, the data and the output folders resolved and checked
    before any work (``triggernn compile --check`` builds it and stops); see :func:`compile_model`.

    ``data``: inputs (array or file), split into calibration (``calibration_fraction``) and held-out test
    events; without data, ``input_range=(lo, hi)`` draws uniform inputs. ``width`` is the total bits per value
    (default 16), or give ``tolerance``, the largest fraction of calibration events whose argmax may differ,
    and the narrowest width of ``TOLERANCE_WIDTHS`` meeting it is chosen. ``precision`` (a mapping or a
    YAML/JSON file of ``layer: {key: type}``, checked against the keys hls4ml's layers have) sets types
    over the calibrated ones, QKeras layers included. ``task``: ``"classification"`` (argmax agreement and
    per-class metrics) or ``"values"`` (value by value only); by default classification where labels are
    given or the model ends in a softmax. Labels (from the file or
    ``labels``) give the physics metrics; without them the model's own argmax stands in, and the report says so.
    ``hls``: the same :class:`~triggernn.config.HLSConfig` (or mapping) as a run config's ``hls`` section
    (backend, part, clock period, io type, strategy, reuse factor, precision, ...); ``io_type``, ``strategy``,
    ``reuse_factor`` and ``backend`` replace its fields (as the CLI flags do), validated the same way.
    """
    from .validate import number

    if width is not None and tolerance is not None:
        raise ModelError("give either a width or a tolerance, not both")
    if width is not None:
        width = int(number(width, "width", low=4, high=32, integer=True, fix="bits per value, e.g. 16"))
    if tolerance is not None:
        tolerance = number(tolerance, "tolerance", low=0, high=1, fix="a fraction of events, e.g. 0.001")
    headroom_bits = int(number(headroom_bits, "headroom_bits", low=0, high=16, integer=True))
    seed = int(number(seed, "seed", low=0, high=2**32 - 1, integer=True))
    if class_names is not None:
        if isinstance(class_names, str) or not all(isinstance(c, str) and c for c in class_names):
            raise ConfigError(
                f"class_names must be a list of names, one per class, e.g. ('g', 'q', 'w'), got {class_names!r:.60}"
            )
        class_names = tuple(class_names)
    calibration_fraction = number(
        calibration_fraction, "calibration_fraction", low=0, low_open=True, high=0.9
    )
    if input_range is not None:
        if data is not None:
            raise ConfigError(
                "input_range draws inputs where no data are given, and data were given: drop one"
            )
        if not isinstance(input_range, tuple | list) or len(input_range) != 2:
            raise ConfigError(f"input_range must be two numbers (lo, hi), got {input_range!r:.40}")
        lo, hi = (number(v, "input_range") for v in input_range)
        if not lo < hi:
            raise ConfigError(f"input_range ({lo:g}, {hi:g}): the low end must be below the high end")
        input_range = (lo, hi)
    hls_cfg = hls_config(hls, io_type=io_type, strategy=strategy, reuse_factor=reuse_factor, backend=backend)
    if out is not None and hls_cfg.output_dir and Path(out).absolute() != Path(hls_cfg.output_dir).absolute():
        raise ConfigError(
            f"two project folders: out '{out}' and hls.output_dir '{hls_cfg.output_dir}': give one (--out, or "
            "output_dir in the hls settings)"
        )
    backend, io_type = hls_cfg.backend, hls_cfg.io_type
    try:
        check_name(name)
    except ValueError as err:
        raise ConfigError(f"{err}: pass another name (--name NAME)") from None
    inputs = tuple(p for p in (model, data, weights) if isinstance(p, str | os.PathLike))
    out_dir = check_output_dir(
        out if out is not None else hls_cfg.output_dir or Path("hls_projects") / name, what="HLS project folder", force=force,
        inputs=inputs,
    )  # fmt: skip
    run_final = check_output_dir(Path(run_root) / name, what="report folder", force=force, inputs=inputs,
                                 flag="--runs")  # fmt: skip
    separate_folders(out_dir, run_final, ("HLS project folder", "report folder"), ("--out", "--runs"))
    source = str(model) if isinstance(model, str | os.PathLike) else getattr(model, "name", "model")
    if isinstance(model, str | os.PathLike):
        model = load_any(model, weights)
    else:
        from .validate import keras_model

        keras_model(model)
    prepared = prepare_for_hls(model, source)
    kmodel = prepared.model
    check_supported(kmodel)  # before any data is read or anything written
    hls_layers = _hls4ml_layers(kmodel, backend)  # hls4ml's own parse, for the same reason
    user_precision = {**hls_cfg.precision}
    for layer, entries in load_precision(precision).items():  # the precision file over the config's section
        user_precision[layer] = {**user_precision.get(layer, {}), **entries}
    check_precision(user_precision, hls_layers)
    shapes = shapes_of(kmodel)
    input_names = compat.input_names(kmodel) if len(shapes) > 1 else []

    if isinstance(data, str | os.PathLike):
        data, file_labels = load_calibration_data(data, input_names or compat.input_names(kmodel))
        labels = labels if labels is not None else file_labels
    if data is None:
        if input_range is None:
            raise DataError(
                "no calibration data: pass data (an array or a .npy/.npz/.root file) or input_range"
            )
        rng = np.random.default_rng(seed)
        data = [rng.uniform(*input_range, size=(4000, *s)).astype(np.float32) for s in shapes]
        data = data if len(shapes) > 1 else data[0]
    from .validate import class_labels, model_events

    X = model_events(data, "the calibration data", shapes, input_names or compat.input_names(kmodel))
    for i, x in enumerate(as_list(X)):
        if x.size and float(np.min(x)) == float(np.max(x)):
            which = f"input '{input_names[i]}' of " if input_names else ""
            log.warning(
                "every value of %sthe calibration data is %g: the calibrated types fit that value only and the "
                "verdict is about it alone; pass representative events", which, float(x.flat[0]),
            )  # fmt: skip
    widest = (width or 16) if tolerance is None else max(TOLERANCE_WIDTHS)
    for x in as_list(X):  # the input type's range, from the data alone: what calibration would refuse later
        fixed_for_range(float(np.min(x)), float(np.max(x)), widest, headroom_bits, layer="input")
    # several heads are compared side by side, value by value
    out_shape = tuple(int(d) for d in kmodel.output_shape[1:]) if len(kmodel.outputs) == 1 else (0, 0)
    n_out = int(np.prod(out_shape)) if len(kmodel.outputs) == 1 else 0
    if labels is not None and (len(out_shape) != 1 or n_out < 2 or task == "values"):
        log.warning(
            "labels were given, but this model's output %s is compared value by value (no class scores): "
            "the labels are not used", out_shape
        )  # fmt: skip
        labels = None
    if labels is not None:  # integer classes or one-hot, one per event, of the model's classes
        labels = class_labels(labels, n_events(X), n_out)
        if len(np.unique(labels)) < 2:
            raise DataError(
                f"the labels hold one class only ({int(labels[0])}): accuracy and AUC need at least two; pass the "
                "labels of every class, or none (the model's own argmax then stands in)"
            )

    if task is None:  # scores of classes: labels say so, or a final softmax; else values (a regression,
        # an anomaly score, a hidden state, a feature map), compared value by value
        softmax = activation_name(kmodel.layers[-1]) == "softmax"
        task = (
            "classification"
            if (labels is not None or softmax) and len(out_shape) == 1 and n_out >= 2
            else "values"
        )
    elif task not in ("classification", "values"):
        raise ConfigError(f"task must be 'classification' or 'values', got '{task}'")
    elif task == "classification" and (len(out_shape) != 1 or n_out < 2):
        raise ConfigError(
            f"task 'classification' needs a flat output of two or more scores; this model's is {out_shape}"
        )
    classify = task == "classification"
    if class_names is not None and (not classify or len(class_names) != n_out):
        raise ConfigError(
            f"class_names names {len(class_names)} classes, and this model's output has "
            + (f"{n_out} class scores: give one name per output" if classify else "no classes: drop them")
        )
    if tolerance is not None and not classify:
        raise ConfigError(
            f"--tolerance is a largest argmax disagreement, but this model's output {out_shape} has no classes: "
            "give a --width instead"
        )
    approximate = table_layers(kmodel)
    order = np.random.default_rng(seed).permutation(n_events(X))
    n_cal = max(1, int(calibration_fraction * n_events(X)))
    cal, test = order[:n_cal], order[n_cal:]
    if len(test) < MIN_TEST_EVENTS:
        raise DataError(
            f"{n_events(X)} events leave {len(test)} for verification, a verdict needs at least {MIN_TEST_EVENTS}: "
            "pass more data"
        )

    return CompilePlan(
        name=name, source=source, model=kmodel, prepared=prepared, hls=hls_cfg, hls_layers=hls_layers,
        user_precision=user_precision, X=X, labels=labels, task=task, out_shape=out_shape, n_out=n_out,
        approximate=approximate, cal=cal, test=test, out_dir=out_dir, run_final=run_final, inputs=inputs,
        width=width, tolerance=tolerance, headroom_bits=headroom_bits, class_names=class_names,
        compare_default=compare_default, force=force,
    )  # fmt: skip


def compile_model(*args, **kwargs) -> CompileResult:
    """Load, calibrate, emit, C-simulate and verify a trained model; see the module docstring and
    :func:`plan_compile` for the arguments (the plan is built and checked first, then worked on)."""
    return run_compile(plan_compile(*args, **kwargs))


compile_model.__signature__ = inspect.signature(plan_compile).replace(  # type: ignore[attr-defined]
    return_annotation="CompileResult"
)  # help() and triggernn.compile's argument check see plan_compile's arguments


def run_compile(plan: CompilePlan) -> CompileResult:
    """Calibrate, emit, C-simulate, verify and report the model of ``plan``."""
    from .data.jets import JetDataset
    from .pipeline import verify_model, write_run_report

    p = plan
    backend, io_type = p.hls.backend, p.hls.io_type
    classify = p.task == "classification"
    widths_tried: dict[int, float] = {}
    candidates = [p.width or 16] if p.tolerance is None else list(TOLERANCE_WIDTHS)
    with staged_dir(p.run_final, what="report folder", force=p.force, flag="--runs", commit=False) as stage:
        run_dir = stage.path
        pending = stage.children  # the project: moved into place with the report folder, or discarded
        for w in candidates:
            try:
                calibration = calibrate(p.model, take(p.X, p.cal), width=w, headroom_bits=p.headroom_bits)
            except PrecisionError:
                if p.tolerance is None or w == candidates[-1]:
                    raise
                widths_tried[w] = float("nan")  # the observed ranges do not fit this width at all
                continue
            Xg = each(p.X, partial(to_fixed_grid, spec=calibration.input_type))
            reference = side_by_side(p.model.predict(Xg, batch_size=4096, verbose=0)).reshape(
                n_events(p.X), -1
            )
            if p.labels is not None:
                y = p.labels
            else:
                y = reference.argmax(1) if classify else np.zeros(n_events(p.X), dtype=np.int64)
            classes = p.class_names or tuple(str(i) for i in range(p.n_out if classify else 1))
            x_cal, x_test, none = take(Xg, p.cal), take(Xg, p.test), take(Xg, p.cal[:0])
            ds = JetDataset(x_cal, y[p.cal], none, y[p.cal][:0], x_test, y[p.test], classes, (), "byom", None,
                            None, f"{p.source}: {len(p.cal)} calibration / {len(p.test)} test events")  # fmt: skip
            Xd = {"X_train": x_cal, "X_val": none, "X_test": x_test}
            cfg = load_config(
                {
                    "name": p.name,
                    "quantization": {"input": str(calibration.input_type)},
                    "hls": {
                        **p.hls.model_dump(),
                        "tb_events": min(p.hls.tb_events, len(p.test)),
                        "precision": _precision_for(p.hls_layers, calibration, p.user_precision),
                        "activation_table_size": p.hls.activation_table_size or 4096,
                    },
                    "verify": criteria(
                        p.model, p.approximate, classify, float(np.abs(reference[p.test]).max())
                    ),
                }
            )
            timings: dict[str, float] = {}
            for staged in pending:  # an earlier width's project, superseded
                staged.discard()
            pending.clear()
            project, verification, keras = verify_model(cfg, p.model, ds, Xd, project_dir=p.out_dir, timings=timings,
                                                        task=p.task, force=p.force, inputs=p.inputs, defer=pending)  # fmt: skip
            widths_tried[w] = verification.output_argmax_agreement or 0.0
            if p.tolerance is None or 1 - widths_tried[w] <= p.tolerance:
                break
            log.info(
                "width %d: argmax agreement %.4f misses the tolerance %g", w, widths_tried[w], p.tolerance
            )

        default: dict = {}
        cost = {"calibrated": multiplier_cost(project.hls_model)}
        if p.compare_default:
            d_out, d_model = _hls4ml_default(
                p.model, take(Xg, p.test), run_dir / "hls4ml_default_project", io_type, backend
            )
            ref = reference[p.test]
            default = {
                "argmax_agreement": float(np.mean(d_out.argmax(1) == ref.argmax(1))) if classify else None,
                "max_abs_diff": float(np.max(np.abs(d_out - ref))),
                "exact_fraction": float(np.mean(np.all(d_out == ref, axis=1))),
            }
            cost["hls4ml_default"] = multiplier_cost(d_model)
        tables = report_tables(
            calibration, p.prepared, verification, default, cost, p.labels is None, widths_tried
        )
        extra = {
            "calibration": [c.to_dict() for c in calibration.choices],
            "calibration_width": calibration.width,
            "headroom_bits": calibration.headroom_bits,
            "hls4ml_default": default,
            "multiplier_cost": cost,
            "removed_layers": p.prepared.removed,
            "labels": "given" if p.labels is not None else "the model's own argmax (no labels given)",
        }
        report = write_run_report(run_dir, cfg, ds, Xd, p.model, project, verification, keras, timings,
                                  title=f"triggernn compile: {p.name}", extra=extra, tables=tables)  # fmt: skip
        stage.commit()
    report = stage.final / report.name
    return CompileResult(project, verification, calibration, p.prepared, default, cost, stage.final, report,
                         widths_tried)  # fmt: skip
