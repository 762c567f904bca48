"""Bring your own model (issue 10): models we train and save ourselves, compiled with calibrated precision."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import tensorflow as tf

from triggernn.calibrate import PrecisionError, calibrate, fixed_for_range
from triggernn.compiler import compile_model, load_calibration_data
from triggernn.data import load_jets
from triggernn.data.errors import DataError
from triggernn.errors import HLSError, ModelError
from triggernn.models.prepare import load_any, prepare_for_hls
from triggernn.quantize import parse_fixed


@pytest.fixture(scope="module")
def jets():
    """The embedded jets, NOT standardized: features up to ~600, far outside ap_fixed<16,6>."""
    return load_jets(None, "features", standardize=False, seed=5)


def _float_tagger(ds, extra_layers=()):
    tf.keras.utils.set_random_seed(0)
    x = inp = tf.keras.Input((16,), name="input")  # 'input' is reserved by hls4ml: renamed on the way
    x = tf.keras.layers.Dense(32, activation="relu", name="fc1")(x)
    for layer in extra_layers:
        x = layer(x)
    x = tf.keras.layers.Dense(16, activation="relu", name="fc2")(x)
    x = tf.keras.layers.Dense(5, name="logits")(x)
    x = tf.keras.layers.Activation("softmax", name="softmax")(x)
    m = tf.keras.Model(inp, x, name="byo_tagger")
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(ds.X_train, ds.y_train, epochs=5, batch_size=256, verbose=0)
    return m


@pytest.fixture(scope="module")
def float_tagger(jets):
    return _float_tagger(
        jets, [tf.keras.layers.Dropout(0.1, name="drop"), tf.keras.layers.GaussianNoise(0.1, name="noise")]
    )


def test_float_tagger_beyond_the_default_range(float_tagger, jets, tmp_path):
    r = compile_model(
        float_tagger,
        np.concatenate([jets.X_val, jets.X_test]),
        labels=np.concatenate([jets.y_val, jets.y_test]),
        name="byo_float",
        out=tmp_path / "prj",
        run_root=tmp_path / "runs",
        width=18,  # the detector-level embedded jets (since 2026-12-01): 16 bits give 98.9% agreement, 18 pass
    )
    v = r.verification
    assert v.passed, v.failures
    assert v.output_argmax_agreement >= 0.99  # the target
    assert r.calibration.width == 18
    assert r.default["argmax_agreement"] < 0.9  # hls4ml's default fixed<16,6> overflows on these values
    # the input type holds the features (up to several hundred), the first layer's result too
    assert r.calibration.input_type.max > np.max(jets.X_test)
    types = {(c.layer, c.key): c.type for c in r.calibration.choices}
    # the ReLU loses nothing: fc1's type without its sign bit (a calibrated type could only truncate it)
    fc1, relu = parse_fixed(types[("fc1", "result")]), parse_fixed(types[("fc1_relu", "result")])
    assert (relu.signed, relu.width, relu.integer, relu.fractional) == (
        False,
        17,  # the width less the sign bit
        fc1.integer - 1,
        fc1.fractional,
    )
    assert ("fc1", "accum") in types
    # no-op layers removed and said so; the firmware has no trace of them
    assert r.prepared.removed == ["drop (Dropout)", "noise (GaussianNoise)"]
    assert "noise" not in r.project.hls_model.graph
    report = (r.run_dir / "report.md").read_text()
    assert "Calibrated precision" in report
    assert "hls4ml default" in report
    assert "removed (inactive at inference): noise (GaussianNoise)" in report
    metrics = json.loads((r.run_dir / "metrics.json").read_text())
    assert metrics["hls4ml_default"]["argmax_agreement"] == r.default["argmax_agreement"]
    assert not any(x["overflows"] for x in metrics["layer_ranges"])
    assert {row["layer"] for row in metrics["multiplier_cost"]["calibrated"]} == {"fc1", "fc2", "logits"}


def test_tolerance_picks_the_narrowest_width(float_tagger, jets, tmp_path):
    r = compile_model(
        float_tagger, jets.X_test, name="byo_tol", tolerance=0.02, out=tmp_path / "p",
        run_root=tmp_path / "r", compare_default=False,
    )  # fmt: skip
    widths = list(r.widths_tried)
    assert widths[-1] == r.calibration.width
    assert 1 - r.widths_tried[widths[-1]] <= 0.02
    # every narrower width either cannot hold the ranges (NaN) or misses the tolerance
    assert all(np.isnan(a) or 1 - a > 0.02 for a in list(r.widths_tried.values())[:-1])
    assert np.isnan(r.widths_tried[8])  # values up to ~600 need 11 integer bits
    assert r.calibration.width <= 18


def test_float_cnn(tmp_path):
    ds = load_jets(None, "images", image_size=8, seed=2, max_jets=3000)
    tf.keras.utils.set_random_seed(1)
    x = inp = tf.keras.Input((8, 8, 1), name="image")
    x = tf.keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    x = tf.keras.layers.MaxPooling2D(2, name="pool")(x)
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = tf.keras.layers.Dense(5, name="logits")(x)
    x = tf.keras.layers.Activation("softmax", name="softmax")(x)
    m = tf.keras.Model(inp, x)
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(ds.X_train * 50, ds.y_train, epochs=3, verbose=0)  # inputs scaled x50: pixel sums up to 50
    r = compile_model(m, ds.X_test * 50, labels=ds.y_test, name="byo_cnn", io_type="io_stream",
                      out=tmp_path / "p", run_root=tmp_path / "r")  # fmt: skip
    assert r.verification.output_argmax_agreement >= 0.99, r.verification.failures
    assert "conv_relu" in r.project.hls_model.graph


@pytest.mark.slow  # two trained configs compiled again from uniform inputs: ~3 min on 2 cores
def test_qkeras_models_are_bit_exact_without_data(tmp_path, config_run):
    """The types of QKeras layers follow their quantizers: no calibration data needed (uniform inputs)."""
    for name in ("jet_dense", "jet_cnn"):
        qmodel = config_run(name).qkeras_model
        path = tmp_path / f"{name}.h5"
        qmodel.save(path)
        r = compile_model(path, None, input_range=(-4, 4) if name == "jet_dense" else (0, 1), name=f"byo_{name}",
                          io_type="io_stream" if name == "jet_cnn" else "io_parallel",
                          out=tmp_path / name, run_root=tmp_path / "r", compare_default=False)  # fmt: skip
        v = r.verification
        assert v.bit_exact_fraction == 1.0, name
        assert v.max_lsb_error == 0
        assert v.output_argmax_agreement >= 0.999
        assert any("types follow its quantizers" in u for u in r.calibration.uncalibrated)


def test_every_file_format_loads_the_same_model(float_tagger, jets, tmp_path):
    X = jets.X_test[:50]
    ref = float_tagger.predict(X, verbose=0)
    float_tagger.save(tmp_path / "m.h5")
    float_tagger.save(tmp_path / "m.keras")
    float_tagger.save(tmp_path / "saved_model", save_format="tf")
    (tmp_path / "arch.json").write_text(float_tagger.to_json())
    float_tagger.save_weights(tmp_path / "arch.h5")
    for path in ("m.h5", "m.keras", "saved_model", "arch.json"):
        np.testing.assert_allclose(
            load_any(tmp_path / path).predict(X, verbose=0), ref, rtol=1e-6, err_msg=path
        )
    (tmp_path / "lonely.json").write_text(float_tagger.to_json())
    with pytest.raises(ModelError, match="--weights"):
        load_any(tmp_path / "lonely.json")


def test_cli_compiles_a_saved_model(float_tagger, jets, tmp_path, capsys):
    from triggernn.cli import main

    float_tagger.save(tmp_path / "tagger.h5")
    onehot = np.eye(5)[jets.y_test]  # one-hot labels, as Keras users keep them: taken as classes
    np.savez(tmp_path / "calib.npz", X=jets.X_test, y=onehot)
    code = main(["compile", str(tmp_path / "tagger.h5"), "--data", str(tmp_path / "calib.npz"), "--width", "18",
                 "--out", str(tmp_path / "prj"), "--runs", str(tmp_path / "runs")])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    metrics = json.loads((tmp_path / "runs" / "tagger" / "metrics.json").read_text())
    assert metrics["labels"] == "given"
    assert "== tagger: PASS" in out
    assert "hls4ml default argmax agreement" in out
    assert "width 18 bits" in out
    assert (tmp_path / "prj" / "firmware" / "myproject.cpp").is_file()


def test_cli_compile_takes_a_run_configs_hls_section(float_tagger, jets, tmp_path, capsys, caplog):
    """``--hls`` reads the same typed HLSConfig as a run config; a reuse factor hls4ml changes is warned."""
    from triggernn.cli import main

    float_tagger.save(tmp_path / "tagger.h5")
    # every test jet: with 400 (200 held out) three argmax flips of a per-CPU retrained tagger would fail it
    np.savez(tmp_path / "calib.npz", X=jets.X_test, y=jets.y_test)
    (tmp_path / "run.yaml").write_text("name: mine\nhls:\n  strategy: Resource\n  reuse_factor: 7\n")
    with caplog.at_level("WARNING", logger="triggernn"):
        code = main(["compile", str(tmp_path / "tagger.h5"), "--data", str(tmp_path / "calib.npz"), "--width", "18",
                     "--no-default", "--hls", str(tmp_path / "run.yaml"), "--out", str(tmp_path / "prj"),
                     "--runs", str(tmp_path / "runs")])  # fmt: skip
    assert code == 0, capsys.readouterr().out
    written = (tmp_path / "prj" / "hls4ml_config.yml").read_text()  # (custom tags: read as text)
    assert re.search(r"^    Strategy: Resource$", written, re.M), written[:2000]
    changed = [r.getMessage() for r in caplog.records if "not the 7 asked for" in r.getMessage()]
    assert changed, "hls4ml's change of the reuse factor was not warned"


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        (tf.keras.layers.Lambda(lambda t: 2 * t, name="lam"), "'lam' of type Lambda cannot be converted"),
        # a layer hls4ml lists as supported, but not in this form (LayerNormalization on flat inputs)
        (tf.keras.layers.LayerNormalization(name="ln"), "hls4ml 1.3.0 cannot convert this model"),
    ],
    ids=["Lambda", "LayerNormalization-1d"],
)
def test_unsupported_layer_refused_before_anything_is_written(jets, tmp_path, layer, message):
    tf.keras.utils.set_random_seed(0)
    x = inp = tf.keras.Input((16,), name="features")
    x = tf.keras.layers.Dense(8, name="fc")(x)
    x = layer(x)
    x = tf.keras.layers.Dense(5, activation="softmax", name="out")(x)
    with pytest.raises(HLSError, match=message):
        compile_model(tf.keras.Model(inp, x), jets.X_test, out=tmp_path / "p", run_root=tmp_path / "r")
    assert not (tmp_path / "p").exists()
    assert not (tmp_path / "r").exists()


def test_branching_model_is_prepared_as_a_graph():
    """Two branches of one input, merged: rebuilt layer by layer (a fused ReLU split, a Dropout removed), the
    same outputs; a layer called twice (shared) is refused by name."""
    inp = tf.keras.Input((4,), name="features")
    a = tf.keras.layers.Dense(3, activation="relu", name="a")(inp)
    b = tf.keras.layers.Dropout(0.5, name="drop")(tf.keras.layers.Dense(3, name="b")(inp))
    model = tf.keras.Model(inp, tf.keras.layers.Add(name="add")([a, b]))
    prepared = prepare_for_hls(model)
    assert prepared.split == ["a -> a_relu"]
    assert prepared.removed == ["drop (Dropout)"]
    X = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    np.testing.assert_array_equal(prepared.model.predict(X, verbose=0), model.predict(X, verbose=0))
    shared = tf.keras.layers.Dense(3, name="shared")
    twice = tf.keras.Model(inp, tf.keras.layers.Add(name="sum")([shared(inp), shared(inp)]))
    with pytest.raises(ModelError, match="layer 'shared' is applied 2 times"):
        prepare_for_hls(twice)


def test_precision_that_overflows_is_named():
    with pytest.raises(PrecisionError, match=r"layer 'fc1'.*raise the width"):
        fixed_for_range(-5000, 5000, 12, 1, layer="fc1")
    spec = fixed_for_range(0, 143.9, 16, 1)
    assert (spec.signed, spec.integer) == (False, 9)  # 143.9 < 2^8, one bit of headroom
    spec = fixed_for_range(-3, 2, 16, 0)
    assert spec.signed
    assert spec.min <= -3
    assert spec.max >= 2


def test_calibration_sees_far_inputs(float_tagger, jets):
    """Inputs 1000x beyond ap_fixed<16,6>: the calibrated input type holds them, at the cost of fraction bits."""
    prepared = prepare_for_hls(float_tagger).model
    cal = calibrate(prepared, jets.X_test * 1000, width=24)
    assert cal.input_type.max > 1000 * np.max(jets.X_test)
    with pytest.raises(PrecisionError):
        calibrate(prepared, jets.X_test * 1e6, width=16)


def test_calibration_data_files(tmp_path):
    np.save(tmp_path / "x.npy", np.ones((5, 3)))
    X, y = load_calibration_data(tmp_path / "x.npy")
    assert X.shape == (5, 3)
    assert y is None
    np.savez(tmp_path / "bad.npz", something=np.ones(3))
    with pytest.raises(DataError, match="no inputs"):
        load_calibration_data(tmp_path / "bad.npz")
    (tmp_path / "data.txt").write_text("1 2 3")
    with pytest.raises(DataError, match="must be"):
        load_calibration_data(tmp_path / "data.txt")


def test_constant_calibration_data_are_named(tmp_path, caplog):
    """Calibration data of one value (zeros, a default filled in) give types that fit that value only: said."""
    from conftest import save_tiny_classifier

    from triggernn.compiler import plan_compile

    path = save_tiny_classifier(tmp_path / "m.h5", n_in=6, hidden=4)
    with caplog.at_level("WARNING"):
        plan_compile(path, np.zeros((600, 6), np.float32), out=tmp_path / "p", run_root=tmp_path / "r")
    assert "every value of the calibration data is 0" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        plan_compile(path, np.random.default_rng(0).normal(size=(600, 6)).astype(np.float32),
                     out=tmp_path / "p", run_root=tmp_path / "r")  # fmt: skip
    assert "every value" not in caplog.text
