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
from triggernn.data.events import EventProcessor
from triggernn.data.features import CLASS_NAMES, HLF_FEATURES

__all__ = ["CHUNK_JETS", "generate_jets", "pythia_settings", "round_mantissa", "task_seed"]

log = logging.getLogger(__name__)

#: Jets per task. Fixed (not derived from the process count) so that the output is reproducible.
CHUNK_JETS = 500
#: Pythia's Random:seed must lie in [0, 900000000].
_MAX_PYTHIA_SEED = 900_000_000

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
    proc = EventProcessor(task.stream, dict(task.quotas), task.pt_min, task.pt_max, task.max_constituents)
    while not proc.done:
        proc.process(pythia.nextBatch(proc.next_batch_size()))
    return proc.result()


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


def _check_replaceable(output: pathlib.Path) -> None:
    """Refuse an output that is not a .root name, or an existing file triggernn did not write (a jet file
    with triggernn's ``meta``): a user's file is never overwritten."""
    from ..errors import OutputError

    if output.suffix.lower() != ".root":
        raise DataError(f"the output '{output}' must be a .root file name, e.g. jets.root")
    if output.is_dir():
        raise OutputError(
            f"the output '{output}' is a folder: pass a file name inside it, e.g. {output}/jets.root"
        )
    if output.exists():
        try:
            import uproot

            ours = "meta" in uproot.open(output) and "jets" in uproot.open(output)
        except Exception:  # not a ROOT file at all
            ours = False
        if not ours:
            raise OutputError(
                f"'{output}' exists and is not a jet file triggernn wrote: pass another --output path"
            )


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
    _check_replaceable(output)
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
