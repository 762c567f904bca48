"""What each ``triggernn <verb>`` does with its parsed flags (the grammar is :mod:`triggernn.cli`'s parser):
each builds its verb's plan, runs it, prints its summary and returns the exit code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import ConfigError, TriggerNNError

#: Exit codes: a verdict that failed, a user error (bad input, argparse's too), an interrupt, a bug.
EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BUG = 1, 2, 130, 3


def cmd_run(args: argparse.Namespace) -> int:
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
        return _reference_report(ref, Path(args.runs) / ref.name, args.projects, args.quiet, args.force)
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


def cmd_verify(args: argparse.Namespace) -> int:
    from .audit import verify_saved
    from .config import load_config

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


def cmd_generate(args: argparse.Namespace) -> int:
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


def cmd_data_benchmark(args: argparse.Namespace) -> int:
    from .data.benchmark import benchmark_sample

    res = benchmark_sample(None if args.file == "embedded" else args.file, model=args.model, seed=args.seed)
    print("\n".join(res.summary()))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    import numpy as np

    from .data import load_jets

    ds = load_jets(None if args.file == "embedded" else args.file, args.representation)
    print(f"source {ds.source}, representation {ds.representation}, classes {', '.join(ds.class_names)}")
    for split in ("train", "val", "test"):
        X, y = getattr(ds, f"X_{split}"), getattr(ds, f"y_{split}")
        print(f"  {split:<5} X {X.shape} per class {np.bincount(y, minlength=len(ds.class_names)).tolist()}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from .report.compare import compare_runs

    paths = compare_runs(args.runs, args.out)
    print(paths["markdown"].read_text())
    print(f"wrote {paths['markdown']} and {paths['html']}")
    return 0


def cmd_lecture(args: argparse.Namespace) -> int:
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


def cmd_compile(args: argparse.Namespace) -> int:
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
        hls=args.hls,
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


def _name_from(model: Path) -> str:
    """A folder name from a model's file name: ``tagger.v2.h5`` -> ``tagger_v2`` (``--name`` overrides)."""
    stem = model.name[: -len(model.suffix)] if model.suffix and not model.is_dir() else model.name
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in stem) or "model"


def cmd_bench(args: argparse.Namespace) -> int:
    from .benchmark import DEFAULT_MODELS, run_benchmark

    run_benchmark(args.models or DEFAULT_MODELS, args.out, epochs=args.epochs, workers=args.workers)
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from .scan import run_scan

    res = run_scan(args.config, out=args.out, scheduler=args.scheduler, workers=args.workers,
                   retry_failed=args.retry_failed)  # fmt: skip
    print("\n".join(res.summary()))
    return 0 if res.passed else 1


def cmd_optimize(args: argparse.Namespace) -> int:
    from .optimizer import plan_optimize, run_optimize

    plan = plan_optimize(args.config, max_drop=args.max_drop, rounds=args.rounds, epochs=args.epochs,
                         widths=not args.no_widths, time_budget_s=args.time_budget * 60, out=args.out,
                         scheduler=args.scheduler, workers=args.workers, confirm=not args.no_confirm)  # fmt: skip
    if args.check:
        print(plan.summary())
        return 0
    res = run_optimize(plan, progress=not args.quiet)
    print("\n".join(res.summary()))
    return 0


def cmd_reference(args: argparse.Namespace) -> int:
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
    if args.force and cfg.save_to is None:
        raise ConfigError(
            "--force replaces the weights of --save-to, and no --save-to is given: drop --force"
        )
    return _reference_report(cfg, args.out or Path("runs") / cfg.name, args.projects, args.quiet, args.force)


def _reference_report(cfg, out: Path, projects, quiet: bool, force: bool = False) -> int:
    """Run a reference, print its report; exit 1 where its FPGA model does not reproduce it."""
    from .reference.run import run_reference

    res = run_reference(cfg, out, projects, progress=not quiet, force=force)
    print("\n".join(res.summary()))
    return 0 if res.passed else 1


def cmd_synth(args: argparse.Namespace) -> int:
    from .hls.synth import synthesize

    run_dir = args.run or Path("runs") / args.project.name
    result = synthesize(args.project, run_dir if args.run or (run_dir / "metrics.json").is_file() else None)
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


def cmd_rtl(args: argparse.Namespace) -> int:
    from .compiler import load_calibration_data
    from .hdl import rtl

    X = load_calibration_data(args.data)[0] if args.data is not None else None
    res = rtl(args.project, X, clock_period=args.clock_period, latency_cutoff=args.latency_cutoff,
              simulate=not args.no_sim, synthesize=not args.no_synth, synth_timeout_s=args.synth_timeout,
              synth_jobs=args.synth_jobs, keep_softmax=args.keep_softmax, force=args.force)  # fmt: skip
    print("\n".join(res.summary()))
    return 0 if res.passed or args.no_sim else 1


def cmd_check(args: argparse.Namespace) -> int:
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
