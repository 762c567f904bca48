"""The open-source RTL path: Verilog traced from the project's graph, Verilator equal to C-sim on every output,
Yosys counts, refusals that name the layer, and the folder written whole.

Property test: random QKeras dense and conv models (weights and activations of 2 to 12 bits, ReLU or linear,
io_parallel), each emitted, traced, built by Verilator and run on 200 events: every output equal to the C
simulation and to the emulator. Skipped with the reason where Verilator cannot be had.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from triggernn.compat import import_qkeras
from triggernn.config import load_config
from triggernn.errors import HLSError
from triggernn.hdl import ToolError, rtl
from triggernn.hdl.tools import verilator_on_path, yosys_command
from triggernn.hls import emit
from triggernn.quantize import FixedSpec, to_fixed_grid
from triggernn.train import seed_everything

MAX_EXAMPLES = 4

pytest.importorskip("alkaid", reason="the RTL path needs alkaid: pip install 'triggernn[rtl]'")


def _verilator_reason() -> str | None:
    try:
        with verilator_on_path():
            return None
    except ToolError as err:
        return str(err)


def _yosys_reason() -> str | None:
    try:
        yosys_command()
    except ToolError as err:
        return str(err)
    return None


needs_verilator = pytest.mark.skipif(_verilator_reason() is not None, reason=_verilator_reason() or "")
needs_yosys = pytest.mark.skipif(_yosys_reason() is not None, reason=_yosys_reason() or "")


@st.composite
def specs(draw):
    conv = draw(st.sampled_from([None, "Conv1D", "Conv2D"]))
    return {
        "conv": conv,
        "filters": draw(st.integers(1, 4)),
        "pool": draw(st.booleans()),
        "layers": [
            {
                "units": draw(st.integers(1, 10)),
                "wbits": draw(st.integers(2, 12)),
                "abits": draw(st.integers(2, 12)),
                "act": draw(st.sampled_from(["relu", "linear", "none"])),
            }
            for _ in range(draw(st.integers(1, 3)))
        ],
        "softmax": draw(st.booleans()),
        "seed": draw(st.integers(0, 10_000)),
    }


def _activation(qk, kind: str, bits: int):
    if kind == "relu":
        return qk.QActivation(qk.quantized_relu(bits, bits // 2))
    if kind == "linear":
        return qk.QActivation(qk.quantized_bits(bits, bits // 2, alpha=1))
    return None


def build(spec):
    qk = import_qkeras()
    seed_everything(spec["seed"])
    shape = {None: (8,), "Conv1D": (8, 2), "Conv2D": (6, 6, 2)}[spec["conv"]]
    x = inp = tf.keras.Input(shape, name="features")
    if spec["conv"]:
        layer = qk.QConv1D if spec["conv"] == "Conv1D" else qk.QConv2D
        kernel = 3 if spec["conv"] == "Conv1D" else (3, 3)
        x = layer(spec["filters"], kernel, kernel_quantizer=qk.quantized_bits(6, 0, alpha=1),
                  bias_quantizer=qk.quantized_bits(6, 0, alpha=1), name="conv")(x)  # fmt: skip
        x = qk.QActivation(qk.quantized_relu(8, 3), name="conv_relu")(x)
        if spec["pool"]:
            pool = (
                tf.keras.layers.MaxPooling1D(2)
                if spec["conv"] == "Conv1D"
                else tf.keras.layers.MaxPooling2D(2)
            )
            x = pool(x)
        x = tf.keras.layers.Flatten()(x)
    for i, layer in enumerate(spec["layers"]):
        b = layer["wbits"]
        x = qk.QDense(layer["units"], kernel_quantizer=qk.quantized_bits(b, min(1, b - 1), alpha=1),
                      bias_quantizer=qk.quantized_bits(b, min(1, b - 1), alpha=1),
                      bias_initializer=tf.keras.initializers.RandomUniform(-1, 1), name=f"fc{i}")(x)  # fmt: skip
        act = _activation(qk, layer["act"], layer["abits"])
        if act is not None:
            x = act(x)
    if spec["softmax"]:
        x = tf.keras.layers.Activation("softmax", name="softmax")(x)
    return tf.keras.Model(inp, x)


def _emit(model, path, n: int = 200, seed: int = 0, softmax: str = "stable"):
    input_type = FixedSpec(10, 4)
    cfg = load_config({"name": "rtlprop", "model": {"softmax": False}, "quantization": {"input": "ap_fixed<10,4>"},
                       "hls": {"io_type": "io_parallel", "softmax": {"implementation": softmax}}})  # fmt: skip
    X = to_fixed_grid(
        np.random.default_rng(seed).normal(scale=2.0, size=(n, *model.input_shape[1:])), input_type
    )
    return emit(model, cfg, path, csim_inputs=X), X


@needs_verilator
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(spec=specs())
@example(spec={"conv": "Conv2D", "filters": 3, "pool": True, "softmax": True, "seed": 7,
               "layers": [{"units": 5, "wbits": 12, "abits": 2, "act": "linear"}]})  # fmt: skip
@example(spec={"conv": "Conv1D", "filters": 2, "pool": False, "softmax": False, "seed": 8,
               "layers": [{"units": 4, "wbits": 2, "abits": 12, "act": "relu"}]})  # fmt: skip
def test_verilog_equals_csim_on_every_output(spec, tmp_path_factory):
    model = build(spec)
    project, X = _emit(model, tmp_path_factory.mktemp("rtl") / "prj", seed=spec["seed"])
    res = rtl(project, X, synthesize=False)
    assert res.events == len(X)
    assert res.exact_vs_csim == 1.0, res.summary()
    assert res.exact_vs_emulator == 1.0, res.summary()
    assert res.passed
    assert res.latency_cycles >= 1
    assert res.dropped == (["softmax"] if spec["softmax"] else [])
    assert (project.path / "rtl" / "src" / "myproject.v").is_file()
    assert (project.path / "rtl" / "build_vivado_prj.tcl").is_file()


@needs_verilator
@needs_yosys
def test_cli_on_a_project_folder_writes_checks_and_synthesizes(tmp_path, capsys):
    """From the folder alone: the graph read back, the recorded test set, Verilator, Yosys; a rerun replaces
    the rtl/ folder whole and reads the synthesis from the cache; the project's own files are untouched."""
    from triggernn.cli import main
    from triggernn.hls.emit import project_digest

    spec = {"conv": None, "filters": 1, "pool": False, "softmax": True, "seed": 3,
            "layers": [{"units": 6, "wbits": 4, "abits": 4, "act": "relu"},
                       {"units": 3, "wbits": 4, "abits": 6, "act": "none"}]}  # fmt: skip
    project, _ = _emit(build(spec), tmp_path / "prj", n=300)
    digest = project_digest(project.path)
    assert main(["rtl", str(project.path), "--clock-period", "4"]) == 0
    out = capsys.readouterr().out
    assert "== RTL myproject: PASS" in out
    assert "100.0000% of 300 events (the run's 300 test events)" in out
    report = json.loads((project.path / "rtl" / "rtl_report.json").read_text())
    assert report["passed"] is True
    assert report["clock_period"] == 4.0
    synth = report["synthesis"]
    assert synth["lut"] > 0  # real cells, counted by Yosys
    assert synth["ff"] > 0
    assert synth["lut"] == sum(n for k, n in synth["cells"].items() if k.startswith("LUT"))
    assert synth["dsp"] == 0  # adder graphs, no multipliers
    assert project_digest(project.path) == digest  # rtl/ is beside the firmware, which is unchanged
    (project.path / "rtl" / "stale.txt").write_text("from the first run\n")
    assert main(["rtl", str(project.path), "--clock-period", "4"]) == 0
    assert "(cached)" in capsys.readouterr().out
    assert not (project.path / "rtl" / "stale.txt").exists()  # the folder replaced whole


@needs_yosys
@pytest.mark.slow  # minutes on 2 cores: the default run stays near 25 min (make test PYTEST_ARGS="-m ''")
def test_synthesis_stage_by_stage_counts_what_one_flat_run_counts(tmp_path, monkeypatch):
    """Each pipeline stage with its register bank in its own Yosys run (in parallel, cached one by one): the
    sums agree with one flattened run of the whole design, and a rerun after one stage's cache entry is lost
    redoes that stage only."""
    from triggernn.hdl import synthesize_rtl

    spec = {"conv": None, "filters": 1, "pool": False, "softmax": False, "seed": 5,
            "layers": [{"units": 8, "wbits": 6, "abits": 6, "act": "relu"},
                       {"units": 4, "wbits": 6, "abits": 8, "act": "none"}]}  # fmt: skip
    project, _ = _emit(build(spec), tmp_path / "prj", n=20)
    res = rtl(project, simulate=False, synthesize=False, clock_period=1.0)
    rtl_dir = project.path / "rtl"
    stages = sorted(p.stem for p in (rtl_dir / "src").glob("logic*.v"))
    assert len(stages) == res.latency_cycles >= 3  # one module per stage
    split = synthesize_rtl(rtl_dir, "myproject", cache=tmp_path / "c1", jobs=2, progress=False)
    flat = synthesize_rtl(rtl_dir, "myproject", cache=tmp_path / "c2", split=False, progress=False)
    assert (split.parts, flat.parts) == (len(stages), 1)
    assert flat.lut > 0
    assert abs(split.lut - flat.lut) <= 0.05 * flat.lut
    # a value carried through several stages: flip-flops in every bank of the split, a shift register (one
    # SRL16E/SRLC32E for up to 16/32 stages of one bit) in the flat run
    assert split.srl == 0
    assert flat.ff <= split.ff <= flat.ff + 32 * flat.srl
    assert split.carry == flat.carry
    entries = sorted((tmp_path / "c1").iterdir())
    assert len(entries) == split.parts  # one cache entry per part
    again = synthesize_rtl(rtl_dir, "myproject", cache=tmp_path / "c1", progress=False)
    assert again.cached
    assert again.lut == split.lut
    (entries[0] / "result.json").unlink()
    # from a relative path holding a space (Yosys reads quoted paths, and writes its report by name)
    shutil.copytree(rtl_dir, tmp_path / "a folder" / "rtl")
    monkeypatch.chdir(tmp_path)
    resumed = synthesize_rtl(Path("a folder") / "rtl", "myproject", cache=tmp_path / "c1", progress=False)
    assert not resumed.cached
    assert (resumed.lut, resumed.ff) == (split.lut, split.ff)
    assert len(list((tmp_path / "c1").glob("*/result.json"))) == split.parts


@needs_verilator
@needs_yosys
@pytest.mark.parametrize(
    ("act", "impl"),
    [
        pytest.param("sigmoid", "stable", marks=pytest.mark.slow),
        pytest.param("tanh", "latency", marks=pytest.mark.slow),
    ],
)
def test_lookup_tables_and_the_softmax_in_the_rtl(act, impl, tmp_path):
    """hls4ml's sigmoid/tanh tables inside the model and the final softmax (its exp and inverse tables, the
    sum in accum_t, the products) as alkaid lookup tables: with the softmax kept, every probability equal to
    C-sim's; left out (the default), every logit."""
    qk = import_qkeras()
    seed_everything(11)
    inp = tf.keras.Input((8,), name="features")
    q = {
        "kernel_quantizer": qk.quantized_bits(6, 1, alpha=1),
        "bias_quantizer": qk.quantized_bits(6, 1, alpha=1),
    }
    x = qk.QDense(6, name="fc0", **q)(inp)
    x = tf.keras.layers.Activation(act, name="squash")(x)
    x = qk.QDense(4, name="fc1", **q)(x)
    model = tf.keras.Model(inp, tf.keras.layers.Activation("softmax", name="softmax")(x))
    project, X = _emit(model, tmp_path / "prj", n=300, softmax=impl)
    logits = rtl(project, X, synthesize=False)
    assert (logits.compared_node, logits.dropped) == ("fc1", ["softmax"])
    assert logits.exact_vs_csim == logits.exact_vs_emulator == 1.0
    probs = rtl(project, X, synthesize=False, keep_softmax=True)
    assert (probs.compared_node, probs.dropped) == ("softmax", [])
    assert probs.exact_vs_csim == probs.exact_vs_emulator == 1.0, probs.summary()
    assert probs.latency_cycles > logits.latency_cycles
    # the tables are a file of their own beside the stages: each stage synthesized with it, still split
    from triggernn.hdl import synthesize_rtl

    rtl_dir = project.path / "rtl"
    assert (rtl_dir / "src" / "myproject_tables.v").is_file()
    s = synthesize_rtl(rtl_dir, "myproject", cache=tmp_path / "cache", progress=False)
    assert s.parts == probs.latency_cycles == len(list((rtl_dir / "src").glob("logic*.v")))
    assert s.lut > 0


def test_unsupported_layer_is_named_before_anything_is_written(tmp_path):
    qk = import_qkeras()
    inp = tf.keras.Input((4,))
    x = qk.QDense(3, kernel_quantizer=qk.quantized_bits(6, 0, alpha=1), bias_quantizer=qk.quantized_bits(6, 0, alpha=1),
                  name="fc")(inp)  # fmt: skip
    x = tf.keras.layers.Activation("softsign", name="squash")(x)
    x = qk.QDense(2, kernel_quantizer=qk.quantized_bits(6, 0, alpha=1), name="out")(x)
    project, X = _emit(tf.keras.Model(inp, x), tmp_path / "prj", n=20)
    with pytest.raises(HLSError, match=r"layer 'squash' \(Activation\): activation 'softsign'"):
        rtl(project, X, synthesize=False)
    assert not (project.path / "rtl").exists()


def test_a_project_edited_after_emit_is_refused(tmp_path):
    from triggernn.cli import main

    spec = {"conv": None, "filters": 1, "pool": False, "softmax": False, "seed": 1,
            "layers": [{"units": 3, "wbits": 6, "abits": 6, "act": "relu"}]}  # fmt: skip
    project, _ = _emit(build(spec), tmp_path / "prj", n=20)
    weights = sorted((project.path / "firmware" / "weights").glob("w*.txt"))[0]
    weights.write_text(weights.read_text().replace("0", "1", 1))
    assert main(["rtl", str(project.path), "--no-synth"]) == 2  # a clear one-line error, no traceback
    assert not (project.path / "rtl").exists()


@needs_verilator
@needs_yosys
def test_run_with_the_rtl_stage_records_real_resources(tmp_path):
    """``rtl.enabled`` in a run config: the RTL checked on the whole test set, its numbers in metrics.json."""
    from triggernn.pipeline import run

    cfg = load_config({"name": "rtl_run", "model": {"hidden": [8]}, "train": {"epochs": 2},
                       "rtl": {"enabled": True}})  # fmt: skip
    r = run(cfg, run_root=tmp_path / "runs", project_root=tmp_path / "hls", progress=False)
    assert r.rtl is not None
    assert r.rtl.events == len(r.X_test)  # every test jet, not only the testbench's
    assert r.rtl.exact_vs_csim == 1.0
    assert r.passed
    metrics = json.loads((r.run_dir / "metrics.json").read_text())
    assert metrics["rtl"]["synthesis"]["lut"] == r.rtl.synthesis.lut > 0
    assert "Open-source RTL" in (r.run_dir / "report.md").read_text()
    assert any(line.startswith("== RTL") for line in r.summary())
    # the stage's C simulation (hls4ml's trace() rewrites the project) left the project on disk as emitted:
    # no trace hooks, and `triggernn rtl` on the folder reads the same graph back
    from triggernn.hls.link import read_graph

    assert "save_layer_output" not in (r.project.path / "firmware" / "myproject.cpp").read_text()
    assert read_graph(r.project.path).get_output_variables()[0].shape == [5]


def test_stopping_a_synthesis_kills_its_running_yosys_and_starts_no_other(tmp_path):
    """What Ctrl-C, a timeout or a failed stage does to the other stages: their processes are killed, the
    queued ones never start (a stand-in for Yosys that would run for a minute)."""
    import sys
    import threading
    import time

    from triggernn.hdl.synth import _Part, _Yosys

    (tmp_path / "a.v").write_text("module a; endmodule\n")
    yosys = _Yosys([sys.executable, "-c", "import time; time.sleep(60)"], tmp_path, time.monotonic() + 120)
    errors = []

    def stage():
        try:
            yosys.run(_Part("a", [tmp_path / "a.v"]))
        except ToolError as err:
            errors.append(str(err))

    t = threading.Thread(target=stage)
    t.start()
    while not yosys.procs:  # the stand-in has started
        time.sleep(0.05)
    (running,) = yosys.procs
    yosys.stop()
    t.join(timeout=30)
    assert not t.is_alive()
    assert running.returncode is not None
    assert running.returncode < 0  # killed, not finished
    assert len(errors) == 1
    assert "Yosys failed on a" in errors[0]
    with pytest.raises(ToolError, match="stopped"):
        yosys.run(_Part("a", [tmp_path / "a.v"]))  # a queued stage does not start
    assert not yosys.procs


@pytest.mark.parametrize("bias", [1 / 32, -3 / 32, 5 / 64, 0.0])
@pytest.mark.parametrize(
    "spec", ["ap_ufixed<4,0,RND_CONV,SAT>", "ap_fixed<5,2,RND_CONV,WRAP>", "ap_fixed<6,3,RND,SAT>"]
)
def test_rounding_a_dense_output_equals_the_cast_on_every_value(spec, bias):
    """A ReLU's cast after a Dense whose bias holds the last fraction bit: alkaid 0.8.2 rounded those ties up where
    round-half-even was asked (1 LSB off on a third of a tagger's events, found by `optimize`); triggernn's trace
    rounds them as ap_fixed does, on every input."""
    from alkaid.trace import FVArrayInput, trace
    from alkaid.trace.ops import quantize

    from triggernn.emulation.fixed import cast
    from triggernn.hdl import ops as R
    from triggernn.quantize import parse_fixed

    d = parse_fixed(spec)
    W = np.array([[0.5, 0.25, 0.0], [-0.5, 0.0, 1.5], [0.0, 0.5, 1.0]])
    b = np.array([bias, -bias, 2 * bias])
    x0 = FVArrayInput((3,))
    traced = trace(x0, R.fixed(np.maximum(quantize(x0, 0, 0, 3) @ W + b, 0.0), d))
    grid = np.arange(8) / 8.0
    X = np.array([[p, q, r] for p in grid for q in grid for r in grid])  # every input of ap_ufixed<3,0>
    out = np.asarray(traced.predict(X)).reshape(len(X), -1)
    assert np.array_equal(out, cast(np.maximum(X @ W + b, 0.0), d))


@needs_verilator
@needs_yosys
def test_the_smallest_jet_tagger_meets_its_firmware_target(config_run):
    """configs/jet_dense_min.yaml, the design `triggernn optimize configs/jet_dense.yaml` found (docs/optimize.md),
    run as shipped, then `rtl`: Verilator equal to C-sim, at most 6,000 Yosys LUT, no DSP, at most 6 cycles at
    5 ns, and the firmware's accuracy within 0.01 of the same run's float model."""
    from triggernn.hdl import rtl

    r = config_run("jet_dense_min")
    assert r.passed
    res = rtl(r.project)
    assert res.passed
    assert res.exact_vs_csim == 1.0
    assert res.clock_period == 5.0
    assert res.latency_cycles <= 6
    assert res.synthesis.lut <= 6000
    assert res.synthesis.dsp == 0
    m = r.verification.metrics
    assert m["csim"].accuracy >= m["float"].accuracy - 0.01
