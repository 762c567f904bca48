"""Benchmark of the data layer; prints a table (numbers go to docs/data.md).

    python scripts/bench_data.py [--jets 2000] [--read-rows 1000000]

Rows: generation rate with 1 and 2 worker processes (all features, constituents), per-jet cost of the
mMDT grooming in numpy vs fastjet's awkward SoftDrop and of the 16 features, and reading a synthetic
1M-jet x 16-feature ROOT file (uproot alone, and the whole ``load_jets`` with split + standardization).
"""

from __future__ import annotations

import argparse
import logging
import os
import pathlib
import tempfile
import time

import numpy as np

from triggernn.data import CLASS_NAMES, HLF_FEATURES, generate_jets, load_jets
from triggernn.data.features import ca_mmdt_mask, hlf_features
from triggernn.data.generate import _write_root


def _toy_jets(n_jets: int, n_particles: int, seed: int = 0) -> list[tuple[np.ndarray, ...]]:
    rng = np.random.default_rng(seed)
    jets = []
    for _ in range(n_jets):
        pt = rng.exponential(10.0, n_particles) + 0.5
        eta, phi = rng.normal(0, 0.2, n_particles), rng.normal(0, 0.2, n_particles)
        px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
        jets.append((px, py, pz, np.sqrt(px**2 + py**2 + pz**2 + 0.02)))
    return jets


def bench_generation(tmp: pathlib.Path, n_jets: int, rows: list[tuple[str, str, str]]) -> None:
    for processes in (1, 2):
        start = time.perf_counter()
        generate_jets(tmp / f"gen{processes}.root", n_jets, seed=99, processes=processes, progress=False)
        wall = time.perf_counter() - start
        rows.append((f"generate {n_jets} jets, {processes} process(es)", f"{wall:.1f} s",
                     f"{n_jets / wall:.0f} jets/s = {n_jets / wall / processes:.0f} jets/s/core"))  # fmt: skip


def bench_features(rows: list[tuple[str, str, str]]) -> None:
    import awkward as ak
    import fastjet

    for n in (40, 100):
        jets = _toy_jets(100, n)
        start = time.perf_counter()
        masks = [ca_mmdt_mask(*j) for j in jets]
        t_np = (time.perf_counter() - start) / len(jets)
        arr = ak.zip({k: ak.Array([j[i] for j in jets]) for i, k in enumerate(("px", "py", "pz", "E"))})
        start = time.perf_counter()
        cs = fastjet.ClusterSequence(arr, fastjet.JetDefinition(fastjet.cambridge_algorithm, 100.0))
        cs.exclusive_jets_softdrop_grooming(njets=1, beta=0.0, symmetry_cut=0.1, R0=0.8)
        t_fj = (time.perf_counter() - start) / len(jets)
        start = time.perf_counter()
        for j, m in zip(jets, masks, strict=True):
            hlf_features(*j, groomed=m)
        t_f = (time.perf_counter() - start) / len(jets)
        rows.append(
            (f"mMDT, {n}-particle jet", f"numpy {t_np * 1e3:.2f} ms", f"fastjet awkward {t_fj * 1e3:.2f} ms")
        )
        rows.append((f"16 features given the grooming, {n} particles", f"{t_f * 1e3:.2f} ms", ""))


def bench_read(tmp: pathlib.Path, n_rows: int, rows: list[tuple[str, str, str]]) -> None:
    import uproot

    rng = np.random.default_rng(0)
    labels = rng.integers(0, len(CLASS_NAMES), n_rows).astype(np.int32)
    part = {"label": labels, "n_constituents": np.zeros(n_rows, dtype=np.int64), "n_events": np.asarray([0])}
    for name in (*HLF_FEATURES, "jet_pt", "jet_eta", "jet_phi", "jet_mass"):
        part[name] = rng.normal(0, 1, n_rows)
    for name in ("part_pt", "part_eta", "part_phi", "part_deta", "part_dphi"):
        part[name] = np.zeros(0, dtype=np.float32)
    path = tmp / "million.root"
    start = time.perf_counter()
    _write_root(path, [part], {"arguments": {"mantissa_bits": None}, "compression": "zstd"})
    rows.append(
        (
            f"write {n_rows} jets (ZSTD)",
            f"{time.perf_counter() - start:.1f} s",
            f"{path.stat().st_size / 1e6:.0f} MB",
        )
    )
    start = time.perf_counter()
    with uproot.open(path) as f:
        arrays = f["jets"].arrays(["label", *HLF_FEATURES], library="np")
    rows.append(
        (
            f"uproot read {n_rows} x 16 features",
            f"{time.perf_counter() - start:.2f} s",
            f"{len(arrays)} branches",
        )
    )
    start = time.perf_counter()
    ds = load_jets(path)
    rows.append((f"load_jets {n_rows} x 16 (split + standardize)", f"{time.perf_counter() - start:.2f} s",
                 f"train {ds.X_train.shape}"))  # fmt: skip


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--jets", type=int, default=2000, help="jets generated per generation run")
    p.add_argument("--read-rows", type=int, default=1_000_000)
    p.add_argument("--skip-generation", action="store_true")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = pathlib.Path(tmp_dir)
        if not args.skip_generation:
            bench_generation(tmp, args.jets, rows)
        bench_features(rows)
        bench_read(tmp, args.read_rows, rows)
    width = max(len(r[0]) for r in rows)
    print(f"{'benchmark':<{width}} | {'time':>18} | rate / note   (cpu cores: {os.cpu_count()})")
    print("-" * (width + 60))
    for name, t, note in rows:
        print(f"{name:<{width}} | {t:>18} | {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
