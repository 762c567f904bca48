"""The flow reference on the CPU, with tiny budgets: invertible, normalized, trainable, and a real anomaly score."""

from __future__ import annotations

import numpy as np
import pytest
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
    raw = ds.X_train.astype(np.float64) * ds.std + ds.mean
    spec = F.jet_flow_spec(ds.feature_names, raw, ds.std)  # 5 transforms of 128 x 128: ~0.05 s an epoch here
    flow, log = F.train_flow(ds.X_train[qcd_tr], ds.X_val[qcd_va], spec, epochs=15)
    metrics = F.evaluate(flow, ds.X_test, ds.y_test, ds.class_names)
    assert set(metrics["auc"]) == {"w", "z", "t"}
    assert metrics["auc"]["t"] > 0.7  # top jets (three prongs) are far from QCD's density
    # saved and loaded on the CPU, the same scores
    F.save(flow, spec, {"metrics": metrics, "train": log.__dict__}, tmp_path / "flow_ref")
    again, meta = F.load(tmp_path / "flow_ref")
    np.testing.assert_array_equal(F.nll(again, ds.X_test[:100]), F.nll(flow, ds.X_test[:100]))
    assert meta["metrics"]["auc"]["t"] == metrics["auc"]["t"]


def test_shipped_reference_and_its_fpga_student(tmp_path, capsys):
    """`triggernn run <a flow config>`: the shipped flow loads on the CPU and reproduces its recorded metrics;
    its student compiles, is bit-exact in C-sim and keeps most of the flow's power on top jets."""
    import json

    from triggernn.cli import main
    from triggernn.reference.run import SHIPPED_FLOW

    recorded = json.loads(SHIPPED_FLOW.with_suffix(".json").read_text())
    assert recorded["metrics"]["data"] == "embedded"  # its record was judged on the jets every user has
    assert "scaling" in recorded  # trained on other jets: their feature scaling travels with the weights
    cfg = tmp_path / "flow.yaml"
    cfg.write_text("reference: flow\nname: myflow\nstudent_epochs: 15\n")
    runs, hls = tmp_path / "runs", tmp_path / "hls"
    assert main(["run", str(cfg), "--runs", str(runs), "--projects", str(hls), "-q"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("== myflow: PASS")
    res = json.loads((runs / "myflow" / "metrics.json").read_text())
    assert res["flow"]["source"].startswith("shipped reference")
    for name, auc in recorded["metrics"]["auc"].items():
        # the same weights on any x86-64 CPU: a tie broken otherwise by another kernel's float32 rounding moves
        # an AUC by one signal-background pair, 1/(400*800) = 3e-6; a few such pairs are allowed, no more
        assert abs(res["flow"]["auc"][name] - auc) <= 1e-5
    s = res["student"]
    assert s["bit_exact"] == 1.0
    assert s["auc_csim"] == s["auc_qkeras"]
    assert s["auc_csim"]["t"] > 0.75
    assert (hls / "flow_student" / "firmware" / "myproject.cpp").is_file()
    report = (runs / "myflow" / "report.md").read_text()
    assert "student, C-sim (FPGA)" in report
    assert f"trained {recorded['training']['epochs']} epochs on" in report
    assert (runs / "myflow" / "anomaly_roc.png").stat().st_size > 20_000


def test_jet_flow_models_the_independent_features_with_multiplicity_dequantized():
    """The four D2s are functions of C1 and C2 on every jet (so a 16-D density would be singular): the flow
    models the other twelve; the multiplicity is integer and spread over its bin in training."""
    ds = load_jets()
    names = list(ds.feature_names)
    raw = ds.X_train.astype(np.float64) * ds.std + ds.mean
    col = {n: raw[:, names.index(n)] for n in names}
    ok = col["c1_b1_mmdt"] > 1e-6
    ratio = (col["c2_b1_mmdt"] / col["c1_b1_mmdt"])[ok]
    np.testing.assert_allclose(col["d2_b1_mmdt"][ok], ratio, rtol=2e-3, atol=1e-4)
    np.testing.assert_array_equal(col["d2_a1_b1_mmdt"], col["d2_b1_mmdt"])
    ok &= col["c1_b2_mmdt"] > 1e-6
    d2_a1_b2 = col["c2_b1_mmdt"][ok] * col["c1_b1_mmdt"][ok] ** 2 / col["c1_b2_mmdt"][ok] ** 1.5
    np.testing.assert_allclose(col["d2_a1_b2_mmdt"][ok], d2_a1_b2, rtol=5e-3, atol=1e-4)
    spec = F.jet_flow_spec(names, raw, ds.std)
    assert [names[j] for j in spec.modelled if names[j] in F.JET_DEPENDENT] == []
    assert len(spec.modelled) == 12
    (j, width), *rest = spec.dequantize
    assert names[j] == "multiplicity"
    assert rest == []
    assert width == pytest.approx(1 / ds.std[j])
    # the spread stays inside each value's bin, and touches nothing else
    spread = F._dequantizer(spec, torch.device("cpu"))
    x = torch.as_tensor(ds.X_train[:500, list(spec.modelled)])
    moved = (spread(x, torch.Generator().manual_seed(0)) - x).numpy()
    k = spec.modelled.index(j)
    assert np.abs(moved[:, k]).max() <= width / 2 + 1e-6
    assert moved[:, k].std() > width / 5
    assert np.all(np.delete(moved, k, axis=1) == 0)


def test_discrete_columns_and_unmodelled_columns_do_not_count():
    rng = np.random.default_rng(0)
    raw = np.column_stack([rng.integers(0, 50, 1000), rng.normal(size=1000), rng.integers(0, 5, 1000) + 0.5])
    assert F.discrete_columns(raw) == ((0, 1.0),)
    flow = F.make_flow(F.FlowSpec(features=3, transforms=2, hidden=(16,), columns=(0, 2)))
    X = rng.normal(size=(50, 3)).astype(np.float32)
    Y = X.copy()
    Y[:, 1] += 100.0
    np.testing.assert_array_equal(F.nll(flow, X), F.nll(flow, Y))
    with pytest.raises(F.InputError, match="not among"):
        F.make_flow(F.FlowSpec(features=3, columns=(0, 3)))
