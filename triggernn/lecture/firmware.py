"""Compile a lecture model with hls4ml and C-simulate it: the same :func:`triggernn.hls.emit` as the pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..config import load_config
from ..hls import HLSProject, emit

__all__ = ["compile_model"]


def compile_model(
    model,
    name: str,
    X: np.ndarray,
    project_root: str | Path,
    *,
    input_type: str = "ap_fixed<16,6>",
    precision: dict[str, dict[str, str]] | None = None,
) -> HLSProject:
    """Emit ``model`` to ``project_root/name`` (io_parallel, Latency), C-simulate ``X`` and write ``X`` and the
    Keras outputs as the project's testbench data. ``X`` must already lie on the grid of ``input_type``.
    The C-sim outputs are in ``project.csim.outputs``."""
    cfg = load_config(
        {
            "name": name,
            "quantization": {"input": input_type},
            "hls": {"tb_events": len(X), "precision": precision or {}},
        }
    )
    keras_out = model.predict(X, verbose=0)
    return emit(model, cfg, Path(project_root) / name, tb_inputs=X, tb_outputs=keras_out, csim_inputs=X)
