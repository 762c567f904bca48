"""Fast bit-accurate emulation of a compiled hls4ml model on large samples.

hls4ml's ``predict()`` calls the C simulation once per event from Python. :class:`Emulator` gives the same
outputs, bit for bit, for whole batches:

- ``engine="numpy"``: every layer's fixed-point arithmetic (casts, accumulators, lookup tables read from the
  firmware) on float64 arrays, with the heavy sums as matrix products where that is exact (:mod:`.graph`);
- ``engine="cpp"``: the project's own C++ behind a batched entry point (:mod:`.native`), for layers the numpy
  engine does not reproduce (recurrent layers, binary/ternary products, ...);
- ``engine="auto"`` (default): numpy where every layer is covered, else C++, saying why in ``reason``.

``workers > 1`` splits the events across processes (fork).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ..errors import HLSError, InputError
from ..hls.csim import check_model_inputs
from ..inputs import n_events, side_by_side
from .layers import NotEmulated

__all__ = ["ENGINES", "Emulator", "NotEmulated", "emulate"]

ENGINES = ("auto", "numpy", "cpp")


def _resolve(model):
    """(hls4ml graph, project folder, project name) of an HLSProject, an ExistingProject or a ModelGraph."""
    graph = getattr(model, "hls_model", None) or getattr(model, "_graph", None) or model
    if not hasattr(graph, "get_output_variables"):
        raise InputError(
            f"cannot emulate a {type(model).__name__}: pass an HLSProject (triggernn.emit / run), a project "
            "re-opened with triggernn.open_project, or a compiled hls4ml ModelGraph"
        )
    return graph, Path(graph.config.get_output_dir()), graph.config.get_project_name()


class Emulator:
    """Bit-accurate outputs of a compiled model for many events at once (see the module docs)."""

    def __init__(self, model, engine: str = "auto", *, logits_layer: str | None = None) -> None:
        if engine not in ENGINES:
            raise InputError(f"engine must be one of {', '.join(ENGINES)}, got '{engine}'")
        self.graph, self.project, name = _resolve(model)
        if logits_layer is not None:
            names = [n.name for n in self.graph.get_layers()] if hasattr(self.graph, "get_layers") else []
            if logits_layer not in names:
                raise InputError(
                    f"logits_layer '{logits_layer!s:.60}' is not a layer of this firmware: one of "
                    f"{', '.join(names[-6:]) or 'its layers'}"
                )
        self.logits_layer = logits_layer
        self.input_shapes = [tuple(int(d) for d in v.shape) for v in self.graph.get_input_variables()]
        self.input_shape = self.input_shapes[0]
        out_vars = self.graph.get_output_variables()
        out_shape = tuple(int(d) for d in out_vars[0].shape)
        self.reason = ""
        self._numpy = None
        if type(self.graph).__name__ == "FilesystemModelGraph":  # re-opened from disk: no layer graph
            if engine == "numpy":
                raise HLSError(
                    "this project was opened from its files only (no layer graph) for the numpy engine: open it "
                    "with triggernn.open_project(path), or use engine='cpp'"
                )
            engine, self.reason = "cpp", "a project re-opened from disk (files only, no layer graph)"
        if engine in ("auto", "numpy"):
            from .graph import build_numpy_model

            try:
                self._numpy = build_numpy_model(self.graph, self.project)
            except NotEmulated as err:
                if engine == "numpy":
                    raise HLSError(
                        f"the numpy engine cannot emulate this model: {err}. Use engine='cpp'"
                    ) from None
                self.reason = str(err)
        self.engine = "numpy" if self._numpy is not None else "cpp"
        if self.engine == "cpp":
            if len(self.input_shapes) > 1 or len(out_vars) > 1:
                raise HLSError(
                    f"the C++ batch engine takes models of one input and one output, and the numpy engine cannot "
                    f"emulate this one: {self.reason}. Use the project's C simulation (project.predict)"
                )
            if logits_layer is not None:
                raise HLSError(
                    f"logits need the numpy engine, which cannot emulate this model: {self.reason}"
                )
            from .native import NativeModel

            self._native = NativeModel(self.project, name, int(np.prod(self.input_shape)), out_shape)

    @property
    def default_batch_size(self) -> int:
        """Events per batch: the numpy engine's largest array near 2**24 values, measured
        fastest on the shipped models; the C++ engine takes large batches."""
        if self._numpy is None:
            return 65536
        return int(np.clip(2**24 // self._numpy.values_per_event, 256, 16384))

    def _run(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        if self._numpy is None:
            return self._native(X), None
        keep = (self.logits_layer,) if self.logits_layer else ()
        xs = [x.astype(np.float64) for x in X] if isinstance(X, list) else X.astype(np.float64)
        out, kept = self._numpy(xs, keep)
        logits = kept[self.logits_layer].astype(np.float64) if self.logits_layer else None
        return side_by_side(out, n_events(X)).astype(np.float64), logits

    def predict(
        self,
        X,
        *,
        batch_size: int | None = None,
        workers: int = 1,
        return_logits: bool = False,
        progress: bool = False,
    ):
        """Outputs (float64, as the C simulation returns them: exact to 53 significant bits) for events ``X``; with ``return_logits`` also
        the outputs of ``logits_layer``. ``workers`` processes share the batches."""
        from ..validate import number

        X = check_model_inputs(self.input_shapes, X)
        if return_logits and not self.logits_layer:
            raise InputError("return_logits needs the Emulator to be made with logits_layer=<layer name>")
        workers = int(number(workers, "workers", low=1, integer=True, fix="processes, e.g. 2"))
        if batch_size is not None:
            batch_size = int(number(batch_size, "batch_size", low=1, integer=True, fix="events, e.g. 4096"))
        batch_size = batch_size or self.default_batch_size
        starts = range(0, n_events(X), batch_size)
        chunks = (
            [x[i : i + batch_size] for x in X] if isinstance(X, list) else X[i : i + batch_size]
            for i in starts
        )
        if workers > 1 and len(starts) > 1:
            global _WORKER
            _WORKER = self
            with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
                parts = list(_progress(pool.map(_worker_run, chunks), len(starts), progress))
        else:
            parts = list(_progress(map(self._run, chunks), len(starts), progress))
        out = np.concatenate([p[0] for p in parts])
        if return_logits:
            return out, np.concatenate([p[1] for p in parts])
        return out


_WORKER: Emulator | None = None


def _worker_run(chunk):
    return _WORKER._run(chunk)


def _progress(it, total: int, show: bool):
    if not show or total < 2:
        return it
    from tqdm.auto import tqdm

    return tqdm(it, total=total, desc="emulate", unit="batch")


def emulate(
    model, X, *, engine: str = "auto", batch_size: int | None = None, workers: int | None = 1
) -> np.ndarray:
    """The firmware's outputs for events ``X``, bit for bit those of hls4ml's ``predict()``, for whole batches.

    ``model`` is an emitted :class:`~triggernn.hls.HLSProject`, a project re-opened with
    :func:`triggernn.open_project`, or a compiled hls4ml ``ModelGraph``. ``workers=None`` uses every core.
    """
    workers = (os.cpu_count() or 1) if workers is None else workers
    return Emulator(model, engine).predict(X, batch_size=batch_size, workers=workers)
