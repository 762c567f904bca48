"""Exceptions of the data layer (:class:`~triggernn.errors.DataError` lives in the one error tree)."""

from __future__ import annotations

from ..errors import DataError

__all__ = ["GEN_EXTRA_HINT", "DataError"]

#: How to get the optional event-generation dependencies; quoted in every error about them.
GEN_EXTRA_HINT = 'pip install "triggernn[gen]"'
