"""The flow reference on the CPU, with tiny budgets: invertible, normalized, trainable, and a real anomaly score."""

from __future__ import annotations

import numpy as np
import torch

from triggernn.data import load_jets
from triggernn.reference import flow as F


def _toy(n: int, seed: int = 0) -> np.ndarray:
    """Two Gaussian blobs in 2D."""
    rng = np.random.default_rng(seed)
    centres = rng.choice([-1.5, 1.5], size=(n, 1))
    return (np.hstack([centres, -centres]) + 0.5 * rng.normal(size=(n, 2))).astype(np.float32)


def test_inverse_recovers_inputs():
    torch.manual_seed(0)
    flow = F.make_flow(F.FlowSpec(features=16, transforms=3, hidden=(32, 32)))
    x = torch.randn(200, 16)
    t = flow().transform
    np.testing.assert_allclose(t.inv(t(x)).detach().numpy(), x.numpy(), atol=1e-4)


def _integral(flow, lim: float = 7.0, n: int = 281) -> float:
    g = np.linspace(-lim, lim, n)
    xx, yy = np.meshgrid(g, g)
    pts = np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    density = np.exp(-F.nll(flow, pts))
    return float(density.sum() * (g[1] - g[0]) ** 2)


def test_density_integrates_to_one_and_training_fits_the_toy():
    X = _toy(3000)
    spec = F.FlowSpec(features=2, transforms=3, hidden=(32, 32))
    torch.manual_seed(1)
    untrained = F.make_flow(spec)
    assert abs(_integral(untrained) - 1) < 0.01
    flow, log = F.train_flow(X[:2500], X[2500:], spec, epochs=15, batch_size=256, learning_rate=3e-3)
    assert abs(_integral(flow) - 1) < 0.02
    assert log.val_nll[-1] < log.val_nll[0] - 0.3  # it learned something
    assert F.nll(flow, _toy(500, seed=5)).mean() < F.nll(untrained, _toy(500, seed=5)).mean() - 0.5
    assert log.device == "cpu"
    assert log.seconds_per_epoch > 0


def test_jet_flow_scores_top_jets_as_anomalous(tmp_path):
    ds = load_jets()
    qcd_tr, qcd_va = np.isin(ds.y_train, [0, 1]), np.isin(ds.y_val, [0, 1])
    spec = F.FlowSpec()  # 5 transforms of 128 x 128: about 0.2 s an epoch here
    flow, log = F.train_flow(ds.X_train[qcd_tr], ds.X_val[qcd_va], spec, epochs=15)
    metrics = F.evaluate(flow, ds.X_test, ds.y_test, ds.class_names)
    assert set(metrics["auc"]) == {"w", "z", "t"}
    assert metrics["auc"]["t"] > 0.7  # top jets (three prongs) are far from QCD's density
    # saved and loaded on the CPU, the same scores
    F.save(flow, spec, {"metrics": metrics, "train": log.__dict__}, tmp_path / "flow_ref")
    again, meta = F.load(tmp_path / "flow_ref")
    np.testing.assert_array_equal(F.nll(again, ds.X_test[:100]), F.nll(flow, ds.X_test[:100]))
    assert meta["metrics"]["auc"]["t"] == metrics["auc"]["t"]


def test_shipped_reference_and_its_fpga_student(tmp_path):
    """The shipped flow loads on the CPU and reproduces its recorded metrics; its student compiles, is
    bit-exact in C-sim and keeps most of the flow's power on top jets."""
    import json

    from triggernn.reference.run import SHIPPED_FLOW, run_flow_reference

    recorded = json.loads(SHIPPED_FLOW.with_suffix(".json").read_text())
    res = run_flow_reference(tmp_path / "run", tmp_path / "hls", student_epochs=15, progress=False)
    assert res["flow"]["source"].startswith("shipped reference")
    for name, auc in recorded["metrics"]["auc"].items():
        assert abs(res["flow"]["auc"][name] - auc) < 1e-9
    s = res["student"]
    assert s["bit_exact"] == 1.0
    assert s["auc_csim"] == s["auc_qkeras"]
    assert s["auc_csim"]["t"] > 0.75
    assert (tmp_path / "hls" / "flow_student" / "firmware" / "myproject.cpp").is_file()
    report = (tmp_path / "run" / "report.md").read_text()
    assert "student, C-sim (FPGA)" in report
