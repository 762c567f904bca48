"""``triggernn <verb>``: run, verify, compare, check, data generate, data info."""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

from .cli_args import NON_NEGATIVE, POSITIVE, Parser, fraction, int_at_least, positive_float, repeated_option
from .errors import ConfigError, TriggerNNError

__all__ = ["main"]


def _cmd_run(args: argparse.Namespace) -> int:
    from .config import load_config
    from .pipeline import run
    from .reference.config import is_reference_config

    if is_reference_config(args.config):  # configs/flow.yaml, configs/gan.yaml
        from .reference.config import load_reference_config

        ref = load_reference_config(args.config)
        if args.max_jets is not None:
            raise ConfigError(
                f"--max-jets: {args.config} is a {ref.reference} reference config, whose data are its evaluate_on "
                "jets: drop the flag"
            )
        if args.epochs is not None:
            ref = ref.with_fields(epochs=args.epochs)
        return _reference_report(ref, Path(args.runs) / ref.name, args.projects, args.quiet)
    cfg = load_config(args.config)
    if args.epochs is not None:
        cfg = cfg.with_overrides(train={"epochs": args.epochs})
    if args.max_jets is not None:
        cfg = cfg.with_overrides(data={"max_jets": args.max_jets})
    result = run(
        cfg, run_root=args.runs, project_root=args.projects, progress=not args.quiet, force=args.force
    )
    print("\n" + (result.run_dir / "model_summary.txt").read_text().rstrip())
    return _verdict(result)


def _verdict(result) -> int:
    """Print a result's summary (its failures on stderr); exit 0 if it passed, 1 if not."""
    print("\n" + "\n".join(result.summary()))
    for f in result.verification.failures:
        print(f"FAILED: {f}", file=sys.stderr)
    return 0 if result.passed else EXIT_FAILED


def _summary(name: str, v, project: Path, report: Path) -> None:
    print(f"\n== {name}: {'PASS' if v.passed else 'FAIL'}")
    print(f"project        {project}")
    print(f"report         {report}")
    print("\n".join(v.summary()))
    for f in v.failures:
        print(f"FAILED: {f}", file=sys.stderr)


def _cmd_verify(args: argparse.Namespace) -> int:
    from .audit import verify_saved
    from .config import load_config

    _is_run_config(args.config, "verify")
    cfg = load_config(args.config)
    if args.data is not None:
        cfg = cfg.with_overrides(data={"source": str(args.data)})
    if args.max_jets is not None:
        cfg = cfg.with_overrides(data={"max_jets": args.max_jets})
    v, report = verify_saved(
        cfg,
        args.model,
        float_model=args.float_model,
        project=args.project,
        run_root=args.runs,
        out_dir=args.out,
    )
    _summary(cfg.name, v, args.project or report.parent / "hls_project", report)
    return 0 if v.passed else 1


def _cmd_generate(args: argparse.Namespace) -> int:
    from .data import generate_jets

    physics = {k: v for k, v in (("wz", args.wz), ("qcd", args.qcd), ("labels", args.labels), ("jets", args.jets),
                                 ("hard_pt", args.hard_pt), ("detector", args.detector), ("mpi", args.mpi))
               if v is not None}  # fmt: skip
    common = dict(seed=args.seed, pt_min=args.pt_min, pt_max=args.pt_max, max_constituents=args.max_constituents,
                  progress=not args.quiet, **physics)  # fmt: skip
    if args.shards or args.scheduler:
        from .data.shards import generate_shards

        if args.processes is not None:
            raise ConfigError(
                "--processes sets a single file's workers; shards on Dask take --workers instead"
            )
        if args.force:
            raise ConfigError("--force replaces a jet file; a shard folder resumes instead: drop --force")

        if args.output.suffix.lower() == ".root":
            raise ConfigError(f"--shards writes a folder of ROOT files: pass a folder, not '{args.output}'")
        res = generate_shards(
            args.output, args.n_jets, scheduler=args.scheduler, workers=args.workers, **common
        )
        print("\n".join(res.summary()))
        return 0
    path = generate_jets(args.output, args.n_jets, processes=args.processes, force=args.force, **common)
    print(f"wrote {path}")
    return 0


def _cmd_data_benchmark(args: argparse.Namespace) -> int:
    from .data.benchmark import benchmark_sample

    res = benchmark_sample(None if args.file == "embedded" else args.file, model=args.model, seed=args.seed)
    print("\n".join(res.summary()))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    import numpy as np

    from .data import load_jets

    ds = load_jets(None if args.file == "embedded" else args.file, args.representation)
    print(f"source {ds.source}, representation {ds.representation}, classes {', '.join(ds.class_names)}")
    for split in ("train", "val", "test"):
        X, y = getattr(ds, f"X_{split}"), getattr(ds, f"y_{split}")
        print(f"  {split:<5} X {X.shape} per class {np.bincount(y, minlength=len(ds.class_names)).tolist()}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from .report.compare import compare_runs

    paths = compare_runs(args.runs, args.out)
    print(paths["markdown"].read_text())
    print(f"wrote {paths['markdown']} and {paths['html']}")
    return 0


def _cmd_lecture(args: argparse.Namespace) -> int:
    from .lecture import EXAMPLES, load_example, run_example

    names = list(EXAMPLES) if args.example == "all" else [args.example]
    ok = True
    for name in names:
        cfg = load_example(name)
        result, lines = run_example(cfg, args.out, args.projects)
        passed = getattr(result, "passed", True)
        ok &= passed
        print(f"\n== lecture: {cfg.example} ({cfg.name}){'' if passed else ': FAIL'}")
        print("\n".join(lines))
        print(f"plot           {result.plot}")
    return 0 if ok else 1


def _cmd_compile(args: argparse.Namespace) -> int:
    from .compiler import plan_compile, run_compile
    from .validate import path_name

    path_name(args.model, "the model file")
    plan = plan_compile(
        args.model,
        args.data,
        name=args.name or _name_from(args.model),
        width=args.width,
        tolerance=args.tolerance,
        headroom_bits=args.headroom,
        input_range=tuple(args.input_range) if args.input_range else None,
        weights=args.weights,
        out=args.out,
        run_root=args.runs,
        hls=_hls_section(args.hls),
        io_type=args.io_type,
        strategy=args.strategy,
        reuse_factor=args.reuse_factor,
        backend=args.backend,
        compare_default=not args.no_default,
        force=args.force,
        precision=args.precision,
        task=args.task,
    )
    if args.check:  # the same plan as the work, and nothing written
        print(f"ok    {plan.summary()}")
        return 0
    return _verdict(run_compile(plan))


def _hls_section(path: Path | None) -> dict | None:
    """The ``hls`` mapping of ``--hls FILE``: the file itself, or the ``hls`` section of a run config."""
    from .config_io import read_yaml

    if path is None:
        return None
    tree = read_yaml(path)
    if not isinstance(tree, dict):
        raise ConfigError(
            f"{path}: expected a mapping of hls settings (io_type, strategy, ...), got {tree!r:.60}"
        )
    if "hls" in tree or {"name", "model", "data", "train", "quantization"} & set(tree):  # a run config
        return tree.get("hls") or {}
    return tree


def _name_from(model: Path) -> str:
    """A folder name from a model's file name: ``tagger.v2.h5`` -> ``tagger_v2`` (``--name`` overrides)."""
    stem = model.name[: -len(model.suffix)] if model.suffix and not model.is_dir() else model.name
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in stem) or "model"


def _cmd_bench(args: argparse.Namespace) -> int:
    from .benchmark import DEFAULT_MODELS, run_benchmark

    run_benchmark(args.models or DEFAULT_MODELS, args.out, epochs=args.epochs, workers=args.workers)
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    from .scan import run_scan

    res = run_scan(args.config, out=args.out, scheduler=args.scheduler, workers=args.workers,
                   retry_failed=args.retry_failed)  # fmt: skip
    print("\n".join(res.summary()))
    return 0 if res.passed else 1


def _cmd_optimize(args: argparse.Namespace) -> int:
    from .optimize import plan_optimize, run_optimize

    _is_run_config(args.config, "optimize")
    plan = plan_optimize(args.config, max_drop=args.max_drop, rounds=args.rounds, epochs=args.epochs,
                         widths=not args.no_widths, time_budget_s=args.time_budget * 60, out=args.out,
                         scheduler=args.scheduler, workers=args.workers, confirm=not args.no_confirm)  # fmt: skip
    if args.check:
        print(plan.summary())
        return 0
    res = run_optimize(plan, progress=not args.quiet)
    print("\n".join(res.summary()))
    return 0


def _cmd_reference(args: argparse.Namespace) -> int:
    from .reference.config import load_reference_config

    cfg = load_reference_config(args.model)
    flags = {"retrain": args.retrain or None, "epochs": args.epochs, "save_to": args.save_to, "data": args.data,
             "evaluate_on": args.evaluate_on, "student_epochs": args.student_epochs}  # fmt: skip
    given = {k: v for k, v in flags.items() if v is not None}
    unread = [k for k in given if k not in type(cfg).model_fields]
    if unread:  # a flag the reference does not read would be ignored
        raise ConfigError(
            f"--{unread[0].replace('_', '-')} does not apply to the {cfg.reference} reference: drop it"
        )
    cfg = cfg.with_fields(**given)
    return _reference_report(cfg, args.out or Path("runs") / cfg.name, args.projects, args.quiet)


def _is_run_config(path: Path, verb: str) -> None:
    """Refuse a config of another verb (a scan, reference or lecture config) given to a run-config verb, naming
    the verb it is for, instead of the schema's list of what a run config lacks."""
    from .config_io import config_kind

    kind = config_kind(path)
    if kind != "run":
        verbs = {"scan": "triggernn scan", "reference": "triggernn reference", "lecture": "triggernn lecture"}
        raise ConfigError(f"{path} is a {kind} config, not a run config: `triggernn {verb}` takes a run config; "
                          f"run this one with `{verbs[kind]} {path}`")  # fmt: skip


def _reference_report(cfg, out: Path, projects, quiet: bool) -> int:
    """Run a reference, print its report; exit 1 where its FPGA model does not reproduce it."""
    from .reference.run import run_reference

    res = run_reference(cfg, out, projects, progress=not quiet)
    print("\n".join(res.summary()))
    return 0 if res.passed else 1


def _cmd_synth(args: argparse.Namespace) -> int:
    from .hls.synth import synthesize

    run_dir = args.run or Path("runs") / args.project.name
    result = synthesize(args.project, run_dir)
    s, e = result["synthesis"], result["estimate"] or {}
    rows = [
        ("latency (cycles)", s.get("BestLatency"), e.get("latency_cycles")),
        ("interval (cycles)", s.get("IntervalMin"), e.get("ii")),
        ("DSP", s.get("DSP"), e.get("dsp")),
        ("LUT", s.get("LUT"), f"{e.get('lut_multipliers')} LUT multipliers" if e else None),
        ("FF", s.get("FF"), None),
        ("BRAM_18K", s.get("BRAM_18K"), None),
    ]
    print(f"{'':<18} {'synthesis':>12} {'estimate':>24}")
    for name, real, est in rows:
        print(f"{name:<18} {real if real is not None else '-':>12} {est if est is not None else '-':>24}")
    return 0


def _cmd_rtl(args: argparse.Namespace) -> int:
    from .compiler import load_calibration_data
    from .hdl import rtl

    X = load_calibration_data(args.data)[0] if args.data is not None else None
    res = rtl(args.project, X, clock_period=args.clock_period, latency_cutoff=args.latency_cutoff,
              simulate=not args.no_sim, synthesize=not args.no_synth, synth_timeout_s=args.synth_timeout,
              synth_jobs=args.synth_jobs, keep_softmax=args.keep_softmax, force=args.force)  # fmt: skip
    print("\n".join(res.summary()))
    return 0 if res.passed or args.no_sim else 1


def _cmd_check(args: argparse.Namespace) -> int:
    """The plan of each file's verb, built as that verb builds it (everything short of training)."""
    from .plans import check_file

    failed = 0
    for path in args.configs:
        try:
            print(f"{path}: {check_file(path)}")
        except TriggerNNError as err:  # each file judged; the exit code says whether any failed
            failed += 1
            print(f"triggernn: error: {path}: {err}", file=sys.stderr)
    return EXIT_USAGE if failed else 0


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
    r.set_defaults(func=_cmd_run)

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
    v.set_defaults(func=_cmd_verify)

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
    cmp.set_defaults(func=_cmd_compare)

    lec = sub.add_parser(
        "lecture",
        help="the lecture's introductory examples: gates, gradients, approximation, rnn, or all "
        "(MNIST: `triggernn run configs/mnist_dense.yaml`)",
    )
    lec.add_argument("example", help="gates | gradients | approximation | rnn | all, or a YAML config path")
    lec.add_argument("--out", default="runs/lecture", help="where plots and result.json go (<out>/<name>/)")
    lec.add_argument("--projects", default="hls_projects/lecture", help="where the compiled projects go")
    lec.set_defaults(func=_cmd_lecture)

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
        type=Path,
        default=None,
        help="YAML/JSON of per-layer types over the calibrated ones, e.g. 'fc1: {accum: ap_fixed<24,10>}' "
        "(keys as in a run config's hls.precision)",
    )
    cp.set_defaults(func=_cmd_compile)

    b = sub.add_parser(
        "bench",
        help="C-sim build, hls4ml predict() vs emulate() events/s, bit-exactness and accuracy per model",
    )
    b.add_argument("models", nargs="*", help="config names or YAML paths (default: the jet and MNIST models)")
    b.add_argument("--out", type=Path, default=Path("runs/benchmark"), help="where JSON, plot, runs go")
    b.add_argument("--epochs", type=POSITIVE, default=None, help="override the configs' training epochs")
    b.add_argument("--workers", type=POSITIVE, default=1, help="processes for emulate() (default 1)")
    b.set_defaults(func=_cmd_bench)

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
    sc.set_defaults(func=_cmd_scan)

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
    op.set_defaults(func=_cmd_optimize)

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
    ref.set_defaults(func=_cmd_reference)

    sy = sub.add_parser(
        "synth", help="C synthesis with Vitis/Vivado HLS (when installed), real numbers beside the estimates"
    )
    sy.add_argument("project", type=Path, help="an emitted project, e.g. hls_projects/jet_dense")
    sy.add_argument("--run", type=Path, default=None, help="its run folder (default runs/<project name>)")
    sy.set_defaults(func=_cmd_synth)

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
    rt.set_defaults(func=_cmd_rtl)

    c = sub.add_parser("check", help="validate config files")
    c.add_argument("configs", nargs="+", type=Path)
    c.set_defaults(func=_cmd_check)

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
    g.set_defaults(func=_cmd_generate)
    b = d.add_parser(
        "benchmark", help="the reference tagger on a sample: AUCs and accuracy beside the official ones"
    )
    b.add_argument(
        "file", nargs="?", default="embedded", help="a jet file or shard folder (default: embedded)"
    )
    b.add_argument("--model", choices=["dense", "hgb"], default="dense")
    b.add_argument("--seed", type=int, default=0)
    b.set_defaults(func=_cmd_data_benchmark)
    i = d.add_parser("info", help="summarise a dataset ('embedded' for the shipped one)")
    i.add_argument("file", nargs="?", default="embedded")
    i.add_argument("--representation", default="features", choices=["features", "images", "sequences"])
    i.set_defaults(func=_cmd_info)
    return p


#: Exit codes: a verdict that failed, a user error (bad input, argparse's too), an interrupt, a bug.
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BUG = 1, 2, 130, 3


def main(argv: list[str] | None = None) -> int:
    """The CLI's one edge: user errors print one line (exit 2, ``-v`` adds the chained cause), an interrupt
    one line (exit 130), anything else is a bug in triggernn: its traceback and a request to report it."""
    parser = _parser()
    args = parser.parse_args(argv)
    twice = repeated_option(parser, sys.argv[1:] if argv is None else list(argv))
    if twice:
        print(f"triggernn: error: {twice}", file=sys.stderr)
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
