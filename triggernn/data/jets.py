"""``load_jets``: a labelled jet file -> train/val/test arrays for training.

Readers (the ``_read_*`` functions) turn a file into ``Raw`` (labels, the 16 HLFs, optionally padded
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
from triggernn.data.readers import FORMATS, detect_format, read

from ..inputs import Events

__all__ = ["EMBEDDED_JETS", "REPRESENTATIONS", "SEQUENCE_FEATURES", "JetDataset", "load_jets"]

log = logging.getLogger(__name__)

#: The shipped default sample (10k jets, 2k per class); see jets_default.json for its provenance.
EMBEDDED_JETS: pathlib.Path = pathlib.Path(__file__).parent / "embedded" / "jets_default.root"
REPRESENTATIONS = ("features", "images", "sequences")
#: Per-particle features a sequence can hold (deta/dphi relative to the jet axis, pt_rel = pT/pT_jet).
SEQUENCE_FEATURES = ("pt_rel", "deta", "dphi", "delta_r", "log_pt_rel", "pt")


@dataclass(frozen=True)
class JetDataset:
    """Train/validation/test arrays of one jet sample.

    X arrays are float32: (n, 16) for "features", (n, size, size, 1) for "images", (n, L, F) for
    "sequences"; y arrays are int64 class indices into ``class_names``. ``mean``/``std`` are the
    standardization fitted on the training split (None when not standardized or for images).
    """

    X_train: Events
    y_train: np.ndarray
    X_val: Events
    y_val: np.ndarray
    X_test: Events
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
    if fmt is not None and fmt not in FORMATS:
        raise DataError(f"unknown fmt {fmt!r}; choose one of {FORMATS} or None to detect it")


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
        from ..validate import a_path

        path, label = a_path(source, "the jet file"), str(source)
        if not path.exists():
            raise DataError(
                f"jet file {path} does not exist; generate one with `triggernn data generate "
                "--output FILE` or pass None for the embedded sample"
            )
    fmt = fmt or detect_format(path)
    raw = read(path, fmt, need_constituents=representation != "features")
    if len(raw.labels) == 0:
        raise DataError(f"{path} holds no labelled jets")
    if np.any((raw.labels < 0) | (raw.labels >= len(CLASS_NAMES))):
        raise DataError(f"{path}: labels outside 0..{len(CLASS_NAMES) - 1}")
    rng = np.random.default_rng(seed)
    if max_jets is not None and max_jets < len(raw.labels):
        raw = raw.take(_balanced_subsample(raw.labels, max_jets, rng))
    elif max_jets is not None and max_jets > len(raw.labels):
        log.warning(
            "max_jets %d is more than the %d jets %s holds: all %d are used (generate more with `triggernn data "
            "generate`, or lower max_jets)", max_jets, len(raw.labels), path or "the embedded sample",
            len(raw.labels),
        )  # fmt: skip

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
