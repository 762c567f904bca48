"""Readers of jet files: our ROOT files, the hls4ml OpenML table (arff/csv/parquet), the Zenodo h5 files.

Each returns a :class:`Raw` (labels, features and, when asked, constituents) for :func:`load_jets`.
"""

from __future__ import annotations

import logging
import pathlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from triggernn.data.errors import DataError
from triggernn.data.features import CLASS_NAMES, HLF_FEATURES

__all__ = ["FORMATS", "Raw", "detect_format", "read"]

log = logging.getLogger(__name__)

FORMATS = ("root", "shards", "openml", "zenodo_h5")
EXTENSIONS = {".root": "root", ".arff": "openml", ".csv": "openml", ".parquet": "openml", ".pq": "openml",
               ".h5": "zenodo_h5", ".hdf5": "zenodo_h5"}  # fmt: skip


@dataclass
class Raw:
    """What a reader returns: labels (n,), HLFs (n, 16) or None, padded constituents (n, M) or None."""

    labels: np.ndarray
    features: np.ndarray | None
    jet_pt: np.ndarray | None = None
    pt: np.ndarray | None = None
    deta: np.ndarray | None = None
    dphi: np.ndarray | None = None

    def take(self, idx: np.ndarray) -> Raw:
        pick = lambda a: None if a is None else a[idx]  # noqa: E731
        return Raw(
            self.labels[idx],
            pick(self.features),
            pick(self.jet_pt),
            pick(self.pt),
            pick(self.deta),
            pick(self.dphi),
        )


# ----------------------------------------------------------------------------------------------- readers
def _read_root(path: pathlib.Path, need_constituents: bool) -> Raw:
    """Our ROOT files: TTree ``jets`` with ``label``, the 16 HLF branches, jet kinematics, ``part_*``."""
    import awkward as ak
    import uproot

    try:
        f = uproot.open(path)
        end = int(getattr(f.file, "fEND", 0) or 0)
    except Exception as exc:  # uproot raises many types for truncated/corrupt files
        raise DataError(
            f"{path} is not a readable ROOT file ({type(exc).__name__}: {str(exc).splitlines()[0][:100]}); it may be "
            "truncated or corrupt: regenerate it with `triggernn data generate`"
        ) from exc
    keys = {k.split(";")[0] for k in f.keys(recursive=False)}
    if not keys:
        raise DataError(
            f"{path} holds no objects at all: it may be truncated or corrupt; regenerate it with `triggernn data "
            "generate`"
        )
    if "jets" not in keys:
        trees = ", ".join(sorted(keys))
        raise DataError(
            f"{path} holds {trees}, not the 'jets' tree triggernn reads: pass a jet file written by `triggernn data "
            "generate` (or the official hls4ml jet files, .h5)"
        )
    try:
        tree = f["jets"]
        names = set(tree.keys())
    except Exception as exc:
        raise DataError(
            f"{path} is not a readable ROOT file with a 'jets' tree ({type(exc).__name__}: {exc}); "
            "it may be truncated or corrupt: regenerate it with `triggernn data generate`"
        ) from exc
    size = path.stat().st_size
    if end and size < end:  # the header records where the file ends: a copy cut short reads partly
        raise DataError(
            f"{path} is truncated: {size:,} bytes of the {end:,} its header records; copy it again or "
            "regenerate it with `triggernn data generate`"
        )
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
        short = {b: len(a) for b, a in arrays.items() if len(a) != tree.num_entries}
        if short:
            raise ValueError(f"the tree has {tree.num_entries} entries but branches {short} hold fewer")
        raw = Raw(_integer_labels(arrays["label"], path), np.column_stack([arrays[n] for n in HLF_FEATURES]))
        if need_constituents:
            jag = tree.arrays(["jet_pt", "part_pt", "part_deta", "part_dphi"], library="ak")
            width = max(int(ak.max(ak.num(jag["part_pt"]), initial=0)), 1)

            def pad(a: ak.Array) -> np.ndarray:
                return ak.to_numpy(ak.fill_none(ak.pad_none(a, width, clip=True), 0.0)).astype(np.float64)

            raw.jet_pt = ak.to_numpy(jag["jet_pt"]).astype(np.float64)
            raw.pt, raw.deta, raw.dphi = pad(jag["part_pt"]), pad(jag["part_deta"]), pad(jag["part_dphi"])
    except DataError:
        raise
    except Exception as exc:
        raise DataError(
            f"{path}: reading the 'jets' tree failed ({type(exc).__name__}: {exc}); the file "
            "is probably truncated or corrupt: regenerate it with `triggernn data generate`"
        ) from exc
    return raw


def _integer_labels(values: np.ndarray, path: pathlib.Path) -> np.ndarray:
    """A ``label`` branch as integer classes; a fraction, NaN or negative class refused (never truncated)."""
    values = np.asarray(values)
    if values.dtype.kind == "f" and not (np.isfinite(values).all() and (values == np.round(values)).all()):
        raise DataError(
            f"{path}: its 'label' branch holds fractions or NaN: labels are integer classes 0..n-1"
        )
    labels = values.astype(np.int64)
    if len(labels) and labels.min() < 0:
        raise DataError(
            f"{path}: its 'label' branch holds negative classes: labels are integer classes 0..n-1"
        )
    return labels


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


def _read_openml(path: pathlib.Path) -> Raw:
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
    return Raw(_labels_from_names(columns["class"], path), features)


def _read_zenodo(paths: list[pathlib.Path], need_constituents: bool) -> Raw:
    """Zenodo hls4ml h5 files: ``jets`` (n, 59) named by ``jetFeatureNames`` (labels j_g..j_t, HLFs
    j_<name>), ``jetConstituentList`` (n, M, 16) named by ``particleFeatureNames`` (j1_pt, j1_etarel, ...)."""
    import h5py

    parts = []
    for path in paths:
        try:
            with h5py.File(path, "r") as h5:
                _is_jet_h5(h5, path)
                names = [n.decode() if isinstance(n, bytes) else str(n) for n in h5["jetFeatureNames"][:]]
                jets = np.asarray(h5["jets"][:], dtype=np.float64)
                need = [f"j_{c}" for c in CLASS_NAMES] + [f"j_{f}" for f in HLF_FEATURES]
                missing = [n for n in need if n not in names]
                if missing:
                    raise DataError(f"{path}: jetFeatureNames lacks {missing}; not an hls4ml Zenodo jet file")
                onehot = jets[:, [names.index(f"j_{c}") for c in CLASS_NAMES]]
                keep = onehot.max(axis=1) > 0.5  # rows with no known class (j_undef) are dropped
                raw = Raw(np.argmax(onehot, axis=1), jets[:, [names.index(f"j_{f}") for f in HLF_FEATURES]])
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
    return Raw(*(cat(k) for k in ("labels", "features", "jet_pt", "pt", "deta", "dphi")))


def _is_jet_h5(h5, path: pathlib.Path) -> None:
    """Refuse an h5 file that is not an hls4ml jet file, naming what it is where it can be told (a Keras model)."""
    if "jetFeatureNames" in h5 and "jets" in h5:
        return
    if "model_config" in h5.attrs or "keras_version" in h5.attrs or "model_weights" in h5:
        raise DataError(
            f"{path} is a Keras model file, not jet data: pass it as the model, and as data a jet file (a .root of "
            "`triggernn data generate`, the hls4ml jet .h5 files, or 'embedded')"
        )
    raise DataError(
        f"{path} is an h5 file without the hls4ml jet datasets ('jets', 'jetFeatureNames'): pass a jet file (a .root "
        "of `triggernn data generate`, the hls4ml jet .h5 files, or 'embedded')"
    )


# ------------------------------------------------------------------------------------------- load_jets
def detect_format(path: pathlib.Path) -> str:
    """Reader for a path: a folder of shards (its manifest.json) or of h5 files; by extension; else by the
    file's first bytes."""
    from .shards import MANIFEST

    if path.is_dir():
        return "shards" if (path / MANIFEST).is_file() else "zenodo_h5"
    if path.suffix.lower() in EXTENSIONS:
        return EXTENSIONS[path.suffix.lower()]
    head = path.read_bytes()[:512]
    if head.startswith(b"root"):
        return "root"
    if head.startswith(b"\x89HDF"):
        return "zenodo_h5"
    if b"@relation" in head.lower() or b"class" in head:
        return "openml"
    raise DataError(
        f"cannot tell the format of {path}: jet data are a .root file of `triggernn data generate`, the hls4ml jet "
        "files (.h5, or a folder of them), a folder of shards, or OpenML's .arff"
    )


def _concat(parts: list[Raw]) -> Raw:
    """Raws one after the other; padded constituents widened to the widest part."""
    width = max((p.pt.shape[1] for p in parts if p.pt is not None), default=0)

    def cat(k: str):
        arrays = [getattr(p, k) for p in parts]
        if arrays[0] is None:
            return None
        if k in ("pt", "deta", "dphi"):
            arrays = [np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in arrays]
        return np.concatenate(arrays)

    return Raw(*(cat(k) for k in ("labels", "features", "jet_pt", "pt", "deta", "dphi")))


def read(path: pathlib.Path, fmt: str, need_constituents: bool) -> Raw:
    if fmt == "root":
        return _read_root(path, need_constituents)
    if fmt == "shards":  # a folder of shards (triggernn data generate --shards), in the manifest's order
        from .shards import shard_files

        return _concat([_read_root(p, need_constituents) for p in shard_files(path)])
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
