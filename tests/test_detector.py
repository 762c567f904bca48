"""The parametric detector (triggernn/data/detector.py): cells conserve energy, resolutions are as specified,
the track rule, reproducible seeds, and a generation through it."""

from __future__ import annotations

import numpy as np
import pytest

from triggernn.data.detector import ECAL, ECAL_CELL, HCAL, TRACK, Detector, resolution_of


def _particles(pid, pt, eta, phi, event=None):
    pid, pt, eta, phi = (np.asarray(a, dtype=float) for a in (pid, pt, eta, phi))
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = pt * np.cosh(eta)  # massless
    event = np.zeros(len(pid), dtype=np.int64) if event is None else np.asarray(event)
    return event, pid.astype(np.int64), px, py, pz, e


def test_cells_sum_energy_and_sit_at_the_cell_centre():
    det = Detector(np.random.default_rng(0), resolution=0.0)  # no smearing: the cells alone
    # three photons inside one ECAL cell, a neutron and a 300 GeV pion (untracked) in one HCAL cell
    eta = [0.301, 0.302, 0.303, -1.0001, -1.0002]
    phi = [1.001, 1.002, 1.003, 2.0001, 2.0002]
    args = _particles([22, 22, 22, 2112, 211], [10, 20, 30, 50, 300], eta, phi)
    _, (px, py, pz, e) = det.apply(*args)
    assert len(e) == 2  # one ECAL cell, one HCAL cell
    assert np.isclose(e.sum(), args[5].sum())  # energy conserved
    ecal = np.argmin(np.abs(np.arcsinh(pz / np.hypot(px, py)) - 0.3))
    assert np.isclose(e[ecal], args[5][:3].sum())
    cell_eta = np.arcsinh(pz / np.hypot(px, py))
    assert (np.sqrt(np.maximum(e**2 - px**2 - py**2 - pz**2, 0)) < 1e-6 * e).all()  # massless
    # at a cell centre: (eta + 3) / size is a half-integer multiple of the (rounded) cell size
    n = np.floor(6 / ECAL_CELL)
    k = (cell_eta[ecal] + 3) / (6 / n) - 0.5
    assert np.isclose(k, round(k), atol=1e-6)


def test_track_rule_and_kinds():
    kinds = Detector.classify(np.array([211, 211, -11, 22, 111, 130, 2112, 321]),
                              np.array([219.0, 221.0, 500.0, 5.0, 5.0, 5.0, 5.0, 50.0]))  # fmt: skip
    assert kinds.tolist() == [TRACK, HCAL, TRACK, ECAL, ECAL, HCAL, HCAL, TRACK]


@pytest.mark.parametrize(("pid", "pt", "kind"), [(22, 100.0, ECAL), (2112, 100.0, HCAL), (211, 100.0, TRACK)])
def test_resolution_is_as_specified(pid, pt, kind):
    n = 20_000
    rng_events = np.arange(n)  # one particle per event, each its own cell
    args = _particles(np.full(n, pid), np.full(n, pt), np.zeros(n), np.zeros(n), rng_events)
    _, (*_, e) = Detector(np.random.default_rng(1)).apply(*args)
    ratio = e / args[5]
    expected = resolution_of(np.array([kind]), np.array([pt]), np.array([pt]))[0]
    assert abs(ratio.mean() - 1) < 4 * expected / np.sqrt(n)
    assert ratio.std() == pytest.approx(expected, rel=0.03)
    # the formulas at 100 GeV, by hand: ECAL sqrt(0.003415^2 + 0.0024^2 + 0.005^2), HCAL sqrt(0.3175^2 + 0.05^2)
    assert {ECAL: 0.00651, HCAL: 0.3214, TRACK: 0.02915}[kind] == pytest.approx(expected, abs=5e-5)


def test_same_seed_same_objects():
    args = _particles([22, 2112, 211, 211], [10, 50, 30, 400], [0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8])
    a = Detector(np.random.default_rng(7)).apply(*args)
    b = Detector(np.random.default_rng(7)).apply(*args)
    c = Detector(np.random.default_rng(8)).apply(*args)
    np.testing.assert_array_equal(a[1][3], b[1][3])
    assert not np.array_equal(a[1][3], c[1][3])


def test_generation_through_the_detector_is_reproducible(tmp_path):
    pytest.importorskip("pythia8mc")
    from triggernn.data import generate_jets, load_jets

    opts = {"wz": "diboson", "qcd": "separate", "labels": "sample", "jets": "leading", "hard_pt": 1000.0,
            "detector": True, "pt_min": 800.0, "pt_max": 1600.0}  # fmt: skip
    a = generate_jets(tmp_path / "a.root", 60, seed=5, processes=1, progress=False, **opts)
    b = generate_jets(tmp_path / "b.root", 60, seed=5, processes=2, progress=False, **opts)
    da, db = load_jets(a, fractions=(1.0, 0.0, 0.0)), load_jets(b, fractions=(1.0, 0.0, 0.0))
    np.testing.assert_array_equal(da.X_train, db.X_train)
    assert np.bincount(da.y_train).tolist() == [12] * 5  # balanced, labelled by sample
    import json

    import uproot

    meta = json.loads(uproot.open(a)["meta"])
    assert meta["arguments"]["detector"] is True
    assert meta["arguments"]["wz"] == "diboson"
