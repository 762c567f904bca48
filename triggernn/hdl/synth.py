"""Yosys ``synth_xilinx`` of the RTL for an UltraScale+ part: real LUT, FF, CARRY, DSP, SRL and BRAM counts
without a Vivado licence. Out of context (no I/O buffers), flattened; results cached by the Verilog's hash.

Yosys maps to the device's primitives but neither places nor routes, and optimizes differently from Vivado:
its counts are an open-source measurement of the same logic, not Vivado's post-synthesis figures, and there is
no timing here; the latency in cycles is the pipeline alkaid built for the clock period.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .tools import ToolError, yosys_command

__all__ = ["SYNTH_SCRIPT", "SynthResult", "synthesize_rtl"]

#: The Yosys script; ``{top}`` is the pipelined module (the wrapper only flattens ports for simulation).
SYNTH_SCRIPT = (
    "read_verilog {sources}; synth_xilinx -family xcup -top {top} -flatten -noiopad -noclkbuf; "
    "tee -q -o {stat} stat -json"
)


@dataclass
class SynthResult:
    """Cell counts of one synthesis, by kind, and the Yosys cell types behind them."""

    lut: int
    ff: int
    carry: int
    dsp: int
    srl: int
    bram: int
    seconds: float
    tool: str
    cells: dict[str, int] = field(default_factory=dict)
    cached: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


def _count(cells: dict[str, int], *prefixes: str) -> int:
    return sum(n for name, n in cells.items() if name.startswith(prefixes))


def _result(cells: dict[str, int], seconds: float, tool: str) -> SynthResult:
    return SynthResult(
        lut=_count(cells, "LUT"),
        ff=_count(cells, "FD"),
        carry=_count(cells, "CARRY"),
        dsp=_count(cells, "DSP"),
        srl=_count(cells, "SRL"),
        bram=_count(cells, "RAMB"),
        seconds=round(seconds, 1),
        tool=tool,
        cells=dict(sorted(cells.items())),
    )


def _sources(rtl_dir: Path, top: str) -> list[Path]:
    src = rtl_dir / "src"
    files = sorted((src / "static").glob("*.v")) + sorted(
        p for p in src.glob("*.v") if p.name != f"{top}_wrapper.v"
    )
    if not files:
        raise ToolError(f"no Verilog under {src}: write the RTL first (triggernn rtl PROJECT)")
    return files


def synthesize_rtl(
    rtl_dir: str | Path, top: str, *, timeout_s: float = 3600, cache: Path | None = None
) -> SynthResult:
    """Synthesize the Verilog under ``rtl_dir/src`` (top module ``top``) with Yosys; the report and log go to
    ``rtl_dir/synth/``. A design synthesized before (same sources, same Yosys) is read from the cache."""
    from ..hls.build_cache import cache_root

    rtl_dir = Path(rtl_dir)
    cmd = yosys_command()
    version = subprocess.run([*cmd, "-V"], capture_output=True, text=True, timeout=120).stdout.strip()
    sources = _sources(rtl_dir, top)
    h = hashlib.sha256(f"{version}\n{SYNTH_SCRIPT}\n{top}\n".encode())
    for p in sources:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    cache_dir = (cache or cache_root() / "yosys") / h.hexdigest()[:24]
    out = rtl_dir / "synth"
    out.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / "result.json"
    if cached.is_file():
        res = SynthResult(**{**json.loads(cached.read_text()), "cached": True})
        (out / "utilization.json").write_text(json.dumps(res.to_dict(), indent=1) + "\n")
        return res
    stat = out / "stat.json"
    script = SYNTH_SCRIPT.format(sources=" ".join(str(p) for p in sources), top=top, stat=stat)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([*cmd, "-q", "-l", str(out / "yosys.log"), "-p", script], capture_output=True,
                              text=True, timeout=timeout_s)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise ToolError(
            f"Yosys did not finish within {timeout_s:.0f} s: raise rtl.synth_timeout_s, or pass --no-synth"
        ) from None
    if proc.returncode != 0 or not stat.is_file():
        raise ToolError(f"Yosys failed (see {out / 'yosys.log'}): {(proc.stderr or proc.stdout)[-800:]}")
    cells = json.loads(stat.read_text())["design"].get("num_cells_by_type", {})
    res = _result(cells, time.perf_counter() - t0, version)
    (out / "utilization.json").write_text(json.dumps(res.to_dict(), indent=1) + "\n")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / f"result.{time.time_ns()}"
    tmp.write_text(json.dumps(res.to_dict()))
    tmp.replace(cached)
    return res
