"""``triggernn synth``: hls4ml's C synthesis of an emitted project when Vitis HLS or Vivado HLS is installed,
its report's numbers beside triggernn's estimates; without the tools, a message saying what is needed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..errors import HLSError

__all__ = ["NEEDS", "find_hls_tool", "synthesize"]

NEEDS = (
    "synthesis needs AMD Vitis HLS (`vitis_hls`) or Vivado HLS (`vivado_hls`) on PATH, and neither is: install "
    "Vitis HLS, `source <Vitis>/settings64.sh`, and run this again. "
    "Until then the estimates (labelled as such, no synthesis) are in runs/<name>/report.html and under "
    "'estimate' in runs/<name>/metrics.json"
)


def find_hls_tool() -> str | None:
    """``vitis_hls`` or ``vivado_hls``, whichever is on PATH (Vitis first), else None."""
    for tool in ("vitis_hls", "vivado_hls"):
        if shutil.which(tool):
            return tool
    return None


def synthesize(project: str | Path, run_dir: str | Path | None = None) -> dict:
    """C-synthesize ``project`` with hls4ml's build and return ``{"synthesis": ..., "estimate": ...}``.

    Raises :class:`HLSError` with :data:`NEEDS` when no HLS tool is installed.
    """
    from ..errors import InputError
    from .emit import project_folder

    project = project_folder(project)  # the inputs first: a wrong path is said before a missing tool
    if run_dir is not None and not (Path(run_dir) / "metrics.json").is_file():
        raise InputError(
            f"'{run_dir}' is not a run folder (no metrics.json in it): pass the folder `triggernn run` wrote for this "
            "project (--run runs/<name>), or leave --run out"
        )
    if find_hls_tool() is None:
        raise HLSError(NEEDS)
    from hls4ml.report import parse_vivado_report

    from .link import link_project

    graph = link_project(project)._graph
    graph.build(csim=False, synth=True, export=False)
    report = parse_vivado_report(str(project)) or {}
    synth = report.get("CSynthesisReport", {})
    estimate = None
    metrics = Path(run_dir) / "metrics.json" if run_dir else None
    if metrics and metrics.is_file():
        estimate = json.loads(metrics.read_text()).get("estimate", {}).get("totals")
    return {"synthesis": synth, "estimate": estimate}
