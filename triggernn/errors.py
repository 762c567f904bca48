"""Exceptions for user errors.

Every error a user can cause (a bad config, a model hls4ml cannot compile, a precision that cannot work) is
raised as a subclass of :class:`TriggerNNError` with a message that names the problem and the fix, so the
CLI can print it without a traceback.
"""

from __future__ import annotations

__all__ = ["ConfigError", "HLSError", "InputError", "ModelError", "TriggerNNError", "VerificationError"]


class TriggerNNError(Exception):
    """Base class of every error triggernn raises for a user mistake."""


class ConfigError(TriggerNNError, ValueError):
    """A configuration file or value is malformed, unknown or out of range."""


class ModelError(TriggerNNError, ValueError):
    """A Keras model has a layer or option triggernn cannot quantize or compile."""


class InputError(TriggerNNError, ValueError):
    """Input arrays of the wrong shape or dtype, empty, or with NaN/inf values."""


class HLSError(TriggerNNError, RuntimeError):
    """A model cannot be converted, written or compiled by hls4ml."""


class VerificationError(TriggerNNError, AssertionError):
    """The C simulation does not meet the agreement thresholds of the config."""
