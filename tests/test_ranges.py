"""Overflow detection: a layer whose values leave its firmware type is flagged with a type that fits."""

from __future__ import annotations

from conftest import grid_inputs, make_qkeras_dense

from triggernn.hls import emit
from triggernn.quantize import parse_fixed
from triggernn.ranges import layer_ranges, plot_ranges


def test_auto_types_hold_the_data(small_cfg, tmp_path):
    model = make_qkeras_dense(small_cfg)
    X = grid_inputs(300)
    ranges = layer_ranges(model, emit(model, small_cfg, tmp_path / "prj"), X)
    assert {r.layer for r in ranges} >= {"fc1", "relu1", "fc2", "output"}
    assert not any(r.overflows for r in ranges)
    for r in ranges:
        assert r.type_min <= r.observed_min <= r.observed_max <= r.type_max
    assert plot_ranges(ranges, tmp_path / "ranges.png").stat().st_size > 0


def test_narrow_result_type_is_flagged(small_cfg, tmp_path, caplog):
    cfg = small_cfg.with_overrides(hls={"precision": {"fc1": {"result": "ap_fixed<8,1>"}}})
    model = make_qkeras_dense(cfg)
    X = grid_inputs(300, scale=8.0)
    ranges = {r.layer: r for r in layer_ranges(model, emit(model, cfg, tmp_path / "prj"), X)}
    r = ranges["fc1"]
    assert r.overflows
    assert "layer 'fc1'" in caplog.text
    fit = parse_fixed(r.suggestion)
    assert fit.min <= r.observed_min
    assert r.observed_max <= fit.max
    assert fit.fractional == 7  # the precision is kept, only integer bits are added
