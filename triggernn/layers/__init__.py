"""One home per layer kind: each module registers the kind of a family of hls4ml nodes with everything
triggernn does with it (emulation, RTL tracing, tables, cost, exact types, calibration); see :mod:`.base`.

The emulator (:mod:`triggernn.emulation.graph`), the tracer (:mod:`triggernn.hdl.trace`), the cost and latency
estimates, exact types and calibration read this registry; none of them lists layer classes of its own.
"""

from . import activation, batchnorm, conv, dense, merge, pooling, quantizer, recurrent, reshape  # noqa: F401 (registers)
from .base import KINDS, LayerKind, Node, calibration_role, inexact_default, kind_of, register

__all__ = ["KINDS", "LayerKind", "Node", "calibration_role", "inexact_default", "kind_of", "register"]
