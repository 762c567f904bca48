"""Open-source RTL beside the HLS project: alkaid's adder graphs as Verilog, Verilator against C-sim, Yosys."""

from .build import RTLResult, rtl, test_inputs
from .synth import SynthResult, synthesize_rtl
from .tools import ToolError
from .trace import NotTraced, TracedModel, trace_graph

__all__ = [
    "NotTraced",
    "RTLResult",
    "SynthResult",
    "ToolError",
    "TracedModel",
    "rtl",
    "synthesize_rtl",
    "test_inputs",
    "trace_graph",
]
