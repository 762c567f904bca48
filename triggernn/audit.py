"""``triggernn verify``: check a trained model, or an emitted project, against the model that made it.

For a saved QKeras model (``runs/<name>/qkeras_model.h5`` by default) the model is compiled afresh into
``<out>/hls_project`` and float, QKeras and C simulation are compared on the config's test set exactly as
in ``triggernn run``. With ``project=`` the firmware already on disk (the folder handed to Vivado) is compiled
as it is and its outputs must equal the fresh C simulation on every test event: a project that was edited,
emitted from another model or with other settings fails.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

import numpy as np

from .config import RunConfig
from .errors import ModelError
from .hls.link import link_project
from .models import load_model
from .outputs import MARKER, check_output_dir
from .pipeline import prepare_data, verify_model, write_run_report
from .verify import VerificationResult

__all__ = ["verify_saved"]

log = logging.getLogger(__name__)


def verify_saved(
    cfg: RunConfig,
    model: str | os.PathLike | None = None,
    *,
    float_model: str | os.PathLike | None = None,
    project: str | os.PathLike | None = None,
    run_root: str | os.PathLike = "runs",
    out_dir: str | os.PathLike | None = None,
) -> tuple[VerificationResult, Path]:
    """Verify the saved QKeras ``model`` (default ``<run_root>/<name>/qkeras_model.h5``) on ``cfg``'s data.

    ``float_model`` defaults to ``<run_root>/<name>/float_model.h5`` when that exists (its metrics are then
    reported too). Writes a report to ``out_dir`` (default ``<run_root>/<name>/verify``); returns the
    verification (its ``failures`` include a disagreeing ``project``) and the report's path.
    """
    run_dir = Path(run_root) / cfg.name
    model = Path(model) if model is not None else run_dir / "qkeras_model.h5"
    if float_model is None and (run_dir / "float_model.h5").is_file():
        float_model = run_dir / "float_model.h5"
    out = check_output_dir(
        Path(out_dir) if out_dir is not None else run_dir / "verify", what="verification folder",
        inputs=(model, float_model, project),
    )  # fmt: skip

    ds, X = prepare_data(cfg)
    qmodel = load_model(model)
    fmodel = load_model(float_model) if float_model is not None else None
    for label, m in (("model", qmodel), ("float model", fmodel)):
        if m is not None and tuple(m.input_shape[1:]) != X["X_test"].shape[1:]:
            raise ModelError(
                f"the {label} takes inputs of shape {tuple(m.input_shape[1:])} but the config's data "
                f"({cfg.data.representation}) has shape {X['X_test'].shape[1:]}: use the config the model was "
                "trained with"
            )
    if not any(layer.__class__.__name__.startswith("Q") for layer in qmodel.layers):
        raise ModelError(
            f"'{model}' has no QKeras layer: verify compares a QKeras model with its firmware; pass the quantized "
            f"model (--model {run_dir / 'qkeras_model.h5'}), the float one goes to --float-model"
        )
    linked = link_project(project) if project is not None else None  # fail early, before the fresh build
    if linked is not None:
        n_in, n_out = int(np.prod(qmodel.input_shape[1:])), int(np.prod(qmodel.output_shape[1:]))
        if (int(np.prod(linked.input_shape)), int(np.prod(linked.output_shape))) != (n_in, n_out):
            raise ModelError(
                f"the project in {project} takes {linked.input_shape} and gives {linked.output_shape}, the model "
                f"{model} takes {tuple(qmodel.input_shape[1:])} and gives {tuple(qmodel.output_shape[1:])}: it "
                "was emitted from another model; pass that model's project"
            )

    timings: dict[str, float] = {}
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by triggernn verify\n")
    fresh, verification, keras = verify_model(
        cfg, qmodel, ds, X, float_model=fmodel, project_dir=out / "hls_project", timings=timings
    )
    if linked is not None:
        on_disk = linked.predict(X["X_test"]).outputs.reshape(fresh.csim.outputs.shape)
        same = float(np.mean(np.all(on_disk == fresh.csim.outputs, axis=tuple(range(1, on_disk.ndim)))))
        log.info("project %s: %.4f%% of test events identical to the fresh C simulation", project, 100 * same)
        failures = list(verification.failures)
        if same < 1.0:
            failures.append(
                f"the project in {project} differs from what {model} compiles to on {1 - same:.4%} of test "
                "events: it was edited or emitted from another model or config; emit it again"
            )
        verification = dataclasses.replace(verification, failures=failures)
    report = write_run_report(
        out, cfg, ds, X, qmodel, fresh, verification, keras, timings, title=f"triggernn verify: {cfg.name}"
    )
    return verification, report
