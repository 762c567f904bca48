"""Labelled boosted-jet samples from Pythia 8 + FastJet, written to ROOT with uproot.

One task = one (class, chunk) pair with its own Pythia instance and a seed derived from
(seed, class, chunk), so the output depends only on the arguments, never on the process count.
Physics settings (13 TeV pp, MPI + hadronization on, anti-kt R=0.8, labelling by parton matching) are
documented in docs/data.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing as mp
import os
import pathlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import awkward as ak
import numpy as np

from triggernn.data.errors import GEN_EXTRA_HINT, DataError
from triggernn.data.features import (
    CLASS_NAMES,
    HLF_FEATURES,
    hlf_features,
    rapidity_phi,
)

__all__ = ["CHUNK_JETS", "generate_jets", "pythia_settings", "round_mantissa", "task_seed"]

log = logging.getLogger(__name__)

#: Jets per task. Fixed (not derived from the process count) so that the output is reproducible.
CHUNK_JETS = 500
#: Pythia's Random:seed must lie in [0, 900000000].
_MAX_PYTHIA_SEED = 900_000_000
#: Events handed over by Pythia per nextBatch call (awkward arrays, no per-particle Python loop).
_BATCH_EVENTS = 64
JET_R = 0.8
ETA_MAX = 2.5
_NEUTRINOS = (12, 14, 16)

_HADRONIC_W = ["24:onMode = off", "24:onIfAny = 1 2 3 4 5"]
_STREAM = {"g": "qcd", "q": "qcd", "w": "w", "z": "z", "t": "t"}
_PROCESSES: dict[str, list[str]] = {
    "qcd": ["HardQCD:all = on"],
    "w": ["WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on", *_HADRONIC_W],
    "z": [
        "WeakBosonAndParton:qqbar2gmZg = on",
        "WeakBosonAndParton:qg2gmZq = on",
        "WeakZ0:gmZmode = 2",  # pure Z, no photon interference
        "23:onMode = off",
        "23:onIfAny = 1 2 3 4 5",  # Z -> d dbar ... b bbar only
    ],
    "t": ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_HADRONIC_W],
}


@dataclass(frozen=True)
class _Task:
    """One unit of parallel work: chunk ``chunk`` of one Pythia process stream, with per-class quotas.

    Gluon and light-quark jets come from the same QCD events (labelled by matching), so one stream fills
    both quotas instead of throwing away half of the matched jets.
    """

    @property
    def n_jets(self) -> int:
        return sum(n for _, n in self.quotas)

    stream: str  # "qcd" (fills g and q), "w", "z" or "t"
    chunk: int
    quotas: tuple[tuple[str, int], ...]  # (class name, jets wanted) pairs
    seed: int
    pt_min: float
    pt_max: float
    max_constituents: int | None


def task_seed(seed: int, stream: str, chunk: int) -> int:
    """Pythia ``Random:seed`` for one (seed, stream, chunk): a hash, so neighbouring seeds do not overlap."""
    digest = hashlib.blake2b(f"triggernn:{seed}:{stream}:{chunk}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % _MAX_PYTHIA_SEED + 1


def pythia_settings(stream: str, seed: int, pt_min: float, pt_max: float) -> list[str]:
    """The Pythia ``readString`` lines for one stream (13 TeV, hard-process pT window around the jets')."""
    return [
        "Beams:eCM = 13000.",
        *_PROCESSES[stream],
        # Jets lose pT out of the R=0.8 cone, so the hard process starts a bit below the jet window.
        f"PhaseSpace:pTHatMin = {0.9 * pt_min:g}",
        f"PhaseSpace:pTHatMax = {1.1 * pt_max:g}",
        "PartonLevel:MPI = on",
        "HadronLevel:all = on",
        # LHC convention for "stable": particles with c*tau > 10 mm (K0S, Lambda, ...) reach the detector.
        "ParticleDecays:limitTau0 = on",
        "ParticleDecays:tau0Max = 10",
        "Print:quiet = on",
        "Next:numberCount = 0",
        "Random:setSeed = on",
        f"Random:seed = {seed}",
    ]


def _import_gen() -> tuple[object, object]:
    """pythia8mc and fastjet, or a DataError saying how to install them."""
    try:
        import fastjet
        import pythia8mc
    except ImportError as exc:
        raise DataError(
            f"jet generation needs the optional packages pythia8mc and fastjet ({exc.name} is missing); "
            f"install them with: {GEN_EXTRA_HINT}"
        ) from exc
    return pythia8mc, fastjet


def _run_task(task: _Task) -> dict[str, np.ndarray]:
    """Generate one chunk: exactly the quota of labelled jets per class, as flat numpy arrays."""
    pythia8mc, _ = _import_gen()
    pythia = pythia8mc.Pythia("", False)  # no banner
    for line in pythia_settings(
        task.stream, task_seed(task.seed, task.stream, task.chunk), task.pt_min, task.pt_max
    ):
        pythia.readString(line)
    if not pythia.init():
        raise RuntimeError(f"Pythia initialisation failed for stream {task.stream!r}")
    proc = _EventProcessor(task.stream, dict(task.quotas), task.pt_min, task.pt_max, task.max_constituents)
    while not proc.done:
        proc.process(pythia.nextBatch(proc.next_batch_size()))
    return proc.result()


def _wrap(dphi: np.ndarray) -> np.ndarray:
    """Azimuth differences wrapped into [-pi, pi)."""
    return (dphi + np.pi) % (2.0 * np.pi) - np.pi


def _flat(a: ak.Array) -> np.ndarray:
    return ak.to_numpy(ak.flatten(a))


class _EventProcessor:
    """Turns Pythia event batches of one stream into labelled jets; accumulates flat per-jet arrays."""

    def __init__(
        self, stream: str, quotas: dict[str, int], pt_min: float, pt_max: float, max_constituents: int | None
    ) -> None:
        import fastjet

        self.fastjet = fastjet
        self.stream, self.quotas = stream, quotas
        self.pt_min, self.pt_max, self.max_constituents = pt_min, pt_max, max_constituents
        self.jetdef = fastjet.JetDefinition(fastjet.antikt_algorithm, JET_R)
        self.counts = dict.fromkeys(quotas, 0)
        self.n_events = 0
        self.rows: dict[str, list[np.ndarray]] = {}

    def next_batch_size(self) -> int:
        """Events to ask Pythia for: a full batch, or near the end just enough for the open quotas
        (with margin), because events generated after the quotas are filled are wasted."""
        missing = sum(max(n - self.counts[c], 0) for c, n in self.quotas.items())
        n_done = sum(self.counts.values())
        if n_done < 8:
            return _BATCH_EVENTS
        per_event = n_done / self.n_events
        return int(np.clip(np.ceil(1.2 * missing / per_event), 4, _BATCH_EVENTS))

    @property
    def done(self) -> bool:
        return all(self.counts[c] >= n for c, n in self.quotas.items())

    def process(self, batch: ak.Array) -> None:
        """Cluster one batch of events; keep each of the (up to two) leading jets that lies in the pT
        window and matches a class whose quota is still open."""
        prt = batch.prt
        self.n_events += len(prt)
        counts = ak.to_numpy(ak.num(prt))
        status, pid, mother = _flat(prt.status), _flat(prt.id), _flat(prt.mother1)
        px, py, pz, e = (_flat(prt.p[c]) for c in ("px", "py", "pz", "e"))
        pt = np.hypot(px, py)
        eta = np.arcsinh(pz / np.maximum(pt, 1e-12))
        # Visible final state for clustering: no neutrinos, inside the tracker acceptance.
        vis = (status > 0) & ~np.isin(np.abs(pid), _NEUTRINOS) & (np.abs(eta) < ETA_MAX)
        sel = np.nonzero(vis)[0]
        sel_counts = np.bincount(np.repeat(np.arange(len(counts)), counts)[sel], minlength=len(counts))
        particles = ak.zip(
            {k: ak.unflatten(v[sel], sel_counts) for k, v in (("px", px), ("py", py), ("pz", pz), ("E", e))}
        )
        cs = self.fastjet.ClusterSequence(particles, self.jetdef)
        # Jets below pt_min/2 can be neither in the window nor ahead of a jet that is.
        jets = cs.inclusive_jets(min_pt=0.5 * self.pt_min)
        cidx = cs.constituent_index(min_pt=0.5 * self.pt_min)
        jp4_all = [ak.to_list(jets[c]) for c in ("px", "py", "pz", "E")]
        offsets = np.concatenate([[0], np.cumsum(counts)])
        sel_offsets = np.concatenate([[0], np.cumsum(sel_counts)])
        accepted: list[tuple[str, np.ndarray, np.ndarray]] = []
        for ev in range(len(counts)):
            if not jp4_all[0][ev]:
                continue
            jp4 = np.array([c[ev] for c in jp4_all]).T
            jpt = np.hypot(jp4[:, 0], jp4[:, 1])
            lo, hi = offsets[ev], offsets[ev + 1]
            partons = None
            for j in np.argsort(-jpt, kind="stable")[:2]:
                if not self.pt_min <= jpt[j] < self.pt_max:
                    continue
                if partons is None:
                    partons = _Partons(*(a[lo:hi] for a in (status, pid, mother, px, py, pz, e)))
                jy, jphi = rapidity_phi(*jp4[j][:, None])
                label = partons.label(self.stream, float(jy[0]), float(jphi[0]))
                if label is None or label not in self.quotas or self.counts[label] >= self.quotas[label]:
                    continue
                self.counts[label] += 1
                idx = sel[sel_offsets[ev] + np.asarray(cidx[ev][j], dtype=np.int64)]
                accepted.append((label, jp4[j], idx))
        if accepted:
            self._add_jets(accepted, px, py, pz, e)

    def _add_jets(self, accepted: list[tuple[str, np.ndarray, np.ndarray]], px, py, pz, e) -> None:  # type: ignore[no-untyped-def]
        """Features and constituents of the accepted jets. mMDT runs in numpy: measured faster than
        fastjet's awkward SoftDrop (2.5 vs 1.6 ms for a 100-particle jet, see docs/data.md)."""
        for label, jp4, idx in accepted:
            feats = hlf_features(px[idx], py[idx], pz[idx], e[idx])
            self._add_jet(label, jp4, feats, px[idx], py[idx], pz[idx])

    def _add_jet(self, label: str, jp4: np.ndarray, feats: np.ndarray, px, py, pz) -> None:  # type: ignore[no-untyped-def]
        jet_pt = float(np.hypot(jp4[0], jp4[1]))
        jet_eta = float(np.arcsinh(jp4[2] / jet_pt))
        jet_phi = float(np.arctan2(jp4[1], jp4[0]))
        jet_mass = float(np.sqrt(max(jp4[3] ** 2 - jp4[0] ** 2 - jp4[1] ** 2 - jp4[2] ** 2, 0.0)))
        pt = np.hypot(px, py)
        order = np.argsort(-pt, kind="stable")[: self.max_constituents]
        pt = pt[order]
        eta = np.arcsinh(pz[order] / pt)
        phi = np.arctan2(py[order], px[order])
        values = {
            "label": CLASS_NAMES.index(label), "jet_pt": jet_pt, "jet_eta": jet_eta, "jet_phi": jet_phi,
            "jet_mass": jet_mass, **dict(zip(HLF_FEATURES, feats, strict=True)), "n_constituents": len(order),
            "part_pt": pt, "part_eta": eta, "part_phi": phi, "part_deta": eta - jet_eta,
            "part_dphi": _wrap(phi - jet_phi),
        }  # fmt: skip
        for k, v in values.items():
            self.rows.setdefault(k, []).append(np.atleast_1d(v))

    def result(self) -> dict[str, np.ndarray]:
        """Flat arrays, one entry per jet (``part_*``: all jets' constituents, ``n_constituents`` each)."""
        out = {k: np.concatenate(v) for k, v in self.rows.items()}
        out["label"] = out["label"].astype(np.int32)
        for k in [k for k in out if k.startswith("part_")]:
            out[k] = out[k].astype(np.float32)
        out["n_events"] = np.asarray([self.n_events])
        return out


class _Partons:
    """The hard-process partons of one event and the class label of a jet matched to them."""

    def __init__(self, status, pid, mother, px, py, pz, e) -> None:  # type: ignore[no-untyped-def]
        hard = np.nonzero(np.abs(status) == 23)[0]  # outgoing partons of the hard process / resonance decays
        self.hard, self.pid, self.mother = hard, pid, mother
        y, phi = rapidity_phi(px[hard], py[hard], pz[hard], e[hard])
        self.y, self.phi = dict(zip(hard, y, strict=True)), dict(zip(hard, phi, strict=True))

    def _dr(self, i: int, y: float, phi: float) -> float:
        return float(np.hypot(self.y[i] - y, _wrap(np.asarray(self.phi[i] - phi))))

    def label(self, stream: str, y: float, phi: float) -> str | None:
        """Class of a jet with axis (y, phi) under the matching rule of ``stream``, or None (unmatched)."""
        pid, mother = self.pid, self.mother
        if stream == "qcd":
            dr = [self._dr(i, y, phi) for i in self.hard]
            k = int(np.argmin(dr)) if dr else -1
            if k < 0 or dr[k] >= JET_R:
                return None
            a = abs(int(pid[self.hard[k]]))
            return "g" if a == 21 else "q" if a in (1, 2, 3) else None  # c and b jets are dropped
        boson = {"w": 24, "z": 23}.get(stream)
        if boson is not None:
            quarks = [i for i in self.hard if abs(pid[i]) <= 5 and abs(pid[mother[i]]) == boson]
            ok = len(quarks) == 2 and all(self._dr(i, y, phi) < JET_R for i in quarks)
            return stream if ok else None
        # top: for each top, its b and the two quarks of its W (W copies are followed up to the top)
        groups: dict[int, list[int]] = {}
        for i in self.hard:
            if abs(pid[i]) > 5:
                continue
            m = mother[i]
            while abs(pid[m]) == 24:
                m = mother[m]
            if abs(pid[m]) == 6:
                groups.setdefault(int(m), []).append(int(i))
        for members in groups.values():
            if len(members) == 3 and all(self._dr(i, y, phi) < JET_R for i in members):
                return "t"
        return None


def _split(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` integers differing by at most one, larger first."""
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def _tasks(n_jets: int, classes: Sequence[str], **kw: object) -> list[_Task]:
    """Chunks of at most ~CHUNK_JETS jets per stream; depends only on the arguments, never on processes."""
    per_class = dict(zip(classes, _split(n_jets, len(classes)), strict=True))
    tasks = []
    for stream in dict.fromkeys(_STREAM[c] for c in classes):
        names = [c for c in classes if _STREAM[c] == stream]
        n_chunks = max(1, -(-sum(per_class[c] for c in names) // CHUNK_JETS))
        splits = {c: _split(per_class[c], n_chunks) for c in names}
        for chunk in range(n_chunks):
            quotas = tuple((c, splits[c][chunk]) for c in names if splits[c][chunk])
            if quotas:
                tasks.append(_Task(stream=stream, chunk=chunk, quotas=quotas, **kw))  # type: ignore[arg-type]
    return tasks


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("pythia8mc", "fastjet", "uproot", "awkward", "numpy", "triggernn"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def round_mantissa(x: np.ndarray, bits: int) -> np.ndarray:
    """float32 values rounded (to nearest) to ``bits`` mantissa bits; the zeroed low bits compress well."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    if bits >= 23:
        return x
    drop = 23 - bits
    i = x.view(np.uint32).astype(np.uint64) + (1 << (drop - 1))
    return (i & (0xFFFFFFFF ^ ((1 << drop) - 1))).astype(np.uint32).view(np.float32)


def _write_root(path: pathlib.Path, parts: list[dict[str, np.ndarray]], meta: dict[str, object]) -> None:
    """Concatenate the chunks and write the ``jets`` tree (plus a JSON ``meta`` string) to ``path``."""
    import uproot

    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0] if k not in ("n_events",)}
    counts = cat.pop("n_constituents")
    bits = meta["arguments"]["mantissa_bits"]  # type: ignore[index]
    if bits is not None:
        for k in [k for k in cat if k.startswith("part_")]:
            cat[k] = round_mantissa(cat[k], bits)
    branches: dict[str, object] = {"label": cat.pop("label")}
    for key in ("jet_pt", "jet_eta", "jet_phi", "jet_mass", *HLF_FEATURES):
        branches[key] = cat.pop(key).astype(np.float32)
    branches["part"] = ak.zip(
        {k[len("part_") :]: ak.unflatten(cat.pop(k), counts) for k in list(cat) if k.startswith("part_")}
    )
    compression = uproot.LZMA(9) if meta.get("compression") == "lzma" else uproot.ZSTD(5)
    with uproot.recreate(path, compression=compression) as f:
        # mktree: a TTree (readable by any ROOT version), not the RNTuple that f[name] = ... writes now.
        tree = f.mktree("jets", {k: v.type if k == "part" else v.dtype for k, v in branches.items()})
        tree.extend(branches)
        f["meta"] = json.dumps(meta, sort_keys=True)


def generate_jets(
    output: str | os.PathLike,
    n_jets: int = 2000,
    *,
    classes: Sequence[str] = CLASS_NAMES,
    seed: int = 1,
    pt_min: float = 800.0,
    pt_max: float = 1200.0,
    processes: int | None = None,
    max_constituents: int | None = None,
    progress: bool = True,
    compression: str = "zstd",
    mantissa_bits: int | None = None,
) -> pathlib.Path:
    """Generate ``n_jets`` labelled jets (balanced over ``classes``) and write them to the ROOT file ``output``.

    In: output path; total jet count (split as evenly as possible over the classes); class names from
    CLASS_NAMES; master seed; leading-jet pT window in GeV; worker processes (None: all cores);
    optional truncation of the stored constituents to the leading ``max_constituents`` by pT (features
    are computed before truncation); ``compression`` "zstd" (fast to read) or "lzma" (smallest);
    ``mantissa_bits``: round the stored constituent kinematics to that many float32 mantissa bits
    (10 gives a relative precision of 5e-4 and a file ~40% smaller; None keeps all 23).
    Out: the path written. The file appears only when complete (written to ``output + '.tmp'`` and
    renamed). Raises DataError for bad arguments or when pythia8mc/fastjet are missing.
    """
    output = pathlib.Path(output)
    unknown = [c for c in classes if c not in CLASS_NAMES]
    if unknown or not classes or len(set(classes)) != len(classes):
        raise DataError(f"classes must be distinct names from {CLASS_NAMES}, got {tuple(classes)}")
    if n_jets < len(classes):
        raise DataError(f"n_jets={n_jets} must be at least the number of classes ({len(classes)})")
    if not 0.0 < pt_min < pt_max:
        raise DataError(f"need 0 < pt_min < pt_max, got pt_min={pt_min}, pt_max={pt_max}")
    if max_constituents is not None and max_constituents < 1:
        raise DataError(f"max_constituents must be >= 1 or None, got {max_constituents}")
    if mantissa_bits is not None and not 1 <= mantissa_bits <= 23:
        raise DataError(f"mantissa_bits must be in 1..23 or None, got {mantissa_bits}")
    if compression not in ("zstd", "lzma"):
        raise DataError(f"compression must be 'zstd' or 'lzma', got {compression!r}")
    if not output.parent.is_dir():
        raise DataError(f"output directory {output.parent} does not exist; create it first")
    _import_gen()

    tasks = _tasks(
        n_jets, classes, seed=seed, pt_min=pt_min, pt_max=pt_max, max_constituents=max_constituents
    )
    n_proc = min(processes or os.cpu_count() or 1, len(tasks))
    log.info("generating %d jets of %s in %d tasks on %d processes", n_jets, classes, len(tasks), n_proc)
    start = time.perf_counter()
    results: list[dict[str, np.ndarray] | None] = [None] * len(tasks)
    from tqdm import tqdm

    with tqdm(total=n_jets, unit="jet", disable=not progress, desc="generating jets") as bar:
        if n_proc <= 1:
            for i, task in enumerate(tasks):
                results[i] = _run_task(task)
                bar.update(task.n_jets)
        else:
            # fork: a spawned worker would re-import triggernn (and TensorFlow with it, seconds per
            # worker); the workers use only numpy, awkward, Pythia and FastJet.
            with mp.get_context("fork").Pool(n_proc) as pool:
                for i, res in pool.imap_unordered(_indexed_task, list(enumerate(tasks))):
                    results[i] = res
                    bar.update(tasks[i].n_jets)
    elapsed = time.perf_counter() - start
    parts = [r for r in results if r is not None]
    counts = {c: sum(dict(t.quotas).get(c, 0) for t in tasks) for c in classes}
    meta = {
        "generator": "triggernn.data.generate_jets",
        "arguments": {
            "n_jets": n_jets,
            "classes": list(classes),
            "seed": seed,
            "pt_min": pt_min,
            "pt_max": pt_max,
            "max_constituents": max_constituents,
            "compression": compression,
            "mantissa_bits": mantissa_bits,
        },
        "class_names": list(CLASS_NAMES),
        "counts": counts,
        "n_events": int(sum(int(p["n_events"][0]) for p in parts)),
        "tasks": [asdict(t) | {"pythia_seed": task_seed(seed, t.stream, t.chunk)} for t in tasks],
        "versions": _versions(),
        "compression": compression,
    }
    tmp = output.with_name(output.name + ".tmp")
    try:
        _write_root(tmp, parts, meta)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("wrote %s: %d jets in %.1f s (%.1f jets/s)", output, n_jets, elapsed, n_jets / elapsed)
    return output


def _indexed_task(item: tuple[int, _Task]) -> tuple[int, dict[str, np.ndarray]]:
    i, task = item
    return i, _run_task(task)
