"""A user's mistakes, as a table: each gets a clear one-line error and exit code 2 (or a correct verdict),
no traceback, and the user's files are exactly as they were (nothing deleted, overwritten, renamed or
left half-written: no stray folders either).

The cases run in a folder holding a user's work: a model, calibration data, notes, a folder of their own
and a file. Everything fails before any training or conversion, so the table runs in seconds.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import save_tiny_classifier, snapshot

import triggernn as tn
from triggernn.cli import main

ROOT = Path(__file__).parents[1]
EMBEDDED = ROOT / "triggernn" / "data" / "embedded" / "jets_default.root"


_snapshot = snapshot


@pytest.fixture(scope="module")
def user_files(tmp_path_factory):
    """A user's folder, made once: tests copy it."""
    d = tmp_path_factory.mktemp("user")
    save_tiny_classifier(d / "model.h5", n_in=16, hidden=8)
    rng = np.random.default_rng(0)
    np.savez(d / "calib.npz", X=rng.normal(size=(200, 16)).astype(np.float32), y=rng.integers(0, 3, 200))
    np.savez(d / "wrongshape.npz", X=rng.normal(size=(200, 7)).astype(np.float32))
    bad = rng.normal(size=(200, 16)).astype(np.float32)
    bad[3, 4] = np.nan
    np.savez(d / "nan.npz", X=bad)
    (d / "notes.txt").write_text("my analysis notes\n")
    (d / "afile").write_text("a user's file\n")
    (d / "foreign.root").write_text("not ROOT at all\n")
    (d / "mydata").mkdir()
    (d / "mydata" / "keep.txt").write_text("keep me\n")
    (d / "half.root").write_bytes(EMBEDDED.read_bytes()[: EMBEDDED.stat().st_size // 2])
    (d / "binary.yaml").write_bytes(bytes(range(256)) * 4)
    (d / "mine.root").write_bytes(EMBEDDED.read_bytes())  # a jet file triggernn wrote, now the user's
    y = rng.integers(0, 3, 200)
    X = rng.normal(size=(200, 16)).astype(np.float32)
    labels = {"onehot": np.eye(3)[y], "strings": np.array(list("abc"))[y], "fractions": y + 0.5,
              "short": y[:150], "minus": y - 1, "five": np.arange(200) % 5, "nan_y": y * np.nan,
              "one_class": np.zeros(200, dtype=int), "bool": y > 1}  # fmt: skip
    for name, lab in labels.items():
        np.savez(d / f"y_{name}.npz", X=X, y=lab)
    import uproot

    with uproot.recreate(d / "wrongtree.root") as f:  # a ROOT file of someone else's tree
        f["events"] = {"x": np.arange(5.0)}
    np.save(d / "objects.npy", np.array([{"a": 1}] * 200, dtype=object), allow_pickle=True)
    np.save(d / "complex.npy", X + 1j)
    (d / "weights.json").write_text('{"my": "settings"}\n')  # a user's file where --save-to weights.pt writes
    # the third sweep: a run folder `triggernn run` wrote, data of other key names, odd labels in a jet file
    from triggernn.data.readers import HLF_FEATURES
    from triggernn.outputs import MARKER, marker_text

    (d / "myrun").mkdir()
    (d / "myrun" / MARKER).write_text(marker_text("run folder", "replaced whole by the next run"))
    (d / "myrun" / "qkeras_model.h5").write_bytes(b"a trained model")
    np.savez(d / "bigX.npz", X=X * 1e6, y=y)
    np.savez(d / "capital_y.npz", X=X, Y=y)
    np.savez(d / "x0.npz", X0=X, y=y)
    with uproot.recreate(d / "labfloat.root") as f:
        f["jets"] = {"label": (np.arange(200) % 3 + 0.5).astype(np.float32),
                     **{h: X[:, i % 16].copy() for i, h in enumerate(HLF_FEATURES)}}  # fmt: skip
    configs = {
        "dup.yaml": "name: x\nname: y\n",
        "epochs_true.yaml": "name: x\ntrain:\n  epochs: true\n",
        "unknown.yaml": "name: x\nhls:\n  clock: 5\n",
        "input_bits.yaml": "name: x\nquantization:\n  input: ap_fixed<6,10>\n",
        "layer_typo.yaml": "name: x\nquantization:\n  layers:\n    fc9: {weight: {bits: 4}}\n",
        "precision_key.yaml": "name: x\nhls:\n  precision:\n    fc1: {rezult: 'ap_fixed<16,6>'}\n",
        "precision_layer.yaml": "name: x\nhls:\n  precision:\n    fc9: {result: 'ap_fixed<16,6>'}\n",
        "user_outdir.yaml": "name: x\nhls:\n  output_dir: mydata\n",
        "missing_data.yaml": "name: x\ndata:\n  source: nowhere.root\n",
        "truncated_data.yaml": "name: x\ndata:\n  source: half.root\n",
        "family.yaml": "name: x\nmodel:\n  family: jet_transformer\n",
        "not_for_family.yaml": "name: x\nmodel:\n  units: 8\n",
        "not_for_source.yaml": "name: x\ndata:\n  image_size: 8\n",
        "small_sample.yaml": "name: x\ndata:\n  max_jets: 50\n",
        "ref_name.yaml": "reference: flow\nname: ../../outside\n",
        "prec_key.yaml": "fc1: {rezult: 'ap_fixed<16,6>'}\n",
        "prec_layer.yaml": "fc9: {result: 'ap_fixed<16,6>'}\n",
        "prec_type.yaml": "fc1: {result: 'ap_fixed<16>'}\n",
        "hls_strategy.yaml": "strategy: Fast\n",
        "hls_run.yaml": "name: x\nhls:\n  reuse_factor: 0\n",
        "hls_list.yaml": "- io_parallel\n",
        "images_dense.yaml": "name: x\ndata:\n  representation: images\n",
        "recurrent_dense.yaml": 'name: x\nhls:\n  recurrent: {state: "ap_fixed<18,8>"}\n',
        "rtl_clock.yaml": "name: x\nhls:\n  clock_period: 2\nrtl:\n  enabled: true\n  latency_cutoff: 50\n",
        "fast_clock.yaml": "name: x\nhls:\n  clock_period: 0.01\n",
        "bad_mode.yaml": "name: x\nhls:\n  precision:\n    fc1: {accum: 'ap_fixed<24,12,RND_UP,SAT>'}\n",
        "save_to.yaml": "reference: flow\nsave_to: x.pt\n",
        "unicode_name.yaml": "name: jét_ü\n",
        "plain.yaml": "name: x\n",
        "lecture_escape.yaml": "example: gates\nname: ../../escape\n",
        # the second sweep of 2026-12-07
        "layers_base.yaml": "name: lb\nquantization:\n  layers:\n    fc1: {weight: {bits: 3, integer: 0}}\n",
        "bits_scan.yaml": "name: s\nbase: layers_base.yaml\ngrid:\n  bits: [4, 6]\n",
        "self_scan.yaml": "name: s\nbase: self_scan.yaml\ngrid:\n  bits: [4, 6]\n",
        "accum_wide.yaml": "name: x\nhls:\n  precision:\n    fc1: {accum: 'ap_fixed<24,30>'}\n",
        "softmax_off.yaml": "name: x\nmodel:\n  softmax: false\nhls:\n  softmax: {table_size: 2048}\n",
        "empty.yaml": "",
        "nan_lr.yaml": "name: x\ntrain:\n  learning_rate: .nan\n",
        "seed.yaml": "name: x\ntrain:\n  seed: -1\n",
        "lecture_type.yaml": "example: rnn\ninput_type: ap_fixed<8,12>\n",
        "lecture_key.yaml": "example: gates\nlearning_rat: 0.1\n",
        "both_scan.yaml": "name: s\nbase: plain.yaml\noverrides: {hls: {reuse_factor: 4}}\ngrid:\n  hls.reuse_factor: [1, 2]\n",
        "name_scan.yaml": "name: s\nbase: plain.yaml\ngrid:\n  name: [a, b]\n",
        "section_scan.yaml": "name: s\nbase: plain.yaml\ngrid:\n  train: [{epochs: 1}, {epochs: 2}]\n",
        "null_section.yaml": "name: x\nverify: ~\n",
    }
    for name, text in configs.items():
        (d / name).write_text(text)
    return d


@pytest.fixture
def workdir(user_files, tmp_path, monkeypatch):
    d = tmp_path / "work"
    shutil.copytree(user_files, d)
    monkeypatch.chdir(d)
    return d


COMPILE = ["compile", "model.h5", "--data", "calib.npz", "--no-default"]
#: (argv, fragment of the one-line error). Exit code 2 for every one.
CASES = [
    # outputs that would lose a user's files
    ([*COMPILE, "--out", "."], "it is the working directory"),
    ([*COMPILE, "--out", ".."], "contains the working directory"),
    ([*COMPILE, "--out", "mydata"], "holds files triggernn did not write"),
    ([*COMPILE, "--out", "afile"], "it is an existing file"),
    ([*COMPILE, "--out", "calib.npz"], "holds the input 'calib.npz'"),
    ([*COMPILE, "--runs", "afile"], "on its path is a file, not a folder"),
    (["run", "user_outdir.yaml"], "holds files triggernn did not write"),
    (["data", "generate", "-o", "notes.txt", "--n-jets", "10"], "must be a .root file name"),
    (["data", "generate", "-o", "mydata", "--n-jets", "10"], "must be a .root file name"),
    (["data", "generate", "-o", "foreign.root", "--n-jets", "10"], "not a jet file triggernn wrote"),
    (["data", "generate", "-o", "x.root", "--n-jets", "10", "--hard-pt", "3000"], "outside the jet window"),
    (
        ["data", "generate", "-o", "mydata", "--shards", "--n-jets", "10"],
        "holds files triggernn did not write",
    ),
    (["data", "generate", "-o", "x.root", "--shards", "--n-jets", "10"], "pass a folder, not 'x.root'"),
    (["reference", "ref_name.yaml"], "name must be letters, digits"),
    # data
    (["compile", "model.h5", "--data", "missing.npz"], "does not exist"),
    (["compile", "model.h5", "--data", "notes.txt"], "must be .npy, .npz or a jet .root file"),
    (["compile", "model.h5", "--data", "wrongshape.npz"], "shape"),
    (["compile", "model.h5", "--data", "nan.npz"], "NaN"),
    (["compile", "model.h5", "--data", "half.root"], "truncated"),
    (["data", "info", "nowhere.root"], "does not exist"),
    (["data", "info", "half.root"], "truncated"),
    (["data", "info", "notes.txt"], "cannot tell the format|not a readable"),
    (["run", "missing_data.yaml"], "nowhere.root"),
    (["run", "truncated_data.yaml"], "truncated"),
    # models
    (["compile", "missing.h5", "--data", "calib.npz"], "does not exist"),
    (["compile", "notes.txt", "--data", "calib.npz"], "could not be loaded"),
    ([*COMPILE, "--name", "../x"], "--name"),
    ([*COMPILE, "--precision", "prec_key.yaml"], "has no type 'rezult'"),
    ([*COMPILE, "--precision", "prec_layer.yaml"], "names layer 'fc9'"),
    ([*COMPILE, "--precision", "prec_type.yaml"], "fc1"),
    ([*COMPILE, "--precision", "nowhere.yaml"], "does not exist"),
    ([*COMPILE, "--hls", "hls_strategy.yaml"], "strategy"),
    ([*COMPILE, "--hls", "hls_run.yaml"], "reuse_factor"),
    ([*COMPILE, "--hls", "hls_list.yaml"], "expected a mapping of hls settings"),
    ([*COMPILE, "--hls", "unknown.yaml"], "unknown key 'clock'"),
    # configs
    (["run", "binary.yaml"], "not a text file"),
    (["check", "binary.yaml"], "not a text file"),
    (["run", "dup.yaml"], "the key 'name' is given twice"),
    (["run", "epochs_true.yaml"], "true/false value"),
    (["run", "unknown.yaml"], "unknown key 'hls.clock'"),
    (["run", "input_bits.yaml"], "10 integer bits of 6"),
    (["run", "layer_typo.yaml"], "quantization.layers names layer 'fc9'"),
    (["run", "precision_key.yaml"], "has no type 'rezult'"),
    (["run", "precision_layer.yaml"], "names layer 'fc9'"),
    (["run", "family.yaml"], "jet_transformer"),
    (["run", "not_for_family.yaml"], "units does not apply to family 'jet_dense'"),
    (["run", "not_for_source.yaml"], "image_size not read for source 'embedded'"),
    (["run", "small_sample.yaml"], "a verdict needs at least 50"),
    (["run", "nowhere.yaml"], "does not exist"),
    (["verify", "unknown.yaml"], "unknown key"),
    # the RTL of a project
    (["rtl", "nowhere"], "the project '.*nowhere' does not exist"),
    (["rtl", "afile"], "is a file, not a folder"),
    (["rtl", "mydata"], "is not an hls4ml project"),
    (["rtl", "mydata", "--data", "missing.npz"], "does not exist"),
    (["verify", str(ROOT / "configs" / "jet_dense.yaml"), "--model", "missing.h5"], "does not exist"),
    # the sweep of 2026-12-03 (issue 24): one line each, before any work
    (["data", "generate", "-o", "mine.root", "--n-jets", "10"], "exists .*--force to replace it"),
    (["rtl", "mydata", "--clock-period", "2", "--latency-cutoff", "50"], "cannot run at a 2 ns clock"),
    (["rtl", "mydata", "--clock-period", "0.01"], "at least 1.*beyond any FPGA"),
    (["rtl", "mydata", "--no-sim", "--data", "calib.npz"], "--data does nothing beside --no-sim"),
    (["run", "rtl_clock.yaml"], "latency_cutoff 50 ns .* cannot run at hls.clock_period 2 ns"),
    (["check", "rtl_clock.yaml"], "latency_cutoff 50 ns"),
    (["run", "fast_clock.yaml"], "clock_period"),
    (["run", "bad_mode.yaml"], "unknown rounding mode 'RND_UP'"),
    (["run", "images_dense.yaml"], "family 'jet_dense' reads data.representation 'features'"),
    (["check", "images_dense.yaml"], "family 'jet_dense' reads data.representation 'features'"),
    (
        ["check", "recurrent_dense.yaml"],
        r"family 'jet_dense' has none \(recurrent: jet_gru\): remove hls.recurrent",
    ),
    (["compile", "model.h5", "--data", "y_strings.npz"], "labels must be integer classes"),
    (["compile", "model.h5", "--data", "y_fractions.npz"], "fractions"),
    (["compile", "model.h5", "--data", "y_short.npz"], "150 labels for 200 events"),
    (["compile", "model.h5", "--data", "y_minus.npz"], "negative classes"),
    (["compile", "model.h5", "--data", "y_five.npz"], "class 4, but the model has 3 outputs"),
    (["compile", "model.h5", "--data", "y_nan_y.npz"], "fractions or NaN"),
    (["compile", "model.h5", "--data", str(EMBEDDED)], "class 4, but the model has 3 outputs"),
    (["compile", "model.h5", "--data", "objects.npy"], "Python objects"),
    (["compile", "model.h5", "--data", "complex.npy"], "complex numbers"),
    (["compile", "model.h5", "--data", "calib.npz", "--weights", "model.h5"], "holds its own weights"),
    (["compile", "model.h5", "--data", "calib.npz", "--input-range", "0", "1"], "drop one"),
    (["compile", "m" * 303 + ".h5", "--data", "calib.npz"], "bytes, the file system allows 255"),
    (["data", "generate", "-o", "shards", "--scheduler", "tcp://127.0.0.1:1"], "no Dask scheduler answers"),
    (["data", "generate", "-o", "shards", "--scheduler", "notaurl"], "not a Dask scheduler address"),
    (
        ["scan", str(ROOT / "configs" / "scans" / "jet_dense.yaml"), "--scheduler", "tcp://127.0.0.1:1"],
        "no Dask scheduler answers",
    ),
    (["reference", "flow", "--save-to", "x.pt"], "applies to training"),
    (["reference", "save_to.yaml"], "applies to training"),
    (["verify", str(ROOT / "configs" / "jet_dense.yaml"), "--model", "model.h5"], "has no QKeras layer"),
    # the sweep of 2026-12-07: folders written in place, one folder for two outputs, names
    ([*COMPILE, "--out", "both", "--runs", "both"], "each replaces the other"),
    (["run", "plain.yaml", "--projects", "both", "--runs", "both"], "each replaces the other"),
    (["bench", "jet_dense", "--out", "mydata"], "holds files triggernn did not write"),
    (["reference", "gan", "--out", "mydata"], "holds files triggernn did not write"),
    (["check", "unicode_name.yaml"], "letters, digits"),
    (["check", "lecture_escape.yaml"], "letters, digits"),
    (["scan", str(ROOT / "configs" / "jet_dense.yaml")], "is a run config, not a scan config"),
    (["verify", str(ROOT / "configs" / "gan.yaml")], "is a reference config, not a run config"),
    (["reference", "gan", "--student-epochs", "5"], "does not apply to the gan reference"),
    (["run", str(ROOT / "configs" / "gan.yaml"), "--max-jets", "500"], "drop the flag"),
    (["check", "mydata"], "is a folder"),
    (["data", "info", "wrongtree.root"], "holds events, not the 'jets' tree"),
    (["data", "info", "notes.txt"], "cannot tell the format"),
    ([*COMPILE[:3], "y_one_class.npz", "--no-default"], "one class only"),
    # a flag given twice with two values: argparse would keep the last silently
    ([*COMPILE, "--width", "8", "--width", "10"], "--width is given twice"),
    (["data", "generate", "-o", "a.root", "--output", "b.root", "--n-jets", "10"], "given twice"),
    # a folder even root cannot write in (os.access says yes there)
    ([*COMPILE, "--out", "/proc/triggernn"], "'/proc' is not writable"),
    # the second sweep of 2026-12-07: a file beside the one named, configs of another verb, keys that do nothing
    (["reference", "flow", "--retrain", "--save-to", "weights.pt"], "would replace 'weights.json'"),
    (["reference", "flow", "--retrain", "--save-to", "notes.txt"], "a name ending in .pt"),
    (["run", str(ROOT / "configs" / "scans" / "jet_dense.yaml")], "is a scan config, not a run config"),
    (["run", str(ROOT / "configs" / "lecture" / "rnn.yaml")], "is a lecture config, not a run config"),
    (["check", "self_scan.yaml"], "is a scan config, not a run config"),
    (["check", "bits_scan.yaml"], "quantization.layers.fc1.weight replaces"),
    (["check", "accum_wide.yaml"], "cannot exceed the width"),
    (["check", "softmax_off.yaml"], "model.softmax is false"),
    (["check", "empty.yaml"], "is empty"),
    (["check", "nan_lr.yaml"], "finite number"),
    (["check", "seed.yaml"], "greater than or equal to 0"),
    (["check", "lecture_type.yaml"], "cannot exceed the width"),
    (["check", "lecture_key.yaml"], "unknown key 'learning_rat'"),
    (["rtl", "mydata", "--no-synth", "--synth-jobs", "2"], "--synth-jobs does nothing beside --no-synth"),
    (["data", "generate", "-o", "x.root", "--workers", "3"], "--workers does nothing without --shards"),
    (["compare", "mydata", "./mydata/"], "is the run 'mydata' again"),
    (["synth", "notes.txt"], "is not an hls4ml project folder"),
    (["data", "info", "model.h5"], "is a Keras model file, not jet data"),
    ([*COMPILE[:3], "y_bool.npz", "--no-default"], "True/False"),
    ([*COMPILE, "--precision", "fc1: {rezult: 'ap_fixed<16,6>'}"], "rezult"),
    # the third sweep: another verb's folder, checks the plan missed, scan keys that do nothing, odd labels
    ([*COMPILE, "--out", "myrun"], "is a run folder triggernn wrote, not a HLS project folder"),
    ([*COMPILE[:3], "bigX.npz", "--no-default", "--check"], "raise the width"),
    ([*COMPILE[:3], "capital_y.npz", "--no-default", "--check"], "holds 'Y'"),
    (["check", "both_scan.yaml"], "set by the overrides and by the grid key"),
    (["check", "name_scan.yaml"], "drop 'name' from the grid"),
    (["check", "null_section.yaml"], "a section is a mapping"),
    (["data", "info", "labfloat.root"], "'label' branch holds fractions"),
]
#: Flags out of range: argparse's own message on its last line, exit code 2.
FLAGS = [
    ([*COMPILE, "--width", "0"], "--width"),
    ([*COMPILE, "--width", "x"], "--width"),
    ([*COMPILE, "--tolerance", "-1"], "--tolerance"),
    ([*COMPILE, "--tolerance", "2"], "--tolerance"),
    ([*COMPILE, "--headroom", "-1"], "--headroom"),
    ([*COMPILE, "--reuse-factor", "0"], "--reuse-factor"),
    (["run", "dup.yaml", "--epochs", "0"], "--epochs"),
    (["run", "dup.yaml", "--max-jets", "5"], "--max-jets"),
    (["scan", "x.yaml", "--workers", "0"], "--workers"),
    (["data", "generate", "-o", "x.root", "--processes", "0"], "--processes"),
    (["data", "generate", "-o", "x.root", "--n-jets", "-3"], "--n-jets"),
    (["reference", "flow", "--student-epochs", "-5"], "--student-epochs"),
    (["bench", "--workers", "0"], "--workers"),
    (["rtl", "mydata", "--synth-jobs", "0"], "--synth-jobs"),
    (["rtl", "mydata", "--clock-period", "-3"], "--clock-period"),
    (["rtl", "mydata", "--synth-timeout", "0"], "--synth-timeout"),
    (["data", "benchmark", "--seed", "-1"], "--seed"),
    (["data", "benchmark", "--seed", "99999999999"], "--seed"),
]


def _ids(cases):
    return [" ".join(argv)[:60] for argv, _ in cases]


@pytest.mark.parametrize(("argv", "fragment"), CASES, ids=_ids(CASES))
def test_user_error_is_one_clear_line(argv, fragment, workdir, capsys):
    before = _snapshot(workdir)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("triggernn: error: ")
    assert re.search(fragment, lines[0]), lines[0]
    assert _snapshot(workdir) == before  # nothing of the user's touched, nothing left behind


@pytest.mark.parametrize(("argv", "flag"), FLAGS, ids=_ids(FLAGS))
def test_flag_out_of_range(argv, flag, workdir, capsys):
    before = _snapshot(workdir)
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert flag in err.strip().splitlines()[-1]
    assert _snapshot(workdir) == before


def test_api_refuses_bad_arguments_as_triggernn_errors(tmp_path):
    """Arguments of the Python API that used to end in TypeError, KeyError or OverflowError (the sweep of
    2026-12-07): each a TriggerNNError naming the argument."""
    from conftest import grid_inputs, make_qkeras_dense

    from triggernn.data.benchmark import benchmark_sample

    cfg = tn.load_config({"name": "api", "model": {"hidden": [8]}})
    model = make_qkeras_dense(cfg, n_in=4, n_classes=3)
    X = grid_inputs(50, n_in=4)
    project = tn.emit(model, cfg, tmp_path / "prj", csim_inputs=X)
    cases = [
        (lambda: tn.emulate(project, X, workers="2"), "workers must be a number"),
        (lambda: tn.emulate(project, X, workers=0), "workers must be at least 1"),
        (lambda: tn.emulate(project, X, batch_size=-1), "batch_size must be at least 1"),
        (lambda: tn.Emulator(project, logits_layer="nope"), "not a layer of this firmware"),
        (lambda: tn.hls.run_csim(None, X), "needs a compiled hls4ml model"),
        (lambda: cfg.with_overrides(train=5), "must be a mapping of its fields"),
        (lambda: tn.compile(model, X, out=5), "must be a path"),
        (lambda: tn.compile(model, X, precision=[1], out=tmp_path / "c"), "precision must be"),
        (lambda: tn.compile(model, None, input_range=(0,), out=tmp_path / "c"), "two numbers"),
        (lambda: tn.rtl(project, simulate=False, synth_timeout_s=1e300), "at most"),
        (lambda: tn.project_digest(tmp_path / "nothing"), "is not an hls4ml project folder"),
        (lambda: tn.project_digest(tmp_path), "is not an hls4ml project folder"),
        (lambda: tn.project_digest(5), "must be a path"),
        (lambda: tn.to_fixed_grid(np.array([0.5, np.nan]), "ap_fixed<8,3>"), "1 of the values .* NaN"),
        # the second sweep of 2026-12-07: every public function's arguments bound and its booleans checked
        (lambda: tn.available_models("x"), "too many positional arguments"),
        (lambda: tn.optimize("x.yaml", bogus=1), "unexpected keyword argument 'bogus'"),
        (lambda: tn.compile(model, X, force="yes"), "force must be True or False"),
        (lambda: tn.compile(model, X, seed=-1, out=tmp_path / "c"), "seed must be at least 0"),
        (lambda: tn.compile(model, X, class_names="abc", out=tmp_path / "c"), "class_names must be a list"),
        (
            lambda: tn.compile(model, X, hls=cfg, class_names=("a", "b"), out=tmp_path / "c"),
            "one name per output",
        ),
        (lambda: tn.register_model(None), "Python identifier"),
        (lambda: tn.register_model("jet_dense"), "already registered"),
        (lambda: benchmark_sample(seed=2**40), "seed must be at most"),
        (lambda: tn.emulate(project, np.full((2, 4), 1e300)), "beyond float32's range"),
        (lambda: tn.emulate(project, cfg), "must be an array of events"),
        (lambda: tn.compile(model, X, labels="y.npz", out=tmp_path / "c"), "got the path"),
    ]
    for call, fragment in cases:
        with pytest.raises(tn.TriggerNNError, match=fragment):
            call()
    assert not (tmp_path / "c").exists()
    broken = tmp_path / "broken"  # a project a file was deleted from: said so, not "edited"
    shutil.copytree(project.path, broken)
    (broken / "firmware" / "parameters.h").unlink()
    with pytest.raises(tn.HLSError, match=r"lacks firmware/parameters.h: files were deleted"):
        tn.open_project(broken)
    if importlib.util.find_spec(
        "alkaid"
    ):  # a project opened from disk goes to the RTL path as emitted ones do
        r = tn.rtl(tn.open_project(project.path), simulate=False, synthesize=False)
        assert r.latency_cycles >= 1


def test_what_the_sweep_refused_wrongly_works(workdir, capsys):
    """Valid input the second sweep of 2026-12-07 found refused or broken: ``--precision`` inline, as its help
    shows it, and a YAML merge key (``<<: *defaults``), which the duplicate-key loader had broken."""
    assert main([*COMPILE, "--precision", "fc1: {accum: 'ap_fixed<24,10>'}", "--check"]) == 0, (
        capsys.readouterr()
    )
    (workdir / "merged.yaml").write_text(
        "name: merged\nmodel: &m {hidden: [8]}\nquantization:\n  layers:\n    fc1:\n      weight: &w {bits: 4, "
        "integer: 0}\n    fc2:\n      <<: {weight: *w}\n      bias: {bits: 8, integer: 0}\n"
    )
    cfg = tn.load_config(workdir / "merged.yaml")
    assert cfg.quantization.layers["fc2"].weight == cfg.quantization.layers["fc1"].weight
    assert cfg.quantization.layers["fc2"].bias.bits == 8
    # inputs named X0 for a one-input model (as for several), as docs/byom.md says
    assert main([*COMPILE[:3], "x0.npz", "--no-default", "--check"]) == 0, capsys.readouterr()
    # a grid axis of a whole section merges into it, as the overrides do, keeping the base's other keys
    from triggernn.scan import load_scan, scan_points

    scan, base = load_scan(workdir / "section_scan.yaml")
    points = scan_points(scan, base)
    assert [p[2]["train"]["epochs"] for p in points] == [1, 2]
    assert {p[2]["train"]["learning_rate"] for p in points} == {base.train.learning_rate}
    assert main(["check", "section_scan.yaml"]) == 0, capsys.readouterr()


def test_public_names_are_never_shadowed_by_a_module():
    """``triggernn.optimize`` was the module, not the function, once anything had imported the module
    ``triggernn.optimize`` (Python sets a package's attribute to each submodule it imports): no public name may be
    a submodule's, and each stays what the API says after every submodule is imported."""
    import importlib
    import pkgutil

    modules = {m.name for m in pkgutil.iter_modules(tn.__path__)}
    assert not modules & set(tn.__all__), modules & set(tn.__all__)
    for name in modules - {"__main__"}:
        importlib.import_module(f"triggernn.{name}")
    for name in tn.__all__:
        value = getattr(tn, name)
        assert not inspect.ismodule(value), name
    assert callable(tn.optimize)


def test_data_errors_are_triggernn_errors():
    from triggernn.errors import DataError, OutputError, TriggerNNError

    assert issubclass(DataError, TriggerNNError)
    assert issubclass(OutputError, TriggerNNError)


TINY = "name: tiny\nmodel: {hidden: [8]}\ntrain: {epochs: 1}\nhls: {tb_events: 20}\nverify: {min_argmax_agreement: 0.99}\n"


def test_interrupt_keeps_the_previous_run(workdir, capsys, monkeypatch):
    """Ctrl-C during a run: one line, exit 130, the previous project and report exactly as they were, no
    staging folder left."""
    import triggernn.pipeline as pipeline

    cfg = workdir / "tiny.yaml"
    cfg.write_text(TINY)
    assert main(["run", str(cfg), "-q"]) == 0
    before = _snapshot(workdir)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "write_run_report", interrupted)  # after the new project was built
    assert main(["run", str(cfg), "-q"]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.strip().splitlines() == [
        "triggernn: interrupted; outputs being written were discarded, earlier ones are as they were"
    ]
    assert _snapshot(workdir) == before


def test_rerun_replaces_what_triggernn_wrote(workdir, capsys):
    """A folder triggernn wrote is replaced whole by the next run; with --force, a user's folder too (but
    never the working directory)."""
    cfg = workdir / "tiny.yaml"
    cfg.write_text(TINY)
    assert main(["run", str(cfg), "-q"]) == 0
    assert (workdir / "hls_projects" / "tiny" / ".triggernn").is_file()
    assert (workdir / "runs" / "tiny" / ".triggernn").is_file()
    (workdir / "runs" / "tiny" / "stale.txt").write_text("from an earlier run")
    assert main(["run", str(cfg), "-q"]) == 0
    assert not (workdir / "runs" / "tiny" / "stale.txt").exists()  # all new, not mixed with the old
    assert main(["run", str(cfg), "-q", "--runs", "mydata"]) == 0  # a new folder inside mydata: fine
    assert (workdir / "mydata" / "keep.txt").read_text() == "keep me\n"
    capsys.readouterr()


def test_readme_names_exist():
    """Every ``tn.<name>`` of the README's examples is there after ``import triggernn as tn``."""
    import triggernn as tn

    readme = (ROOT / "README.md").read_text()
    names = set(re.findall(r"\btn\.([a-zA-Z_]\w*)", readme))
    assert names, "the README shows no tn.<name>"
    missing = sorted(n for n in names if not hasattr(tn, n))
    assert not missing, f"README names missing from the package: {missing}"


def test_read_only_output_folder_is_one_line(workdir, capsys, monkeypatch):
    """A folder the user cannot write (read-only, no permission): refused before any work, naming it. (Root
    bypasses permission bits, so the file system's answer is what is replaced here.)"""
    import os

    import triggernn.validate as validate

    real = os.access
    monkeypatch.setattr(validate.os, "access", lambda p, mode: False if Path(p) == workdir else real(p, mode))
    before = _snapshot(workdir)
    assert main([*COMPILE, "--out", "newproject"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "is not writable (permission denied or read-only)" in err[0]
    assert _snapshot(workdir) == before


@pytest.mark.parametrize(
    ("errno_", "reason"), [(28, "No space left on device"), (30, "Read-only file system")]
)
def test_os_error_during_work_is_one_line(errno_, reason, workdir, capsys, monkeypatch):
    """Disk full or a file system turned read-only in the middle of the work: one line naming the path and the
    reason, exit 2, and what was being written discarded (the outputs are staged)."""
    import triggernn.compiler as compiler

    def full(*args, **kwargs):
        raise OSError(errno_, reason, str(workdir / "hls_projects" / "x" / "firmware" / "weights" / "w2.txt"))

    monkeypatch.setattr(compiler, "calibrate", full)
    before = _snapshot(workdir)
    assert main(COMPILE) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert reason in err[0]
    assert "w2.txt" in err[0]
    assert _snapshot(workdir) == before


def test_an_output_folder_behind_a_link_is_written_there_and_the_link_kept(tmp_path):
    from triggernn.outputs import staged_dir

    target = tmp_path / "disk" / "projects"
    for content in ("first", "second"):  # the second run replaces what the first wrote, through the link
        if content == "second":
            (tmp_path / "link").symlink_to(target, target_is_directory=True)
        with staged_dir(tmp_path / "link" if content == "second" else target) as stage:
            (stage.path / "result.txt").write_text(content)
    assert (tmp_path / "link").is_symlink()
    assert (tmp_path / "link" / "result.txt").read_text() == "second"
    leftovers = [p.name for p in [*tmp_path.iterdir(), *target.parent.iterdir()] if p.name.startswith(".")]
    assert leftovers == []
