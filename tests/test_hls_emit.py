"""Emitting hls4ml projects: QKeras logits are bit-exact in C simulation, writing is atomic, bad models are refused."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tensorflow as tf
from conftest import grid_inputs, make_qkeras_dense

from triggernn import emulate
from triggernn.errors import ConfigError, HLSError, InputError
from triggernn.hls import emit, project_digest
from triggernn.hls.config import logits_layer


def _qkeras_logits(model, X):
    name = logits_layer(model)
    return tf.keras.Model(model.inputs, model.get_layer(name).output).predict(X, verbose=0)


@pytest.mark.parametrize("io_type", ["io_parallel", "io_stream"])
def test_untrained_dense_is_bit_exact(small_cfg, tmp_path, io_type):
    cfg = small_cfg.with_overrides(hls={"io_type": io_type})
    model = make_qkeras_dense(cfg)
    X = grid_inputs(500)
    project = emit(
        model,
        cfg,
        tmp_path / "prj",
        csim_inputs=X,
        tb_inputs=X[:20],
        tb_outputs=model.predict(X[:20], verbose=0),
    )
    np.testing.assert_array_equal(project.csim.logits, _qkeras_logits(model, X))
    q = model.predict(X, verbose=0)
    # softmax tables: argmax must agree wherever the two largest QKeras probabilities are not a near-tie
    top2 = np.sort(q, axis=1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 1e-2
    np.testing.assert_array_equal(project.csim.outputs[clear].argmax(1), q[clear].argmax(1))
    assert np.abs(project.csim.outputs - q).max() < 5e-3
    # the project is complete and has no build leftovers or temporary folders beside it
    for f in (
        "firmware/myproject.cpp",
        "firmware/parameters.h",
        "build_prj.tcl",
        "tb_data/tb_input_features.dat",
    ):
        assert (tmp_path / "prj" / f).is_file(), f
    assert not list((tmp_path / "prj" / "firmware").glob("*.so"))
    assert [p.name for p in tmp_path.iterdir()] == ["prj"]
    assert "partial" not in (tmp_path / "prj" / "hls4ml_config.yml").read_text()
    # the logits were traced in C-sim, but the firmware handed to Vivado carries no trace hooks
    assert "save_layer_output" not in (tmp_path / "prj" / "firmware" / "myproject.cpp").read_text()
    # predict() on the finished project reproduces the C simulation
    np.testing.assert_array_equal(project.predict(X[:50]).outputs, project.csim.outputs[:50])
    np.testing.assert_array_equal(emulate(project, X[:50]), project.csim.outputs[:50])


@pytest.mark.parametrize("form", ["input_shape", "Input"])
def test_sequential_model_is_typed_from_its_input(form, tmp_path):
    """A Sequential QKeras model, as users build it (``input_shape=`` on the first layer, or an ``Input``): the
    configured input type goes to hls4ml's input node ('<first layer>_input'), not to the first layer, whose
    result keeps the exact type of its quantizers (it was given the input's type: 0% bit-exact)."""
    from qkeras import QDense, quantized_bits

    from triggernn import load_config, parse_fixed, to_fixed_grid

    q = quantized_bits(6, 0, alpha=1)
    first = {"input_shape": (8,)} if form == "input_shape" else {}
    layers = [] if form == "input_shape" else [tf.keras.Input((8,))]
    model = tf.keras.Sequential([*layers, QDense(4, kernel_quantizer=q, bias_quantizer=q, name="d", **first)])
    cfg = load_config({"name": "seq", "quantization": {"input": "ap_fixed<12,4>"}})
    X = to_fixed_grid(np.random.default_rng(0).normal(size=(200, 8)), parse_fixed("ap_fixed<12,4>"))
    project = emit(model, cfg, tmp_path / "prj", csim_inputs=X)
    inputs = [t for name, t in project.layer_types.items() if name != "d"]
    assert [t["input_t"] for t in inputs] == ["fixed<12,4,TRN,WRAP,0>"]
    np.testing.assert_array_equal(project.csim.outputs, model.predict(X, verbose=0))


def test_emit_twice_gives_identical_project(small_cfg, tmp_path):
    model = make_qkeras_dense(small_cfg)
    X = grid_inputs(20)
    emit(model, small_cfg, tmp_path / "prj", tb_inputs=X, tb_outputs=model.predict(X, verbose=0))
    first = project_digest(tmp_path / "prj")
    emit(model, small_cfg, tmp_path / "prj", tb_inputs=X, tb_outputs=model.predict(X, verbose=0))
    assert project_digest(tmp_path / "prj") == first
    # and the digest does see a change of weights
    model.get_layer("fc1").set_weights([w * 0.5 for w in model.get_layer("fc1").get_weights()])
    emit(model, small_cfg, tmp_path / "prj")
    assert project_digest(tmp_path / "prj") != first


def test_failed_emit_keeps_previous_project(small_cfg, tmp_path):
    model = make_qkeras_dense(small_cfg)
    emit(model, small_cfg, tmp_path / "prj")
    before = project_digest(tmp_path / "prj")
    bad = small_cfg.with_overrides(hls={"precision": {"no_such_layer": {"result": "ap_fixed<8,3>"}}})
    with pytest.raises(ConfigError, match="no_such_layer"):
        emit(model, bad, tmp_path / "prj")
    assert project_digest(tmp_path / "prj") == before
    assert [p.name for p in tmp_path.iterdir()] == ["prj"]


def test_unsupported_layer_is_refused_before_hls4ml(small_cfg, tmp_path):
    inp = tf.keras.Input((16,), name="features")
    out = tf.keras.layers.Lambda(lambda x: x * 2, name="double")(inp)
    model = tf.keras.Model(inp, tf.keras.layers.Dense(5, name="output")(out))
    with pytest.raises(HLSError, match="'double' of type Lambda"):
        emit(model, small_cfg, tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


def test_layer_named_input_is_refused(small_cfg, tmp_path):
    inp = tf.keras.Input((4,), name="input")
    model = tf.keras.Model(inp, tf.keras.layers.Dense(2, name="output")(inp))
    with pytest.raises(HLSError, match="reserves"):
        emit(model, small_cfg, tmp_path / "prj")


def test_precision_override_reaches_firmware(small_cfg, tmp_path):
    cfg = small_cfg.with_overrides(hls={"precision": {"output": {"accum": "ap_fixed<24,9>"}}})
    project = emit(make_qkeras_dense(cfg), cfg, tmp_path / "prj")
    assert "fixed<24,9>" in (tmp_path / "prj" / "firmware" / "defines.h").read_text()
    assert any("fixed<24,9" in t for t in project.layer_types["output"].values())


def test_project_testbench_matches_csim(small_cfg, tmp_path):
    """The emitted C++ testbench, built with g++, reads back the exact inputs and reproduces the C simulation."""
    from triggernn.hls import run_testbench

    model = make_qkeras_dense(small_cfg)
    X = grid_inputs(200, scale=3.0)
    project = emit(
        model, small_cfg, tmp_path / "prj", tb_inputs=X, tb_outputs=model.predict(X, verbose=0), csim_inputs=X
    )
    written = np.loadtxt(tmp_path / "prj" / "tb_data" / "tb_input_features.dat", dtype=np.float64)
    np.testing.assert_array_equal(written.astype(np.float32), X)  # no digit lost on the way to the testbench
    tb = run_testbench(tmp_path / "prj")
    lsb = project.output_type("softmax").lsb
    np.testing.assert_array_equal(np.round(tb / lsb), np.round(project.csim.outputs / lsb))
    assert not (tmp_path / "prj" / "tb_data" / "csim_results.log").exists()  # the project is left as emitted


@pytest.mark.parametrize("stamp", ["3f9a0c1d", "12345678", "1234e567"])
def test_digest_masks_every_stamp_form(tmp_path, stamp):
    """hls4ml's random build stamp is masked however YAML writes it (numbers-looking stamps come quoted)."""
    import yaml

    def write(folder, s):
        folder.mkdir()
        (folder / "hls4ml_config.yml").write_text(yaml.safe_dump({"Stamp": s, "ProjectName": "myproject"}))
        (folder / "build_lib.sh").write_text(f"LIB_STAMP={s}\n")
        return project_digest(folder)

    assert write(tmp_path / "a", stamp) == write(tmp_path / "b", "0badcafe")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (np.zeros((10, 15), np.float32), "the model takes (16,)"),
        (np.zeros((10, 4, 4), np.float32), "the model takes (16,)"),
        (np.array([["a"] * 16]), "must be numbers"),
        (np.full((3, 16), np.nan, np.float32), "NaN, infinite"),
        (np.zeros((0, 16), np.float32), "no events"),
    ],
)
def test_bad_inputs_are_refused_before_anything_is_written(small_cfg, tmp_path, inputs, message):
    model = make_qkeras_dense(small_cfg)
    with pytest.raises(InputError, match=re.escape(message)):
        emit(model, small_cfg, tmp_path / "prj", csim_inputs=inputs)
    assert not list(tmp_path.iterdir())


def test_predict_refuses_bad_inputs_after_emit(small_cfg, tmp_path):
    project = emit(make_qkeras_dense(small_cfg), small_cfg, tmp_path / "prj")
    with pytest.raises(InputError, match="shape"):
        project.predict(np.zeros((2, 17), np.float32))
    one = project.predict(grid_inputs(1)[0])  # a single event without the batch axis is fine
    assert one.outputs.shape == (1, 5)


def test_project_under_a_non_ascii_path_reopens(small_cfg, tmp_path):
    """hls4ml_config.yml names the final folder even where YAML escapes its characters (ü as \\xFC), so the
    project on disk re-opens and C-simulates as emitted."""
    import yaml

    from triggernn.hls.link import link_project

    model = make_qkeras_dense(small_cfg)
    X = grid_inputs(20)
    final = tmp_path / "Müller résumé" / "prj"
    project = emit(model, small_cfg, final, tb_inputs=X, csim_inputs=X)
    text = (final / "hls4ml_config.yml").read_text(encoding="utf-8")
    assert yaml.safe_load(text.replace("!keras_model", ""))["OutputDir"] == str(final)
    assert ".partial-" not in text  # no staging path left anywhere
    assert ".tb-" not in text
    np.testing.assert_array_equal(link_project(final).predict(X).outputs, project.csim.outputs)


def test_quantizers_hls4ml_converts_wrongly_are_refused(small_cfg, tmp_path):
    """quantized_relu(use_sigmoid=1) is a sigmoid-shaped curve QKeras computes and hls4ml converts as a
    plain ReLU: refused, naming the layer and the fix, before anything is written."""
    from triggernn.compat import import_qkeras

    qk = import_qkeras()
    inp = tf.keras.Input((8,), name="x")
    x = qk.QDense(4, kernel_quantizer=qk.quantized_bits(6, 0, alpha=1), name="d")(inp)
    model = tf.keras.Model(inp, qk.QActivation(qk.quantized_relu(6, 2, use_sigmoid=1), name="r")(x))
    cfg = small_cfg.with_overrides(model={"softmax": False}, hls={"softmax": {}})
    with pytest.raises(HLSError, match=r"layer 'r' has quantized_relu.*use_sigmoid=0"):
        emit(model, cfg, tmp_path / "prj")
    assert not list(tmp_path.iterdir())
