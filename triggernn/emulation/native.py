"""The firmware's own C++, called once per batch instead of once per event.

hls4ml's ``predict()`` crosses from Python into C++ for every event. Here the project's firmware is linked
with a small entry point that loops over a whole batch in C++ (``kind="batch"`` of
:func:`triggernn.hls.build_cache.build_library`, cached by content, built with the flags of the project's
``build_lib.sh``). Being the same code, its outputs are those of the C simulation by construction. The C++
keeps state in function-local statics (tables, line buffers), so parallelism is across processes.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

import numpy as np
import numpy.ctypeslib as npc

from ..hls.build_cache import build_library

__all__ = ["NativeModel"]


class NativeModel:
    """The batched C++ entry point of an emitted project; ``model(X)`` returns the outputs as float64 (hls4ml's
    ``_double`` bridge: exact for every type up to 53 significant bits)."""

    def __init__(self, project: str | os.PathLike, project_name: str, n_in: int, out_shape: tuple[int, ...]):
        self.project = Path(project).absolute()
        self.n_in, self.out_shape = n_in, tuple(out_shape)
        self.n_out = int(np.prod(out_shape))
        self.library = build_library(self.project, project_name, kind="batch")
        fn = ctypes.CDLL(str(self.library)).triggernn_batch
        fn.restype = None
        f64 = npc.ndpointer(np.float64, flags="C_CONTIGUOUS")
        fn.argtypes = [f64, f64, ctypes.c_long, ctypes.c_long, ctypes.c_long]
        self._fn = fn

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=np.float64).reshape(len(X), self.n_in)
        y = np.zeros((len(X), self.n_out), dtype=np.float64)
        self._fn(X, y, len(X), self.n_in, self.n_out)
        return y.reshape(len(X), *self.out_shape)
