"""Yosys ``synth_xilinx`` of the RTL for an UltraScale+ part: real LUT, FF, CARRY, DSP, SRL and BRAM counts
without a Vivado licence. Out of context (no I/O buffers).

alkaid writes one module per pipeline stage (``logic0``, ``logic1``, ...: the combinational logic between two
register banks) and a top module chaining them through registers. Each stage is synthesized, flattened, with
the register bank in front of it (the last one also with the output register) in its own Yosys process
(``jobs`` at a time, largest first), and cached by the hash of its own Verilog, so a large design uses every
core and a run that timed out or was stopped resumes from the stages already done. The counts are summed.
One flattened run of the whole design (``split=False``; the only way for a top that is not such a chain)
can do two things the split cannot: remove logic whose result the next stage does not read, and pack a value
carried unchanged through several stages into shift registers (SRL) instead of flip-flops; on the
16-64-32-32-5 tagger the two agree to a few per cent (docs/rtl.md), and the split runs in a fraction of the
time on designs where one flat run takes hours.

Yosys maps to the device's primitives but neither places nor routes, and optimizes differently from Vivado:
its counts are an open-source measurement of the same logic, not Vivado's post-synthesis figures, and there is
no timing here; the latency in cycles is the pipeline alkaid built for the clock period.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .tools import ToolError, yosys_command

__all__ = ["SYNTH_SCRIPT", "SynthResult", "synthesize_rtl"]

log = logging.getLogger(__name__)

#: One Yosys run, flattened: a stage with its input register bank, or a whole design. ``{options}``:
#: ``-nodsp`` where the Verilog instantiates no ``multiplier`` (alkaid's adder graphs have no products for a
#: DSP to take), ``-nosrl`` for a stage (one register bank: no chain of flip-flops to pack into a shift
#: register); Yosys' DSP- and SRL-packing passes alone took minutes each over a wide register bank.
SYNTH_SCRIPT = (
    "read_verilog {sources}; synth_xilinx -family xcup -top {top} -flatten -noiopad -noclkbuf{options}; "
    "tee -q -o {stat} stat -json"
)
_MULTIPLIER = re.compile(rb"\bmultiplier\s*#\s*\(")

#: A stage and the register bank in front of it (the last stage: and the output register behind it), as the
#: top module connects them; unused register bits are removed by Yosys as in the whole design.
_STAGE_WRAPPER = """module triggernn_{module} (input clk, input [{w_in}:0] d, output [{w_out}:0] q);
    reg [{w_in}:0] r;
    wire [{w_out}:0] o;
    always @(posedge clk) r <= d;
    {module} u (.model_inp(r), .model_out(o));
{tail}endmodule
"""
_LAST_TAIL = """    reg [{w_out}:0] r_out;
    always @(posedge clk) r_out <= o;
    assign q = r_out;
"""


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
    """Wall time of this call (0 when every part came from the cache)."""
    tool: str
    cells: dict[str, int] = field(default_factory=dict)
    cached: bool = False
    parts: int = 1
    """Yosys runs the counts are summed over: the pipeline stages, or 1 for one flat run."""
    cpu_seconds: float = 0.0
    """Yosys time summed over the parts, cached ones at the time they took when run."""

    def to_dict(self) -> dict:
        return asdict(self)


def _count(cells: dict[str, int], *prefixes: str) -> int:
    return sum(n for name, n in cells.items() if name.startswith(prefixes))


def _result(cells: dict[str, int], seconds: float, tool: str, **more) -> SynthResult:
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
        **more,
    )


@dataclass
class _Part:
    """One Yosys run: its top module, the files it reads, and where its result is cached."""

    module: str
    sources: list[Path]
    stage: bool = False

    def key(self, version: str) -> str:
        h = hashlib.sha256(f"{version}\n{SYNTH_SCRIPT}\n{self.module}\n{self.stage}\n".encode())
        for p in self.sources:
            h.update(p.name.encode() + b"\0" + p.read_bytes())
        return h.hexdigest()[:24]


def _stage_wrappers(top_file: Path, others: list[Path], out: Path) -> list[_Part] | None:
    """The stages of alkaid's pipeline, each wrapped with its register bank (see :data:`_STAGE_WRAPPER`); the
    other files (lookup tables) go with every stage. None unless the top module is the plain chain
    ``reg -> stage -> reg`` this expects."""
    text = top_file.read_text()
    feeds = dict(re.findall(r"assign INTERNAL_(\w+)_inp\[\d+:0\] = (\w+)\[\d+:0\];", text))
    regs = set(re.findall(r"^\s*reg \[\d+:0\] (\w+);", text, re.M))
    last = re.findall(r"model_out\[\d+:0\] <= INTERNAL_(\w+)_outp\[\d+:0\];", text)
    stages = [p for p in others if p.stem in feeds]
    if (
        not stages
        or {p.stem for p in stages} != set(feeds)
        or not set(feeds.values()) <= regs
        or len(last) != 1
    ):
        return None
    out.mkdir(parents=True, exist_ok=True)
    shared = sorted((top_file.parent / "static").glob("*.v")) + [p for p in others if p.stem not in feeds]
    parts = []
    for p in sorted(stages, key=lambda p: -p.stat().st_size):  # largest first
        head = p.read_text()[:2000]
        w_in = re.search(r"input \[(\d+):0\] model_inp", head)
        w_out = re.search(r"output \[(\d+):0\] model_out", head)
        if w_in is None or w_out is None:
            return None
        fmt = {"module": p.stem, "w_in": w_in.group(1), "w_out": w_out.group(1)}
        tail = _LAST_TAIL.format(**fmt) if p.stem == last[0] else "    assign q = o;\n"
        wrapper = out / f"triggernn_{p.stem}.v"
        wrapper.write_text(_STAGE_WRAPPER.format(**fmt, tail=tail))
        parts.append(_Part(f"triggernn_{p.stem}", [*shared, p, wrapper], stage=True))
    return parts


def _parts(rtl_dir: Path, top: str, split: bool) -> list[_Part]:
    src = rtl_dir / "src"
    static = sorted((src / "static").glob("*.v"))
    own = sorted(p for p in src.glob("*.v") if p.name != f"{top}_wrapper.v")
    if not own:
        raise ToolError(f"no Verilog under {src}: write the RTL first (triggernn rtl PROJECT)")
    others = [p for p in own if p.stem != top]
    top_file = src / f"{top}.v"
    if split and others and top_file.is_file():
        parts = _stage_wrappers(top_file, others, rtl_dir / "synth" / "stages")
        if parts:
            return parts
    return [_Part(top, static + own)]


class _Yosys:
    """The Yosys processes of one synthesis, so that a failure, a timeout or Ctrl-C stops every one of them
    (the pool would otherwise wait for the running stages and start the queued ones)."""

    def __init__(self, cmd: list[str], out: Path, deadline: float) -> None:
        self.cmd, self.out, self.deadline = cmd, out, deadline
        self.procs: set[subprocess.Popen] = set()
        self.stopped = False
        self.lock = threading.Lock()

    def stop(self) -> None:
        with self.lock:
            self.stopped = True
            for proc in self.procs:
                proc.kill()

    def run(self, part: _Part) -> dict:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise subprocess.TimeoutExpired(self.cmd, 0)
        out = self.out
        stat = out / f"{part.module}.stat.json"
        products = any(_MULTIPLIER.search(p.read_bytes()) for p in part.sources if p.parent.name != "static")
        options = ("" if products else " -nodsp") + (" -nosrl" if part.stage else "")
        # sources quoted (a project path may hold spaces); the report written in the working folder, by name
        script = SYNTH_SCRIPT.format(sources=" ".join(f'"{p.resolve()}"' for p in part.sources),
                                     top=part.module, stat=stat.name, options=options)  # fmt: skip
        t0 = time.perf_counter()
        with self.lock:
            if self.stopped:
                raise ToolError("stopped")
            proc = subprocess.Popen([*self.cmd, "-q", "-l", str((out / f"{part.module}.log").resolve()), "-p",
                                     script], cwd=out, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)  # fmt: skip
            self.procs.add(proc)
        try:
            stdout, stderr = proc.communicate(timeout=left)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
        finally:
            with self.lock:
                self.procs.discard(proc)
        if proc.returncode != 0 or not stat.is_file():
            raise ToolError(
                f"Yosys failed on {part.module} (see {out / (part.module + '.log')}): {(stderr or stdout)[-800:]}"
            )
        cells = json.loads(stat.read_text())["design"].get("num_cells_by_type", {})
        return {"cells": cells, "seconds": time.perf_counter() - t0}


def synthesize_rtl(
    rtl_dir: str | Path,
    top: str,
    *,
    timeout_s: float = 3600,
    jobs: int | None = None,
    cache: Path | None = None,
    progress: bool | None = None,
    split: bool = True,
) -> SynthResult:
    """Synthesize the Verilog under ``rtl_dir/src`` (top module ``top``) with Yosys, stage by stage (see the
    module docs), ``jobs`` Yosys processes at a time (default: the machine's cores); logs and reports go to
    ``rtl_dir/synth/``. Parts synthesized before (same Verilog, same Yosys) are read from the cache.
    ``timeout_s`` bounds the wall time of the whole synthesis; ``split=False`` synthesizes the whole design
    flattened in one Yosys run instead (slow beyond ~50k LUT; for comparisons)."""
    from tqdm.auto import tqdm

    from ..hls.build_cache import cache_root

    rtl_dir = Path(rtl_dir)
    cmd = yosys_command()
    version = subprocess.run([*cmd, "-V"], capture_output=True, text=True, timeout=120).stdout.strip()
    parts = _parts(rtl_dir, top, split)
    root = cache or cache_root() / "yosys"
    out = rtl_dir / "synth"
    out.mkdir(parents=True, exist_ok=True)
    done: dict[str, dict] = {}
    todo: list[tuple[_Part, Path]] = []
    for part in parts:
        cached = root / part.key(version) / "result.json"
        if cached.is_file():
            done[part.module] = json.loads(cached.read_text())
        else:
            todo.append((part, cached))
    t0 = time.perf_counter()
    yosys = _Yosys(cmd, out, time.monotonic() + timeout_s)
    workers = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    bar = tqdm(total=len(parts), initial=len(done), desc="yosys", unit="stage",
               disable=(None if progress is None else not progress) if len(parts) > 1 else True)  # fmt: skip
    pool = ThreadPoolExecutor(workers)
    try:
        futures = {pool.submit(yosys.run, part): (part, cached) for part, cached in todo}
        for fut in as_completed(futures):
            part, cached = futures[fut]
            try:
                done[part.module] = res = fut.result()
            except subprocess.TimeoutExpired:
                raise ToolError(
                    f"Yosys did not finish within {timeout_s:.0f} s ({len(done)} of {len(parts)} parts done "
                    "and cached, a rerun resumes): raise rtl.synth_timeout_s, or pass --no-synth"
                ) from None
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_name(f"result.{time.time_ns()}")
            tmp.write_text(json.dumps(res))
            tmp.replace(cached)
            log.info("yosys: %s done in %.0f s", part.module, res["seconds"])
            bar.update()
    except BaseException:  # a failure, the timeout or Ctrl-C: no stage goes on running or starts
        yosys.stop()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    total: Counter[str] = Counter()
    for part in parts:
        total.update(done[part.module]["cells"])
    res = _result(dict(total), time.perf_counter() - t0 if todo else 0.0, version, cached=not todo,
                  parts=len(parts), cpu_seconds=round(sum(d["seconds"] for d in done.values()), 1))  # fmt: skip
    (out / "utilization.json").write_text(json.dumps(res.to_dict(), indent=1) + "\n")
    return res
