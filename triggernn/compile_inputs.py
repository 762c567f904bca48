"""What ``compile`` reads besides the model: calibration data (``.npy``, ``.npz``, a jet ROOT file), the hls
settings (a mapping, an :class:`~triggernn.config.HLSConfig`, a run config or the path of either's YAML) and
per-layer types (``--precision``: a file, inline YAML/JSON or a mapping), each checked as it is read."""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .data.errors import DataError
from .errors import ConfigError

if TYPE_CHECKING:
    from .config import HLSConfig

__all__ = ["hls_config", "load_calibration_data", "load_precision"]

log = logging.getLogger(__name__)

_X_KEYS = ("X", "x", "inputs", "features", "X_test")
_Y_KEYS = ("y", "labels", "y_test")


def load_calibration_data(
    path: str | os.PathLike, input_names: list[str] | tuple[str, ...] = ()
) -> tuple[np.ndarray | list[np.ndarray], np.ndarray | None]:
    """Inputs (and labels, if the file has them) from ``.npy``, ``.npz`` (keys X/x/inputs/features, y/labels)
    or a jet ROOT file (the 16 high-level features, unstandardized, and the class labels). For a model of
    several inputs (``input_names``), an ``.npz`` with one array per input, named as the model's inputs or
    ``X0``, ``X1``, ...: a list in the model's order."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"calibration data '{path}' does not exist")
    from .validate import readable_file

    readable_file(path, "calibration data")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            with open(path, "rb") as fh:  # our handle: closed even where numpy fails half-way
                return np.load(fh, allow_pickle=False), None
        if suffix == ".npz":
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as f:
                yk = next((k for k in _Y_KEYS if k in f), None)
                if yk is None and any(k.lower() in _Y_KEYS for k in f):
                    odd = next(k for k in f if k.lower() in _Y_KEYS)
                    raise DataError(f"{path} holds '{odd}': labels are read from one of {_Y_KEYS}: rename it")
                if len(input_names) > 1:
                    X = _per_input(path, f, list(input_names))
                    read = {yk, *input_names, *(f"X{i}" for i in range(len(input_names)))}
                else:
                    xk = next((k for k in (*_X_KEYS, *input_names, "X0") if k in f), None)
                    if xk is None:
                        raise DataError(
                            f"{path} has no inputs under any of {(*_X_KEYS, *input_names, 'X0')}; it holds {list(f)}"
                        )
                    X, read = f[xk], {xk, yk}
                unread = [k for k in f if k not in read]
                if unread:
                    log.warning(
                        "%s: %s not read (inputs are read from %s, labels from %s)", path,
                        ", ".join(unread), "/".join((*_X_KEYS, *input_names)), "/".join(_Y_KEYS),
                    )  # fmt: skip
                return X, (f[yk] if yk else None)
    except (
        ValueError,
        OSError,
        EOFError,
        KeyError,
        zipfile.BadZipFile,
    ) as err:  # object arrays, truncated or foreign
        if isinstance(err, DataError):
            raise
        reason = (
            "it holds Python objects (pickled)" if "pickle" in str(err) else f"{type(err).__name__}: {err}"
        )
        raise DataError(
            f"calibration data '{path}' cannot be read as numpy arrays ({reason[:120]}): save plain numeric "
            "arrays with np.save / np.savez"
        ) from None
    if suffix == ".root":
        from .data import load_jets

        ds = load_jets(path, "features", standardize=False, fractions=(0.98, 0.01, 0.01))
        return (
            np.concatenate([ds.X_train, ds.X_val, ds.X_test]),
            np.concatenate([ds.y_train, ds.y_val, ds.y_test]),
        )
    raise DataError(f"'{path}': calibration data must be .npy, .npz or a jet .root file")


def _per_input(path: Path, f, names: list[str]) -> list[np.ndarray]:
    """One array per model input from an open ``.npz``: under the inputs' names, else ``X0``, ``X1``, ..."""
    for keys in (names, [f"X{i}" for i in range(len(names))]):
        if all(k in f for k in keys):
            return [f[k] for k in keys]
    raise DataError(
        f"{path} holds {list(f)}; the model has {len(names)} inputs: save one array per input under the "
        f"inputs' names ({', '.join(names)}) or as X0..X{len(names) - 1}"
    )


def _hls_section(path: Path) -> dict:
    """The ``hls`` mapping of ``--hls FILE``: the file itself, or the ``hls`` section of a run config."""
    from .config_io import read_yaml

    tree = read_yaml(path)
    if not isinstance(tree, dict):
        raise ConfigError(
            f"{path}: expected a mapping of hls settings (io_type, strategy, ...), got {tree!r:.60}"
        )
    if "hls" in tree or {"name", "model", "data", "train", "quantization"} & set(tree):  # a run config
        return tree.get("hls") or {}
    return tree


def hls_config(hls: HLSConfig | dict | str | os.PathLike | None = None, **fields) -> HLSConfig:
    """``hls`` (a config, a mapping of one, a run config or the path of its YAML or of an hls section's, or None
    for the defaults) with ``fields`` replacing its own (None:
    kept), validated as a run config's ``hls`` section; a ConfigError naming the field otherwise."""
    from pydantic import ValidationError

    from .config import HLSConfig, RunConfig
    from .config_io import format_validation_error

    if isinstance(hls, RunConfig):  # a run config: its hls section (as --hls takes a run config's file)
        hls = hls.hls
    if isinstance(hls, str | os.PathLike):
        hls = _hls_section(Path(hls))
    if isinstance(hls, HLSConfig):
        base = hls
    else:
        try:
            base = HLSConfig.model_validate(dict(hls or {}))
        except ValidationError as err:
            raise ConfigError(format_validation_error(err, "the hls settings")) from None
        except (TypeError, ValueError) as err:
            raise ConfigError(f"the hls settings must be a mapping of HLSConfig fields: {err}") from None
    return base.with_fields(**fields)


def load_precision(source: str | os.PathLike | dict | None) -> dict[str, dict[str, str]]:
    """Per-layer types for ``compile`` (``--precision``): a YAML/JSON mapping ``layer: {key: type}`` (the form of a
    run config's ``hls.precision``, validated like it), given as a file, inline text or a dict."""
    from pydantic import ValidationError

    from .config import HLSConfig
    from .config_io import format_validation_error, parse_yaml, read_yaml

    if source is None:
        return {}
    if not isinstance(source, str | os.PathLike | dict):
        raise ConfigError(
            f"precision must be a YAML/JSON file or a mapping 'layer: {{key: type}}', got {type(source).__name__}"
        )
    if isinstance(source, dict):
        data, where = source, "<dict>"
    elif (
        isinstance(source, str) and ":" in source and not Path(source).exists()
    ):  # inline: 'fc1: {accum: ...}'
        data, where = parse_yaml(source, "--precision"), "--precision"
    else:
        data, where = read_yaml(source), str(source)
    if isinstance(data, dict) and set(data) == {"precision"}:  # an `hls:`-style file: precision: {...}
        data = data["precision"]
    try:
        return HLSConfig.model_validate({"precision": data}).precision
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, where).replace("'precision.", "'")) from None
