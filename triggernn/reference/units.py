"""A reference's feature scaling, saved with its weights, so that it can be trained on one jet sample and
judged on another: every dataset standardizes its features with its own training split's mean and width.

``scaling_of(ds)`` is what :func:`triggernn.reference.store.save_state` keeps; :func:`to_reference` moves a
dataset's standardized features into the reference's units, :func:`from_reference` moves generated features
back. Both refuse a dataset whose features are not the reference's.
"""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["from_reference", "scaling_of", "to_reference"]


def scaling_of(ds) -> dict:
    """``{"features", "mean", "std"}`` of ``ds`` (a ``JetDataset`` or the trainer's arrays), in raw units."""
    n = len(ds.feature_names)
    mean = np.zeros(n) if ds.mean is None else np.asarray(ds.mean, dtype=np.float64)
    std = np.ones(n) if ds.std is None else np.asarray(ds.std, dtype=np.float64)
    return {"features": list(ds.feature_names), "mean": mean.tolist(), "std": std.tolist()}


def _affine(ds, scaling: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if list(scaling["features"]) != list(ds.feature_names):
        raise InputError(
            f"the reference was trained on features {scaling['features']}, the dataset has "
            f"{list(ds.feature_names)}: load the jets as 'features' (the 16 hls4ml high-level features)"
        )
    own = scaling_of(ds)
    return (np.asarray(own["mean"]), np.asarray(own["std"]), np.asarray(scaling["mean"]),
            np.asarray(scaling["std"]))  # fmt: skip


def to_reference(X: np.ndarray, ds, scaling: dict) -> np.ndarray:
    """``ds``'s standardized features ``X`` in the units the reference was trained in (float32)."""
    m, s, rm, rs = _affine(ds, scaling)
    return (((np.asarray(X, dtype=np.float64) * s + m) - rm) / rs).astype(np.float32)


def from_reference(X: np.ndarray, ds, scaling: dict) -> np.ndarray:
    """Features in the reference's units (a generator's output) in ``ds``'s standardized units (float64)."""
    m, s, rm, rs = _affine(ds, scaling)
    return ((np.asarray(X, dtype=np.float64) * rs + rm) - m) / s
