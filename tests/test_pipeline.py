"""The main job on the embedded jets: bit-exact C simulation, a complete report, deterministic outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from triggernn.config import load_config
from triggernn.hls import project_digest
from triggernn.pipeline import run

ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The jet_dense config on a 2,500-jet subsample with a short training, run twice from scratch."""
    cfg = load_config(ROOT / "configs" / "jet_dense.yaml").with_overrides(
        data={"max_jets": 2500}, train={"epochs": 4}, hls={"tb_events": 100}
    )
    out = []
    for tag in ("a", "b"):
        d = tmp_path_factory.mktemp(f"run_{tag}")
        out.append(run(cfg, run_root=d / "runs", project_root=d / "hls", progress=False))
    return out


def test_dense_tagger_is_bit_exact(two_runs):
    r = two_runs[0]
    v = r.verification
    assert v.compared_layer == "output"
    assert v.bit_exact_fraction == 1.0
    assert v.max_lsb_error == 0.0
    assert v.n_events == len(r.project.csim.outputs) == 500
    assert v.output_argmax_agreement >= 0.99
    assert v.testbench_events == 100
    assert v.testbench_exact_fraction == 1.0
    assert v.passed, v.failures
    # the model learned something: far better than the 20% of guessing among five balanced classes
    assert v.metrics["qkeras"].accuracy > 0.4
    assert min(v.metrics["float"].auc.values()) > 0.6


def test_report_states_the_verification(two_runs):
    r = two_runs[0]
    for name in (
        "report.md",
        "report.html",
        "metrics.json",
        "roc.png",
        "confusion.png",
        "residuals.png",
        "ranges.png",
    ):
        assert (r.run_dir / name).stat().st_size > 0, name
    metrics = json.loads((r.run_dir / "metrics.json").read_text())
    assert metrics["verification"]["bit_exact_fraction"] == r.verification.bit_exact_fraction
    assert metrics["verification"]["passed"] is True
    assert set(metrics["timings_s"]) >= {
        "data",
        "train_float",
        "train_qkeras",
        "emit_and_csim",
        "testbench",
        "verify",
    }
    assert "100.0000%" in (r.run_dir / "report.md").read_text()
    ranges = {d["layer"]: d for d in metrics["layer_ranges"]}
    assert set(ranges) >= {"fc1", "relu1", "output"}
    assert not any(d["overflows"] for d in ranges.values())  # hls4ml's exact types hold every value
    tb = np.loadtxt(r.project.path / "tb_data" / "tb_input_features.dat")
    assert tb.shape == (100, 16)


def test_same_config_and_seed_give_same_weights_and_files(two_runs):
    a, b = two_runs
    for wa, wb in zip(a.qkeras_model.get_weights(), b.qkeras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    for wa, wb in zip(a.float_model.get_weights(), b.float_model.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert project_digest(a.project.path) == project_digest(b.project.path)
