"""The YAML of a reference run (``configs/flow.yaml``, ``configs/gan.yaml``): ``reference: flow | gan`` and
what to train, validated like every other config (unknown keys and bad values named, with the fix)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from ..config import _Strict, check_name
from ..config_io import format_validation_error, read_yaml
from ..errors import ConfigError

__all__ = [
    "SHIPPED",
    "FlowRunConfig",
    "GANRunConfig",
    "check_jet_inputs",
    "check_save_to",
    "is_reference_config",
    "load_reference_config",
]

#: ``configs/`` of the repository: ``triggernn reference flow`` reads ``configs/flow.yaml`` when it is there.
SHIPPED = Path(__file__).parents[2] / "configs"


class _ReferenceRun(_Strict):
    retrain: bool = False  # train here (GPU when PyTorch sees one) instead of loading the shipped weights
    save_to: Path | None = None  # with retrain: write the new weights here (.pt + .json)
    data: str | None = (
        None  # with retrain: the jets to train on (a file, e.g. from `triggernn data generate`)
    )
    evaluate_on: str | None = None  # the jets whose test split judges the reference and its FPGA model

    _name = field_validator("name", check_fields=False)(check_name)

    @model_validator(mode="after")
    def _training_keys_need_retrain(self):
        """``save_to`` and ``data`` (and ``epochs`` changed) act only when retraining: set without it they
        would do nothing, silently."""
        idle = [k for k in ("save_to", "data") if getattr(self, k) is not None]
        if "epochs" in self.model_fields_set and self.epochs != type(self).model_fields["epochs"].default:
            idle.append("epochs")
        if idle and not self.retrain:
            raise ValueError(
                f"{', '.join(idle)} {'applies' if len(idle) == 1 else 'apply'} to training, and this run loads "
                "the shipped reference: set retrain (--retrain), or drop them"
            )
        return self


class FlowRunConfig(_ReferenceRun):
    """The flow reference and its FPGA student."""

    reference: Literal["flow"]
    name: str = "flow"
    epochs: int = Field(300, ge=1)  # flow epochs, with retrain
    student_epochs: int = Field(60, ge=1)


class GANRunConfig(_ReferenceRun):
    """The conditional GAN reference and its generator on the FPGA."""

    reference: Literal["gan"]
    name: str = "gan"
    epochs: int = Field(2000, ge=1)
    width: int = Field(18, ge=6, le=32)  # total bits of the generator's calibrated fixed-point types


ReferenceConfig = Annotated[FlowRunConfig | GANRunConfig, Field(discriminator="reference")]
_ADAPTER = TypeAdapter(ReferenceConfig)


def _read(path: Path) -> Any:
    return read_yaml(path)


def is_reference_config(path: str | os.PathLike) -> bool:
    """Whether the YAML file at ``path`` describes a reference run (has a top-level ``reference:`` key)."""
    path = Path(path)
    if not path.is_file():
        return False
    data = _read(path)
    return isinstance(data, dict) and "reference" in data


def load_reference_config(source: str | os.PathLike | dict[str, Any]) -> FlowRunConfig | GANRunConfig:
    """A validated reference config from a dict, a YAML path, or a name (``"flow"``: the shipped
    ``configs/flow.yaml``, or the defaults where it is absent)."""
    if isinstance(source, dict):
        data, where = source, "<dict>"
    elif str(source) in ("flow", "gan"):
        shipped = SHIPPED / f"{source}.yaml"
        data, where = (
            (_read(shipped), str(shipped)) if shipped.is_file() else ({"reference": str(source)}, source)
        )
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"'{source}' is neither a reference (flow, gan) nor a YAML file")
        data, where = _read(path), str(path)
    if not isinstance(data, dict) or data.get("reference") not in ("flow", "gan"):
        raise ConfigError(f"{where}: needs 'reference:' set to flow or gan")
    try:
        return _ADAPTER.validate_python(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, str(where))) from None


def _saved_by_triggernn(pt: Path, meta: Path) -> bool:
    import json

    try:
        return pt.is_file() and "spec" in json.loads(meta.read_text())
    except (OSError, ValueError, TypeError):
        return False


def check_save_to(cfg: FlowRunConfig | GANRunConfig, force: bool = False) -> None:
    """Refuse a ``save_to`` whose two files (``<save_to>.pt``, ``<save_to>.json``) would replace a file: any file
    without ``force``, and even with it one that triggernn did not save (a reference's weights and spec)."""
    from ..errors import OutputError

    if cfg.save_to is None:
        return
    path = Path(cfg.save_to)
    if path.suffix not in ("", ".pt"):
        raise OutputError(
            f"--save-to '{path}': the weights go to <name>.pt and the spec to <name>.json; pass a name ending in "
            f".pt, e.g. {path.with_suffix('.pt')}"
        )
    pt, meta = path.with_suffix(".pt"), path.with_suffix(".json")
    for f in (pt, meta):
        if f.is_dir():
            raise OutputError(f"--save-to would write '{f}', which is a folder: pass another path")
    existing = [f for f in (pt, meta) if f.exists()]
    if not existing:
        return
    if not force:
        raise OutputError(
            f"--save-to would replace {' and '.join(repr(str(f)) for f in existing)}: pass another path, or "
            "--force to replace weights triggernn saved"
        )
    if not _saved_by_triggernn(pt, meta):
        raise OutputError(
            f"--save-to would replace {' and '.join(repr(str(f)) for f in existing)}, not a reference triggernn "
            "saved: pass another path"
        )


def check_jet_inputs(cfg: FlowRunConfig | GANRunConfig) -> None:
    """Refuse a ``data`` or ``evaluate_on`` that is not there or not jet data, before any training."""
    from ..data.readers import detect_format
    from ..errors import DataError

    for key in ("data", "evaluate_on"):
        value = getattr(cfg, key)
        if value is None or str(value) == "embedded":
            continue
        if not Path(value).exists():
            raise DataError(
                f"{key} '{value}' does not exist: pass a jet file (a .root of `triggernn data generate`, the hls4ml "
                "jet .h5 files) or 'embedded'"
            )
        detect_format(Path(value))
