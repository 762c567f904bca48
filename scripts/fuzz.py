"""A long seeded run of the boundary fuzzer (tests/test_fuzz.py), with a table of what it tried.

    python scripts/fuzz.py --examples 300 --seed 7

Every example must end in a refusal of a few lines (exit 2) or get past its verb's plan, with the user's files
untouched; the pytest run fails on the first one that does not, and the table counts the rest.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=200, help="examples per strategy (default 200)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=3, help="refusals shown per kind (default 3)")
    args = ap.parse_args()
    record = Path(tempfile.mkdtemp(prefix="triggernn-fuzz-")) / "tried.json"
    env = {**os.environ, "TRIGGERNN_FUZZ_EXAMPLES": str(args.examples), "TRIGGERNN_FUZZ_SEED": str(args.seed),
           "TRIGGERNN_FUZZ_RECORD": str(record)}  # fmt: skip
    test = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_fuzz.py")],
        env=env, cwd=ROOT,
    )  # fmt: skip
    tried = json.loads(record.read_text()) if record.is_file() else []
    counts = collections.Counter((t["kind"], t["result"]) for t in tried)
    kinds = sorted({k for k, _ in counts})
    print(f"\n{'what':<16} {'examples':>9} {'past plan':>10} {'refused':>8}")
    for k in kinds:
        n = sum(v for (kk, _), v in counts.items() if kk == k)
        print(f"{k:<16} {n:>9} {counts[(k, 'planned')] + counts[(k, 'ok')]:>10} {counts[(k, 'refused')]:>8}")
    print(f"{'all':<16} {len(tried):>9}   seed {args.seed}, pytest exit {test.returncode}")
    for k in kinds:
        shown = [t for t in tried if t["kind"] == k and t["result"] == "refused"][: args.show]
        for t in shown:
            print(f"  {k}: {t['what'][:70]}\n      -> {t['why'][:150]}")
    return test.returncode


if __name__ == "__main__":
    sys.exit(main())
