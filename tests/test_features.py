"""The 16 HLFs, mMDT grooming, images and sequences: against brute force, analytic cases and fastjet."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from triggernn.data.features import (
    HLF_FEATURES,
    ca_mmdt_mask,
    energy_correlators,
    hlf_features,
    jet_images,
    jet_sequences,
    rapidity_phi,
)
from triggernn.data.generate import round_mantissa


def _toy_jet(rng: np.random.Generator, n: int, spread: float = 0.25) -> tuple[np.ndarray, ...]:
    """n massive (pion-mass) particles around (eta, phi) = (0.3, 1.0)."""
    pt = rng.exponential(20.0, n) + 1.0
    eta = 0.3 + rng.normal(0, spread, n)
    phi = 1.0 + rng.normal(0, spread, n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + 0.14**2)


def _brute_force(pt: np.ndarray, y: np.ndarray, phi: np.ndarray) -> dict[str, float]:
    """The ECF definitions written as explicit sums over pairs and triples."""
    z = pt / pt.sum()

    def dr(i: int, j: int) -> float:
        dphi = abs(phi[i] - phi[j])
        return float(np.hypot(y[i] - y[j], min(dphi, 2 * np.pi - dphi)))

    out = {"e2_b0": sum(z[i] * z[j] for i, j in itertools.combinations(range(len(z)), 2))}
    for b in (1, 2):
        out[f"e2_b{b}"] = sum(
            z[i] * z[j] * dr(i, j) ** b for i, j in itertools.combinations(range(len(z)), 2)
        )
        e3 = e13 = e23 = 0.0
        for i, j, k in itertools.combinations(range(len(z)), 3):
            a = sorted([dr(i, j), dr(i, k), dr(j, k)])
            zzz = z[i] * z[j] * z[k]
            e3 += zzz * (a[0] * a[1] * a[2]) ** b
            e13 += zzz * a[0] ** b
            e23 += zzz * (a[0] * a[1]) ** b
        out[f"e3_b{b}"], out[f"e13_b{b}"], out[f"e23_b{b}"] = e3, e13, e23
    return out


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=3, max_value=9), st.integers(min_value=0, max_value=10_000))
def test_energy_correlators_match_brute_force(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pt = rng.exponential(10.0, n) + 0.1
    y, phi = rng.normal(0, 0.3, n), rng.normal(0, 0.3, n)
    got = energy_correlators(pt, y, phi)
    want = _brute_force(pt, y, phi)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-15), key


def test_generalized_ecfs_count_each_triple_once_with_ties() -> None:
    """Duplicated particles give equal angles; every triple must still be counted exactly once."""
    pt = np.array([10.0, 10.0, 5.0, 5.0])
    y = np.array([0.0, 0.0, 0.3, 0.3])
    phi = np.array([0.0, 0.0, 0.4, 0.4])
    got, want = energy_correlators(pt, y, phi), _brute_force(pt, y, phi)
    for key in ("e13_b1", "e13_b2", "e23_b1", "e23_b2"):
        assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-15)


def test_two_particle_jet_analytic() -> None:
    """Two particles: e2^(b) = z1 z2 theta^b, all three-point functions vanish, mass is the pair mass."""
    pt = np.array([300.0, 100.0])
    eta, phi = np.array([0.0, 0.3]), np.array([0.0, 0.4])
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2)
    f = dict(zip(HLF_FEATURES, hlf_features(px, py, pz, e), strict=True))
    theta = 0.5  # massless: rapidity = eta
    assert f["c1_b0_mmdt"] == pytest.approx(0.75 * 0.25)
    assert f["c1_b1_mmdt"] == pytest.approx(0.75 * 0.25 * theta)
    assert f["c1_b2_mmdt"] == pytest.approx(0.75 * 0.25 * theta**2)
    for k in ("c2_b1_mmdt", "d2_b2_mmdt", "m2_b1_mmdt", "n2_b2_mmdt"):
        assert f[k] == 0.0
    mass = np.sqrt(e.sum() ** 2 - px.sum() ** 2 - py.sum() ** 2 - pz.sum() ** 2)
    assert f["mass_mmdt"] == pytest.approx(mass)
    assert f["multiplicity"] == 2
    assert f["zlogz"] == pytest.approx(0.75 * np.log(0.75) + 0.25 * np.log(0.25))


def test_mmdt_drops_soft_wide_angle_radiation() -> None:
    """Two hard prongs plus a soft particle at wide angle: mMDT removes the soft one, keeps both prongs."""
    pt = np.array([400.0, 380.0, 3.0])
    eta, phi = np.array([0.0, 0.1, -0.6]), np.array([0.0, 0.05, 0.5])
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    e = np.sqrt(px**2 + py**2 + pz**2)
    assert ca_mmdt_mask(px, py, pz, e).tolist() == [True, True, False]
    # an asymmetric split below z_cut is groomed away too: only the hard prong survives
    pt2 = np.array([400.0, 20.0])
    px2, py2, pz2 = pt2 * np.cos(phi[:2]), pt2 * np.sin(phi[:2]), pt2 * np.sinh(eta[:2])
    assert ca_mmdt_mask(px2, py2, pz2, np.sqrt(px2**2 + py2**2 + pz2**2)).tolist() == [True, False]


def test_numpy_matches_fastjet_grooming_and_correlators() -> None:
    """Cross-check against fastjet's SoftDrop (beta=0, z_cut=0.1) and contrib EnergyCorrelator."""
    ak = pytest.importorskip("awkward")
    fastjet = pytest.importorskip("fastjet")
    rng = np.random.default_rng(7)
    jets = [_toy_jet(rng, n) for n in (6, 25, 60, 110)]
    arr = ak.zip({k: ak.Array([j[i] for j in jets]) for i, k in enumerate(("px", "py", "pz", "E"))})
    ca = fastjet.JetDefinition(fastjet.cambridge_algorithm, 100.0)
    sd = fastjet.ClusterSequence(arr, ca).exclusive_jets_softdrop_grooming(
        njets=1, beta=0.0, symmetry_cut=0.1, R0=0.8
    )
    ours = np.array([hlf_features(*j) for j in jets])
    col = {n: i for i, n in enumerate(HLF_FEATURES)}
    np.testing.assert_allclose(ours[:, col["mass_mmdt"]], np.asarray(sd.msoftdrop), rtol=1e-9)
    assert [int(m.sum()) for m in (ca_mmdt_mask(*j) for j in jets)] == ak.num(sd.constituents).tolist()
    groomed = fastjet.ClusterSequence(sd.constituents, ca)
    checks = {
        "c1_b1_mmdt": dict(func="c1", beta=1),
        "c1_b2_mmdt": dict(func="c1", beta=2),
        "c2_b1_mmdt": dict(func="c2", beta=1),
        "c2_b2_mmdt": dict(func="c2", beta=2),
        "d2_b1_mmdt": dict(func="d2", beta=1),
        "d2_b2_mmdt": dict(func="d2", beta=2),
        "m2_b1_mmdt": dict(func="m2", beta=1),
        "m2_b2_mmdt": dict(func="m2", beta=2),
        "n2_b1_mmdt": dict(func="n2", beta=1),
        "n2_b2_mmdt": dict(func="n2", beta=2),
        "d2_a1_b2_mmdt": dict(func="generalizedd2", alpha=1, beta=2),
    }
    for name, kw in checks.items():
        theirs = np.asarray(groomed.exclusive_jets_energy_correlator(njets=1, **kw))
        np.testing.assert_allclose(ours[:, col[name]], theirs, rtol=1e-7, err_msg=name)


def test_zlogz_uniform_and_multiplicity() -> None:
    n = 12
    phi = np.linspace(0, 0.3, n)
    px, py, pz = 10 * np.cos(phi), 10 * np.sin(phi), np.zeros(n)
    f = hlf_features(px, py, pz, np.full(n, 10.0))
    assert f[HLF_FEATURES.index("zlogz")] == pytest.approx(-np.log(n))
    assert f[HLF_FEATURES.index("multiplicity")] == n


def test_rapidity_phi_massless_equals_eta() -> None:
    eta, phi = np.array([-2.0, 0.0, 1.3]), np.array([3.0, -1.0, 0.2])
    px, py, pz = np.cos(phi), np.sin(phi), np.sinh(eta)
    y, ph = rapidity_phi(px, py, pz, np.sqrt(px**2 + py**2 + pz**2))
    np.testing.assert_allclose(y, eta, atol=1e-12)
    np.testing.assert_allclose(ph, phi, atol=1e-12)


def test_images_normalised_rotated_and_flipped() -> None:
    """A two-prong jet along an arbitrary axis ends up vertical, harder prong in the upper half."""
    pt = np.array([[60.0, 30.0, 10.0, 0.0]])
    ang = 0.7
    r = np.array([0.2, -0.2, 0.0, 0.0])
    deta, dphi = (r * np.cos(ang))[None, :], (r * np.sin(ang))[None, :]
    # odd size: the principal axis (x = 0 after centring) runs through the middle of a pixel column
    img = jet_images(pt, deta, dphi, size=15, extent=0.8)
    assert img.shape == (1, 15, 15, 1)
    assert img.dtype == np.float32
    assert img.sum() == pytest.approx(1.0, rel=1e-6)
    cols = np.nonzero(img[0, :, :, 0].sum(axis=0))[0]
    assert len(cols) == 1  # all pT on one vertical line: the principal axis
    rows = img[0, :, :, 0].sum(axis=1)
    assert rows[:7].sum() > rows[8:].sum()  # top row = largest y: the harder prong is up
    # the images do not depend on the jet's orientation
    img2 = jet_images(pt, -dphi, deta, size=15, extent=0.8)
    np.testing.assert_allclose(img, img2, atol=1e-6)


def test_sequences_sorted_padded() -> None:
    pt = np.array([[5.0, 50.0, 0.0], [1.0, 2.0, 3.0]])
    deta = np.array([[0.1, 0.2, 0.0], [0.3, 0.2, 0.1]])
    dphi = np.zeros_like(pt)
    seq = jet_sequences(pt, deta, dphi, np.array([100.0, 10.0]), length=4, features=("pt_rel", "deta"))
    assert seq.shape == (2, 4, 2)
    np.testing.assert_allclose(seq[0, :, 0], [0.5, 0.05, 0.0, 0.0])
    np.testing.assert_allclose(seq[0, :, 1], [0.2, 0.1, 0.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(seq[1, :, 0], [0.3, 0.2, 0.1, 0.0], rtol=1e-6)


def test_round_mantissa_precision() -> None:
    x = np.random.default_rng(0).normal(0, 100, 1000).astype(np.float32)
    r = round_mantissa(x, 10)
    assert r.dtype == np.float32
    np.testing.assert_allclose(r, x, rtol=2.0**-11)
    assert np.all((r.view(np.uint32) & ((1 << 13) - 1)) == 0)
    np.testing.assert_array_equal(round_mantissa(x, 23), x)
