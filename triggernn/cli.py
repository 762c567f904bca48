"""``triggernn <verb>``: the grammar of every verb (flags, ranges, help) and the one edge where errors become
exit codes; what each verb does is in :mod:`triggernn.cli_commands`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from pathlib import Path

from .cli_args import (
    NON_NEGATIVE,
    POSITIVE,
    Parser,
    empty_value,
    fraction,
    idle_option,
    int_at_least,
    positive_float,
    repeated_option,
    seed,
)
from .cli_commands import (
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    cmd_bench,
    cmd_check,
    cmd_compare,
    cmd_compile,
    cmd_data_benchmark,
    cmd_generate,
    cmd_info,
    cmd_lecture,
    cmd_optimize,
    cmd_reference,
    cmd_rtl,
    cmd_run,
    cmd_scan,
    cmd_synth,
    cmd_verify,
)
from .errors import TriggerNNError

__all__ = ["main"]


_FORCE = (
    "replace an existing output folder that triggernn did not write (never the working directory, "
    "its parents or a folder holding an input)"
)


def _parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="triggernn", description="Compile quantized L1-trigger networks to verified hls4ml projects."
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="verb", required=True)

    r = sub.add_parser(
        "run", help="train float + QKeras models, emit the HLS project, C-simulate, verify, report"
    )
    r.add_argument("config", type=Path, help="YAML config, e.g. configs/jet_dense.yaml")
    r.add_argument("--epochs", type=POSITIVE, default=None, help="override train.epochs")
    r.add_argument(
        "--max-jets",
        type=int_at_least(50),
        default=None,
        help="override data.max_jets (a balanced subsample)",
    )
    r.add_argument("--runs", default="runs", help="where reports go (runs/<name>/)")
    r.add_argument("--projects", default="hls_projects", help="where HLS projects go (hls_projects/<name>/)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    r.add_argument("--force", action="store_true", help=_FORCE)
    r.set_defaults(func=cmd_run)

    v = sub.add_parser(
        "verify",
        help="check a saved QKeras model (and optionally an emitted project) against float/QKeras/C-sim; "
        "exit 1 if the config's thresholds fail",
    )
    v.add_argument("config", type=Path, help="the YAML config the model was trained with")
    v.add_argument(
        "--model", type=Path, default=None, help="QKeras model (default runs/<name>/qkeras_model.h5)"
    )
    v.add_argument(
        "--float-model", type=Path, default=None, help="float model (default runs/<name>/float_model.h5)"
    )
    v.add_argument("--project", type=Path, default=None, help="an emitted project to check as it is on disk")
    v.add_argument("--data", type=Path, default=None, help="override data.source (a jet file)")
    v.add_argument("--max-jets", type=int_at_least(50), default=None, help="override data.max_jets")
    v.add_argument("--runs", default="runs", help="where `triggernn run` saved models (runs/<name>/)")
    v.add_argument("--out", type=Path, default=None, help="report folder (default runs/<name>/verify)")
    v.set_defaults(func=cmd_verify)

    cmp = sub.add_parser(
        "compare", help="several runs side by side (verification and physics), from metrics.json"
    )
    cmp.add_argument("runs", nargs="+", type=Path, help="run folders, e.g. runs/jet_dense runs/jet_gru")
    cmp.add_argument(
        "--out",
        type=Path,
        default=Path("runs") / "comparison",
        help="where comparison.md/html go (default runs/comparison/; never a folder of your own files)",
    )
    cmp.set_defaults(func=cmd_compare)

    lec = sub.add_parser(
        "lecture",
        help="the lecture's introductory examples: gates, gradients, approximation, rnn, or all "
        "(MNIST: `triggernn run configs/mnist_dense.yaml`)",
    )
    lec.add_argument("example", help="gates | gradients | approximation | rnn | all, or a YAML config path")
    lec.add_argument("--out", default="runs/lecture", help="where plots and result.json go (<out>/<name>/)")
    lec.add_argument("--projects", default="hls_projects/lecture", help="where the compiled projects go")
    lec.set_defaults(func=cmd_lecture)

    cp = sub.add_parser(
        "compile",
        help="bring your own model: calibrate its precision on data, emit, C-simulate and verify it",
    )
    cp.add_argument("model", type=Path, help="a Keras/QKeras model: .h5, .keras, SavedModel folder or .json")
    cp.add_argument("--weights", type=Path, default=None, help="H5 weights for a .json architecture")
    cp.add_argument(
        "--data", type=Path, default=None, help="inputs (and labels): .npy, .npz (X, y) or jet .root"
    )
    cp.add_argument(
        "--input-range", type=float, nargs=2, metavar=("LO", "HI"), help="no data: uniform inputs"
    )
    width = cp.add_mutually_exclusive_group()
    width.add_argument(
        "--width", type=int_at_least(4), default=None, help="bits per value, 4..32 (default 16)"
    )
    width.add_argument(
        "--tolerance",
        type=fraction,
        default=None,
        help="largest argmax disagreement allowed; picks the width",
    )
    cp.add_argument(
        "--headroom", type=NON_NEGATIVE, default=1, help="integer bits above the observed range (default 1)"
    )
    cp.add_argument("--name", default=None, help="project/report name (default: the model file's stem)")
    cp.add_argument("--out", type=Path, default=None, help="project folder (default hls_projects/<name>)")
    cp.add_argument("--runs", default="runs", help="where the report goes (runs/<name>/)")
    cp.add_argument(
        "--hls",
        type=Path,
        default=None,
        metavar="FILE",
        help="HLS settings: a YAML of a run config's hls section, or a run config (its hls section is used)",
    )
    cp.add_argument(
        "--io-type", default=None, choices=["io_parallel", "io_stream"], help="default io_parallel"
    )
    cp.add_argument("--strategy", default=None, choices=["Latency", "Resource"], help="default Latency")
    cp.add_argument("--reuse-factor", type=POSITIVE, default=None, help="default 1")
    cp.add_argument("--backend", default=None, choices=["Vitis", "Vivado"], help="default Vitis")
    cp.add_argument("--no-default", action="store_true", help="skip measuring hls4ml's default configuration")
    cp.add_argument(
        "--check", action="store_true",
        help="check everything (model, data, labels, types, folders) and stop before any work; nothing written",
    )  # fmt: skip
    cp.add_argument("--force", action="store_true", help=_FORCE)
    cp.add_argument(
        "--task",
        choices=["classification", "values"],
        default=None,
        help="judge argmax and per-class metrics (classification) or values only; default: classification "
        "where labels are given or the model ends in a softmax",
    )
    cp.add_argument(
        "--precision",
        default=None,
        help="per-layer types over the calibrated ones: a YAML/JSON file, or inline, e.g. "
        "'fc1: {accum: ap_fixed<24,10>}' (keys as in a run config's hls.precision)",
    )
    cp.set_defaults(func=cmd_compile)

    b = sub.add_parser(
        "bench",
        help="C-sim build, hls4ml predict() vs emulate() events/s, bit-exactness and accuracy per model",
    )
    b.add_argument("models", nargs="*", help="config names or YAML paths (default: the jet and MNIST models)")
    b.add_argument("--out", type=Path, default=Path("runs/benchmark"), help="where JSON, plot, runs go")
    b.add_argument("--epochs", type=POSITIVE, default=None, help="override the configs' training epochs")
    b.add_argument("--workers", type=POSITIVE, default=1, help="processes for emulate() (default 1)")
    b.set_defaults(func=cmd_bench)

    sc = sub.add_parser(
        "scan",
        help="a grid of configs (bits, reuse, sparsity, any key) run as Dask tasks; table + Pareto plot",
    )
    sc.add_argument("config", type=Path, help="a scan config, e.g. configs/scans/jet_dense.yaml")
    sc.add_argument(
        "--scheduler", default=None, help="a Dask scheduler address (tcp://host:8786); default local"
    )
    sc.add_argument("--workers", type=POSITIVE, default=2, help="LocalCluster worker processes (default 2)")
    sc.add_argument("--out", type=Path, default=None, help="results folder (default runs/<scan name>)")
    sc.add_argument("--retry-failed", action="store_true", help="run failed points again")
    sc.set_defaults(func=cmd_scan)

    op = sub.add_parser(
        "optimize",
        help="the smallest firmware within --max-drop of the float model's accuracy: per-layer bits, widths, "
        "pruning, input type (Dask trials, alkaid LUTs, Yosys-confirmed)",
    )
    op.add_argument("config", type=Path, help="a dense run config, e.g. configs/jet_dense.yaml")
    op.add_argument("--max-drop", type=float, default=0.01,
                    help="largest validation-accuracy loss from the float model (default 0.01)")  # fmt: skip
    op.add_argument(
        "--rounds", type=POSITIVE, default=30, help="at most this many rounds of moves (default 30)"
    )
    op.add_argument("--epochs", type=POSITIVE, default=None, help="override train.epochs for every trial")
    op.add_argument("--time-budget", type=positive_float, default=50.0,
                    help="minutes of search: no round starts that would end later (default 50; the Yosys "
                    "confirmation follows)")  # fmt: skip
    op.add_argument("--no-widths", action="store_true", help="keep the hidden layers' widths")
    op.add_argument(
        "--no-confirm", action="store_true", help="skip the final Yosys + Verilator run of the best"
    )
    op.add_argument(
        "--scheduler", default=None, help="a Dask scheduler address (tcp://host:8786); default local"
    )
    op.add_argument("--workers", type=POSITIVE, default=2, help="LocalCluster worker processes (default 2)")
    op.add_argument("--out", type=Path, default=None, help="results folder (default runs/optimize_<name>)")
    op.add_argument("--check", action="store_true", help="check the plan and stop")
    op.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    op.set_defaults(func=cmd_optimize)

    ref = sub.add_parser(
        "reference",
        help="the flow / GAN references (shipped or retrained; GPU when present) and their FPGA models",
    )
    ref.add_argument("model", help="flow or gan (configs/<model>.yaml), or a reference YAML")
    ref.add_argument(
        "--retrain",
        action="store_true",
        help="train here (GPU when present) instead of loading the shipped one",
    )
    ref.add_argument(
        "--epochs", type=POSITIVE, default=None, help="training epochs with --retrain (default: config)"
    )
    ref.add_argument(
        "--student-epochs", type=POSITIVE, default=None, help="flow student epochs (default: config)"
    )
    ref.add_argument(
        "--save-to", type=Path, default=None, help="with --retrain: save the weights here (.pt + .json)"
    )
    ref.add_argument("--out", type=Path, default=None, help="report folder (default runs/<config name>)")
    ref.add_argument(
        "--force", action="store_true", help="with --save-to: replace the weights an earlier run saved there"
    )
    ref.add_argument(
        "--data", default=None, help="with --retrain: a jet file to train on (default: embedded)"
    )
    ref.add_argument(
        "--evaluate-on", default=None, help="a jet file whose test split judges (default: embedded)"
    )
    ref.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    ref.add_argument(
        "--projects",
        type=Path,
        default=Path("hls_projects"),
        help="where the HLS projects go (flow_student/, gan_generator/)",
    )
    ref.set_defaults(func=cmd_reference)

    sy = sub.add_parser(
        "synth", help="C synthesis with Vitis/Vivado HLS (when installed), real numbers beside the estimates"
    )
    sy.add_argument("project", type=Path, help="an emitted project, e.g. hls_projects/jet_dense")
    sy.add_argument("--run", type=Path, default=None, help="its run folder (default runs/<project name>)")
    sy.set_defaults(func=cmd_synth)

    rt = sub.add_parser(
        "rtl",
        help="Verilog from the project (alkaid), Verilator-checked against C-sim, Yosys LUT/FF/DSP counts",
    )
    rt.add_argument("project", type=Path, help="an emitted project, e.g. hls_projects/jet_dense")
    rt.add_argument(
        "--data",
        type=Path,
        default=None,
        help="events to check (.npy/.npz/.root; default: the run's test set)",
    )
    rt.add_argument("--clock-period", type=positive_float, default=None, help="ns (default: the project's)")
    rt.add_argument(
        "--latency-cutoff",
        type=positive_float,
        default=None,
        help="ns of logic per stage (default: the period)",
    )
    rt.add_argument(
        "--keep-softmax",
        action="store_true",
        help="the final softmax in the RTL too (default: left out, the logits compared)",
    )
    rt.add_argument("--no-sim", action="store_true", help="write the Verilog only, no Verilator check")
    rt.add_argument("--no-synth", action="store_true", help="skip the Yosys synthesis")
    rt.add_argument("--synth-timeout", type=positive_float, default=3600, help="seconds (default 3600)")
    rt.add_argument(
        "--synth-jobs",
        type=POSITIVE,
        default=None,
        help="Yosys processes at once, one pipeline stage each (default: all cores)",
    )
    rt.add_argument("--force", action="store_true", help=_FORCE)
    rt.set_defaults(func=cmd_rtl)

    c = sub.add_parser("check", help="validate config files")
    c.add_argument("configs", nargs="+", type=Path)
    c.set_defaults(func=cmd_check)

    d = sub.add_parser("data", help="generate or inspect jet datasets").add_subparsers(
        dest="data_verb", required=True
    )
    g = d.add_parser("generate", help="generate labelled jets with Pythia 8 + FastJet into a ROOT file")
    g.add_argument("--output", "-o", required=True, type=Path)
    g.add_argument("--n-jets", type=POSITIVE, default=2000)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--pt-min", type=float, default=800.0)
    g.add_argument("--pt-max", type=float, default=1600.0)
    g.add_argument("--processes", type=POSITIVE, default=None, help="worker processes (default: all cores)")
    g.add_argument(
        "--max-constituents", type=POSITIVE, default=None, help="keep only the leading N constituents"
    )
    g.add_argument("--shards", action="store_true",
                   help="a folder of shard files on Dask (resumable); implied by --scheduler")  # fmt: skip
    g.add_argument(
        "--scheduler", default=None, help="a Dask scheduler address, tcp://host:8786 (default: local)"
    )
    g.add_argument("--workers", type=POSITIVE, default=2, help="LocalCluster workers without --scheduler")
    phys = g.add_argument_group("physics (docs/data.md: each measured against the hls4ml benchmark)")
    phys.add_argument("--wz", choices=["boson_jet", "diboson", "graviton"], default=None)
    phys.add_argument("--qcd", choices=["inclusive", "separate"], default=None)
    phys.add_argument("--labels", choices=["matching", "sample"], default=None)
    phys.add_argument("--jets", choices=["two_leading", "leading"], default=None)
    phys.add_argument("--hard-pt", type=positive_float, default=None, help="hard-process pT bin centre, GeV")
    phys.add_argument("--detector", action=argparse.BooleanOptionalAction, default=None,
                      help="the parametric detector before clustering")  # fmt: skip
    phys.add_argument(
        "--mpi", action=argparse.BooleanOptionalAction, default=None, help="multiparton interactions"
    )
    g.add_argument("-q", "--quiet", action="store_true")
    g.add_argument("--force", action="store_true", help="replace an existing jet file that triggernn wrote")
    g.set_defaults(func=cmd_generate)
    b = d.add_parser(
        "benchmark", help="the reference tagger on a sample: AUCs and accuracy beside the official ones"
    )
    b.add_argument(
        "file", nargs="?", default="embedded", help="a jet file or shard folder (default: embedded)"
    )
    b.add_argument("--model", choices=["dense", "hgb"], default="dense")
    b.add_argument("--seed", type=seed, default=0, help="random seed, 0 to 2**32 - 1")
    b.set_defaults(func=cmd_data_benchmark)
    i = d.add_parser("info", help="summarise a dataset ('embedded' for the shipped one)")
    i.add_argument("file", nargs="?", default="embedded")
    i.add_argument("--representation", default="features", choices=["features", "images", "sequences"])
    i.set_defaults(func=cmd_info)
    return p


#: Flags that do nothing beside (True) or without (False) another flag of their verb: refused, never ignored.
IDLE_FLAGS = {
    "rtl": [("--synth-jobs", "--no-synth", True), ("--synth-timeout", "--no-synth", True),
            ("--data", "--no-sim", True)],
    "data generate": [("--workers", "--scheduler", True), ("--workers", "--shards", False)],
    "scan": [("--workers", "--scheduler", True)],
    "optimize": [("--workers", "--scheduler", True)],
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """The CLI's one edge: user errors print one line (exit 2, ``-v`` adds the chained cause), an interrupt
    one line (exit 130), anything else is a bug in triggernn: its traceback and a request to report it."""
    try:
        os.getcwd()
    except FileNotFoundError:
        print(
            "triggernn: error: the working folder no longer exists: cd to an existing folder", file=sys.stderr
        )
        return EXIT_USAGE
    parser = _parser()
    args = parser.parse_args(argv)
    given = sys.argv[1:] if argv is None else list(argv)
    refused = (
        empty_value(parser, given) or repeated_option(parser, given) or idle_option(parser, given, IDLE_FLAGS)
    )
    if refused:
        print(f"triggernn: error: {refused}", file=sys.stderr)
        return EXIT_USAGE
    # triggernn's stage lines at INFO; the libraries' own INFO lines ("keras dict linear") and their warnings
    # about their own internals (an unseeded initializer, a legacy file format) are not the user's business
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("triggernn").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    if not args.verbose:
        warnings.filterwarnings("ignore", module=r"(keras|tf_keras|tensorflow|hls4ml|qkeras)(\.|$)")
    try:
        return args.func(args)
    except TriggerNNError as err:
        print(f"triggernn: error: {err}", file=sys.stderr)
        if args.verbose and (err.__cause__ or err.__context__):
            import traceback

            traceback.print_exception(err.__cause__ or err.__context__, file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # read-only folder, permission, name too long, disk full: the path and the reason
        where = f" '{err.filename}'" if err.filename else ""
        print(
            f"triggernn: error: cannot write or read{where}: {err.strerror or err}; nothing half-written was kept "
            "(choose another path, or free space)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            "triggernn: interrupted; outputs being written were discarded, earlier ones are as they were",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except Exception:
        import traceback

        traceback.print_exc()
        print(
            "triggernn: internal error: this is a bug in triggernn, not in your input; please report it with "
            "the command line and the traceback above",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
