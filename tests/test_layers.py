"""The layer-kind registry: one home per kind, refusing a second registration; hls4ml's internals read only in
the adapter."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from triggernn import layers
from triggernn.layers import KINDS, LayerKind, register

PACKAGE = Path(layers.__file__).parent.parent


def test_a_class_registered_twice_is_refused():
    before = dict(KINDS)

    class Again(LayerKind):
        handles = ("Dense",)

    with pytest.raises(TypeError, match="'Dense' already has a kind"):
        register(Again)
    assert before == KINDS


def test_every_kind_emulates_what_it_traces():
    """The emulator and the RTL tracer cover the same kinds: a kind with a tracer of its own has an emulation."""
    for name, kind in KINDS.items():
        if type(kind).trace is not LayerKind.trace:
            assert type(kind).emulate is not LayerKind.emulate, name


def test_the_calibration_roles_and_inexact_defaults_are_declared_by_the_kinds():
    assert layers.calibration_role("Dense") == "weighted"
    assert layers.calibration_role("Conv2D") == "weighted"
    assert layers.calibration_role("MaxPooling2D") == "pass_through"
    assert layers.calibration_role("AveragePooling1D") == "range"
    assert layers.calibration_role("QDense") is None  # QKeras layers keep the types of their quantizers
    assert layers.inexact_default("GlobalAveragePooling1D")
    assert layers.inexact_default("Average")
    assert not layers.inexact_default("Add")


def test_only_the_adapter_reads_hls4ml_internals():
    """hls4ml's model, backend and optimizer classes are imported in triggernn/hls/adapter/ alone; elsewhere
    only its public entry points (converters, utils, report, backends.get_backend)."""
    internal = re.compile(r"(from|import) hls4ml\.(model|backends\.(?!backend import get_backend)|optimizer)")
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "adapter" not in p.parts and internal.search(p.read_text())
    ]
    assert offenders == []


def test_hls4ml_fixes_hold_for_one_conversion_only():
    """triggernn's corrections of hls4ml are applied inside ``fixes_applied`` and undone after it, so hls4ml's
    own behaviour (compile's "hls4ml default" baseline, a user's conversion) is hls4ml's."""
    from hls4ml.model.layers import BatchNormalization
    from hls4ml.model.optimizer.passes.multi_dense import ReplaceMultidimensionalDenseWithConv

    from triggernn.hls.adapter import fixes_applied

    transform, initialize = ReplaceMultidimensionalDenseWithConv.transform, BatchNormalization.initialize
    with fixes_applied():
        assert ReplaceMultidimensionalDenseWithConv.transform is not transform
        assert BatchNormalization.initialize is not initialize
    assert ReplaceMultidimensionalDenseWithConv.transform is transform
    assert BatchNormalization.initialize is initialize
    with pytest.raises(ZeroDivisionError), fixes_applied():
        _ = 1 / 0  # an error inside a conversion undoes the fixes too
    assert ReplaceMultidimensionalDenseWithConv.transform is transform
