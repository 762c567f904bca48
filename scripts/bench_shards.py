"""Jets per second of sharded generation on Dask with 1 and 2 workers (LocalCluster), side by side.

python scripts/bench_shards.py --n-jets 4000
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path


def main() -> None:
    from triggernn.data.shards import generate_shards

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-jets", type=int, default=4000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--scheduler", default=None, help="a running scheduler instead of LocalClusters")
    args = ap.parse_args()
    rows = []
    for w in args.workers:
        folder = Path(tempfile.mkdtemp(prefix="bench-shards-"))
        try:
            run = generate_shards(
                folder / "jets", args.n_jets, workers=w, scheduler=args.scheduler, progress=False
            )
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        rows.append((w, len(run.ran), run.seconds, run.jets_per_second))
    base = rows[0][3]
    print(f"{'workers':>8} {'shards':>7} {'seconds':>8} {'jets/s':>8} {'speed-up':>9}")
    for w, n, s, r in rows:
        print(f"{w:>8} {n:>7} {s:>8.1f} {r:>8.1f} {r / base:>9.2f}")


if __name__ == "__main__":
    main()
