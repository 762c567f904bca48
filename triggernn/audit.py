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
from .outputs import MARKER, check_output_dir, marker_text
from .pipeline import prepare_data, verify_model, write_run_report
from .plans import check_test_split
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
    check_test_split(cfg, ds)
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
    _same_quantizers(cfg, qmodel, model, tuple(X["X_test"].shape[1:]), len(ds.class_names))
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
    (out / MARKER).write_text(marker_text("verification folder", "written by triggernn verify"))
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
        changed = _changed_types(Path(project), out / "hls_project")
        if changed:
            failures.append(
                f"the project in {project} declares {changed}: it was emitted with other settings (or edited); "
                "emit it again from this config"
            )
        verification = dataclasses.replace(verification, failures=failures)
    report = write_run_report(
        out, cfg, ds, X, qmodel, fresh, verification, keras, timings, title=f"triggernn verify: {cfg.name}"
    )
    return verification, report


def _quantizers(model) -> dict[str, dict[str, str]]:
    """Each QKeras layer's quantizers and size, as QKeras writes them (``quantized_bits(6,0,0,alpha=1)``)."""
    found = {}
    for layer in model.layers:
        get = getattr(layer, "get_quantization_config", None)
        if get is None:
            continue
        conf = get()
        conf = conf if isinstance(conf, dict) else {"activation": conf}
        found[layer.name] = {k: str(v) for k, v in conf.items() if " at 0x" not in str(v)}
    return found


def _same_quantizers(cfg: RunConfig, qmodel, path, input_shape: tuple[int, ...], n_classes: int) -> None:
    """Refuse a model whose QKeras quantizers are not those ``cfg`` builds: verified against another config, its
    fresh firmware would be emitted with that config's types and the verdict would be about another design."""
    from .models import build_model

    _same_recorded_config(cfg, Path(path))
    built = _quantizers(build_model(cfg, input_shape, n_classes, quantized=True))
    saved = _quantizers(qmodel)
    for name, conf in built.items():
        if name not in saved:
            raise ModelError(
                f"the config {cfg.name} builds a QKeras layer '{name}' that '{path}' does not have: pass the config "
                "the model was trained with"
            )
        for key, value in conf.items():
            if saved[name].get(key) != value:
                raise ModelError(
                    f"'{path}' layer {name}: {key} is {saved[name].get(key)}, the config {cfg.name} builds {value}: "
                    "pass the config the model was trained with"
                )


def _typedefs(project: Path) -> dict[str, str]:
    """The fixed-point types a project declares (``firmware/defines.h``: ``typedef ap_fixed<16,6> input_t;``)."""
    import re

    try:
        text = (project / "firmware" / "defines.h").read_text()
    except OSError:
        return {}
    return {
        m.group(2): " ".join(m.group(1).split()) for m in re.finditer(r"typedef\s+(.+?)\s+(\w+)\s*;", text)
    }


def _changed_types(project: Path, fresh: Path) -> str:
    """The first type the project on disk declares otherwise than the fresh build (``input_t ap_fixed<16,5>
    where the config gives ap_fixed<9,4>``), or ``""``: equal outputs on the test grid do not make equal
    firmware where a type differs."""
    ours, theirs = _typedefs(fresh), _typedefs(project)
    for name, spec in ours.items():
        if name in theirs and theirs[name] != spec:
            return f"{name} as {theirs[name]} where the config gives {spec}"
    return ""


def _same_recorded_config(cfg: RunConfig, model: Path) -> None:
    """Where the model lies in the run folder that trained it, its ``metrics.json`` records that run's config:
    refuse a config whose model or quantization sections (the input type too, which no model file holds) differ
    from it. Training, data and hls settings may differ: the same model is verified on other data or settings."""
    import json

    try:
        recorded = json.loads((model.parent / "metrics.json").read_text())["config"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    given = cfg.model_dump(mode="json")
    for section in ("model", "quantization"):
        for key, value in (given.get(section) or {}).items():
            was = (recorded.get(section) or {}).get(key, value)
            if json.dumps(was, sort_keys=True) != json.dumps(value, sort_keys=True):
                raise ModelError(
                    f"'{model}' was trained with {section}.{key} = {was}, the config {cfg.name} gives {value}: pass "
                    f"the config the model was trained with ({model.parent / 'metrics.json'} records it)"
                )
