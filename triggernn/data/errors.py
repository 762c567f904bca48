"""Exceptions of the data layer."""

from __future__ import annotations

__all__ = ["GEN_EXTRA_HINT", "DataError"]

#: How to get the optional event-generation dependencies; quoted in every error about them.
GEN_EXTRA_HINT = 'pip install "triggernn[gen]"'


class DataError(ValueError):
    """A jet file or a data request that cannot be served; the message names the problem and the fix."""
