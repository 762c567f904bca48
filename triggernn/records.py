"""JSON records, strictly JSON: NaN and infinities (which JSON lacks) written as null, files replaced whole."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

__all__ = ["strict_json", "write_json"]


def strict_json(o: Any) -> Any:
    """``o`` with every NaN and infinity replaced by None and numpy values made plain, so that it is JSON."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {str(k): strict_json(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [strict_json(v) for v in o]
    if hasattr(o, "tolist") and not isinstance(o, str):
        return strict_json(o.tolist())
    if isinstance(o, str | int | bool) or o is None:
        return o
    return str(o)


def write_json(path: str | os.PathLike, obj: Any, *, indent: int = 2, **kw: Any) -> Path:
    """Write ``obj`` as strict JSON to ``path`` through a temporary file renamed into place."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(strict_json(obj), indent=indent, allow_nan=False, **kw))
    tmp.replace(path)
    return path
