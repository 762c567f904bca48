"""Saving and loading a reference network: its weights (``<path>.pt``) and a JSON of its hyper-parameters
(``spec``) and whatever else describes it (training log, metrics), weights written atomically."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

__all__ = ["load_state", "save_state"]


def save_state(module, spec, meta: dict, path: str | Path) -> Path:
    """``module``'s weights to ``<path>.pt`` and ``{"spec": spec, **meta}`` to ``<path>.json``."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".pt.partial")
    torch.save(module.state_dict(), partial)
    partial.replace(path.with_suffix(".pt"))
    meta_partial = path.with_suffix(".json.partial")
    meta_partial.write_text(json.dumps({"spec": asdict(spec), **meta}, indent=1, default=float))
    meta_partial.replace(path.with_suffix(".json"))
    return path.with_suffix(".pt")


def load_state(path: str | Path) -> tuple[dict, dict]:
    """``(state_dict on the CPU, meta)`` from :func:`save_state`'s files."""
    import torch

    path = Path(path)
    meta = json.loads(path.with_suffix(".json").read_text())
    return torch.load(path.with_suffix(".pt"), map_location="cpu", weights_only=True), meta
