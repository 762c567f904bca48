"""``triggernn reference flow``: the flow reference (shipped, or trained here: GPU when present, else CPU)
evaluated on the jets, its FPGA student trained, compiled and verified, and one report of both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import flow as F

__all__ = ["SHIPPED_FLOW", "run_flow_reference"]

#: The reference shipped in the repository (weights + hyper-parameters + metrics), trained on the embedded jets.
SHIPPED_FLOW = Path(__file__).parent / "weights" / "flow_qcd"


def run_flow_reference(
    out: str | Path = "runs/flow",
    projects: str | Path = "hls_projects",
    *,
    retrain: bool = False,
    epochs: int = 60,
    student_epochs: int = 60,
    save_to: str | Path | None = None,
    progress: bool = True,
) -> dict:
    """Evaluate (or retrain with ``retrain``) the flow on the embedded jets, distill it into the FPGA student,
    and write ``<out>/report.md`` and ``<out>/metrics.json``; returns the metrics."""
    from ..data import load_jets
    from .student import distill

    ds = load_jets()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if retrain or not SHIPPED_FLOW.with_suffix(".pt").is_file():
        qcd_tr, qcd_va = (np.isin(y, [0, 1]) for y in (ds.y_train, ds.y_val))
        spec = F.FlowSpec()
        flow, log = F.train_flow(ds.X_train[qcd_tr], ds.X_val[qcd_va], spec, epochs=epochs, progress=progress)
        training = {"device": log.device, "epochs": log.epochs, "seconds_per_epoch": log.seconds_per_epoch,
                    "best_val_nll": min(log.val_nll)}  # fmt: skip
        source = "trained in this run"
        if save_to:
            F.save(flow, spec, {"training": training, "metrics": F.evaluate(flow, ds.X_test, ds.y_test,
                                                                            ds.class_names)}, save_to)  # fmt: skip
    else:
        flow, meta = F.load(SHIPPED_FLOW)
        training, source = (
            meta.get("training", {}),
            f"shipped reference ({SHIPPED_FLOW.with_suffix('.pt').name})",
        )
    metrics = F.evaluate(flow, ds.X_test, ds.y_test, ds.class_names)
    scores = {k: F.nll(flow, getattr(ds, f"X_{k}")) for k in ("train", "val", "test")}
    student = distill(scores, ds, Path(projects) / "flow_student", epochs=student_epochs)
    result = {
        "flow": {"source": source, "training": training, **metrics},
        "student": {"auc_qkeras": student.auc["qkeras"], "auc_csim": student.auc["csim"],
                    "bit_exact": student.bit_exact, "max_abs_diff": student.max_abs_diff,
                    "project": str(student.project)},
        "data": ds.source,
    }  # fmt: skip
    (out / "metrics.json").write_text(json.dumps(result, indent=1, default=float))
    lines = [
        "# Flow reference and its FPGA student",
        "",
        f"Flow: zuko MAF ({source}); training: {training or 'not recorded'}. Data: {ds.source}, test split.",
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
