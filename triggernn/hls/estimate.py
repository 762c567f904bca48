"""Resource and latency estimates from the hls4ml graph, without Vivado: labelled as estimates everywhere.

Per weighted layer (Dense, Conv1D/2D, GRU/LSTM/SimpleRNN):

- **products** per event (nonzero weights x output positions x time steps) and **multipliers** after the reuse
  factor (``ceil(nonzero weights / reuse)``; one set of multipliers serves every output position of a conv
  and every time step of a recurrent layer);
- **weight and input bits**, and where Vivado is likely to put each multiplier: no multiplier for weights of
  1-2 bits (sign flips and adders), a **LUT** multiplier when ``min(bits) <= 4`` or ``w + a <= 12``, else a
  **DSP** (the rule of thumb of the hls4ml/QKeras papers: narrow products go to LUTs). A real synthesis
  decides otherwise now and then; ``triggernn synth`` puts its numbers beside these;
- **BOPs**, as in the QKeras/AutoQKeras papers (Baskin et al.): ``m n ((1 - f_p) b_w b_a + b_w + b_a +
  log2 n)`` for ``m`` outputs of ``n`` inputs each, ``f_p`` the pruned fraction;
- **initiation interval and latency** in clock cycles, as Vivado/Vitis HLS schedules hls4ml's Latency
  strategy: operations are chained within a clock period, so a dense / conv kernel takes ``reuse - 1`` cycles
  for its products plus ``ceil((T_MULT + ceil(log2 n) T_ADD) / clock)`` for a product and its adder tree, and a
  cycle for its output register; io_stream adds the stream's reads and writes (``STREAM_CYCLES``) and computes
  a conv or pooling layer one output pixel per ``reuse`` cycles (its II is ``pixels x reuse``). An io_parallel
  ReLU is chained into its neighbours (0 cycles; 2 with io_stream), a table activation takes 1, a softmax
  ``3 + ceil(ceil(log2 n) T_ADD / clock)`` (exp table, sum, inverse table, product); a recurrent layer repeats
  its kernel per time step. The model's II is the largest layer II, its latency the sum. Calibrated against
  Vivado HLS reports (docs/optimize.md, "Latency estimate"): the dense jet tagger at 5 ns, 16 cycles where the
  hls4ml tutorial's reports give 13-18; hls4ml's own report fixture (Dense 16->5 + ReLU, io_stream, 5 ns),
  9 cycles where Vivado HLS 2020.1 reports 10. The RTL of ``triggernn rtl`` (alkaid's pipeline) differs again:
  its cycles are in its own report.
"""

from __future__ import annotations

import math

from .adapter.view import NodeView, graph_views
from .cost import layer_multipliers

__all__ = ["estimate", "estimate_table"]


def _mult_kind(wbits: int, abits: int) -> str:
    if wbits <= 2:
        return "none"
    if min(wbits, abits) <= 4 or wbits + abits <= 12:
        return "LUT"
    return "DSP"


#: ns of a narrow product and of one adder level in the fabric, as HLS schedules them (the calibration above)
T_MULT, T_ADD = 2.5, 1.2
#: cycles io_stream adds to a dense / conv kernel (reading and writing its streams)
STREAM_CYCLES = 4


def _levels(n: int) -> int:
    return math.ceil(math.log2(max(2, n)))


def _kernel_latency(n_in: int, reuse: int, clock: float = 5.0) -> int:
    levels = _levels(math.ceil(n_in / reuse))
    return (reuse - 1) + math.ceil((T_MULT + levels * T_ADD) / clock) + 1


def _weighted_row(view: NodeView, io_type: str, recurrent: bool, clock: float = 5.0) -> dict:
    from ..layers.recurrent import GATES

    kind = view.kind
    out_shape = list(view.out_shape)
    if recurrent:
        rf = int(view.attr("reuse_factor") or 1)
        abits, wbits = view.width("input"), view.weight_width("weight")
        nonzero = view.nonzeros("weight") + view.nonzeros("recurrent_weight")
        size = view.weight_size("weight") + view.weight_size("recurrent_weight")
        steps = view.in_shape[0]
        per_step = GATES[kind] * int(view.attr("n_out"))  # gate outputs per time step
        n_in = size // per_step  # inputs + state, per gate output
        m, positions = per_step * steps, steps
        latency = steps * (_kernel_latency(n_in, rf, clock) + 6)
        ii = latency
    else:
        row = layer_multipliers(view)
        rf, wbits, abits = row["reuse_factor"], row["weight_bits"], row["input_bits"]
        nonzero, size = row["products"], row["size"]
        n_out = out_shape[-1]
        n_in = size // n_out
        positions = math.prod(out_shape[:-1]) if len(out_shape) > 1 else 1
        m = n_out * positions
        kernel = _kernel_latency(n_in, rf, clock) + (STREAM_CYCLES if io_type == "io_stream" else 0)
        if io_type == "io_stream" and positions > 1:
            ii = positions * rf
            latency = ii + kernel
        else:
            ii = rf if positions == 1 else positions * rf  # io_parallel convs loop over pixels too
            latency = kernel if positions == 1 else ii + kernel
    pruned = 1 - nonzero / size if size else 0.0
    mults = math.ceil(nonzero / rf)
    where = _mult_kind(wbits, abits)
    return {
        "layer": view.name,
        "kind": kind,
        "products": nonzero * positions,
        "reuse_factor": rf,
        "multipliers": mults if where != "none" else 0,
        "weight_bits": wbits,
        "input_bits": abits,
        "multiplier_kind": where,
        "dsp": mults if where == "DSP" else 0,
        "lut_multipliers": mults if where == "LUT" else 0,
        "bops": round(m * n_in * ((1 - pruned) * wbits * abits + wbits + abits + math.log2(max(n_in, 2)))),
        "pruned": pruned,
        "ii": ii,
        "latency": latency,
    }


def _other_row(view: NodeView, io_type: str, clock: float = 5.0) -> dict:
    kind, shape = view.kind, list(view.out_shape)
    pixels = math.prod(shape[:-1]) if len(shape) > 1 else 1
    act = view.text("activation")
    stream = io_type == "io_stream"
    if kind == "Softmax" or act == "softmax":
        latency = 3 + math.ceil(_levels(shape[-1]) * T_ADD / clock)
    elif kind in ("Reshape", "Repack", "Flatten", "Transpose", "Input", "InputLayer"):
        latency = 0
    elif act in ("relu", "linear") or kind in ("ReLU", "FixedPointQuantizer"):
        latency = 2 if stream else 0  # chained into its neighbours in io_parallel
    else:
        latency = 1
    ii = pixels if io_type == "io_stream" and pixels > 1 and latency else 1
    return {"layer": view.name, "kind": kind, "ii": ii, "latency": latency + (ii - 1 if ii > 1 else 0)}


def estimate(hls_model) -> dict:
    """Per-layer rows and model totals (see the module docs); every number an estimate, no synthesis."""
    from ..layers import kind_of

    io_type = str(hls_model.config.get_config_value("IOType") or "io_parallel")
    clock = float(hls_model.config.get_config_value("ClockPeriod") or 5.0)
    rows, other = [], []
    for view in graph_views(hls_model).nodes:
        kind = kind_of(view.kind)
        if kind is not None and kind.weighted:
            rows.append(_weighted_row(view, io_type, kind.recurrent, clock))
        else:
            other.append(_other_row(view, io_type, clock))
    every = rows + other
    latency = sum(r["latency"] for r in every)
    totals = {
        "multipliers": sum(r["multipliers"] for r in rows),
        "dsp": sum(r["dsp"] for r in rows),
        "lut_multipliers": sum(r["lut_multipliers"] for r in rows),
        "bops": sum(r["bops"] for r in rows),
        "bit_weighted_multipliers": sum(r["multipliers"] * r["weight_bits"] * r["input_bits"] for r in rows),
        "ii": max((r["ii"] for r in every), default=1),
        "latency_cycles": latency,
        "latency_ns": latency * clock,
        "clock_period_ns": clock,
        "io_type": io_type,
    }
    return {"layers": rows, "totals": totals, "note": "estimates from the hls4ml graph (no synthesis)"}


def estimate_table(est: dict) -> tuple[list[str], list[list]]:
    """(header, rows) for the reports: one row per weighted layer and a total row."""
    header = [
        "layer",
        "kind",
        "products",
        "reuse",
        "multipliers",
        "w x a bits",
        "in",
        "BOPs",
        "II",
        "latency",
    ]
    rows = [
        [r["layer"], r["kind"], f"{r['products']:,}", r["reuse_factor"], f"{r['multipliers']:,}",
         f"{r['weight_bits']} x {r['input_bits']}", r["multiplier_kind"], f"{r['bops']:,}", r["ii"], r["latency"]]
        for r in est["layers"]
    ]  # fmt: skip
    t = est["totals"]
    rows.append(
        ["total (estimate)", t["io_type"], "", "", f"{t['multipliers']:,}",
         f"{t['dsp']} DSP, {t['lut_multipliers']} LUT", "", f"{t['bops']:,}", t["ii"],
         f"{t['latency_cycles']} cycles = {t['latency_ns']:.0f} ns"]
    )  # fmt: skip
    return header, [[str(c) for c in r] for r in rows]
