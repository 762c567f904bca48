"""Exceptions for user errors, in one tree.

Every error a user can cause (a bad config, a missing or corrupt data file, a model hls4ml cannot compile, a
precision that cannot work, an output folder triggernn may not replace) is raised as a subclass of
:class:`TriggerNNError` with a message that names the problem and the fix, so the CLI prints it on one line
and exits with code 2. A failed verification is a verdict, not an error: exit code 1. Anything else is a bug
in triggernn: the CLI shows its traceback and asks for a report.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DataError",
    "HLSError",
    "InputError",
    "ModelError",
    "NotExact",
    "OutputError",
    "TriggerNNError",
    "VerificationError",
]


class TriggerNNError(Exception):
    """Base class of every error triggernn raises for a user mistake."""


class ConfigError(TriggerNNError, ValueError):
    """A configuration file or value is malformed, unknown or out of range."""


class DataError(TriggerNNError, ValueError):
    """A data file or a data request that cannot be served (missing, corrupt, truncated, too small)."""


class ModelError(TriggerNNError, ValueError):
    """A Keras model has a layer or option triggernn cannot quantize or compile."""


class InputError(TriggerNNError, ValueError):
    """Input arrays of the wrong shape or dtype, empty, or with NaN/inf values."""


class OutputError(TriggerNNError, OSError):
    """An output path triggernn may not write: a user's folder or file, the working directory, an input."""


class HLSError(TriggerNNError, RuntimeError):
    """A model cannot be converted, written or compiled by hls4ml."""


class VerificationError(TriggerNNError, AssertionError):
    """The C simulation does not meet the agreement thresholds of the config."""


class NotExact(Exception):
    """A layer, type or setting that an exact path (the numpy emulator, the RTL tracer) does not reproduce bit
    for bit; the message names it. Not a user error: the caller falls back (to the C++ engine) or refuses."""
