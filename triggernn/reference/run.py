"""``triggernn reference flow``: the flow reference (shipped, or trained here: GPU when present, else CPU)
evaluated on the jets, its FPGA student trained, compiled and verified, and one report of both."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from triggernn.outputs import owned_folder
from triggernn.records import write_json

from . import flow as F

__all__ = [
    "SHIPPED_FLOW",
    "SHIPPED_GAN",
    "ReferenceResult",
    "gan_quality",
    "run_flow_reference",
    "run_gan_reference",
    "run_reference",
    "training_line",
]

#: The references shipped in the repository (weights, hyper-parameters, feature scaling, training record,
#: metrics on the embedded jets).
SHIPPED_FLOW = Path(__file__).parent / "weights" / "flow_qcd"
SHIPPED_GAN = Path(__file__).parent / "weights" / "gan_generator"


#: Largest difference (standardized units) between the float generator and its FPGA copy that still passes.
GAN_FPGA_TOLERANCE = 0.01


@dataclass
class ReferenceResult:
    """What a reference run made: its metrics (also in ``<out>/metrics.json``) and its report; ``.passed`` when
    the FPGA model reproduces the reference (the flow's student bit-exact between QKeras and C-sim; the GAN's
    generator within :data:`GAN_FPGA_TOLERANCE` of the float one), ``.summary()`` the report's lines."""

    reference: Literal["flow", "gan"]
    metrics: dict[str, Any]
    out: Path

    @property
    def report(self) -> Path:
        return self.out / "report.md"

    @property
    def passed(self) -> bool:
        if self.reference == "gan":
            return self.metrics["fpga_generator"]["max_abs_diff_vs_keras"] < GAN_FPGA_TOLERANCE
        return self.metrics["student"]["bit_exact"] == 1.0

    def summary(self) -> list[str]:
        verdict = "PASS" if self.passed else "FAIL: the FPGA model does not reproduce the reference"
        return [*self.report.read_text().splitlines(), "", f"== {self.out.name}: {verdict}"]


def run_reference(cfg, out: str | Path | None = None, projects: str | Path = "hls_projects", *,
                  progress: bool = True, force: bool = False) -> ReferenceResult:  # fmt: skip
    """The reference run a :mod:`triggernn.reference.config` object describes (``configs/flow.yaml``,
    ``configs/gan.yaml``); the report goes to ``out`` (default ``runs/<cfg.name>``). ``force`` lets retrained
    weights replace those an earlier run saved at ``cfg.save_to`` (never another file)."""
    from ..validate import writable_folder
    from .config import check_jet_inputs, check_save_to

    check_save_to(cfg, force)
    check_jet_inputs(cfg)
    writable_folder(projects, "the projects folder (--projects)")  # the FPGA model's project goes in it
    out = owned_folder(
        out if out is not None else Path("runs") / cfg.name, what="report folder", create=False
    )
    run = run_gan_reference if cfg.reference == "gan" else run_flow_reference
    return ReferenceResult(cfg.reference, run(out, projects, cfg, progress=progress), out)


def _config(cfg, reference: str):
    from .config import load_reference_config

    return cfg if cfg is not None else load_reference_config({"reference": reference})


def _trained_or_shipped(module, shipped: Path, train, cfg, ds, progress: bool):
    """``(model, spec, training record, feature scaling, source)``: trained on ``cfg.data`` (default ``ds``) with
    ``cfg.retrain`` or where nothing is shipped, else the shipped reference, loaded on the CPU."""
    from ..data import load_jets
    from .units import scaling_of

    if cfg.retrain or not shipped.with_suffix(".pt").is_file():
        train_ds = load_jets(cfg.data) if cfg.data is not None else ds
        model, spec, training = train(train_ds, cfg.epochs, progress=progress)
        return model, spec, training, scaling_of(train_ds), "trained in this run"
    model, meta = module.load(shipped)
    if "scaling" not in meta:
        raise F.InputError(f"{shipped}.json records no feature scaling: retrain it (--retrain --save-to)")
    source = f"shipped reference ({shipped.with_suffix('.pt').name})"
    return model, module.spec_of(meta), meta.get("training", {}), meta["scaling"], source


def run_flow_reference(
    out: str | Path = "runs/flow", projects: str | Path = "hls_projects", cfg=None, *, progress: bool = True
) -> dict:
    """Evaluate (or retrain, with ``cfg.retrain``, on the jets of ``cfg.data``) the flow on the test split of
    ``cfg.evaluate_on`` (both default: the embedded jets), distill it into the FPGA student on those jets, and
    write ``<out>/report.md``, ``<out>/metrics.json`` and ``<out>/anomaly_roc.png``; returns the metrics.
    ``cfg``: a :class:`~triggernn.reference.config.FlowRunConfig` (default: its defaults)."""
    from ..data import load_jets
    from .student import distill
    from .train import train_flow_reference
    from .units import to_reference

    cfg = _config(cfg, "flow")
    ds = load_jets(cfg.evaluate_on)
    out = owned_folder(out, what="report folder")
    flow, spec, training, scaling, source = _trained_or_shipped(F, SHIPPED_FLOW, train_flow_reference, cfg, ds,
                                                                progress)  # fmt: skip
    scores = {
        k: F.nll(flow, to_reference(getattr(ds, f"X_{k}"), ds, scaling)) for k in ("train", "val", "test")
    }
    metrics = {
        **F.evaluate(flow, ds.X_test, ds.y_test, ds.class_names, scores=scores["test"]),
        "data": ds.source,
    }
    if cfg.save_to and cfg.retrain:
        F.save(flow, spec, {"scaling": scaling, "training": training, "metrics": metrics}, cfg.save_to)
    student = distill(scores, ds, Path(projects) / "flow_student", epochs=cfg.student_epochs)
    result = {
        "flow": {"source": source, "training": training, **metrics},
        "student": {"auc_qkeras": student.auc["qkeras"], "auc_csim": student.auc["csim"],
                    "bit_exact": student.bit_exact, "max_abs_diff": student.max_abs_diff,
                    "project": str(student.project)},
        "data": ds.source,
    }  # fmt: skip
    write_json(out / "metrics.json", result, indent=1)
    scored = {"flow (reference)": scores["test"], "student, C-sim (FPGA)": student.scores["csim"]}
    _plot_anomaly(ds, scored, out / "anomaly_roc.png")
    lines = [
        "# Flow reference and its FPGA student",
        "",
        f"Flow: zuko MAF ({source}); {training_line(training)}. Judged on: {ds.source}, test split.",
        f"Student: QKeras 16-32-16-1 regressing the flow's -log p, compiled in {student.project}; "
        f"C-sim vs QKeras bit-exact on {student.bit_exact:.2%} of test jets (largest difference "
        f"{student.max_abs_diff:g}).",
        "",
        "| anomaly AUC vs QCD (g+q) | flow (reference) | student, QKeras | student, C-sim (FPGA) |",
        "|---|---|---|---|",
    ]
    for name, auc in metrics["auc"].items():
        lines.append(
            f"| {name} | {auc:.3f} | {student.auc['qkeras'][name]:.3f} | {student.auc['csim'][name]:.3f} |"
        )
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return result


def training_line(t: dict) -> str:
    """How a reference was trained, in words: epochs, device, seconds per epoch, and the CPU beside a GPU."""
    if not t:
        return "training not recorded"
    where = t.get("device_name") or t.get("device", "?")
    line = f"trained {t.get('epochs', '?')} epochs on {t.get('device', '?')} ({where}), "
    line += f"{t.get('seconds_per_epoch', float('nan')):.3f} s an epoch"
    if t.get("jets"):
        line += f" of {t['jets']:,} jets ({t.get('data', 'data not recorded')})"
    if t.get("cpu_seconds_per_epoch"):
        line += (f"; the same epochs on that machine's CPU ({t.get('cpu_name', 'cpu')}) "
                 f"{t['cpu_seconds_per_epoch']:.3f} s, {t['cpu_over_gpu']:.1f}x the GPU's time")  # fmt: skip
    return line


def gan_quality(real, fake, y, ds) -> dict:
    """Generated jets ``fake`` (classes ``y``, one per real jet of ``real``) judged against ``real``: mean W1 per
    class beside the real-vs-real floor (``ds``'s validation jets), W1 per feature, classifier two-sample AUC."""
    from . import gan as Gm

    w = Gm.wasserstein_table(real, fake, y, y, ds.class_names, ds.X_val, ds.y_val)
    return {
        "w1_mean": {c: float(np.mean(r["generated"])) for c, r in w.items()},
        "w1_floor": {c: float(np.mean(r["real_vs_real"])) for c, r in w.items()},
        "w1_per_feature": {
            c: dict(zip(ds.feature_names, map(float, r["generated"]), strict=True)) for c, r in w.items()
        },
        "c2st_auc": Gm.c2st_auc(real, fake, y, y, len(ds.class_names)),
    }


def run_gan_reference(
    out: str | Path = "runs/gan", projects: str | Path = "hls_projects", cfg=None, *, progress: bool = True
) -> dict:
    """Evaluate (or retrain, with ``cfg.retrain``, on the jets of ``cfg.data``) the conditional GAN against the
    held-out jets of ``cfg.evaluate_on`` (both default: the embedded jets), compile its generator for the FPGA
    at ``cfg.width``-bit calibrated precision, C-simulate it and judge its jets the same way;
    ``<out>/report.md``, ``metrics.json`` and ``features.png`` (real vs GAN vs FPGA, per feature). ``cfg``: a
    :class:`~triggernn.reference.config.GANRunConfig` (default: its defaults)."""
    from ..calibrate import calibrate
    from ..compiler import _hls4ml_layers, _precision_for
    from ..config import load_config
    from ..data import load_jets
    from ..hls import emit
    from ..quantize import to_fixed_grid
    from . import gan as Gm
    from .train import train_gan_reference
    from .units import from_reference

    cfg = _config(cfg, "gan")
    width = cfg.width
    ds = load_jets(cfg.evaluate_on)
    out = owned_folder(out, what="report folder")
    G, spec, training, scaling, source = _trained_or_shipped(Gm, SHIPPED_GAN, train_gan_reference, cfg, ds,
                                                             progress)  # fmt: skip
    inputs = Gm.generator_inputs(ds.y_test, spec, seed=1)
    fake = from_reference(Gm.generate(G, inputs), ds, scaling)
    quality = {**gan_quality(ds.X_test, fake, ds.y_test, ds), "data": ds.source}
    if cfg.save_to and cfg.retrain:
        Gm.save(G, spec, {"scaling": scaling, "training": training, "metrics": quality}, cfg.save_to)

    # the generator on the FPGA: calibrated precision from other noise, then C simulation on the test inputs
    kmodel = Gm.keras_generator(G, spec)
    cal_inputs = Gm.generator_inputs(np.resize(ds.y_train, 4000), spec, seed=2)
    calibration = calibrate(kmodel, cal_inputs, width=width, headroom_bits=1)
    cfg = load_config({
        "name": "gan_generator",
        "quantization": {"input": str(calibration.input_type)},
        "hls": {"io_type": "io_parallel", "strategy": "Latency", "tb_events": 100,
                "precision": _precision_for(_hls4ml_layers(kmodel, "Vitis"), calibration, {})},
    })  # fmt: skip
    grid_inputs = to_fixed_grid(inputs, calibration.input_type)
    keras_out = kmodel.predict(grid_inputs, batch_size=4096, verbose=0)
    project = emit(kmodel, cfg, Path(projects) / "gan_generator", csim_inputs=grid_inputs,
                   tb_inputs=grid_inputs[:100], tb_outputs=keras_out[:100])  # fmt: skip
    fpga_raw = project.csim.outputs.astype(np.float64)  # the generator's own units
    fpga = from_reference(fpga_raw, ds, scaling)
    fpga_quality = gan_quality(ds.X_test, fpga, ds.y_test, ds)
    result = {
        "gan": {"source": source, "training": training, **quality},
        "fpga_generator": {"width": width, "max_abs_diff_vs_keras": float(np.abs(fpga_raw - keras_out).max()),
                           "project": str(project.path), **fpga_quality},
        "data": ds.source,
    }  # fmt: skip
    write_json(out / "metrics.json", result, indent=1)
    _plot_features(ds, fake, fpga, out / "features.png")
    lines = [
        "# GAN reference and its generator on the FPGA",
        "",
        f"GAN: conditional, PyTorch ({source}); {training_line(training)}. Judged on: {ds.source}, test split.",
        f"FPGA generator: the same weights in Keras, hls4ml at {width}-bit calibrated precision, C-simulated; "
        f"largest difference from the float generator {result['fpga_generator']['max_abs_diff_vs_keras']:.4f} "
        "(standardized units).",
        "",
        "| class | W1 real vs real (floor) | W1 real vs GAN | W1 real vs FPGA generator |",
        "|---|---|---|---|",
    ]
    for c in ds.class_names:
        lines.append(f"| {c} | {quality['w1_floor'][c]:.3f} | {quality['w1_mean'][c]:.3f} | "
                     f"{fpga_quality['w1_mean'][c]:.3f} |")  # fmt: skip
    lines += ["", f"Classifier two-sample test AUC (0.5 = indistinguishable): GAN {quality['c2st_auc']:.3f}, "
                  f"FPGA generator {fpga_quality['c2st_auc']:.3f}."]  # fmt: skip
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return result


def _plot_anomaly(ds, scores: dict[str, np.ndarray], path: Path) -> None:
    """QCD efficiency vs signal efficiency of each anomaly score, one panel per signal class."""
    from sklearn.metrics import roc_curve

    from ..report.plots import _plt

    plt = _plt()
    signals = [(k, c) for k, c in enumerate(ds.class_names) if c not in F.QCD]
    fig, axes = plt.subplots(1, len(signals), figsize=(6 * len(signals), 5.5), sharey=True)
    qcd = F.is_qcd(ds.y_test, ds.class_names)
    for ax, (k, name) in zip(np.atleast_1d(axes), signals, strict=True):
        sel = qcd | (ds.y_test == k)
        for (label, s), style in zip(scores.items(), ("-", "--", ":"), strict=False):
            fpr, tpr, _ = roc_curve(ds.y_test[sel] == k, s[sel])
            ax.plot(tpr, np.maximum(fpr, 1e-4), style, lw=2, label=label)
        ax.plot(np.linspace(0, 1, 50), np.linspace(0, 1, 50), ":", color="grey", lw=1, label="random")
        ax.set_yscale("log")
        ax.set_ylim(1e-3, 1.2)
        ax.set_title(f"{name} jets vs QCD (g+q)", fontsize=14)
        ax.set_xlabel("Signal efficiency")
        ax.grid(True, which="both", alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel("QCD efficiency")
    np.atleast_1d(axes)[0].legend(fontsize=10, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _plot_features(ds, fake, fpga, path: Path) -> None:
    from ..report.plots import _plt

    plt = _plt()
    fig, axes = plt.subplots(4, 4, figsize=(16, 14))
    for j, ax in enumerate(axes.ravel()):
        lo, hi = np.percentile(ds.X_test[:, j], [0.5, 99.5])
        bins = np.linspace(lo, hi, 40)
        ax.hist(ds.X_test[:, j], bins, histtype="stepfilled", alpha=0.3, color="k", label="Pythia (test)")
        ax.hist(fake[:, j], bins, histtype="step", lw=1.5, label="GAN")
        ax.hist(fpga[:, j], bins, histtype="step", lw=1.5, ls="--", label="FPGA generator")
        ax.set_xlabel(ds.feature_names[j], fontsize=11)
        ax.tick_params(labelsize=9)
    axes[0, 0].legend(fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
