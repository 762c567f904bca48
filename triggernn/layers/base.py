"""The layer-kind registry: one object per family of hls4ml nodes, carrying everything triggernn does with it.

A :class:`LayerKind` says, for the hls4ml classes it ``handles``:

- ``emulate(node)`` -> ``f(*inputs)``: the firmware's arithmetic on float64 batches, bit for bit (numpy engine);
- ``trace(node)`` -> ``f(*inputs)``: the same on alkaid's symbolic arrays, one event (the RTL path);
- ``tables(view, project)``: the lookup tables of the firmware it reads (sigmoid, tanh, softmax, GRU gates);
- ``values(view, shape)``: values one event needs inside it (the emulator's batch size);
- ``weighted`` / ``recurrent`` and ``macs(view)``: whether it multiplies by constant weights (resource
  estimates, multiplier cost, BOPs) and its multiply-accumulates per event;
- ``exact_types(view, conf)``: the types it needs where hls4ml 1.3.0 leaves its default ``fixed<16,6>``;
- ``calibration``: how :func:`triggernn.calibrate.calibrate` types the Keras layers that become it, and
  ``inexact_defaults``: Keras layers of the kind whose hls4ml default types lose bits;
- and what it refuses: :class:`~triggernn.errors.NotExact` with the setting named.

Kinds register with :func:`register` (hls4ml's ``@keras_handler`` pattern); a class registered twice is refused.
Adding a layer kind is one module in this package and its tests.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..errors import NotExact
from ..hls.adapter.view import NodeView
from ..quantize import FixedSpec

__all__ = ["KINDS", "LayerKind", "Node", "calibration_role", "inexact_default", "kind_of", "register"]


@dataclass(frozen=True)
class Node:
    """What ``emulate`` and ``trace`` build from: the node's view, its (first) input and result types, its
    output shape, the firmware's tables it reads, and ``x_specs`` / ``x_shapes`` of every input."""

    view: NodeView
    x_spec: FixedSpec
    res: FixedSpec
    shape: tuple[int, ...]
    tables: dict = field(default_factory=dict)
    x_specs: tuple[FixedSpec, ...] = ()
    x_shapes: tuple[tuple[int, ...], ...] = ()

    @classmethod
    def of(cls, view: NodeView, tables: dict) -> Node:
        """The build context of ``view`` (raises :class:`NotExact` for a type the exact paths cannot hold)."""
        x_specs = view.in_specs()
        return cls(view, x_specs[0], view.res(), view.out_shape, tables, x_specs, view.in_shapes)


class LayerKind:
    """One family of hls4ml nodes (see the module docs); subclasses override what applies to them."""

    #: hls4ml class names this kind handles
    handles: ClassVar[tuple[str, ...]] = ()
    #: (Keras class, how calibration types it): "weighted", "batchnorm", "activation", "pass_through", "range"
    calibration: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: Keras classes of this kind whose hls4ml default types lose bits (exact types are then computed)
    inexact_defaults: ClassVar[tuple[str, ...]] = ()
    #: multiplies by constant weights (Dense, convolutions): cost, estimate, BOPs
    weighted: ClassVar[bool] = False
    #: a recurrent layer: its kernel repeats per time step
    recurrent: ClassVar[bool] = False
    #: takes several inputs: ``f(x1, x2, ...)``
    merges: ClassVar[bool] = False

    def emulate(self, n: Node) -> Callable[..., Any]:
        raise NotExact(f"{n.view.kind} layers")

    def trace(self, n: Node) -> Callable[..., Any]:
        raise NotExact(f"{n.view.kind} layers")

    def tables(self, view: NodeView, project: Path) -> list:
        return []

    def values(self, view: NodeView, shape: tuple[int, ...]) -> int:
        return math.prod(shape)

    def exact_types(self, view: NodeView, conf: dict[str, Any]) -> dict[str, str]:
        return {}

    def macs(self, view: NodeView) -> int:
        return 0


#: hls4ml class name -> its kind; filled by :func:`register` as the package imports its modules
KINDS: dict[str, LayerKind] = {}
_KERAS_ROLES: dict[str, str] = {}
_INEXACT: set[str] = set()


def register(cls: type[LayerKind]) -> type[LayerKind]:
    """Class decorator: one instance of ``cls`` becomes the kind of every class in ``cls.handles``."""
    kind = cls()
    for name in cls.handles:
        if name in KINDS:
            raise TypeError(f"hls4ml layer class '{name}' already has a kind: {type(KINDS[name]).__name__}")
        KINDS[name] = kind
    for name, role in cls.calibration:
        if name in _KERAS_ROLES:
            raise TypeError(f"Keras layer class '{name}' already has a calibration role")
        _KERAS_ROLES[name] = role
    _INEXACT.update(cls.inexact_defaults)
    return cls


def kind_of(hls_class: str) -> LayerKind | None:
    """The registered kind of an hls4ml class name, or None."""
    return KINDS.get(hls_class)


def calibration_role(keras_class: str) -> str | None:
    """How calibration types a Keras layer class (None: left to hls4ml's defaults)."""
    return _KERAS_ROLES.get(keras_class)


def inexact_default(keras_class: str) -> bool:
    """Whether hls4ml's default types of a Keras layer class lose bits (exact types are then computed)."""
    return keras_class in _INEXACT
