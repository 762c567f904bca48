"""Emit, C-simulate and verify the HLS project of each config given (all of configs/ by default).

    python scripts/emit_hls.py                      # every config in configs/
    python scripts/emit_hls.py configs/jet_dense.yaml --epochs 5
    python scripts/emit_hls.py my_model.h5 --data calib.npz --width 16 --out hls_projects/mine

A thin wrapper around ``triggernn run`` (configs) and ``triggernn compile`` (a trained model file: every
option of ``triggernn compile --help`` passes through); exits non-zero if any verification fails.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

from triggernn.cli import main as triggernn_main


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and not argv[0].startswith("-") and not argv[0].endswith((".yaml", ".yml")):
        return triggernn_main(["compile", *argv])  # a model file or SavedModel folder
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("configs", nargs="*", type=pathlib.Path)
    p.add_argument("--epochs", type=int, default=None)
    args = p.parse_args(argv)
    configs = args.configs or sorted(
        pathlib.Path(__file__).resolve().parents[1].joinpath("configs").glob("*.yaml")
    )
    extra = ["--epochs", str(args.epochs)] if args.epochs else []
    codes = {str(c): triggernn_main(["run", str(c), "-q", *extra]) for c in configs}
    for config, code in codes.items():
        print(f"{'ok  ' if code == 0 else 'FAIL'} {config}")
    return max(codes.values(), default=0)


if __name__ == "__main__":
    sys.exit(main())
