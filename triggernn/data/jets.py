"""``load_jets``: a labelled jet file -> train/val/test arrays for training.

Readers (the ``_read_*`` functions) turn a file into ``_Raw`` (labels, the 16 HLFs, optionally padded
constituents); ``load_jets`` subsamples, builds the representation, splits and
standardizes. Formats: our ROOT files (``generate_jets``), the OpenML ``hls4ml_lhc_jets_hlf`` table (arff,
csv, parquet) and the Zenodo hls4ml h5 files (``jetConstituentList``, ``jets``, ``jetFeatureNames``,
``particleFeatureNames``; a directory of them is read as one sample).
"""

from __future__ import annotations

import logging
import os
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from triggernn.data.errors import DataError
from triggernn.data.features import CLASS_NAMES, HLF_FEATURES, jet_images, jet_sequences

__all__ = ["EMBEDDED_JETS", "REPRESENTATIONS", "SEQUENCE_FEATURES", "JetDataset", "load_jets"]

log = logging.getLogger(__name__)

#: The shipped default sample (10k jets, 2k per class); see jets_default.json for its provenance.
EMBEDDED_JETS: pathlib.Path = pathlib.Path(__file__).parent / "embedded" / "jets_default.root"
REPRESENTATIONS = ("features", "images", "sequences")
#: Per-particle features a sequence can hold (deta/dphi relative to the jet axis, pt_rel = pT/pT_jet).
SEQUENCE_FEATURES = ("pt_rel", "deta", "dphi", "delta_r", "log_pt_rel", "pt")
_FORMATS = ("root", "openml", "zenodo_h5")
_EXTENSIONS = {".root": "root", ".arff": "openml", ".csv": "openml", ".parquet": "openml", ".pq": "openml",
               ".h5": "zenodo_h5", ".hdf5": "zenodo_h5"}  # fmt: skip


@dataclass(frozen=True)
class JetDataset:
    """Train/validation/test arrays of one jet sample.

    X arrays are float32: (n, 16) for "features", (n, size, size, 1) for "images", (n, L, F) for
    "sequences"; y arrays are int64 class indices into ``class_names``. ``mean``/``std`` are the
    standardization fitted on the training split (None when not standardized or for images).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    representation: str
    mean: np.ndarray | None
    std: np.ndarray | None
    source: str

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.X_train.shape[1:])

    def summary(self) -> str:
        """Human-readable multi-line description: source, shapes, per-class counts per split."""
        lines = [
            f"source: {self.source}",
            f"representation: {self.representation}, input shape {self.input_shape}",
        ]
        for split, y in (("train", self.y_train), ("val", self.y_val), ("test", self.y_test)):
            counts = np.bincount(y, minlength=self.n_classes)
            per = ", ".join(f"{c}={n}" for c, n in zip(self.class_names, counts, strict=True))
            lines.append(f"{split}: {len(y)} jets ({per})")
        return "\n".join(lines)


@dataclass
class _Raw:
    """What a reader returns: labels (n,), HLFs (n, 16) or None, padded constituents (n, M) or None."""

    labels: np.ndarray
    features: np.ndarray | None
    jet_pt: np.ndarray | None = None
    pt: np.ndarray | None = None
    deta: np.ndarray | None = None
    dphi: np.ndarray | None = None

    def take(self, idx: np.ndarray) -> _Raw:
        pick = lambda a: None if a is None else a[idx]  # noqa: E731
        return _Raw(
            self.labels[idx],
            pick(self.features),
            pick(self.jet_pt),
            pick(self.pt),
            pick(self.deta),
            pick(self.dphi),
        )


# ----------------------------------------------------------------------------------------------- readers
def _read_root(path: pathlib.Path, need_constituents: bool) -> _Raw:
    """Our ROOT files: TTree ``jets`` with ``label``, the 16 HLF branches, jet kinematics, ``part_*``."""
    import awkward as ak
    import uproot

    try:
        f = uproot.open(path)
        tree = f["jets"]
        names = set(tree.keys())
    except Exception as exc:  # uproot raises many types for truncated/corrupt files
        raise DataError(
            f"{path} is not a readable ROOT file with a 'jets' tree ({type(exc).__name__}: {exc}); "
            "it may be truncated or corrupt: regenerate it with `triggernn data generate`"
        ) from exc
    wanted = ["label", *HLF_FEATURES] + (
        ["jet_pt", "part_pt", "part_deta", "part_dphi"] if need_constituents else []
    )
    missing = [b for b in wanted if b not in names]
    if missing:
        raise DataError(
            f"{path}: the 'jets' tree lacks branches {missing}; it was not written by triggernn's "
            "generate_jets (or by an incompatible version): regenerate it with `triggernn data generate`"
        )
    try:
        arrays = tree.arrays(["label", *HLF_FEATURES], library="np")
        raw = _Raw(arrays["label"].astype(np.int64), np.column_stack([arrays[n] for n in HLF_FEATURES]))
        if need_constituents:
            jag = tree.arrays(["jet_pt", "part_pt", "part_deta", "part_dphi"], library="ak")
            width = max(int(ak.max(ak.num(jag["part_pt"]), initial=0)), 1)

            def pad(a: ak.Array) -> np.ndarray:
                return ak.to_numpy(ak.fill_none(ak.pad_none(a, width, clip=True), 0.0)).astype(np.float64)

            raw.jet_pt = ak.to_numpy(jag["jet_pt"]).astype(np.float64)
            raw.pt, raw.deta, raw.dphi = pad(jag["part_pt"]), pad(jag["part_deta"]), pad(jag["part_dphi"])
    except Exception as exc:
        raise DataError(
            f"{path}: reading the 'jets' tree failed ({type(exc).__name__}: {exc}); the file "
            "is probably truncated or corrupt: regenerate it with `triggernn data generate`"
        ) from exc
    return raw


def _labels_from_names(values: Sequence[object], path: pathlib.Path) -> np.ndarray:
    """Map class values ('g', b'q', "'w'", 0..4) to indices of CLASS_NAMES."""
    out = np.empty(len(values), dtype=np.int64)
    lookup = {c: i for i, c in enumerate(CLASS_NAMES)}
    for k, v in enumerate(values):
        v = v.decode() if isinstance(v, bytes) else v
        v = str(v).strip().strip("'\"").lower()
        if v in lookup:
            out[k] = lookup[v]
        elif v.isdigit() and int(v) < len(CLASS_NAMES):
            out[k] = int(v)
        else:
            raise DataError(f"{path}: unknown class value {v!r}; expected one of {CLASS_NAMES}")
    return out


def _read_openml(path: pathlib.Path) -> _Raw:
    """The OpenML ``hls4ml_lhc_jets_hlf`` table: the 16 HLF columns + ``class`` (arff, csv or parquet)."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise DataError(
                f"reading {path} needs pyarrow: pip install pyarrow (or convert it to csv)"
            ) from exc
        table = pq.read_table(path).to_pydict()
        columns = {k: table[k] for k in table}
    else:
        text = path.read_text(errors="replace").splitlines()
        is_arff = suffix == ".arff" or any(line.strip().lower().startswith("@relation") for line in text[:50])
        header, rows = ([], []) if is_arff else (None, [])
        if is_arff:
            in_data = False
            for line in text:
                s = line.strip()
                if not s or s.startswith("%"):
                    continue
                low = s.lower()
                if low.startswith("@attribute"):
                    header.append(s.split(None, 2)[1].strip("'\""))
                elif low.startswith("@data"):
                    in_data = True
                elif in_data:
                    rows.append([c.strip() for c in s.split(",")])
        else:
            lines = [line for line in text if line.strip()]
            header = [c.strip().strip("'\"") for c in lines[0].split(",")]
            rows = [[c.strip() for c in line.split(",")] for line in lines[1:]]
        if any(len(r) != len(header) for r in rows):
            raise DataError(f"{path}: rows with a number of fields different from the {len(header)} columns")
        columns = {h: [r[i] for r in rows] for i, h in enumerate(header)}
    missing = [c for c in (*HLF_FEATURES, "class") if c not in columns]
    if missing:
        raise DataError(
            f"{path}: the table lacks columns {missing}; expected the OpenML hls4ml_lhc_jets_hlf "
            "layout (16 features + 'class')"
        )
    try:
        features = np.column_stack([np.asarray(columns[c], dtype=np.float64) for c in HLF_FEATURES])
    except ValueError as exc:
        raise DataError(f"{path}: non-numeric feature value ({exc})") from exc
    return _Raw(_labels_from_names(columns["class"], path), features)


def _read_zenodo(paths: list[pathlib.Path], need_constituents: bool) -> _Raw:
    """Zenodo hls4ml h5 files: ``jets`` (n, 59) named by ``jetFeatureNames`` (labels j_g..j_t, HLFs
    j_<name>), ``jetConstituentList`` (n, M, 16) named by ``particleFeatureNames`` (j1_pt, j1_etarel, ...)."""
    import h5py

    parts = []
    for path in paths:
        try:
            with h5py.File(path, "r") as h5:
                names = [n.decode() if isinstance(n, bytes) else str(n) for n in h5["jetFeatureNames"][:]]
                jets = np.asarray(h5["jets"][:], dtype=np.float64)
                need = [f"j_{c}" for c in CLASS_NAMES] + [f"j_{f}" for f in HLF_FEATURES]
                missing = [n for n in need if n not in names]
                if missing:
                    raise DataError(f"{path}: jetFeatureNames lacks {missing}; not an hls4ml Zenodo jet file")
                onehot = jets[:, [names.index(f"j_{c}") for c in CLASS_NAMES]]
                keep = onehot.max(axis=1) > 0.5  # rows with no known class (j_undef) are dropped
                raw = _Raw(np.argmax(onehot, axis=1), jets[:, [names.index(f"j_{f}") for f in HLF_FEATURES]])
                if need_constituents:
                    pnames = [
                        n.decode() if isinstance(n, bytes) else str(n) for n in h5["particleFeatureNames"][:]
                    ]
                    cons = h5["jetConstituentList"]
                    pnames = pnames[: cons.shape[-1]]  # the files list 17 names (+ j1_pdgid) for 16 columns
                    col = {n: i for i, n in enumerate(pnames)}
                    for n in ("j1_pt", "j1_etarel", "j1_phirel"):
                        if n not in col:
                            raise DataError(f"{path}: particleFeatureNames lacks {n}")
                    cons = np.asarray(cons[:], dtype=np.float64)
                    raw.pt, raw.deta, raw.dphi = (
                        cons[:, :, col[n]] for n in ("j1_pt", "j1_etarel", "j1_phirel")
                    )
                    raw.jet_pt = jets[:, names.index("j_pt")] if "j_pt" in names else raw.pt.sum(axis=1)
                parts.append(raw.take(np.nonzero(keep)[0]))
        except DataError:
            raise
        except (OSError, KeyError) as exc:
            raise DataError(f"{path}: not a readable hls4ml Zenodo h5 file ({exc}); re-download it") from exc
    if not parts:
        raise DataError("no h5 files to read")
    cat = lambda k: None if getattr(parts[0], k) is None else np.concatenate([getattr(p, k) for p in parts])  # noqa: E731
    return _Raw(*(cat(k) for k in ("labels", "features", "jet_pt", "pt", "deta", "dphi")))


# ------------------------------------------------------------------------------------------- load_jets
def _detect_format(path: pathlib.Path) -> str:
    """Reader for a path: directory -> h5 files; by extension; else by the file's first bytes."""
    if path.is_dir():
        return "zenodo_h5"
    if path.suffix.lower() in _EXTENSIONS:
        return _EXTENSIONS[path.suffix.lower()]
    head = path.read_bytes()[:512]
    if head.startswith(b"root"):
        return "root"
    if head.startswith(b"\x89HDF"):
        return "zenodo_h5"
    if b"@relation" in head.lower() or b"class" in head:
        return "openml"
    raise DataError(f"cannot tell the format of {path}; pass fmt= one of {_FORMATS}")


def _read(path: pathlib.Path, fmt: str, need_constituents: bool) -> _Raw:
    if fmt == "root":
        return _read_root(path, need_constituents)
    if need_constituents and fmt == "openml":
        raise DataError(
            f"{path}: the OpenML table holds only the 16 high-level features; images and "
            "sequences need constituents: use representation='features', a triggernn ROOT file "
            "or the Zenodo h5 files"
        )
    if fmt == "openml":
        return _read_openml(path)
    files = (
        sorted(p for p in path.iterdir() if p.suffix.lower() in (".h5", ".hdf5")) if path.is_dir() else [path]
    )
    if not files:
        raise DataError(f"{path} is a directory without .h5 files")
    return _read_zenodo(files, need_constituents)


def _balanced_subsample(labels: np.ndarray, max_jets: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of at most ``max_jets`` jets, as equal per present class as the sample allows, sorted."""
    present = np.unique(labels)
    base, rest = divmod(max_jets, len(present))
    chosen = []
    for k, c in enumerate(present):
        idx = np.nonzero(labels == c)[0]
        want = base + (1 if k < rest else 0)
        if len(idx) < want:
            log.warning("class %s has %d jets, fewer than the %d asked for", CLASS_NAMES[c], len(idx), want)
        chosen.append(rng.permutation(idx)[:want])
    return np.sort(np.concatenate(chosen))


def _stratified_split(
    labels: np.ndarray, fractions: tuple[float, float, float], rng: np.random.Generator
) -> list[np.ndarray]:
    """Train/val/test index arrays, each class split with the same fractions, then shuffled."""
    splits: list[list[np.ndarray]] = [[], [], []]
    for c in np.unique(labels):
        idx = rng.permutation(np.nonzero(labels == c)[0])
        n_train = round(fractions[0] * len(idx))
        n_val = round(fractions[1] * len(idx))
        for k, part in enumerate((idx[:n_train], idx[n_train : n_train + n_val], idx[n_train + n_val :])):
            splits[k].append(part)
    return [rng.permutation(np.concatenate(s)) for s in splits]


def _check_args(representation: str, fractions: Sequence[float], max_jets: int | None, image_size: int,
                image_extent: float, sequence_length: int, sequence_features: Sequence[str], fmt: str | None) -> None:  # fmt: skip
    if representation not in REPRESENTATIONS:
        raise DataError(f"unknown representation {representation!r}; choose one of {REPRESENTATIONS}")
    fr = np.asarray(fractions, dtype=np.float64)
    if fr.shape != (3,) or np.any(fr < 0) or fr[0] <= 0 or abs(fr.sum() - 1.0) > 1e-6:
        raise DataError(
            f"fractions must be three non-negative numbers (train > 0) summing to 1, got {tuple(fractions)}"
        )
    if max_jets is not None and max_jets < 1:
        raise DataError(f"max_jets must be a positive integer or None, got {max_jets}")
    if image_size < 1 or not image_extent > 0:
        raise DataError(f"need image_size >= 1 and image_extent > 0, got {image_size}, {image_extent}")
    bad = [f for f in sequence_features if f not in SEQUENCE_FEATURES]
    if sequence_length < 1 or bad or not sequence_features:
        raise DataError(
            f"need sequence_length >= 1 and sequence_features from {SEQUENCE_FEATURES}, "
            f"got {sequence_length}, {tuple(sequence_features)}"
        )
    if fmt is not None and fmt not in _FORMATS:
        raise DataError(f"unknown fmt {fmt!r}; choose one of {_FORMATS} or None to detect it")


def load_jets(
    source: str | os.PathLike | None = None,
    representation: str = "features",
    *,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 42,
    standardize: bool = True,
    max_jets: int | None = None,
    image_size: int = 16,
    image_extent: float = 0.8,
    sequence_length: int = 20,
    sequence_features: Sequence[str] = ("pt_rel", "deta", "dphi"),
    fmt: str | None = None,
) -> JetDataset:
    """Load a labelled jet sample and split it into train/val/test.

    In: a file (our ROOT, OpenML arff/csv/parquet, Zenodo h5 or a directory of them; None or "embedded"
    for the shipped 10k-jet sample); the representation ("features": the 16 HLF_FEATURES; "images":
    (size, size, 1) pT-fraction images, see ``features.jet_images``; "sequences": (L, F) pT-ordered
    zero-padded particles); split fractions and seed (stratified by class); whether to standardize
    (mean/std from the training split only; for sequences over real particles, padding stays 0; images
    are never standardized); an optional balanced subsample size; ``fmt`` to force a reader.
    Out: a JetDataset with float32 X and int64 y. Raises DataError naming the problem and the fix.
    """
    _check_args(
        representation, fractions, max_jets, image_size, image_extent, sequence_length, sequence_features, fmt
    )
    if source is None or str(source) == "embedded":
        path, label = EMBEDDED_JETS, "embedded"
        if not path.is_file():
            raise DataError(
                f"the embedded sample {path} is missing from this installation; reinstall triggernn "
                "or regenerate it with scripts/generate_jets.py (see docs/data.md)"
            )
    else:
        path, label = pathlib.Path(source), str(source)
        if not path.exists():
            raise DataError(
                f"jet file {path} does not exist; generate one with `triggernn data generate "
                "--output FILE` or pass None for the embedded sample"
            )
    fmt = fmt or _detect_format(path)
    raw = _read(path, fmt, need_constituents=representation != "features")
    if len(raw.labels) == 0:
        raise DataError(f"{path} holds no labelled jets")
    if np.any((raw.labels < 0) | (raw.labels >= len(CLASS_NAMES))):
        raise DataError(f"{path}: labels outside 0..{len(CLASS_NAMES) - 1}")
    rng = np.random.default_rng(seed)
    if max_jets is not None and max_jets < len(raw.labels):
        raw = raw.take(_balanced_subsample(raw.labels, max_jets, rng))

    if representation == "features":
        X, names = raw.features, HLF_FEATURES
    elif representation == "images":
        X, names = jet_images(raw.pt, raw.deta, raw.dphi, image_size, image_extent), ()
    else:
        X = jet_sequences(raw.pt, raw.deta, raw.dphi, raw.jet_pt, sequence_length, sequence_features)
        names = tuple(sequence_features)
    X = np.asarray(X, dtype=np.float64 if representation == "features" else np.float32)
    if not np.all(np.isfinite(X)):
        raise DataError(
            f"{path}: non-finite values in the {representation}; the file is damaged: regenerate it"
        )
    train, val, test = _stratified_split(raw.labels, tuple(fractions), rng)

    mean = std = None
    if standardize and representation != "images":
        if representation == "features":
            mean, std = X[train].mean(axis=0), X[train].std(axis=0)
            std = np.where(std > 0, std, 1.0)
            X = (X - mean) / std
        else:
            real = X[train][:, :, :].reshape(-1, X.shape[2])[(np.abs(X[train]).sum(axis=2) > 0).reshape(-1)]
            mean, std = real.mean(axis=0), real.std(axis=0)
            std = np.where(std > 0, std, 1.0)
            mask = np.abs(X).sum(axis=2, keepdims=True) > 0
            X = np.where(mask, (X - mean) / std, 0.0)
        mean, std = mean.astype(np.float32), std.astype(np.float32)
    X = X.astype(np.float32)
    y = raw.labels.astype(np.int64)
    return JetDataset(X[train], y[train], X[val], y[val], X[test], y[test], CLASS_NAMES, tuple(names),
                      representation, mean, std, label)  # fmt: skip
