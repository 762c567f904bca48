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
from typing import ClassVar

import awkward as ak
import numpy as np

from triggernn.data.errors import GEN_EXTRA_HINT, DataError
from triggernn.data.events import EventProcessor
from triggernn.data.features import CLASS_NAMES, HLF_FEATURES

__all__ = [
    "CHUNK_JETS",
    "GenOptions",
    "file_meta",
    "generate_jets",
    "pythia_settings",
    "round_mantissa",
    "task_seed",
]

log = logging.getLogger(__name__)

#: Jets per task. Fixed (not derived from the process count) so that the output is reproducible.
CHUNK_JETS = 500
#: Pythia's Random:seed must lie in [0, 900000000].
_MAX_PYTHIA_SEED = 900_000_000

_HADRONIC_W = ["24:onMode = off", "24:onIfAny = 1 2 3 4 5"]
_HADRONIC_Z = [
    "WeakZ0:gmZmode = 2",
    "23:onMode = off",
    "23:onIfAny = 1 2 3 4 5",
]  # pure Z -> d dbar ... b bbar
#: A bulk Randall-Sundrum graviton decaying to longitudinally polarized W or Z pairs (``VLVL``).
_GRAVITON = ["ExtraDimensionsG*:gg2G* = on", "ExtraDimensionsG*:ffbar2G* = on", "ExtraDimensionsG*:SMinBulk = on",
             "ExtraDimensionsG*:VLVL = on", "5100039:onMode = off"]  # fmt: skip
_PROCESSES: dict[str, list[str]] = {
    "qcd": ["HardQCD:all = on"],
    # separate QCD samples, one per class (as the official qq and gg LHE samples), labelled by matching too
    "gg": ["HardQCD:gg2gg = on", "HardQCD:qqbar2gg = on"],
    "qq": ["HardQCD:qq2qq = on", "HardQCD:qqbar2qqbarNew = on", "HardQCD:gg2qqbar = on"],
    "w": ["WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on", *_HADRONIC_W],
    "ww": ["WeakDoubleBoson:ffbar2WW = on", *_HADRONIC_W],
    "gww": [*_GRAVITON, "5100039:onIfAny = 24", *_HADRONIC_W],
    "z": ["WeakBosonAndParton:qqbar2gmZg = on", "WeakBosonAndParton:qg2gmZq = on", *_HADRONIC_Z],
    "zz": ["WeakDoubleBoson:ffbar2gmZgmZ = on", *_HADRONIC_Z],
    "gzz": [*_GRAVITON, "5100039:onIfAny = 23", *_HADRONIC_Z],
    "t": ["Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_HADRONIC_W],
}
#: What a stream's jets are matched as (the boson of the W/Z streams; "qcd" for the QCD ones).
STREAM_KIND = {"qcd": "qcd", "gg": "qcd", "qq": "qcd", "w": "w", "ww": "w", "gww": "w", "z": "z", "zz": "z",
               "gzz": "z", "t": "t"}  # fmt: skip


@dataclass(frozen=True)
class GenOptions:
    """The physics choices of a generation (docs/data.md measures each against the hls4ml benchmark).

    ``wz``: how W and Z jets are made: ``boson_jet`` (W/Z + jet: mostly transversely polarized bosons),
    ``diboson`` (q qbar -> WW / ZZ) or ``graviton`` (a bulk RS graviton of mass ``2 x`` the window's centre
    decaying to longitudinal WW / ZZ). ``qcd``: ``inclusive`` (``HardQCD:all``, g and q by matching) or
    ``separate`` (a gg and a qq sample). ``detector``: the parametric detector before clustering
    (:mod:`triggernn.data.detector`). ``mpi``: multiparton interactions (the underlying event). ``labels``:
    ``matching`` (a jet's class from the hard partons within R) or ``sample`` (the class of the process that
    made it, as the official samples; needs ``qcd: separate``). ``jets``: the two leading jets of an event or
    the leading one. ``hard_pt``: the hard process' pT (boson, top or parton) in ``[0.995, 1.005] x hard_pt``
    GeV, as the official 1-TeV production (MadGraph 995-1005 GeV), instead of a window around the jets'."""

    # the defaults follow the official production as documented (docs/data.md): q qbar -> WW / ZZ, separate
    # qq and gg samples labelled by sample, the leading jet, the hard process in a 1-TeV bin, the detector
    wz: str = "diboson"
    qcd: str = "separate"
    detector: bool = True
    mpi: bool = True
    labels: str = "sample"
    jets: str = "leading"
    hard_pt: float | None = 1000.0

    _CHOICES: ClassVar[dict[str, tuple[str, ...]]] = {
        "wz": ("boson_jet", "diboson", "graviton"),
        "qcd": ("inclusive", "separate"),
        "labels": ("matching", "sample"),
        "jets": ("two_leading", "leading"),
    }

    @classmethod
    def from_kwargs(cls, kw: dict[str, object]) -> GenOptions:
        fields = {f for f in cls.__dataclass_fields__ if not f.startswith("_")}
        unknown = sorted(set(kw) - fields)
        if unknown:
            raise DataError(
                f"unknown generation option {unknown[0]!r}: choose from {', '.join(sorted(fields))}"
            )
        opts = cls(**kw)  # type: ignore[arg-type]
        for name, allowed in cls._CHOICES.items():
            if getattr(opts, name) not in allowed:
                raise DataError(f"{name} must be one of {', '.join(allowed)}, got {getattr(opts, name)!r}")
        for name in ("detector", "mpi"):
            if not isinstance(getattr(opts, name), bool):
                raise DataError(f"{name} must be true or false, got {getattr(opts, name)!r}")
        if opts.labels == "sample" and opts.qcd == "inclusive":
            raise DataError(
                "labels 'sample' needs separate QCD samples (qcd: separate): one stream makes g and q"
            )
        if opts.hard_pt is not None and (
            isinstance(opts.hard_pt, bool) or not 0 < float(opts.hard_pt) < 6500
        ):
            raise DataError(f"hard_pt must be a pT in GeV (0 to 6500) or None, got {opts.hard_pt!r}")
        return opts

    def stream(self, cls_name: str) -> str:
        """The Pythia process stream that fills class ``cls_name``."""
        if cls_name in ("g", "q"):
            return "qcd" if self.qcd == "inclusive" else {"g": "gg", "q": "qq"}[cls_name]
        if cls_name in ("w", "z"):
            return {"boson_jet": cls_name, "diboson": cls_name * 2, "graviton": "g" + cls_name * 2}[self.wz]
        return cls_name


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
    options: GenOptions = GenOptions()


def task_seed(seed: int, stream: str, chunk: int) -> int:
    """Pythia ``Random:seed`` for one (seed, stream, chunk): a hash, so neighbouring seeds do not overlap."""
    digest = hashlib.blake2b(f"triggernn:{seed}:{stream}:{chunk}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % _MAX_PYTHIA_SEED + 1


def pythia_settings(
    stream: str, seed: int, pt_min: float, pt_max: float, options: GenOptions = GenOptions()
) -> list[str]:
    """The Pythia ``readString`` lines for one stream (13 TeV, hard-process pT window around the jets')."""
    hard = options.hard_pt
    if stream.startswith("g") and stream != "gg":  # a resonance at twice the bosons' pT: their pT peaks there
        window = [f"5100039:m0 = {2 * hard if hard else pt_min + pt_max:g}"]
    elif hard:  # the official production's narrow bin of the hard process' pT
        window = [f"PhaseSpace:pTHatMin = {0.995 * hard:g}", f"PhaseSpace:pTHatMax = {1.005 * hard:g}"]
    else:  # jets lose pT out of the R=0.8 cone, so the hard process starts a bit below the jet window
        window = [f"PhaseSpace:pTHatMin = {0.9 * pt_min:g}", f"PhaseSpace:pTHatMax = {1.1 * pt_max:g}"]
    return [
        "Beams:eCM = 13000.",
        *_PROCESSES[stream],
        *window,
        f"PartonLevel:MPI = {'on' if options.mpi else 'off'}",
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
        task.stream, task_seed(task.seed, task.stream, task.chunk), task.pt_min, task.pt_max, task.options
    ):
        pythia.readString(line)
    if not pythia.init():
        raise RuntimeError(f"Pythia initialisation failed for stream {task.stream!r}")
    opts = task.options
    proc = EventProcessor(STREAM_KIND[task.stream], dict(task.quotas), task.pt_min, task.pt_max, task.max_constituents,
                          detector=opts.detector, seed=task_seed(task.seed, task.stream, task.chunk),
                          sample_label={"gg": "g", "qq": "q"}.get(task.stream, STREAM_KIND[task.stream])
                          if opts.labels == "sample" else None,
                          leading=1 if opts.jets == "leading" else 2)  # fmt: skip
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
    options: GenOptions = kw.get("options", GenOptions())  # type: ignore[assignment]
    for stream in dict.fromkeys(options.stream(c) for c in classes):
        names = [c for c in classes if options.stream(c) == stream]
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


def _check_replaceable(output: pathlib.Path, force: bool = False) -> None:
    """Refuse an output that is not a .root name, an existing file without ``force`` (whoever wrote it), or
    with ``force`` an existing file triggernn did not write (a jet file with triggernn's ``meta``): a user's
    file is never overwritten."""
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
        if not force:
            raise OutputError(
                f"'{output}' exists ({output.stat().st_size:,} bytes): pass another --output path, or --force "
                "to replace it"
            )


def generation_arguments(
    n_jets: int,
    *,
    classes: Sequence[str] = CLASS_NAMES,
    seed: int = 1,
    pt_min: float = 800.0,
    pt_max: float = 1600.0,
    max_constituents: int | None = None,
    compression: str = "zstd",
    mantissa_bits: int | None = None,
    **physics: object,
) -> tuple[dict[str, object], dict[str, object]]:
    """The checked arguments of a generation (recorded in every file's meta) and the tasks' keyword arguments;
    DataError naming a bad one."""
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
    options = GenOptions.from_kwargs(physics)
    if options.hard_pt is not None and not pt_min <= options.hard_pt < pt_max:
        raise DataError(
            f"hard_pt={options.hard_pt:g} GeV lies outside the jet window [{pt_min:g}, {pt_max:g}): jets would never "
            "fill it; pass a hard-process pT inside the window (--hard-pt), or hard_pt=None for one derived from it"
        )
    arguments: dict[str, object] = {
        "n_jets": n_jets,
        "classes": list(classes),
        "seed": seed,
        "pt_min": pt_min,
        "pt_max": pt_max,
        "max_constituents": max_constituents,
        "compression": compression,
        "mantissa_bits": mantissa_bits,
        **asdict(options),
    }
    task_kw = {"seed": seed, "pt_min": pt_min, "pt_max": pt_max, "max_constituents": max_constituents,
               "options": options}  # fmt: skip
    return arguments, task_kw


def generate_jets(
    output: str | os.PathLike,
    n_jets: int = 2000,
    *,
    classes: Sequence[str] = CLASS_NAMES,
    seed: int = 1,
    pt_min: float = 800.0,
    pt_max: float = 1600.0,
    processes: int | None = None,
    max_constituents: int | None = None,
    progress: bool = True,
    compression: str = "zstd",
    mantissa_bits: int | None = None,
    force: bool = False,
    **physics: object,
) -> pathlib.Path:
    """Generate ``n_jets`` labelled jets (balanced over ``classes``) and write them to the ROOT file ``output``.

    In: output path; total jet count (split as evenly as possible over the classes); class names from
    CLASS_NAMES; master seed; leading-jet pT window in GeV; worker processes (None: all cores);
    optional truncation of the stored constituents to the leading ``max_constituents`` by pT (features
    are computed before truncation); ``compression`` "zstd" (fast to read) or "lzma" (smallest);
    ``mantissa_bits``: round the stored constituent kinematics to that many float32 mantissa bits
    (10 gives a relative precision of 5e-4 and a file ~40% smaller; None keeps all 23). An existing
    ``output`` is replaced only with ``force``, and only if triggernn wrote it.
    ``physics``: the fields of :class:`GenOptions` (W/Z production, QCD samples, detector, MPI).
    Out: the path written. The file appears only when complete (written to ``output + '.tmp'`` and
    renamed). Raises DataError for bad arguments or when pythia8mc/fastjet are missing.
    """
    from ..validate import a_path, path_name

    output = path_name(a_path(output, "the output"), "the output")
    arguments, task_kw = generation_arguments(
        n_jets, classes=classes, seed=seed, pt_min=pt_min, pt_max=pt_max, max_constituents=max_constituents,
        compression=compression, mantissa_bits=mantissa_bits, **physics,
    )  # fmt: skip
    if not output.parent.is_dir():
        raise DataError(f"output directory {output.parent} does not exist; create it first")
    from ..validate import output_file, writable_folder

    _check_replaceable(output, force)
    output_file(output, "the output", force=True)  # name length, a writable folder
    writable_folder(output.parent, "the output folder")
    _import_gen()

    tasks = _tasks(n_jets, classes, **task_kw)
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
    meta = file_meta(arguments, tasks, parts)
    tmp = output.with_name(output.name + ".tmp")
    try:
        _write_root(tmp, parts, meta)
        os.replace(tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("wrote %s: %d jets in %.1f s (%.1f jets/s)", output, n_jets, elapsed, n_jets / elapsed)
    return output


def file_meta(
    arguments: dict[str, object], tasks: Sequence[_Task], parts: list[dict[str, np.ndarray]]
) -> dict:
    """The ``meta`` string of a jet file: its arguments, per-class counts, events, per-task seeds, versions."""
    classes = arguments["classes"]
    return {
        "generator": "triggernn.data.generate_jets",
        "arguments": arguments,
        "class_names": list(CLASS_NAMES),
        "counts": {c: sum(dict(t.quotas).get(c, 0) for t in tasks) for c in classes},  # type: ignore[union-attr]
        "n_events": int(sum(int(p["n_events"][0]) for p in parts)),
        "tasks": [asdict(t) | {"pythia_seed": task_seed(t.seed, t.stream, t.chunk)} for t in tasks],
        "versions": _versions(),
        "compression": arguments["compression"],
    }


def _indexed_task(item: tuple[int, _Task]) -> tuple[int, dict[str, np.ndarray]]:
    i, task = item
    return i, _run_task(task)
