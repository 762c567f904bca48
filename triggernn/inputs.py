"""Events for models of one input or several: an array, or a list of arrays (one per model input, in the
model's order, with the same number of events each). Outputs of several heads are one array, side by side.

The firmware's own testbench reads several inputs the same way: one line per event holding every input's values
in turn, and writes every output's values in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Union

import numpy as np

__all__ = [
    "Events",
    "as_list",
    "concat",
    "each",
    "flat",
    "n_events",
    "shapes_of",
    "side_by_side",
    "split",
    "take",
]

#: one input's events, or a list with one array per model input
Events = Union[np.ndarray, list[np.ndarray]]  # noqa: UP007 (a runtime alias)


def n_events(X: Events) -> int:
    """Events in an array, or in the first of a list of arrays."""
    return len(X[0]) if isinstance(X, list | tuple) else len(X)


def take(X: Events, index) -> Events:
    """The events at ``index`` (a slice, indices or a mask) of every input."""
    return [x[index] for x in X] if isinstance(X, list | tuple) else X[index]


def concat(*parts: Events) -> Events:
    """The events of ``parts`` one after the other (every input alike)."""
    if isinstance(parts[0], list | tuple):
        return [np.concatenate(xs) for xs in zip(*parts, strict=True)]
    return np.concatenate(parts)


def each(X: Events, fn: Callable[[np.ndarray], np.ndarray]) -> Events:
    """``fn`` applied to every input's array."""
    return [fn(x) for x in X] if isinstance(X, list | tuple) else fn(X)


def side_by_side(outputs, n: int | None = None) -> np.ndarray:
    """One array from a model's output (an array, unchanged) or several (flattened per event, side by side)."""
    if isinstance(outputs, list | tuple):
        n = len(outputs[0]) if n is None else n
        return np.concatenate([np.asarray(o).reshape(n, -1) for o in outputs], axis=1)
    return np.asarray(outputs)


def flat(X: Events) -> np.ndarray:
    """Every input's values of each event in one row (the testbench's and the RTL port's layout)."""
    return side_by_side(list(X)) if isinstance(X, list | tuple) else np.asarray(X).reshape(len(X), -1)


def split(rows: np.ndarray, shapes: Sequence[tuple[int, ...]]) -> Events:
    """The inverse of :func:`flat`: rows of every input's values side by side, as one array per input (one
    array, shaped, for a single input)."""
    rows = np.asarray(rows).reshape(len(rows), -1)
    bounds = np.cumsum([0, *(int(np.prod(s)) for s in shapes)])
    parts = [
        rows[:, a:b].reshape(len(rows), *s) for a, b, s in zip(bounds[:-1], bounds[1:], shapes, strict=True)
    ]
    return parts if len(parts) > 1 else parts[0]


def shapes_of(model) -> list[tuple[int, ...]]:
    """The event shape of each input of a Keras model."""
    return [tuple(int(d) for d in x.shape[1:]) for x in model.inputs]


def as_list(X: Events) -> Sequence[np.ndarray]:
    return list(X) if isinstance(X, list | tuple) else [X]
