"""A fuzzer over the boundary: mutated configs, data files and flags, each verb stopped right after its plan.

For every example (hypothesis, seeded by its database-less default profile): the CLI exits 0 or 2, never 3;
no traceback; a refusal is a few lines starting ``triggernn: error:``; the user's files are byte-identical
and no folder appears that was not there. For configs, ``check`` and ``run`` agree: ``check`` says ok exactly
where ``run`` gets past its plan to training. The work past the plan (training, hls4ml) is replaced by a
sentinel, so each example costs a config load, a data load and a model build at most.

``scripts/fuzz.py`` runs the same strategies for longer, seeded, and prints a table of what it tried.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import save_tiny_classifier, snapshot
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from triggernn.cli import main

ROOT = Path(__file__).parents[1]
EMBEDDED = ROOT / "triggernn" / "data" / "embedded" / "jets_default.root"
RUN_CONFIGS = ["jet_dense", "jet_cnn", "jet_gru"]
#: ``scripts/fuzz.py`` sets these for a long seeded run and reads the record of every example.
EXAMPLES = int(os.environ.get("TRIGGERNN_FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("TRIGGERNN_FUZZ_SEED")
RECORD = os.environ.get("TRIGGERNN_FUZZ_RECORD")
SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=SEED is None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)  # fmt: skip
TRIED: list[dict] = []


def seeded(test):
    return seed(int(SEED))(test) if SEED is not None else test


@pytest.fixture(scope="module", autouse=True)
def _record():
    yield
    if RECORD:
        Path(RECORD).write_text(json.dumps(TRIED, indent=0))


def tried(kind: str, what: str, result: str, why: str) -> None:
    TRIED.append({"kind": kind, "what": what, "result": result, "why": why[:200]})


class Planned(BaseException):
    """Raised where a verb's work would start: the plan was accepted."""


def _stop(*args, **kwargs):
    raise Planned


REFUSAL = re.compile(r"^triggernn( [a-z]+)*: error: ")  # ours, or argparse's "triggernn rtl: error: ..."


def outcome(argv: list[str], capsys) -> tuple[str, str]:
    """``("planned" | "ok" | "refused", message)``; fails on a traceback, exit 3 or a long message."""
    try:
        code = main(argv)
    except Planned:
        capsys.readouterr()
        return "planned", ""
    except SystemExit as exit_:  # argparse's refusal of a flag's value
        code = exit_.code
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    assert code in (0, 2), (argv, code, err)
    if code == 0:
        return "ok", ""
    lines = [line for line in err.strip().splitlines() if "tensorflow" not in line]
    refusals = [line for line in lines if REFUSAL.match(line)]
    assert refusals, err
    assert len(lines) <= 8, err  # a few lines naming the problem (a config may list several problems)
    return "refused", refusals[0]


#: Where each verb's work begins, after its plan: replaced by a sentinel, so an example costs a plan at most
#: (a config and data loaded, a model built). run, bench and check's runs: the staged run; compile: the
#: calibration; data generate: Pythia; verify: the fresh build; scan: the cluster; optimize, lecture, reference,
#: data benchmark: their work (a lecture example's, once its folders are checked).
WORK_STARTS = [
    ("triggernn.pipeline", "_run_staged"), ("triggernn.compiler", "calibrate"),
    ("triggernn.data.generate", "_import_gen"), ("triggernn.data.shards", "generate_shards"),
    ("triggernn.audit", "verify_model"), ("triggernn.scan", "local_cluster"),
    ("triggernn.optimizer", "run_optimize"), ("triggernn.lecture", "_work"),
    ("triggernn.reference.run", "run_flow_reference"), ("triggernn.reference.run", "run_gan_reference"),
    ("triggernn.data.benchmark", "_dense"), ("triggernn.data.benchmark", "_hgb"),
]  # fmt: skip


@pytest.fixture
def user_dir(tmp_path, monkeypatch):
    """A user's folder (the working directory) with their own notes, and the verbs' work replaced by a sentinel."""
    import importlib

    for module, attr in WORK_STARTS:
        monkeypatch.setattr(importlib.import_module(module), attr, _stop)
    d = tmp_path / "user"
    d.mkdir()
    (d / "notes.txt").write_text("my notes\n")
    monkeypatch.chdir(d)
    return d


# ---- configs -----------------------------------------------------------------------------------------------

BAD_TYPES = [
    "ap_fixed<16>", "ap_fixed<6,10>", "ap_fixed<16,6,RND_FOO,SAT>", "fixed<0,0>", "ap_ufixed<200,3>",
    "ap_fixed<16,6,RND,SAT,3>", "ap_fixed<-4,2>", "float", "ap_int<0>", "ap_fixed<16,6,SAT,RND>",
]  # fmt: skip
GOOD_TYPES = [
    "ap_fixed<18,8>",
    "ap_fixed<16,6,RND,SAT>",
    "ap_ufixed<8,0>",
    "ap_fixed<24,12,RND_CONV,SAT_SYM>",
]
ODD_VALUES = [
    None, True, -1, 0, 1, 10**12, 1e300, float("nan"), float("inf"), -0.5, 0.5, "", "x", "12", [], [1, 2], {},
    {"a": 1}, "ap_fixed<16,6>",
]  # fmt: skip


def _paths(tree, prefix=()):
    """Every key path of a nested mapping."""
    for k, v in tree.items():
        yield (*prefix, k)
        if isinstance(v, dict):
            yield from _paths(v, (*prefix, k))


def _at(tree, path):
    for k in path[:-1]:
        tree = tree[k]
    return tree


@st.composite
def mutated_config(draw) -> tuple[str, str]:
    """(YAML text, what was done) from a shipped run config."""
    name = draw(st.sampled_from(RUN_CONFIGS))
    tree = yaml.safe_load((ROOT / "configs" / f"{name}.yaml").read_text())
    tree["train"]["epochs"] = 1
    paths = list(_paths(tree))
    path = draw(st.sampled_from(paths))
    kind = draw(
        st.sampled_from(["drop", "rename", "retype", "type", "good_type", "duplicate", "data", "rtl"])
    )
    parent, leaf = _at(tree, path), path[-1]
    if kind == "drop":
        del parent[leaf]
    elif kind == "rename":
        parent[leaf + draw(st.sampled_from(["s", "_", "x"]))] = parent.pop(leaf)
    elif kind == "retype":
        parent[leaf] = draw(st.sampled_from(ODD_VALUES))
    elif kind in ("type", "good_type"):
        spec = draw(st.sampled_from(BAD_TYPES if kind == "type" else GOOD_TYPES))
        where = draw(st.sampled_from(["input", "precision", "recurrent"]))
        if where == "input":
            tree["quantization"]["input"] = spec
        elif where == "precision":
            layer = draw(st.sampled_from(["fc1", "output", "fc9"]))
            key = draw(st.sampled_from(["result", "accum", "weight", "rezult"]))
            tree.setdefault("hls", {}).setdefault("precision", {})[layer] = {key: spec}
        else:
            tree.setdefault("hls", {}).setdefault("recurrent", {})["accum"] = spec
    elif kind == "data":
        tree["data"]["representation"] = draw(st.sampled_from(["features", "images", "sequences"]))
    elif kind == "rtl":
        tree["rtl"] = {"enabled": True, "latency_cutoff": draw(st.sampled_from([0.5, 5.0, 50.0, -1.0]))}
        tree["hls"]["clock_period"] = draw(st.sampled_from([0.01, 2.0, 5.0, 25.0]))
    text = yaml.safe_dump(tree, sort_keys=False)
    if kind == "duplicate":  # a key given twice in one mapping: YAML keeps the last silently
        top = draw(st.sampled_from([k for k in tree if isinstance(tree[k], dict)] or ["name"]))
        text += f"{top}: {json.dumps(tree[top])}\n"
    return text, f"{name}: {kind} {'.'.join(map(str, path))}"


@seeded
@SETTINGS
@given(example=mutated_config())
def test_check_agrees_with_run_on_mutated_configs(example, user_dir, capsys):
    text, what = example
    cfg = user_dir / "mutant.yaml"
    cfg.write_text(text)
    before = snapshot(user_dir)
    checked, why = outcome(["check", str(cfg)], capsys)
    assert snapshot(user_dir) == before, what  # check writes nothing
    ran, why_run = outcome(["run", str(cfg)], capsys)
    tried("config", what, checked, why)
    assert checked in ("ok", "refused"), what
    # check's ok is run getting past its plan; check's refusal is run's, word for word
    assert (checked, ran) in (("ok", "planned"), ("refused", "refused")), (what, why, why_run)
    if checked == "refused":  # check prefixes the file's name
        assert why == why_run.replace("triggernn: error: ", f"triggernn: error: {cfg}: ", 1), (
            what,
            why,
            why_run,
        )
    assert snapshot(user_dir) == before, what  # nothing written, no stray folder


# ---- data files for compile ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return save_tiny_classifier(tmp_path_factory.mktemp("model") / "model.h5", n_in=6, hidden=4)


@st.composite
def data_file(draw) -> tuple[str, dict, str]:
    """(file name, arrays, what) of a calibration file: a valid one (300 float32 events of 6 values, integer
    labels 0..2, .npz) with none, one or two of its properties changed."""
    changes = draw(
        st.lists(st.sampled_from(X_FORMS + LABEL_FORMS + SUFFIXES + SIZES), max_size=2, unique=True)
    )
    n = next((int(c.split("=")[1]) for c in changes if c.startswith("n=")), 300)
    width = 7 if "features7" in changes else 6
    X = np.random.default_rng(0).normal(size=(n, width)).astype(np.float32)
    X = X.ravel() if "ndim1" in changes else X[:, :, None] if "ndim3" in changes else X
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # the casts below are the point
        warnings.simplefilter("ignore")
        if X.ndim == 2 and ({"nan", "inf"} & set(changes)):
            X[n // 2 :, 1] = np.nan if "nan" in changes else np.inf
        if "huge" in changes:
            X = X.astype(np.float64) * 1e300
        for form in ("float64", "int32", "uint8", "object", "str"):
            if form in changes:
                X = X.astype(form)
        if "complex" in changes:
            X = X.astype(np.float64) + 1j
    labels = next((c for c in changes if c in LABEL_FORMS), "ints")
    y = np.arange(n) % 3
    ys = {
        "ints": y, "onehot": np.eye(3)[y], "strings": np.array(["a", "b", "c"])[y], "fractions": y + 0.5,
        "negative": y - 1, "short": y[: max(0, n - 3)], "classes5": np.arange(n) % 5, "nan": y * np.nan,
        "2d": np.stack([y, y], axis=1), "none": None, "float_ints": y.astype(np.float64), "bool": y > 0,
    }[labels]  # fmt: skip
    arrays = {"X": X} if ys is None else {"X": X, "y": ys}
    suffix = next((c for c in changes if c in SUFFIXES), ".npz")
    return suffix, arrays, f"{', '.join(changes) or 'valid'} (X {X.dtype} {X.shape})"


X_FORMS = ["float64", "int32", "uint8", "complex", "object", "str", "ndim1", "ndim3", "features7", "nan", "inf",
           "huge"]  # fmt: skip
SIZES = ["n=0", "n=1", "n=39", "n=120"]
SUFFIXES = [".npy", ".txt", ".npz-truncated", ".NPZ"]
LABEL_FORMS = ["onehot", "strings", "fractions", "negative", "short", "classes5", "nan", "2d", "none", "float_ints",
               "bool"]  # fmt: skip


def _write(path: Path, suffix: str, arrays: dict) -> Path:
    target = path.with_suffix(".npz" if suffix == ".npz-truncated" else suffix)
    suffix = suffix.lower()
    if suffix == ".npy":
        np.save(target, arrays["X"], allow_pickle=arrays["X"].dtype == object)
    elif suffix == ".txt":
        target.write_text("1 2 3\n")
    else:
        with open(target, "wb") as fh:  # (np.savez would add '.npz' to a '.NPZ' name)
            np.savez(fh, **arrays)  # object arrays are pickled into it
        if suffix == ".npz-truncated":
            target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    return target


def _usable(suffix: str, X: np.ndarray, y: np.ndarray | None) -> bool:
    """What compile must accept: a readable file, real finite (float32) events of 6 values, half of them
    held out and at least MIN_TEST_EVENTS = 20 of those, and labels (npz only) as classes 0..2 or one-hot rows, one per event."""
    if suffix.lower() not in (".npz", ".npy") or X.dtype.kind not in "iuf" or X.ndim != 2 or X.shape[1] != 6:
        return False
    with np.errstate(over="ignore"):
        if len(X) - max(1, len(X) // 2) < 20 or not np.isfinite(X.astype(np.float32)).all():
            return False
    if suffix == ".npy" or y is None:
        return True
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    if y.dtype.kind not in "iuf" or len(y) != len(X) or not np.isfinite(y).all():
        return False
    if y.ndim == 2:
        return y.shape[1] == 3 and bool(np.isin(y, (0, 1)).all() and (y.sum(axis=1) == 1).all())
    return bool(y.ndim == 1 and (y == np.round(y)).all() and y.min() >= 0 and y.max() < 3)


@seeded
@SETTINGS
@given(example=data_file())
def test_compile_refuses_or_plans_every_data_file(example, tiny_model, user_dir, capsys):
    suffix, arrays, what = example
    data = _write(user_dir / "calib", suffix, arrays)
    before = snapshot(user_dir)
    result, why = outcome(["compile", str(tiny_model), "--data", data.name, "--no-default"], capsys)
    tried("data", what, result, why)
    expected = "planned" if _usable(suffix, arrays["X"], arrays.get("y")) else "refused"
    assert result == expected, (what, why)
    # `compile --check` builds the same plan: ok exactly where compile starts its work, the same refusal
    checked, check_why = outcome(
        ["compile", str(tiny_model), "--data", data.name, "--no-default", "--check"], capsys
    )
    assert (checked, check_why) == (("ok", "") if result == "planned" else (result, why)), what
    assert snapshot(user_dir) == before, what


# ---- flags ---------------------------------------------------------------------------------------------------

NUMBERS = ["0", "-3", "0.01", "2", "5", "50", "nan", "inf", "1e9", "x", ""]
#: Values each flag takes when it is meant to be right: half the draws
VALID = {"--clock-period": ["5", "3.3"], "--latency-cutoff": ["2.5", "5"], "--synth-timeout": ["60"],
         "--synth-jobs": ["1", "2"], "--n-jets": ["100", "1000"], "--pt-min": ["800"], "--pt-max": ["1600"],
         "--hard-pt": ["1000"], "--processes": ["1"], "--max-constituents": ["30"], "--width": ["8", "16"],
         "--tolerance": ["0.01"], "--headroom": ["1", "0"], "--reuse-factor": ["1", "4"], "--max-drop": ["0.01"],
         "--rounds": ["3"], "--epochs": ["2"], "--time-budget": ["30"], "--workers": ["1", "2"]}  # fmt: skip


def value(draw, flag: str) -> str:
    return draw(st.sampled_from(VALID[flag])) if draw(st.booleans()) else draw(st.sampled_from(NUMBERS))


@st.composite
def rtl_flags(draw) -> list[str]:
    argv = ["rtl", draw(st.sampled_from(["nowhere", "notes.txt", "."]))]
    for flag in ("--clock-period", "--latency-cutoff", "--synth-timeout", "--synth-jobs"):
        if draw(st.booleans()):
            argv += [flag, value(draw, flag)]
    for flag in ("--no-sim", "--no-synth", "--keep-softmax", "--force"):
        if draw(st.booleans()):
            argv.append(flag)
    if draw(st.booleans()):
        argv += ["--data", draw(st.sampled_from(["notes.txt", "missing.npz"]))]
    return argv


@st.composite
def generate_flags(draw) -> list[str]:
    argv = ["data", "generate", "-o", draw(st.sampled_from(["new.root", "notes.txt", "jets.root", "sub/x.root",
                                                            "shards", "x" * 300 + ".root"]))]  # fmt: skip
    for flag in ("--n-jets", "--pt-min", "--pt-max", "--hard-pt", "--processes", "--max-constituents"):
        if draw(st.booleans()):
            argv += [flag, value(draw, flag)]
    if draw(st.booleans()):
        argv += ["--scheduler", draw(st.sampled_from(["tcp://127.0.0.1:1", "notaurl", "tcp://:8786"]))]
    for flag in ("--shards", "--force"):
        if draw(st.booleans()):
            argv.append(flag)
    return argv


@st.composite
def compile_flags(draw) -> list[str]:
    argv = ["compile", "model.h5", "--no-default"]
    if draw(st.booleans()):
        argv += ["--data", "calib.npz"]
    for flag in ("--width", "--tolerance", "--headroom", "--reuse-factor"):
        if draw(st.booleans()):
            argv += [flag, value(draw, flag)]
    if draw(st.booleans()):
        argv += [
            "--input-range",
            *draw(
                st.sampled_from([["-2", "2"], ["0", "1"], ["nan", "1"], ["2", "-2"], ["1", "1"], ["x", "3"]])
            ),
        ]
    if draw(st.booleans()):
        argv += ["--weights", "model.h5"]
    if draw(st.booleans()):
        argv += ["--name", draw(st.sampled_from(["ok_name", "../up", "a b", "x" * 300]))]
    return argv


@st.composite
def optimize_flags(draw) -> list[str]:
    configs = [str(ROOT / "configs" / "jet_dense.yaml"), str(ROOT / "configs" / "jet_cnn.yaml"), "notes.txt",
               "missing.yaml"]  # fmt: skip
    argv = ["optimize", draw(st.sampled_from(configs))]
    for flag in ("--max-drop", "--rounds", "--epochs", "--time-budget", "--workers"):
        if draw(st.booleans()):
            argv += [flag, value(draw, flag)]
    if draw(st.booleans()):
        argv += ["--out", draw(st.sampled_from(["opt", "notes.txt", ".", "/proc/opt", "x" * 300]))]
    if draw(st.booleans()):
        argv += ["--scheduler", draw(st.sampled_from(["tcp://127.0.0.1:1", "notaurl"]))]
    return [*argv, "--check"]


def _twice(argv: list[str]) -> list[str]:
    """``argv`` with its last valued flag given again, with another value."""
    flags = [i for i, a in enumerate(argv[:-1]) if a in VALID]
    if not flags:
        return argv
    i = flags[-1]
    return [*argv, argv[i], next(v for v in [*VALID[argv[i]], "7"] if v != argv[i + 1])]


@seeded
@SETTINGS
@given(argv=st.one_of(rtl_flags(), generate_flags(), compile_flags(), optimize_flags()), twice=st.booleans())
def test_flags_are_refused_in_one_line_or_planned(argv, twice, tiny_model, user_dir, capsys):
    import shutil

    repeated = _twice(argv) if twice else argv
    twice, argv = repeated != argv, repeated

    shutil.copy(tiny_model, user_dir / "model.h5")
    y = np.arange(200) % 3
    np.savez(user_dir / "calib.npz", X=np.random.default_rng(0).normal(size=(200, 6)), y=y)
    (user_dir / "jets.root").write_bytes(EMBEDDED.read_bytes())  # a jet file triggernn wrote, now the user's
    before = snapshot(user_dir)
    result, why = outcome(argv, capsys)
    tried(argv[0] if argv[0] != "data" else "data generate", " ".join(argv), result, why)
    # every rtl here lacks a project (refused); the other verbs stop at their plan (optimize: --check)
    assert result in (("ok", "refused") if argv[0] == "optimize" else ("planned", "refused")), argv
    if twice:  # a flag given twice with two values
        assert result == "refused", argv
    if "jets.root" in argv and "--force" not in argv:
        assert result == "refused", argv
    assert snapshot(user_dir) == before, (argv, why)


# ---- every verb's flags, from the parser itself -----------------------------------------------------------------

#: What a careless user types where a value goes: paths of every kind, numbers out of range, text.
ANY_VALUE = [
    "notes.txt", "missing.yaml", ".", "sub/x.root", "x" * 300, "", "0", "-1", "2", "1e9", "nan", "inf", "x",
    str(ROOT / "configs" / "jet_dense.yaml"), str(ROOT / "configs" / "scans" / "jet_dense.yaml"),
    str(ROOT / "configs" / "lecture" / "gates.yaml"), str(ROOT / "configs" / "flow.yaml"), "embedded",
    "jets.root", "model.h5", "tcp://127.0.0.1:1",
]  # fmt: skip


CONFIGS = ROOT / "configs"
#: Right positionals per (verb, argument), drawn half the time so that examples get past them to the flags.
GOOD_POSITIONALS = {
    "config": [str(CONFIGS / "jet_dense.yaml"), str(CONFIGS / "jet_cnn.yaml")],
    "scan config": [str(CONFIGS / "scans" / "jet_dense.yaml")],
    "lecture example": ["gates", "rnn", "approximation", "gradients"],
    "compile model": ["model.h5"],
    "reference model": ["flow", "gan"],
    "bench models": ["jet_dense"],
    "check configs": [str(CONFIGS / "jet_dense.yaml"), str(CONFIGS / "scans" / "jet_dense.yaml"),
                      str(CONFIGS / "lecture" / "rnn.yaml"), str(CONFIGS / "gan.yaml")],
    "file": ["jets.root", "embedded"],
}  # fmt: skip


def _verbs():
    """``(argv prefix, sub-parser)`` of every verb the CLI has, ``data``'s included: read from the parser, so a
    verb or flag added later is fuzzed without a change here."""
    import argparse

    from triggernn.cli import _parser

    found = []

    def walk(parser, prefix):
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found.append((prefix, parser))
        for name, sub in subs[0].choices.items() if subs else []:
            walk(sub, [*prefix, name])

    walk(_parser(), [])
    return found


VERBS = _verbs()


@st.composite
def any_verb(draw) -> list[str]:
    """A verb with its positionals (right half the time) and up to three of its flags, each with a value typed
    carelessly, one of its choices, or (half the time, where the fuzzer knows one) a right value; never --help."""
    import argparse

    prefix, parser = draw(st.sampled_from(VERBS))
    argv = list(prefix)
    options = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            options.append(action)
            continue
        n = 1 if action.nargs in (None, "?", 1) else draw(st.integers(1, 2))  # a positional, as nargs allows
        good = GOOD_POSITIONALS.get(f"{prefix[0]} {action.dest}", GOOD_POSITIONALS.get(action.dest, []))
        pool = good if good and draw(st.booleans()) else [*(action.choices or []), *ANY_VALUE]
        argv += [draw(st.sampled_from(pool)) for _ in range(n)]
    for action in draw(st.lists(st.sampled_from(options), max_size=3, unique_by=id)) if options else []:
        flag = draw(st.sampled_from(action.option_strings))
        if action.nargs == 0:
            argv.append(flag)
            continue
        pool = [*action.choices, "bogus"] if action.choices else ANY_VALUE
        known = [VALID[f] for f in action.option_strings if f in VALID]
        if known and draw(st.booleans()):
            pool = known[0]
        n = action.nargs if isinstance(action.nargs, int) else 1
        argv += [flag, *(draw(st.sampled_from(pool)) for _ in range(n))]
    return argv


@seeded
@SETTINGS
@given(argv=any_verb())
def test_every_verb_refuses_in_one_line_or_plans(argv, tiny_model, user_dir, capsys):
    """Every verb of the parser with careless positionals and flags: a refusal in a few lines, or the plan
    accepted (the work is a sentinel), or a quick verdict; never a traceback, exit 3 or a user's file changed."""
    import shutil

    shutil.copy(tiny_model, user_dir / "model.h5")
    (user_dir / "jets.root").write_bytes(EMBEDDED.read_bytes())
    before = snapshot(user_dir)
    result, why = outcome(argv, capsys)
    verb = " ".join(argv[:2]) if argv[0] == "data" else argv[0]
    tried(f"{verb} (any)", " ".join(argv)[:300], result, why)
    after = snapshot(user_dir)
    assert {k: after.get(k) for k in before} == before, (argv, why)  # the user's files as they were
    if result == "refused":
        assert after == before, (argv, why)  # and nothing left behind
