"""``triggernn rtl PROJECT`` / ``tn.rtl(project)``: Verilog beside the HLS project, proven equal to its C simulation.

From the compiled project's hls4ml graph and types (those :func:`triggernn.emulate` reads), the firmware is traced
with alkaid (:mod:`.trace`) into adder graphs, pipelined for the clock period (II = 1) and written as a Verilog
project in ``<project>/rtl/`` (staged and moved into place whole). Verilator compiles that Verilog; every test
event goes through it and each output is compared with the C simulation of the same project and with the
emulator. Yosys then synthesizes it for an UltraScale+ part (:mod:`.synth`): LUT, FF, CARRY, DSP counts without a
Vivado licence, beside triggernn's estimate and alkaid's own cost. ``build_vivado_prj.tcl`` is written too.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..errors import HLSError, InputError
from ..inputs import Events
from ..outputs import staged_dir
from ..records import write_json
from .synth import SynthResult, synthesize_rtl
from .trace import NotTraced, TracedModel, trace_graph

__all__ = ["RTLResult", "rtl", "test_inputs"]

log = logging.getLogger(__name__)

#: Test inputs a run records beside its project (the whole test set, on the input grid), read by ``rtl``.
TEST_INPUTS = Path("tb_data") / "test_inputs.npy"


@dataclass
class RTLResult:
    """What ``rtl`` made: the Verilog project, its pipeline, the comparison with C-sim, the synthesis."""

    path: Path
    top: str
    clock_period: float
    latency_cycles: int
    alkaid_cost: float
    """alkaid's own estimate of the logic, in LUTs."""
    reg_bits: int
    events: int
    inputs_from: str
    exact_vs_csim: float | None = None
    max_diff_vs_csim: float | None = None
    exact_vs_emulator: float | None = None
    compared_node: str = ""
    dropped: list[str] = field(default_factory=list)
    simulator: str = ""
    synthesis: SynthResult | None = None
    estimate: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Every output of every event equal to the C simulation's (and the emulator's, where it ran)."""
        return self.exact_vs_csim == 1.0 and self.exact_vs_emulator in (None, 1.0)

    @property
    def latency_ns(self) -> float:
        return self.latency_cycles * self.clock_period

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if k not in ("synthesis", "path")}
        return {**d, "path": str(self.path), "passed": self.passed, "latency_ns": self.latency_ns,
                "synthesis": self.synthesis.to_dict() if self.synthesis else None}  # fmt: skip

    def summary(self) -> list[str]:
        verdict = "PASS" if self.passed else ("FAIL" if self.exact_vs_csim is not None else "not simulated")
        lines = [f"== RTL {self.top}: {verdict}", f"verilog        {self.path / 'src'}"]
        if self.exact_vs_csim is not None:
            emu = f", emulator {self.exact_vs_emulator:.4%}" if self.exact_vs_emulator is not None else ""
            lines.append(
                f"bit-exact      {self.exact_vs_csim:.4%} of {self.events} events ({self.inputs_from}) on "
                f"'{self.compared_node}', Verilator vs C-sim (largest difference {self.max_diff_vs_csim:g}){emu}"
            )
        if self.dropped:
            lines.append(f"left out       {', '.join(self.dropped)} (the RTL outputs the logits before it)")
        lines.append(
            f"pipeline       {self.latency_cycles} cycles = {self.latency_ns:g} ns at {self.clock_period:g} ns, "
            "II = 1"
        )
        est = self.estimate
        rows = [("LUT", "lut"), ("FF", "ff"), ("DSP", "dsp"), ("CARRY", "carry"), ("SRL", "srl")]
        s = self.synthesis
        head = f"{'':<15}{'yosys':>10}{'alkaid':>10}{'triggernn est.':>16}"
        lines.append(head)
        for name, key in rows:
            real = getattr(s, key) if s else "-"
            alk = (
                f"{self.alkaid_cost:,.0f}" if key == "lut" else ("-" if key != "ff" else f"{self.reg_bits:,}")
            )
            ours = {"lut": f"{est.get('lut_multipliers', '-')} mult.", "dsp": est.get("dsp", "-")}.get(
                key, "-"
            )
            lines.append(
                f"{name:<15}{real if isinstance(real, str) else f'{real:,}':>10}{alk:>10}{ours!s:>16}"
            )
        if est:
            lines.append(
                f"{'latency':<15}{self.latency_cycles:>10}{'':>10}{str(est.get('latency_cycles')) + ' cycles':>16}"
            )
        if s:
            where = " (cached)" if s.cached else ""
            split = f", {s.parts} parts ({s.cpu_seconds:g} s of Yosys)" if s.parts > 1 else ""
            lines.append(f"synthesis      {s.tool}, {s.seconds:g} s{where}{split}")
        return lines


def _graph_of(project) -> tuple[Any, Path]:
    """(hls4ml graph with layers, project folder) of an HLSProject or a project folder on disk."""
    if getattr(project, "has_layer_graph", True) is False:  # a project emitted elsewhere: files only
        raise InputError(
            f"{project.path} has no recorded model (emitted by another tool): the RTL path needs its layers; emit it "
            "with triggernn"
        )
    graph = getattr(project, "hls_model", None)
    if graph is not None:
        return graph, Path(project.path)
    if isinstance(project, str | os.PathLike):
        from ..hls.link import read_graph

        path = Path(project).absolute()
        return read_graph(path), path
    raise InputError(
        f"rtl() takes an HLSProject (triggernn.run / compile / emit) or a project folder, got {type(project).__name__}"
    )


def test_inputs(project: Path) -> tuple[np.ndarray, str]:
    """The inputs ``rtl`` checks by default: the test set a run recorded (``tb_data/test_inputs.npy``), else
    the testbench's events."""
    recorded = project / TEST_INPUTS
    if recorded.is_file():
        X = np.load(recorded)
        return X, f"the run's {len(X):,} test events"
    tb = project / "tb_data" / "tb_input_features.dat"
    if tb.is_file():
        X = np.loadtxt(tb, ndmin=2, dtype=np.float64)
        return X, f"the testbench's {len(X):,} events"
    raise InputError(f"{project} records no test inputs (no {TEST_INPUTS} or tb_data): pass --data FILE")


def _simulate(model, traced: TracedModel, X: np.ndarray) -> np.ndarray:
    Xg = traced.cast_inputs(X)
    out = model.predict(Xg, n_threads=1)
    return np.asarray(out, dtype=np.float64).reshape(len(X), -1)


def _reference(graph, project: Path, traced: TracedModel, X: np.ndarray):
    """(C-sim outputs of the traced node, emulator outputs or None) for ``X``."""
    from ..emulation.graph import build_numpy_model
    from ..emulation.layers import NotEmulated
    from ..hls.csim import run_csim
    from ..inputs import side_by_side, split

    logits = traced.output_node if traced.dropped else None
    X = split(X, traced.input_shapes) if len(traced.input_shapes) > 1 else X
    cs = run_csim(graph, X, logits)
    n = len(cs.outputs)
    csim = np.asarray(cs.compared, dtype=np.float64).reshape(n, -1)
    try:
        numpy_model = build_numpy_model(graph, project)
    except NotEmulated:
        return csim, None
    out, kept = numpy_model(X, keep=(logits,) if logits else ())
    emu = kept[logits] if logits else side_by_side(out, n).reshape(n, -1)
    return csim, np.asarray(emu, dtype=np.float64)


def _cannot_meet(cutoff: float, clock: float) -> NoReturn:
    raise InputError(
        f"a latency cutoff of {cutoff:g} ns of logic per stage cannot run at a {clock:g} ns clock: pass a cutoff "
        "at most the period (default: the period)"
    )


def _ends_in_softmax(graph) -> bool:
    """Whether the firmware's last layer is a softmax (what ``keep_softmax`` keeps in the RTL)."""
    layers = [node for node in graph.get_layers() if node.class_name != "Input"]
    return bool(layers) and (
        layers[-1].class_name == "Softmax" or str(layers[-1].get_attr("activation", "")).lower() == "softmax"
    )


def rtl(
    project,
    X: Events | None = None,
    *,
    clock_period: float | None = None,
    latency_cutoff: float | None = None,
    simulate: bool = True,
    synthesize: bool = True,
    synth_timeout_s: float = 3600,
    synth_jobs: int | None = None,
    keep_softmax: bool = False,
    force: bool = False,
) -> RTLResult:
    """Write, simulate and synthesize the RTL of ``project`` (see the module docs); returns an :class:`RTLResult`.

    ``X``: the events to check (default :func:`test_inputs`). ``clock_period`` (ns; default the project's)
    sets the pipeline: stages of at most ``latency_cutoff`` ns of alkaid's delay model (default the period).
    ``synth_jobs``: Yosys processes at once, one pipeline stage each (default: the machine's cores).
    Raises :class:`HLSError` naming a layer the RTL path does not reproduce, before anything is written.
    """
    from alkaid.codegen.rtl.rtl_model import RTLModel

    from ..hls.estimate import estimate
    from ..validate import MIN_CLOCK_NS, number

    if clock_period is not None:
        clock_period = number(clock_period, "clock_period (ns)", low=MIN_CLOCK_NS, high=1000,
                              fix=f"{MIN_CLOCK_NS:g} ns (1 GHz) is beyond any FPGA fabric; periods are in ns")  # fmt: skip
    if latency_cutoff is not None:
        latency_cutoff = number(latency_cutoff, "latency_cutoff (ns)", low=0, low_open=True, high=1000)
    number(
        synth_timeout_s, "synth_timeout_s", low=0, low_open=True, high=7 * 24 * 3600, fix="seconds, e.g. 3600"
    )
    if synth_jobs is not None:
        synth_jobs = int(
            number(synth_jobs, "synth_jobs", low=1, integer=True, fix="the Yosys processes at once")
        )
    if X is not None and not simulate:
        raise InputError("events to check were given with the simulation off: drop --data, or drop --no-sim")
    if clock_period is not None and latency_cutoff is not None and latency_cutoff > clock_period:
        _cannot_meet(latency_cutoff, clock_period)
    graph, path = _graph_of(project)
    clock = float(clock_period or graph.config.get_config_value("ClockPeriod") or 5.0)
    cutoff = float(latency_cutoff or clock)
    if cutoff > clock:
        _cannot_meet(cutoff, clock)
    if keep_softmax and not _ends_in_softmax(graph):
        raise InputError("--keep-softmax: this firmware has no final softmax to keep; drop the flag")
    if str(graph.config.get_config_value("IOType")) != "io_parallel":
        log.info("the RTL is fully parallel (II = 1) whatever the HLS project's io_type")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    try:
        traced = trace_graph(graph, keep_softmax=keep_softmax, project=path)
    except NotTraced as err:
        raise HLSError(f"the RTL path cannot reproduce this firmware: {err}") from None
    seconds["trace"] = time.perf_counter() - t0
    top = graph.config.get_project_name()
    inputs_from = "given events"
    if simulate:
        if X is None:
            X, inputs_from = test_inputs(path)
        from ..hls.csim import check_inputs
        from ..inputs import flat

        X = check_inputs(
            traced.input_shape, flat(X) if isinstance(X, list | tuple) else X, "the RTL test inputs"
        )
    final = path / "rtl"
    with staged_dir(final, what="RTL folder", force=force, flag=None) as stage:
        t0 = time.perf_counter()
        model = RTLModel(traced.comb, stage.path, prj_name=top, latency_cutoff=cutoff, clock_period=clock,
                         part_name=str(graph.config.get_config_value("Part")), print_latency=False)  # fmt: skip
        meta = {
            "triggernn": "written by triggernn rtl",
            "dropped": traced.dropped,
            "output": traced.output_node,
        }
        res = RTLResult(
            path=final, top=top, clock_period=clock, latency_cycles=int(model.latency or 0),
            alkaid_cost=float(traced.comb.cost), reg_bits=int(model.reg_bits), events=0,
            inputs_from=inputs_from, compared_node=traced.output_node, dropped=traced.dropped,
            estimate=estimate(graph)["totals"], seconds=seconds,
        )  # fmt: skip
        if simulate:
            from .tools import verilator_on_path

            with verilator_on_path() as found, contextlib.redirect_stdout(io.StringIO()):
                model.compile(metadata=meta, openmp=False)
            res.simulator = f"Verilator: {found}"
            seconds["verilator_build"] = time.perf_counter() - t0
            assert X is not None
            t0 = time.perf_counter()
            out = _simulate(model, traced, X)
            seconds["verilator_run"] = time.perf_counter() - t0
            csim, emu = _reference(graph, path, traced, X)
            res.events = len(X)
            res.exact_vs_csim = float(
                np.mean(np.all(out.astype(np.float64) == csim.astype(np.float64), axis=1))
            )
            res.max_diff_vs_csim = float(np.max(np.abs(out - csim)))
            if emu is not None:
                res.exact_vs_emulator = float(np.mean(np.all(out == emu, axis=1)))
        else:
            model.write(metadata=meta)
        if synthesize:
            res.synthesis = synthesize_rtl(stage.path, top, timeout_s=synth_timeout_s, jobs=synth_jobs)
        res.seconds = {k: round(v, 2) for k, v in seconds.items()}
        write_json(stage.path / "rtl_report.json", res.to_dict(), indent=1)
    return res
