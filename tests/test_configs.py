"""The contract, for every config in configs/: trained as shipped, emitted, C-simulated, verified.

A config whose thresholds demand bit-exactness (``verify.min_bit_exact: 1``) must be bit-exact on every test
event; the others (the GRU, whose tanh/sigmoid are tables) must meet their stated tolerance. Each report
states its verification figures.
"""

from __future__ import annotations

import json

import pytest
from conftest import CONFIGS, FAST_CONFIGS, SLOW_CONFIGS

from triggernn.config import load_config


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=pytest.mark.slow) if p.stem in SLOW_CONFIGS else p for p in CONFIGS],
    ids=[p.stem for p in CONFIGS],
)
def test_config_compiles_and_verifies(path, config_run):
    cfg = load_config(path)
    r = config_run(cfg.name)
    v = r.verification
    assert v.passed, v.failures
    if cfg.verify.min_bit_exact == 1.0:
        assert v.bit_exact_fraction == 1.0
        assert v.max_lsb_error == 0.0
    if cfg.verify.max_abs_error is not None:
        assert v.max_abs_error <= cfg.verify.max_abs_error
    assert v.output_argmax_agreement >= cfg.verify.min_argmax_agreement
    assert v.testbench_exact_fraction == 1.0
    # the model learned: well above guessing among its balanced classes (20% for jets, 10% for digits)
    assert v.metrics["qkeras"].accuracy > 2 / len(r.verification.metrics["qkeras"].auc)
    # the report states the figures it was judged on
    metrics = json.loads((r.run_dir / "metrics.json").read_text())
    assert metrics["verification"]["bit_exact_fraction"] == v.bit_exact_fraction
    assert metrics["verification"]["output_argmax_agreement"] == v.output_argmax_agreement
    html = (r.run_dir / "report.html").read_text()
    assert f"{v.output_argmax_agreement:.4%}" in html
    assert "PASS" in html


def test_every_config_is_covered():
    """Every family in the registry has a config, so the contract above covers it."""
    from triggernn.models import available_models

    families = {load_config(p).model.family for p in CONFIGS}
    assert {"jet_dense", "jet_cnn", "jet_gru", "dense", "cnn"} <= families
    assert families <= set(available_models())


def test_runs_compared_side_by_side(config_run, tmp_path, capsys):
    from triggernn.cli import main

    runs = [config_run(load_config(p).name) for p in FAST_CONFIGS]
    out = tmp_path / "cmp"
    assert main(["compare", *[str(r.run_dir) for r in runs], "--out", str(out)]) == 0
    table = (out / "comparison.md").read_text()
    for r in runs:
        row = next(line for line in table.splitlines() if line.startswith(f"| {r.config.name} |"))
        assert f"| {r.verification.bit_exact_fraction:.2%} |" in row
        assert f"| {r.verification.metrics['csim'].accuracy:.4f} |" in row
    assert (out / "comparison.html").stat().st_size > 0
    assert main(["compare", str(tmp_path)]) == 2  # not a run folder
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "comparison.md").write_text("my notes")
    assert main(["compare", str(runs[0].run_dir), "--out", str(tmp_path / "mine")]) == 2  # a user's folder
    assert (tmp_path / "mine" / "comparison.md").read_text() == "my notes"
    assert "no metrics.json" in capsys.readouterr().err
