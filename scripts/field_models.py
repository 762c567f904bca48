"""hls4ml 1.3.0's own QKeras test models through ``triggernn.compile``: one table row per model.

    python scripts/field_models.py [NAME ...] [--events N] [--out docs/field_models_table.md] [--rtl]

Each model of ``tests/field_models.py`` (hls4ml's test_qkeras.py, test_binary_cnn.py,
test_cnn_mnist_qkeras.py, test_serialization.py) is built, compiled on N events (half calibration, half
held out), C-simulated and verified; the numpy emulator is run against the C simulation. The table is
printed (markdown) and written to ``--out``. No hls4ml default comparison (that is `triggernn compile`'s).
With ``--rtl`` each verified project also goes through ``triggernn.rtl`` (Verilator on 200 held-out events, no
Yosys): the share equal to C-sim, or the refusal (its first words); anything else raised is reported as a crash.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))


def _rtl_verdict(tn, project, X: np.ndarray) -> str:
    try:
        res = tn.rtl(project, X, synthesize=False)
    except tn.TriggerNNError as err:
        return "refused: " + str(err).split(": ", 1)[-1][:100]
    except Exception as err:  # the point of the table: a crash is a bug to fix
        return f"CRASH: {type(err).__name__}: {str(err)[:100]}"
    return f"{res.exact_vs_csim:.0%} of {res.events} ({res.latency_cycles} cycles)"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", help="models of tests/field_models.py (default: all)")
    p.add_argument("--events", type=int, default=1000)
    p.add_argument("--out", type=Path, default=None, help="also write the table here")
    p.add_argument("--rtl", action="store_true", help="also the RTL path: Verilator against C-sim")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    warnings.filterwarnings("ignore")
    from field_models import FIELD_MODELS

    import triggernn as tn
    from triggernn.emulation import Emulator

    rows = []
    header = ("model", "hls4ml asserts", "triggernn criterion", "verdict", "bit-exact events", "largest error",
              "emulate() engine", "emulate = C-sim", *(["RTL (Verilator = C-sim)"] if args.rtl else []), "s")  # fmt: skip
    for fm in FIELD_MODELS:
        if args.names and fm.name not in args.names:
            continue
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            try:
                r = tn.compile(fm.build(), fm.inputs(args.events, 0), name="m", out=Path(tmp) / "p",
                               run_root=Path(tmp) / "r", compare_default=False)  # fmt: skip
            except tn.TriggerNNError as err:
                rows.append((fm.name, fm.hls4ml_asserts, "refused", str(err).split(":")[0] + ": " +
                             str(err).split(":", 1)[1][:90], "", "", "", "", *([""] if args.rtl else []),
                             f"{time.perf_counter() - t0:.0f}"))  # fmt: skip
                print(" | ".join(rows[-1]), flush=True)
                continue
            v = r.verification
            crit = "bit-exact" if v.thresholds.get("min_bit_exact") == 1.0 else (
                f"max error {v.thresholds['max_abs_error']:.3g}" if "max_abs_error" in v.thresholds
                else f"identical values >= {v.thresholds.get('min_value_exact', 0):.0%}")  # fmt: skip
            Xg = tn.to_fixed_grid(fm.inputs(args.events, 0), r.calibration.input_type)
            em = Emulator(r.project)
            same = np.array_equal(em.predict(Xg), r.project.predict(Xg).outputs.astype(np.float32))
            verdict = "PASS" if v.passed else "FAIL: " + "; ".join(v.failures)[:120]
            rtl_cell = [_rtl_verdict(tn, r.project, Xg[-200:])] if args.rtl else []
            rows.append((fm.name, fm.hls4ml_asserts[:70], crit, verdict, f"{v.bit_exact_fraction:.2%}",
                         f"{v.max_lsb_error:g} LSB", em.engine, "yes" if same else "NO", *rtl_cell,
                         f"{time.perf_counter() - t0:.0f}"))  # fmt: skip
        print(" | ".join(rows[-1]), flush=True)
    table = "\n".join(
        ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        + ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows]
    )
    print("\n" + table)
    if args.out:
        args.out.write_text(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
