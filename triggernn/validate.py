"""Checks at the boundary: every verb's inputs resolved and refused here, before any work starts.

Each function takes what a user gave (a flag, a path, an array, an address) and returns it checked and typed,
or raises a :class:`~triggernn.errors.TriggerNNError` whose one-line message names the problem and the fix.
The verbs' plans (:mod:`triggernn.plans`) are built from these; nothing past a plan re-validates a user's input.
"""

from __future__ import annotations

import math
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from .errors import ConfigError, DataError, InputError, OutputError

__all__ = [
    "a_path",
    "class_labels",
    "dask_address",
    "event_array",
    "fixed_type",
    "keras_model",
    "model_events",
    "number",
    "output_file",
    "path_name",
    "readable_file",
    "shape_tuple",
    "writable_folder",
]

#: The fastest clock of any FPGA fabric (ns): a shorter period is a typo (ps for ns, say), not a design.
MIN_CLOCK_NS = 1.0


def number(
    value, what: str, *, low: float | None = None, high: float | None = None, low_open: bool = False,
    integer: bool = False, fix: str = "",
) -> float:  # fmt: skip
    """``value`` as a finite float (or int with ``integer``) within [low, high] (``low_open``: above low)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ConfigError(f"{what} must be a number, got {value!r:.40}{fix and ': ' + fix}")
    v = float(value)
    if not math.isfinite(v):
        raise ConfigError(f"{what} must be a finite number, got {value!r}{fix and ': ' + fix}")
    if integer and v != int(v):
        raise ConfigError(f"{what} must be a whole number, got {value!r}{fix and ': ' + fix}")
    if low is not None and (v <= low if low_open else v < low):
        bound = f"above {low:g}" if low_open else f"at least {low:g}"
        raise ConfigError(f"{what} must be {bound}, got {value!r}{fix and ': ' + fix}")
    if high is not None and v > high:
        raise ConfigError(f"{what} must be at most {high:g}, got {value!r}{fix and ': ' + fix}")
    return int(v) if integer else v


def a_path(value, what: str) -> Path:
    """A file system path given as text or a path object (not bytes, a number or an array)."""
    if isinstance(value, bool) or not isinstance(value, str | os.PathLike) or isinstance(value, bytes):
        raise ConfigError(
            f"{what} must be a path (text or pathlib.Path), got {type(value).__name__} {value!r:.40}"
        )
    if str(value) == "":
        raise ConfigError(f"{what} is empty: pass a path")
    return Path(value)


def keras_model(value, what: str = "the model"):
    """A Keras model object (``tf.keras.Model``: it has layers and inputs)."""
    if not (hasattr(value, "layers") and hasattr(value, "inputs") and hasattr(value, "predict")):
        raise ConfigError(
            f"{what} must be a Keras model (tf.keras.Model) or the path of a saved one, got {type(value).__name__}"
        )
    return value


def shape_tuple(value, what: str) -> tuple[int, ...]:
    """A shape: a tuple of positive whole numbers, e.g. ``(16,)``."""
    try:
        dims = tuple(value)
    except TypeError:
        raise ConfigError(f"{what} must be a tuple of sizes such as (16,), got {value!r:.40}") from None
    if not dims or any(isinstance(d, bool) or not isinstance(d, int | np.integer) or d < 1 for d in dims):
        raise ConfigError(
            f"{what} must be positive whole sizes such as (16,) or (16, 16, 1), got {value!r:.40}"
        )
    return tuple(int(d) for d in dims)


def fixed_type(text, what: str):
    """A fixed-point type string (``ap_fixed<16,6,RND,SAT>``, ``ap_ufixed<8,0>``, ``ap_int<8>``) as a
    :class:`~triggernn.quantize.FixedSpec`, its rounding and overflow modes included."""
    from .quantize import user_fixed

    if not isinstance(text, str):
        raise ConfigError(f"{what} must be a fixed-point type such as 'ap_fixed<16,6>', got {text!r:.40}")
    try:
        return user_fixed(text)
    except ValueError as err:
        raise ConfigError(f"{what}: {err}") from None


def path_name(path: Path, what: str) -> Path:
    """``path``, refused where one of its names is longer than the file system allows."""
    limit = 255
    with _suppress_os():
        anchor = next((p for p in [path, *path.parents] if p.exists()), Path("."))
        limit = os.pathconf(anchor if anchor.is_dir() else anchor.parent, "PC_NAME_MAX")
    long = next((part for part in path.parts if len(os.fsencode(part)) > limit), None)
    if long is not None:
        raise OutputError(
            f"{what} '{str(path)[:60]}...': the name '{long[:24]}...' has {len(os.fsencode(long))} bytes, "
            f"the file system allows {limit}: choose a shorter name"
        )
    return path


def readable_file(path, what: str, *, suffixes: tuple[str, ...] = ()) -> Path:
    """An existing, readable file (with one of ``suffixes`` where given)."""
    path = path_name(Path(path), what)
    if not path.exists():
        raise DataError(f"{what} '{path}' does not exist: check the path")
    if suffixes and path.suffix.lower() not in suffixes and not path.is_dir():
        raise DataError(f"{what} '{path}' must be a {' or '.join(suffixes)} file")
    if not os.access(path, os.R_OK):
        raise DataError(f"{what} '{path}' cannot be read (permission denied): fix its permissions")
    return path


def _can_create_in(folder: Path) -> bool:
    """Whether a file can be made in ``folder``: what ``os.access`` says is not enough for root, on a read-only
    mount or in /proc (an unnamed temporary file, gone when closed)."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            return True
    except OSError:
        return False


def writable_folder(path, what: str) -> Path:
    """``path`` (a folder that may not exist yet), refused where it cannot be created or written: the nearest
    existing folder above it must be writable, and nothing on the way may be a file."""
    path = path_name(a_path(path, what), what)
    for p in [path, *path.parents]:
        if p.exists():
            if not p.is_dir():
                raise OutputError(
                    f"{what} '{path}': '{p}' on its path is a file, not a folder; choose another"
                )
            if not os.access(p, os.W_OK | os.X_OK) or not _can_create_in(p):
                raise OutputError(
                    f"{what} '{path}': the folder '{p}' is not writable (permission denied or read-only): "
                    "choose a folder you can write"
                )
            return path
    return path


def output_file(path, what: str, *, force: bool, flag: str = "--force") -> Path:
    """A file triggernn will write: its folder writable, and an existing file at the path (whoever wrote it)
    kept unless ``force``."""
    path = path_name(Path(path), what)
    if path.is_dir():
        raise OutputError(f"{what} '{path}' is a folder: pass a file name")
    if path.exists() and not force:
        raise OutputError(f"{what} '{path}' exists: choose another name, or pass {flag} to replace it")
    writable_folder(path.parent if str(path.parent) else Path("."), what)
    return path


def event_array(X, what: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``X`` as float32 events: real, finite numbers, of ``shape`` per event where given (a flat event of as
    many values is accepted)."""
    if not isinstance(X, np.ndarray | list | tuple) and not hasattr(X, "__array__"):
        raise InputError(f"{what} must be an array of events (numpy, n_events first), got {type(X).__name__}")
    arr = np.asarray(X) if not isinstance(X, np.ndarray) else X
    if arr.dtype.kind == "c":
        raise InputError(f"{what} are complex numbers: pass real values (e.g. their magnitude)")
    if arr.dtype.kind not in "biuf":
        raise InputError(
            f"{what} must be numbers, got an array of dtype {arr.dtype}: convert them to float32"
        )
    if arr.ndim < 2:
        raise InputError(f"{what} have shape {arr.shape}: pass events along the first axis, (n_events, ...)")
    if len(arr) == 0:
        raise InputError(f"{what} hold no events: pass at least one")
    if shape is not None:
        shape = tuple(int(d) for d in shape)
        flat = arr.ndim == 2 and arr.shape[1] == int(np.prod(shape))
        if arr.shape[1:] != shape and not flat:
            raise InputError(
                f"{what} have shape {arr.shape[1:]} per event, the model takes {shape}: pass (n_events, "
                f"{', '.join(map(str, shape))})"
            )
    with np.errstate(over="ignore"):
        f32 = arr.astype(np.float32)
    bad = ~np.isfinite(f32)
    if bad.any():
        raise InputError(
            f"{int(bad.sum())} values of {what} are NaN, infinite or beyond float32's range: clean or clip them"
        )
    return f32 if shape is None or arr.shape[1:] == shape else f32.reshape(len(arr), *shape)


def model_events(X, what: str, shapes: list[tuple[int, ...]], names: list[str] | None = None):
    """:func:`event_array` for each input of a model: one array for a model of one input; for several, a list
    (in the model's order) or a mapping by input name, refused with the names where it does not match, and the
    same number of events in each. Returns an array, or a list of arrays."""
    if len(shapes) == 1:
        if isinstance(X, dict) and len(X) == 1 and next(iter(X)) in [*(names or []), "X0"]:
            X = next(iter(X.values()))  # a mapping by the model's one input name
        elif isinstance(X, list | tuple | dict):
            raise InputError(f"{what}: the model has one input, pass one array of events (n_events, ...)")
        return event_array(X, what, shapes[0])
    names = list(names or [f"X{i}" for i in range(len(shapes))])
    if isinstance(X, dict):
        missing = [n for n in names if n not in X]
        if missing or len(X) != len(names):
            raise InputError(
                f"{what} are named {sorted(X)}; the model's inputs are {names}: one array per input"
            )
        X = [X[n] for n in names]
    if not isinstance(X, list | tuple) or len(X) != len(shapes):
        raise InputError(
            f"the model has {len(shapes)} inputs ({', '.join(names)}): pass {what} as a list of {len(shapes)} "
            "arrays in that order, or a mapping by input name"
        )
    arrays = [event_array(x, f"{what} ({n})", s) for x, n, s in zip(X, names, shapes, strict=True)]
    counts = {len(a) for a in arrays}
    if len(counts) > 1:
        raise InputError(
            f"{what} hold {', '.join(str(len(a)) for a in arrays)} events for inputs {', '.join(names)}: pass the "
            "same events to every input"
        )
    return arrays


def class_labels(y, n_events: int, n_classes: int | None, what: str = "labels") -> np.ndarray:
    """Class labels as integers 0..n-1, one per event: integer classes or one-hot rows are accepted.

    Refused: strings, fractions, NaN, negative classes, a label count that is not the event count, more
    classes than the model has outputs.
    """
    if isinstance(y, str | os.PathLike):
        raise InputError(
            f"{what} must be an array of classes, got the path '{y}': load it (np.load), or pass the file as the "
            "data, whose y is read"
        )
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise InputError(
            f"{what} must be integer classes 0..n-1 or one-hot rows, got dtype {arr.dtype}: map names to numbers"
        )
    if arr.dtype.kind == "b" and arr.ndim == 1 and n_classes != 2:
        raise InputError(
            f"{what} are True/False, and the model has {n_classes} outputs: pass integer classes 0..n-1 (booleans "
            "are classes 0 and 1 of a two-class model only)"
        )
    if arr.ndim == 2 and arr.shape[1] > 1:  # one-hot
        ok = np.isin(arr, (0, 1)).all() and (arr.sum(axis=1) == 1).all()
        if not ok:
            raise InputError(
                f"{what} of shape {arr.shape} are not one-hot (each row one 1, the rest 0): pass integer classes"
            )
        if n_classes is not None and arr.shape[1] != n_classes:
            raise InputError(
                f"one-hot {what} have {arr.shape[1]} classes, the model has {n_classes} outputs: pass labels "
                "for the model's classes"
            )
        arr = arr.argmax(axis=1)
    elif arr.ndim == 2:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"{what} have shape {arr.shape}: pass one class per event, shape (n_events,)")
    if len(arr) != n_events:
        raise InputError(f"{len(arr)} {what} for {n_events} events: pass one label per event")
    if arr.dtype.kind == "f" and not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
        raise InputError(f"{what} hold fractions or NaN: pass integer classes 0..n-1 (or one-hot rows)")
    labels = arr.astype(np.int64)
    if len(labels) and labels.min() < 0:
        raise InputError(f"{what} hold negative classes ({int(labels.min())}): number the classes 0..n-1")
    if n_classes is not None and len(labels) and labels.max() >= n_classes:
        raise InputError(
            f"{what} hold class {int(labels.max())}, but the model has {n_classes} outputs (classes "
            f"0..{n_classes - 1}): pass labels of the model's classes"
        )
    return labels


def dask_address(address: str | None, *, timeout: float = 3.0) -> str | None:
    """A Dask scheduler address (``tcp://host:port``), parsed and reached within ``timeout`` seconds."""
    if address is None:
        return None
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or port is None:
        raise ConfigError(
            f"'{address}' is not a Dask scheduler address: write tcp://host:port, e.g. tcp://node1:8786"
        )
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            pass
    except OSError as err:
        raise ConfigError(
            f"no Dask scheduler answers at {address} ({err.strerror or err}): start one (dask scheduler) or "
            "leave out --scheduler for a local cluster"
        ) from None
    return f"{parts.scheme}://{parts.hostname}:{port}"


class _suppress_os:
    def __enter__(self):
        return self

    def __exit__(self, kind, err, tb):
        return kind is not None and issubclass(kind, OSError | ValueError)


def public_api(fn, name: str):
    """``fn`` as ``triggernn.<name>`` hands it out: its arguments bound to its signature first (an unknown keyword,
    a missing or extra argument) and its ``bool`` parameters given booleans (``force="no"`` is true to Python),
    each refused as an :class:`~triggernn.errors.InputError` naming the argument, never Python's TypeError."""
    import functools
    import inspect

    signature = inspect.signature(fn)
    flags = [p.name for p in signature.parameters.values() if p.annotation in (bool, "bool")]

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as err:
            raise InputError(f"triggernn.{name}(): {err}; see help(triggernn.{name})") from None
        for flag in flags:
            value = bound.arguments.get(flag, True)
            if not isinstance(value, bool | np.bool_):
                raise InputError(f"triggernn.{name}: {flag} must be True or False, got {value!r:.40}")
        return fn(*args, **kwargs)

    return call
