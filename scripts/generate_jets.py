"""Generate a labelled jet sample (Pythia 8 + FastJet) and optionally record its provenance.

The embedded default sample is regenerated with (the output does not depend on --processes)::

    python scripts/generate_jets.py --output triggernn/data/embedded/jets_default.root --n-jets 10000 \\
        --seed 2024 --max-constituents 32 --compression lzma --mantissa-bits 10 \\
        --provenance triggernn/data/embedded/jets_default.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import pathlib
import platform
import shlex
import sys
import time

import numpy as np

from triggernn.data import CLASS_NAMES, generate_jets
from triggernn.data.generate import CHUNK_JETS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", required=True, type=pathlib.Path, help="ROOT file to write")
    p.add_argument("--n-jets", type=int, default=2000, help="total jets, balanced over the classes")
    p.add_argument("--classes", default=",".join(CLASS_NAMES), help="comma-separated subset of g,q,w,z,t")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--pt-min", type=float, default=800.0, help="jet pT window lower edge (GeV)")
    p.add_argument("--pt-max", type=float, default=1600.0, help="jet pT window upper edge (GeV)")
    p.add_argument("--processes", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--max-constituents", type=int, default=None, help="keep the leading N constituents")
    p.add_argument("--compression", choices=("zstd", "lzma"), default="zstd")
    p.add_argument("--mantissa-bits", type=int, default=None, help="round stored constituents (1..23)")
    p.add_argument("--provenance", type=pathlib.Path, default=None, help="write a provenance JSON here")
    p.add_argument("--no-progress", action="store_true")
    return p


def _provenance(path: pathlib.Path, args: argparse.Namespace, argv: list[str], wall_s: float) -> dict:
    """Exact command, arguments, package versions, counts, per-class groomed-mass medians, checksum."""
    import uproot

    with uproot.open(path) as f:
        meta = json.loads(str(f["meta"]))
        arrays = f["jets"].arrays(["label", "mass_mmdt", "multiplicity"], library="np")
    medians = {
        name: round(float(np.median(arrays["mass_mmdt"][arrays["label"] == i])), 2)
        for i, name in enumerate(CLASS_NAMES)
        if np.any(arrays["label"] == i)
    }
    # Paths are recorded relative to the working directory so that the command is copy-pasteable.
    command = "python scripts/generate_jets.py " + shlex.join(argv)
    return {
        "command": command,
        "note": f"the output does not depend on --processes (tasks of <= {CHUNK_JETS} jets, seeded per task)",
        "seed": args.seed,
        "arguments": meta["arguments"],
        "counts": meta["counts"],
        "n_events": meta["n_events"],
        "mass_mmdt_median_gev": medians,
        "file_bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "wall_seconds": round(wall_s, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": meta["versions"],
        "pythia_tasks": meta["tasks"],
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    start = time.perf_counter()
    out = generate_jets(
        args.output,
        args.n_jets,
        classes=tuple(c.strip() for c in args.classes.split(",") if c.strip()),
        seed=args.seed,
        pt_min=args.pt_min,
        pt_max=args.pt_max,
        processes=args.processes,
        max_constituents=args.max_constituents,
        progress=not args.no_progress,
        compression=args.compression,
        mantissa_bits=args.mantissa_bits,
    )
    wall = time.perf_counter() - start
    if args.provenance is not None:
        # --processes does not change the output; leave it out of the recorded command.
        recorded = [a for a in argv if not a.startswith("--processes")]
        if "--processes" in argv:
            i = argv.index("--processes")
            recorded = argv[:i] + argv[i + 2 :]
        prov = _provenance(out, args, recorded, wall)
        args.provenance.write_text(json.dumps(prov, indent=2, sort_keys=False) + "\n")
        logging.getLogger("generate_jets").info("provenance written to %s", args.provenance)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
