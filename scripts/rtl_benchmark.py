"""RTL benchmark: each model trained, emitted, verified, then traced to Verilog (alkaid), checked by Verilator on
the whole test set and synthesized by Yosys for UltraScale+; one table, real counts beside the estimates and
the hls4ml tutorial's published HLS figures (docs/rtl.md).

    python scripts/rtl_benchmark.py                       # jet_dense, jet_dense_pruned75, jet_cnn
    python scripts/rtl_benchmark.py --models mnist_dense  # large: Yosys may take hours on a laptop
    python scripts/rtl_benchmark.py --models mnist_cnn --trace-only   # the Verilog and alkaid's cost only

Results go to runs/rtl_benchmark/ (one run folder per model, and table.md).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

ROOT = Path(__file__).parents[1]

#: name -> (config, overrides)
MODELS = {
    "jet_dense": ("jet_dense.yaml", {}),
    "jet_dense_pruned75": ("jet_dense.yaml", {"train": {"sparsity": 0.75}}),
    "jet_cnn": ("jet_cnn.yaml", {}),
    "mnist_dense": ("mnist_dense.yaml", {}),
    "mnist_cnn": ("mnist_cnn.yaml", {}),
}
DEFAULT = ("jet_dense", "jet_dense_pruned75", "jet_cnn")
#: The hls4ml tutorial (part 4 and part 2: HLS estimates, xcu250, 5 ns), for the same 16-64-32-32-5 tagger.
PUBLISHED = {
    "jet_dense_pruned75": "hls4ml tutorial, 6-bit QKeras pruned 75%: 42,160 LUT, 3,199 FF, 34 DSP, 12 cycles (HLS est.)",
    "jet_dense": "hls4ml tutorial, ap_fixed<16,6> float model: 101,839 LUT, 1,502 DSP, 14 cycles (HLS est.)",
}


def main() -> None:
    from triggernn.config import load_config
    from triggernn.hdl import rtl
    from triggernn.pipeline import run

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(DEFAULT))
    ap.add_argument("--out", type=Path, default=Path("runs/rtl_benchmark"))
    ap.add_argument("--trace-only", action="store_true",
                    help="write the Verilog (alkaid's cost, pipeline depth) without Verilator or Yosys")  # fmt: skip
    args = ap.parse_args()
    rows = []
    for name in args.models:
        file, overrides = MODELS[name]
        base = load_config(ROOT / "configs" / file)
        rtl_section = {"enabled": not args.trace_only}
        cfg = base.with_overrides(**overrides, rtl=rtl_section).with_fields(name=f"rtlbench_{name}")
        t0 = time.perf_counter()
        r = run(cfg, run_root=args.out, project_root=args.out / "hls", progress=False, force=True)
        rt = r.rtl if not args.trace_only else rtl(r.project, simulate=False, synthesize=False, force=True)
        s, est = rt.synthesis, rt.estimate
        real = [f"{s.lut:,}", f"{s.ff:,}", s.dsp, f"{s.carry:,}"] if s else ["-"] * 4
        checked = f"{rt.exact_vs_csim:.2%} of {rt.events}" if rt.events else "not simulated"
        rows.append([name, checked, rt.latency_cycles, f"{rt.latency_ns:g}", *real, f"{rt.alkaid_cost:,.0f}",
                     f"{rt.reg_bits:,}", est.get("dsp"), est.get("latency_cycles"), f"{s.seconds:g}" if s else "-",
                     f"{time.perf_counter() - t0:.0f}"])  # fmt: skip
        print(f"{name}: done", flush=True)
    header = ["model", "Verilator = C-sim", "cycles", "ns", "LUT", "FF", "DSP", "CARRY", "alkaid LUT",
              "alkaid register bits", "est. DSP (HLS)", "est. cycles (HLS)", "Yosys s", "total s"]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    lines += ["", *(f"- {k}: {v}" for k, v in PUBLISHED.items() if k in args.models)]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
