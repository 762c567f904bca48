"""Emulation benchmark: C-sim build, hls4ml predict() vs triggernn emulate(), accuracy, per shipped model.

    python scripts/benchmark.py                       # all models; table on stdout, JSON in runs/benchmark/
    python scripts/benchmark.py jet_dense mnist_dense --epochs 3

The same as ``triggernn bench``.
"""

from __future__ import annotations

import sys

from triggernn.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
