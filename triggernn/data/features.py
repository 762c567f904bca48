"""The 16 hls4ml high-level jet features, computed from the jet constituents in numpy.

Definitions follow arXiv:1804.06913 (the hls4ml jet dataset), Moult-Necib-Thaler arXiv:1609.07483 and the
fastjet-contrib ``EnergyCorrelator`` header (``pt_R`` measure):

* ``z_i = pT_i / sum_j pT_j`` over the constituents of the (groomed) jet and ``theta_ij = Delta R_ij`` in
  rapidity-azimuth, the distance fastjet uses for clustering and for the ``pt_R`` measure.
* ``e2^(b) = sum_{i<j} z_i z_j theta_ij^b``; ``e3^(b) = sum_{i<j<k} z_i z_j z_k (theta_ij theta_ik theta_jk)^b``.
  ``b = 0`` means ``theta^0 = 1`` for ``i != j`` (so ``e2^(0) = (1 - sum z^2) / 2``).
* Generalized ECFs: ``e^(b)_{v,3} = sum_{i<j<k} z_i z_j z_k prod_{m=1..v} min^(m){theta_ij, theta_ik,
  theta_jk}^b`` (the product of the ``v`` smallest pairwise angles); ``e^(b)_{1,2} = e2^(b)``.
* ``zlogz = sum_i z_i log z_i`` over all constituents of the ungroomed jet.
* ``c1_bB = e2^(B)``; ``c2_bB = e3^(B)/(e2^(B))^2``; ``d2_bB = e3^(B)/(e2^(B))^3``;
  ``d2_a1_bB = e3^(1)/(e2^(B))^(3/B)``; ``m2_bB = e^(B)_{1,3}/e^(B)_{1,2}``;
  ``n2_bB = e^(B)_{2,3}/(e^(B)_{1,2})^2`` - all on the mMDT-groomed jet.
* ``mass_mmdt``: invariant mass of the four-vector sum of the groomed constituents (GeV).
* ``multiplicity``: number of constituents of the ungroomed jet.
* mMDT = soft drop with ``beta = 0``, ``z_cut = 0.1``, ``R0 = 0.8``: recluster the constituents with
  Cambridge/Aachen (E-scheme, one jet holding everything), then undo the last merging while
  ``min(pT1, pT2)/(pT1 + pT2) < z_cut``, following the harder branch; the first branching that passes
  stops the declustering and its constituents form the groomed jet.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Label index order, as in the hls4ml dataset: gluon, light quark, W, Z, top.
CLASS_NAMES: tuple[str, ...] = ("g", "q", "w", "z", "t")

HLF_FEATURES: tuple[str, ...] = (
    "zlogz",
    "c1_b0_mmdt",
    "c1_b1_mmdt",
    "c1_b2_mmdt",
    "c2_b1_mmdt",
    "c2_b2_mmdt",
    "d2_b1_mmdt",
    "d2_b2_mmdt",
    "d2_a1_b1_mmdt",
    "d2_a1_b2_mmdt",
    "m2_b1_mmdt",
    "m2_b2_mmdt",
    "n2_b1_mmdt",
    "n2_b2_mmdt",
    "mass_mmdt",
    "multiplicity",
)
MMDT_ZCUT = 0.1
MMDT_BETA = 0.0
MMDT_R0 = 0.8

__all__ = [
    "CLASS_NAMES",
    "HLF_FEATURES",
    "MMDT_BETA",
    "MMDT_R0",
    "MMDT_ZCUT",
    "ca_mmdt_mask",
    "energy_correlators",
    "hlf_features",
    "hlf_from_groomed",
    "jet_images",
    "jet_sequences",
    "rapidity_phi",
]


def rapidity_phi(
    px: np.ndarray, py: np.ndarray, pz: np.ndarray, e: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rapidity and azimuth (in (-pi, pi]) of four-vectors given as 1-d arrays (GeV)."""
    # Clip keeps a massless particle exactly along the beam finite; never happens for |eta| < 2.5 input.
    num = np.maximum(e + pz, 1e-300)
    den = np.maximum(e - pz, 1e-300)
    return 0.5 * np.log(num / den), np.arctan2(py, px)


def _delta_r(y: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """(N, N) matrix of Delta R in (y, phi); zero on the diagonal."""
    dy = y[:, None] - y[None, :]
    dphi = np.abs(phi[:, None] - phi[None, :])
    dphi = np.where(dphi > np.pi, 2.0 * np.pi - dphi, dphi)
    return np.sqrt(dy * dy + dphi * dphi)


def ca_mmdt_mask(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    e: np.ndarray,
    *,
    z_cut: float = MMDT_ZCUT,
    beta: float = MMDT_BETA,
    r0: float = MMDT_R0,
) -> np.ndarray:
    """Soft-drop (default: mMDT) grooming of one jet's constituents, pure numpy.

    In: the constituents' four-momenta (1-d arrays, GeV). Out: boolean mask of the constituents kept.
    Clusters with C/A in (y, phi), E-scheme recombination, every particle ending in a single jet (like
    fastjet's reclustering with ``max_allowable_R``), then declusters from the top as described in the
    module docstring. O(N^2) per merging step: this is the reference; the generator uses fastjet's
    C++ implementation when it is faster (see docs/data.md) and a test checks that both agree.
    """
    n = len(px)
    if n <= 1:
        return np.ones(n, dtype=bool)
    p4 = np.stack([px, py, pz, e], axis=1).astype(np.float64)
    nodes = np.zeros((2 * n - 1, 4))
    nodes[:n] = p4
    children = np.full((2 * n - 1, 2), -1, dtype=np.int64)
    y, phi = rapidity_phi(*p4.T)
    ys = np.empty(2 * n - 1)
    phis = np.empty(2 * n - 1)
    ys[:n], phis[:n] = y, phi
    dist = _delta_r(y, phi) ** 2
    np.fill_diagonal(dist, np.inf)
    slot = np.arange(n)  # slot k of `dist` currently holds node slot[k]
    alive = np.ones(n, dtype=bool)
    for new in range(n, 2 * n - 1):
        flat = int(np.argmin(dist))
        a, b = divmod(flat, n)
        na, nb = slot[a], slot[b]
        nodes[new] = nodes[na] + nodes[nb]
        children[new] = (na, nb)
        yn, phin = rapidity_phi(*nodes[new][:, None])
        ys[new], phis[new] = yn[0], phin[0]
        # Slot a now holds the merged node, slot b is retired.
        slot[a] = new
        alive[b] = False
        dist[b, :] = np.inf
        dist[:, b] = np.inf
        dphi = np.abs(phis[slot] - phis[new])
        dphi = np.where(dphi > np.pi, 2.0 * np.pi - dphi, dphi)
        row = (ys[slot] - ys[new]) ** 2 + dphi**2
        row[~alive] = np.inf
        row[a] = np.inf
        dist[a, :] = row
        dist[:, a] = row
    node = 2 * n - 2
    while children[node, 0] >= 0:
        c1, c2 = children[node]
        pt1 = np.hypot(nodes[c1, 0], nodes[c1, 1])
        pt2 = np.hypot(nodes[c2, 0], nodes[c2, 1])
        dphi = abs(phis[c1] - phis[c2])
        dphi = min(dphi, 2.0 * np.pi - dphi)
        dr = np.hypot(ys[c1] - ys[c2], dphi)
        if min(pt1, pt2) / (pt1 + pt2) > z_cut * (dr / r0) ** beta:
            break
        node = c1 if pt1 >= pt2 else c2
    mask = np.zeros(n, dtype=bool)
    stack = [node]
    while stack:
        k = stack.pop()
        if k < n:
            mask[k] = True
        else:
            stack.extend(children[k])
    return mask


class _TripleTable:
    """Index tables of all pairs (i<j) and triples (i<j<k), ordered by their largest index.

    With that order the pairs/triples of an N-particle jet are a prefix of the table for any larger N, so
    one table, grown on demand, serves every jet. A pair (i, j) sits at ``j*(j-1)/2 + i``.
    """

    def __init__(self) -> None:
        self.n = 0
        self._grow(64)

    def _grow(self, n: int) -> None:
        j2, i2 = np.nonzero(np.tril(np.ones((n, n), dtype=bool), -1))  # rows j > cols i, ordered by j
        k3, j3, i3 = np.nonzero(
            np.tril(np.ones((n, n), dtype=bool), -1)[:, :, None]
            & np.tril(np.ones((n, n), dtype=bool), -1)[None, :, :]
        )
        self.i2, self.j2 = i2.astype(np.int32), j2.astype(np.int32)
        self.i3, self.j3, self.k3 = i3.astype(np.int32), j3.astype(np.int32), k3.astype(np.int32)
        pair = lambda i, j: (j * (j - 1)) // 2 + i  # noqa: E731
        self.p_ij, self.p_ik, self.p_jk = (
            pair(self.i3, self.j3),
            pair(self.i3, self.k3),
            pair(self.j3, self.k3),
        )
        self.n = n

    def get(self, n: int) -> tuple[np.ndarray, ...]:
        """Pair (i, j) and triple (i, j, k, p_ij, p_ik, p_jk) index arrays for an n-particle jet."""
        if n > self.n:
            self._grow(max(n, 2 * self.n))
        n2, n3 = n * (n - 1) // 2, n * (n - 1) * (n - 2) // 6
        return (self.i2[:n2], self.j2[:n2], self.i3[:n3], self.j3[:n3], self.k3[:n3],
                self.p_ij[:n3], self.p_ik[:n3], self.p_jk[:n3])  # fmt: skip


_TABLE = _TripleTable()


def energy_correlators(pt: np.ndarray, y: np.ndarray, phi: np.ndarray) -> dict[str, float]:
    """Normalized energy correlation functions of one (groomed) jet.

    In: constituent pT, rapidity, azimuth (1-d arrays). Out: dict with keys ``e2_b0, e2_b1, e2_b2``
    (= e^(b)_{1,2}), ``e3_b1, e3_b2``, ``e13_b1, e13_b2`` and ``e23_b1, e23_b2`` (see module docstring).
    Fewer than 3 constituents give zeros for the 3-point functions.
    """
    z = pt / pt.sum()
    theta = _delta_r(y, phi)
    out: dict[str, float] = {"e2_b0": float(0.5 * (1.0 - np.dot(z, z)))}
    powers = {1: theta, 2: theta * theta}
    for b, t in powers.items():
        tz = t * z[None, :]  # T diag(z)
        out[f"e2_b{b}"] = float(0.5 * z @ t @ z)
        # e3 = (1/6) sum_ij z_i z_j T_ij (T diag(z) T)_ij ; T_ii = 0 removes coincident indices.
        out[f"e3_b{b}"] = float(np.einsum("i,j,ij,ij->", z, z, t, tz @ t) / 6.0)
    n = len(z)
    if n < 3:
        out.update(e13_b1=0.0, e13_b2=0.0, e23_b1=0.0, e23_b2=0.0)
        return out
    # Generalized ECFs over the triples i<j<k: sort each triple's three angles (min, mid, max).
    i2, j2, i3, j3, k3, p_ij, p_ik, p_jk = _TABLE.get(n)
    th = theta[i2, j2]
    a, b, c = th[p_ij], th[p_ik], th[p_jk]
    lo = np.minimum(np.minimum(a, b), c)
    mid = a + b + c - lo - np.maximum(np.maximum(a, b), c)
    zzz = z[i3] * z[j3] * z[k3]
    lo_mid = lo * mid
    out["e13_b1"] = float(np.dot(zzz, lo))
    out["e13_b2"] = float(np.dot(zzz, lo * lo))
    out["e23_b1"] = float(np.dot(zzz, lo_mid))
    out["e23_b2"] = float(np.dot(zzz, lo_mid * lo_mid))
    return out


def _ratio(num: float, den: float) -> float:
    """num/den, 0 when the denominator vanishes (a jet with one groomed constituent)."""
    return num / den if den > 0.0 else 0.0


def hlf_features(
    px: np.ndarray,
    py: np.ndarray,
    pz: np.ndarray,
    e: np.ndarray,
    groomed: np.ndarray | None = None,
) -> np.ndarray:
    """The 16 HLF_FEATURES of one jet, in HLF_FEATURES order (float64 array of shape (16,)).

    In: four-momenta of all the jet's constituents (1-d arrays, GeV) and optionally the boolean mask of
    the mMDT-groomed constituents (computed with :func:`ca_mmdt_mask` when not given).
    Ratios whose denominator vanishes (groomed jet with a single particle) are set to 0.
    """
    px, py, pz, e = (np.asarray(a, dtype=np.float64) for a in (px, py, pz, e))
    if groomed is None:
        groomed = ca_mmdt_mask(px, py, pz, e)
    return hlf_from_groomed(np.hypot(px, py), px[groomed], py[groomed], pz[groomed], e[groomed])


def hlf_from_groomed(
    pt_all: np.ndarray, gpx: np.ndarray, gpy: np.ndarray, gpz: np.ndarray, ge: np.ndarray
) -> np.ndarray:
    """The 16 HLF_FEATURES from the ungroomed constituents' pT and the groomed constituents' four-momenta.

    In: ``pt_all`` (all constituents, for zlogz and multiplicity) and the mMDT-groomed constituents'
    px, py, pz, E (GeV), however the grooming was done. Out: float64 array of shape (16,).
    """
    zf = pt_all / pt_all.sum()
    zlogz = float(np.sum(zf * np.log(np.maximum(zf, 1e-300))))
    m2 = ge.sum() ** 2 - gpx.sum() ** 2 - gpy.sum() ** 2 - gpz.sum() ** 2
    y, phi = rapidity_phi(gpx, gpy, gpz, ge)
    c = energy_correlators(np.hypot(gpx, gpy), y, phi)
    values = [
        zlogz,
        c["e2_b0"],
        c["e2_b1"],
        c["e2_b2"],
        _ratio(c["e3_b1"], c["e2_b1"] ** 2),
        _ratio(c["e3_b2"], c["e2_b2"] ** 2),
        _ratio(c["e3_b1"], c["e2_b1"] ** 3),
        _ratio(c["e3_b2"], c["e2_b2"] ** 3),
        _ratio(c["e3_b1"], c["e2_b1"] ** 3.0),  # alpha = 1, beta = 1: exponent 3*alpha/beta = 3
        _ratio(c["e3_b1"], c["e2_b2"] ** 1.5),  # alpha = 1, beta = 2: exponent 3/2
        _ratio(c["e13_b1"], c["e2_b1"]),
        _ratio(c["e13_b2"], c["e2_b2"]),
        _ratio(c["e23_b1"], c["e2_b1"] ** 2),
        _ratio(c["e23_b2"], c["e2_b2"] ** 2),
        float(np.sqrt(max(m2, 0.0))),
        float(len(pt_all)),
    ]
    return np.asarray(values, dtype=np.float64)


def jet_images(
    pt: np.ndarray, deta: np.ndarray, dphi: np.ndarray, size: int = 16, extent: float = 0.8
) -> np.ndarray:
    """pT-fraction jet images, shape (n, size, size, 1) float32, from padded constituents (n, M).

    Padding has ``pt == 0``. Each image is centred on the pT-weighted centroid, rotated so that the
    principal axis of the pT-weighted (deta, dphi) distribution is vertical, then flipped by a fixed,
    seed-free convention: more pT in the right half and in the upper half. Pixels cover
    [-extent, extent] in both directions (rows: vertical axis, top row = largest value); a pixel holds the
    fraction of the jet's constituent pT that falls in it, so particles outside the window are lost.
    """
    pt = np.asarray(pt, dtype=np.float64)
    total = np.maximum(pt.sum(axis=1, keepdims=True), 1e-300)
    w = pt / total
    x = deta - np.sum(w * deta, axis=1, keepdims=True)
    y = dphi - np.sum(w * dphi, axis=1, keepdims=True)
    sxx, syy, sxy = (np.sum(w * a * b, axis=1) for a, b in ((x, x), (y, y), (x, y)))
    # Angle of the principal axis; rotating by (pi/2 - angle) puts it along y.
    angle = 0.5 * np.arctan2(2.0 * sxy, sxx - syy)
    rot = (np.pi / 2 - angle)[:, None]
    c, s = np.cos(rot), np.sin(rot)
    xr, yr = c * x - s * y, s * x + c * y
    xr = np.where(
        np.sum(w * (xr > 0), axis=1, keepdims=True) < np.sum(w * (xr < 0), axis=1, keepdims=True), -xr, xr
    )
    yr = np.where(
        np.sum(w * (yr > 0), axis=1, keepdims=True) < np.sum(w * (yr < 0), axis=1, keepdims=True), -yr, yr
    )
    col = np.floor((xr + extent) / (2 * extent) * size).astype(np.int64)
    row = size - 1 - np.floor((yr + extent) / (2 * extent) * size).astype(np.int64)
    inside = (col >= 0) & (col < size) & (row >= 0) & (row < size) & (pt > 0)
    n = pt.shape[0]
    flat = (np.arange(n)[:, None] * size * size + row * size + col)[inside]
    img = np.bincount(flat, weights=w[inside], minlength=n * size * size)
    return img.reshape(n, size, size, 1).astype(np.float32)


def jet_sequences(
    pt: np.ndarray,
    deta: np.ndarray,
    dphi: np.ndarray,
    jet_pt: np.ndarray,
    length: int,
    features: Sequence[str],
) -> np.ndarray:
    """pT-ordered, zero-padded particle sequences, shape (n, length, len(features)) float32.

    In: padded constituents (n, M) with ``pt == 0`` as padding, the jets' pT (n,), and feature names from
    ``pt_rel`` (pT/pT_jet), ``deta``, ``dphi``, ``delta_r``, ``log_pt_rel``, ``pt`` (GeV).
    """
    order = np.argsort(-pt, axis=1, kind="stable")[:, :length]
    pt, deta, dphi = (np.take_along_axis(a, order, axis=1) for a in (pt, deta, dphi))
    real = pt > 0
    pt_rel = pt / np.asarray(jet_pt, dtype=np.float64)[:, None]
    columns = {
        "pt_rel": lambda: pt_rel,
        "deta": lambda: deta,
        "dphi": lambda: dphi,
        "delta_r": lambda: np.hypot(deta, dphi),
        "log_pt_rel": lambda: np.log(np.where(real, pt_rel, 1.0)),
        "pt": lambda: pt,
    }
    out = np.zeros((pt.shape[0], length, len(features)), dtype=np.float32)
    m = pt.shape[1]
    for k, name in enumerate(features):
        out[:, :m, k] = np.where(real, columns[name](), 0.0)
    return out
