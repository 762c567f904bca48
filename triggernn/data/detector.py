"""A parametric detector before clustering, as the hls4ml LHC jet dataset's processing (nhanvtran/trackObservables,
``processing/anaSubstructure.cpp``, tag ``r1_h022_e0175_t220_nonu``):

- **tracks**: charged hadrons {pi, K, p, Sigma+-, Xi-} with pT <= 220 GeV, and leptons {e, mu, tau}, kept as
  particles; a charged hadron above 220 GeV is not tracked and deposits in the HCAL;
- **ECAL**: photons (and pi0) summed into cells of 0.0175 x 0.0175 in (eta, phi), |eta| < 3;
- **HCAL**: neutral hadrons {K0L, K0S, n, Lambda, Xi0} and untracked charged hadrons, cells of 0.022 x 0.022;
- a cell's energy sum becomes a massless particle at the cell centre;
- every object's 4-vector is scaled by one Gaussian factor ``N(1, sigma)`` (direction kept), with
  ``sigma`` = tracks ``sqrt((2.5e-4 pT)^2 + 0.015^2)``; ECAL ``sqrt((0.027 / sqrt(E / 1.6))^2 + (0.15 * 1.6 / E)^2
  + 0.005^2)``; HCAL ``sqrt((1.2 / sqrt(E / 7))^2 + 0.05^2)`` (E, pT in GeV), times ``resolution`` (1 there).

Other particles (none after the neutrino veto, in practice) are kept unsmeared. Vectorized over a batch of
events: cells are keyed by (event, calorimeter, eta bin, phi bin), so one ``np.unique`` sums them all.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ECAL_CELL", "HCAL_CELL", "TRACK_PT_MAX", "Detector", "resolution_of"]

ECAL_CELL = 0.0175
HCAL_CELL = 0.022
ETA_CAL = 3.0
TRACK_PT_MAX = 220.0

_CHARGED = (211, 321, 2212, 3112, 3222, 3312, 3334)
_LEPTONS = (11, 13, 15)
_PHOTONS = (22, 111)
_NEUTRAL = (130, 310, 2112, 3122, 3322)

TRACK, ECAL, HCAL, OTHER = 0, 1, 2, 3


def resolution_of(kind: np.ndarray, pt: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The relative resolution (sigma of the scale factor) of each object: tracks by pT, cells by energy."""
    e = np.maximum(e, 1e-9)
    track = np.sqrt((2.5e-4 * pt) ** 2 + 0.015**2)
    ecal = np.sqrt((0.027 / np.sqrt(e / 1.6)) ** 2 + (0.15 * 1.6 / e) ** 2 + 0.005**2)
    hcal = np.sqrt((1.20 / np.sqrt(e / 7.0)) ** 2 + 0.05**2)
    return np.select([kind == TRACK, kind == ECAL, kind == HCAL], [track, ecal, hcal], 0.0)


def _cells(event, eta, phi, e, size: float):
    """Sum ``e`` into (event, eta bin, phi bin) cells of ``size``; massless 4-vectors at the cell centres."""
    n_eta = int(np.floor(2 * ETA_CAL / size))
    n_phi = int(np.floor(2 * np.pi / size))
    d_eta, d_phi = 2 * ETA_CAL / n_eta, 2 * np.pi / n_phi
    ieta = np.floor((eta + ETA_CAL) / d_eta).astype(np.int64)
    iphi = np.floor(np.mod(phi, 2 * np.pi) / d_phi).astype(np.int64) % n_phi
    key = (event.astype(np.int64) * n_eta + ieta) * n_phi + iphi
    uniq, inv = np.unique(key, return_inverse=True)
    energy = np.bincount(inv, weights=e, minlength=len(uniq))
    cell_event = uniq // (n_eta * n_phi)
    c_eta = -ETA_CAL + ((uniq // n_phi) % n_eta + 0.5) * d_eta
    c_phi = ((uniq % n_phi) + 0.5) * d_phi
    pt = energy / np.cosh(c_eta)
    return cell_event, pt * np.cos(c_phi), pt * np.sin(c_phi), pt * np.sinh(c_eta), energy


class Detector:
    """The parametric detector (see the module docs); ``resolution`` multiplies every sigma (0: no smearing)."""

    def __init__(self, rng: np.random.Generator, resolution: float = 1.0) -> None:
        self.rng, self.resolution = rng, resolution

    @staticmethod
    def classify(pid: np.ndarray, pt: np.ndarray) -> np.ndarray:
        """TRACK, ECAL, HCAL or OTHER per particle."""
        a = np.abs(pid)
        charged = np.isin(a, _CHARGED)
        kind = np.full(len(a), OTHER, dtype=np.int8)
        kind[np.isin(a, _LEPTONS) | (charged & (pt <= TRACK_PT_MAX))] = TRACK
        kind[np.isin(a, _PHOTONS)] = ECAL
        kind[np.isin(a, _NEUTRAL) | (charged & (pt > TRACK_PT_MAX))] = HCAL
        return kind

    def apply(self, event, pid, px, py, pz, e):
        """Particles (flat, with their event index) -> detector objects (flat, sorted by event)."""
        pt = np.hypot(px, py)
        eta = np.arcsinh(pz / np.maximum(pt, 1e-12))
        phi = np.arctan2(py, px)
        kind = self.classify(pid, pt)
        parts = []
        keep = (kind == TRACK) | (kind == OTHER)
        parts.append((event[keep], px[keep], py[keep], pz[keep], e[keep], kind[keep]))
        for k, size in ((ECAL, ECAL_CELL), (HCAL, HCAL_CELL)):
            m = (kind == k) & (np.abs(eta) < ETA_CAL)  # outside the calorimeters' |eta| < 3: lost
            ev, cx, cy, cz, ce = _cells(event[m], eta[m], phi[m], e[m], size)
            parts.append((ev, cx, cy, cz, ce, np.full(len(ev), k, dtype=np.int8)))
        ev, ox, oy, oz, oe, okind = (np.concatenate(c) for c in zip(*parts, strict=True))
        sigma = resolution_of(okind, np.hypot(ox, oy), oe) * self.resolution
        scale = np.maximum(1e-10, 1.0 + sigma * self.rng.standard_normal(len(oe)))  # N(1, sigma), as there
        order = np.argsort(ev, kind="stable")
        s = scale[order]
        return ev[order], (ox[order] * s, oy[order] * s, oz[order] * s, oe[order] * s)
