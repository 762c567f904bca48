"""C simulation: run the compiled hls4ml model (the firmware's C++) on arrays."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import time
from dataclasses import dataclass

import numpy as np

from ..errors import HLSError, InputError
from ..inputs import n_events, side_by_side
from .build_cache import compile_cached

__all__ = ["CSimResult", "check_inputs", "check_model_inputs", "run_csim"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CSimResult:
    """Outputs of the C simulation: the model outputs and, for softmax models, the logits that feed it."""

    outputs: np.ndarray
    logits: np.ndarray | None
    seconds: float

    @property
    def compared(self) -> np.ndarray:
        """What is compared bit for bit with QKeras: the logits of a softmax model, else the outputs."""
        return self.logits if self.logits is not None else self.outputs

    @property
    def events_per_second(self) -> float:
        return len(self.outputs) / self.seconds if self.seconds > 0 else float("inf")


def check_inputs(shape: tuple[int, ...], X, what: str = "inputs") -> np.ndarray:
    """``X`` as a contiguous float32 array of events of ``shape`` (one event alone is taken as one event), or an
    :class:`InputError` that says what is wrong (the C++ would otherwise read past the array or silently take
    garbage); the checks are :func:`triggernn.validate.event_array`'s, the one home of what inputs may be."""
    from ..validate import event_array

    shape = tuple(int(d) for d in shape)
    if isinstance(X, np.ndarray) or hasattr(X, "__array__"):
        arr = np.asarray(X)
        X = arr[None] if arr.ndim == len(shape) and arr.dtype.kind in "biuf" else arr  # a single event
    return np.ascontiguousarray(event_array(X, what, shape))


def check_model_inputs(shapes, X, what: str = "inputs"):
    """:func:`check_inputs` for a model of one input (``X`` an array) or several (``X`` a list or tuple of arrays,
    one per input in the model's order, with the same number of events each): an array, or a list of arrays."""
    from ..validate import model_events

    shapes = [tuple(int(d) for d in s) for s in shapes]
    if len(shapes) == 1:
        if isinstance(X, dict) or (isinstance(X, list | tuple) and any(isinstance(x, np.ndarray) for x in X)):
            raise InputError(f"{what}: the model has one input, pass one array of events (n_events, ...)")
        return check_inputs(shapes[0], X, what)
    arrays = model_events(X, what, shapes)
    return [np.ascontiguousarray(a) for a in arrays]


@contextlib.contextmanager
def _project_kept(hls_model):
    """hls4ml's ``trace()`` writes the whole project again, with trace hooks in the firmware and hls4ml's own
    ``hls4ml_config.yml``: put every file back as it was (and remove what it added), so a C simulation leaves
    the project on disk, its digest and what ``triggernn rtl`` reads back, as emitted. The library in memory
    keeps its hooks (same outputs)."""
    from pathlib import Path

    root = Path(hls_model.config.get_output_dir())
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} if root.is_dir() else None
    try:
        yield
    finally:
        if before is not None:
            for p in [p for p in root.rglob("*") if p.is_file()]:
                if p not in before:
                    p.unlink()
                elif p.read_bytes() != before[p]:
                    p.write_bytes(before[p])


def run_csim(hls_model, X: np.ndarray, logits_layer: str | None = None) -> CSimResult:
    """Run ``hls_model`` (compiled) on ``X``, one event at a time as hls4ml's bridge does.

    With ``logits_layer`` the model is run with hls4ml's tracing (the layer must have ``Trace: True`` in
    its config) so the logits come from the same pass as the outputs.
    """
    # float64 through hls4ml's bridge (its ``_double`` entry): the firmware's outputs come back exact up to 53
    # significant bits, where the ``_float`` entry would round a wide type (ap_fixed<35,25>, say) to float32's 24
    # and disagree with the project's own testbench, which prints every digit. The events are float32 values, so
    # the firmware sees the same inputs either way.
    if not hasattr(hls_model, "get_input_variables"):
        raise InputError(
            f"run_csim needs a compiled hls4ml model (project.hls_model), got {type(hls_model).__name__}"
        )
    X = check_model_inputs([v.shape for v in hls_model.get_input_variables()], X)
    X = [x.astype(np.float64) for x in X] if isinstance(X, list) else X.astype(np.float64)
    n = n_events(X)
    out_vars = hls_model.get_output_variables()
    out_shape = (n, *tuple(int(d) for d in out_vars[0].shape)) if len(out_vars) == 1 else (n, -1)
    t0 = time.perf_counter()
    logits = None
    with contextlib.redirect_stdout(io.StringIO()) as captured:
        try:
            if logits_layer is None:
                outputs = hls_model.predict(X)
            else:  # trace() rewrites the firmware with its trace hooks and compiles it: through our cache
                hls_model.compile = functools.partial(compile_cached, hls_model)
                try:
                    with _project_kept(hls_model):
                        outputs, traces = hls_model.trace(X)
                finally:
                    del hls_model.compile
                logits = np.asarray(traces[logits_layer]).reshape(n, -1)
        except Exception as err:  # hls4ml raises bare Exceptions and prints the compiler's output
            raise HLSError(
                f"the C simulation failed ({err}); hls4ml said:\n{captured.getvalue()[-3000:]}"
            ) from err
    seconds = time.perf_counter() - t0
    log.debug("hls4ml: %s", captured.getvalue().strip())
    outputs = side_by_side(outputs, n).reshape(out_shape)
    return CSimResult(outputs=outputs, logits=logits, seconds=seconds)
