"""The Keras 3 stack (Python 3.12, TensorFlow 2.21 / Keras 3, hls4ml 1.3.0) with HGQ2 or QKeras-v3 layers:
compile, the numpy emulator, the RTL and (QKeras-v3) a run from a config then verify, under the contract of the
Keras 2 stack: the firmware equal to the Keras model bit for bit on every held-out event.

`make test-keras3` runs this file in `.venv-keras3` (HGQ2) and `.venv-keras3-qkeras-v3`; on the Keras 2 stack
only the stack check runs. Each model is built as its library's README shows, saved as `.keras` and compiled
from the file, as a user would.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import triggernn as tn
from triggernn import compat
from triggernn.cli import main
from triggernn.errors import ModelError
from triggernn.quantize import to_fixed_grid

ROOT = Path(__file__).resolve().parents[1]

keras3_only = pytest.mark.skipif(not compat.keras3(), reason="the Keras 3 stack's test (make test-keras3)")
hgq2_only = pytest.mark.skipif(
    not compat.keras3() or compat.quantized_library() != "hgq2", reason="needs the Keras 3 stack with hgq2"
)
qkeras_v3_only = pytest.mark.skipif(
    not compat.keras3() or compat.quantized_library() != "qkeras-v3",
    reason="needs the Keras 3 stack with qkeras-v3 (make keras3 KERAS3_LAYERS=qkeras-v3)",
)


def test_both_layer_libraries_refused_with_the_fix(monkeypatch):
    monkeypatch.setattr(compat, "_installed", lambda dist: dist in ("hgq2", "qkeras-v3"))
    with pytest.raises(ModelError, match=r"hgq2 and qkeras-v3 are both installed.*KERAS3_LAYERS"):
        compat.check_stack()


@keras3_only
def test_stack_is_the_keras3_one():
    import keras
    import tensorflow as tf

    assert int(keras.__version__.split(".")[0]) == 3
    assert tf.__version__.startswith("2.21")
    assert int(np.__version__.split(".")[0]) >= 2
    assert compat.quantized_library() in ("hgq2", "qkeras-v3")
    assert "Keras 3" in compat.stack_name()


def _hgq2_models():
    import keras
    from hgq.config import QuantizerConfigScope
    from hgq.layers import QAdd, QDense

    # hgq2's README: weights as kbi (5 bits, no integer bits), data as kif, set by scopes
    with (
        QuantizerConfigScope(place="weight", q_type="kbi", b0=5, i0=0),
        QuantizerConfigScope(place="datalane", q_type="kif", i0=3, f0=4),
    ):
        inp = keras.Input((16,), name="features")
        h = QDense(24, activation="relu", name="fc1")(inp)
        a = QDense(12, activation="relu", name="branch_a")(h)
        b = QDense(12, name="branch_b")(h)
        out = QDense(5, name="out")(QAdd(name="skip")([a, b]))
        graph = keras.Model(inp, out, name="hgq2_graph")
        seq = keras.Sequential(
            [keras.Input((16,)), QDense(32, activation="relu", name="d1"), QDense(5, name="d2")],
            name="hgq2_seq",
        )
    return [graph, seq]


def _qkeras_v3_models():
    import keras
    from qkeras import QActivation, QConv2D, QDense, quantized_bits, quantized_relu

    q6 = {"kernel_quantizer": quantized_bits(6, 0, alpha=1), "bias_quantizer": quantized_bits(6, 0, alpha=1)}
    inp = keras.Input((16,), name="features")
    x = QActivation(quantized_bits(8, 3, alpha=1), name="qin")(inp)
    x = QDense(32, name="fc1", **q6)(x)
    x = QActivation(quantized_relu(6, 2), name="relu1")(x)
    x = QDense(5, name="fc2", **q6)(x)
    dense = keras.Model(inp, keras.layers.Activation("softmax", name="softmax")(x), name="qk3_dense")
    seq = keras.Sequential(
        [keras.Input((16,)), QDense(8, name="d1", **q6), QActivation("quantized_relu(6,2)", name="r1"),
         QDense(3, name="d2", **q6)], name="qk3_seq",
    )  # fmt: skip
    img = keras.Input((8, 8, 1), name="img")
    x = QConv2D(4, 3, activation=quantized_relu(6, 2), name="c1", **q6)(img)
    x = keras.layers.MaxPooling2D(2, name="mp")(x)
    x = keras.layers.Flatten(name="fl")(x)
    x = QDense(5, activation=quantized_relu(8, 3), name="d1", **q6)(x)
    cnn = keras.Model(img, QDense(3, name="d2", **q6)(x), name="qk3_cnn")
    return [dense, seq, cnn]


def _compile_exact(model, tmp_path: Path, rng) -> tuple:
    """Save, compile from the file, and check the project against the Keras model independently of
    triggernn's own verdict: every output of every held-out event equal (the logits, for a softmax)."""
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    shape = tuple(model.input_shape[1:])
    X = rng.uniform(-4, 4, size=(1200, *shape)).astype(np.float32)
    result = tn.compile(path, X, name=model.name, out=tmp_path / "prj" / model.name, run_root=tmp_path / "runs",
                        compare_default=False)  # fmt: skip
    v = result.verification
    assert result.passed, result.summary()
    assert v.bit_exact_fraction == 1.0
    assert v.n_events >= 500
    Xg = to_fixed_grid(X[:500], result.calibration.input_type)
    csim = result.project.predict(Xg)
    if result.project.logits_layer is None:
        ref = model.predict(Xg, verbose=0).reshape(500, -1)
        np.testing.assert_array_equal(csim.outputs.reshape(500, -1), ref)
    em = tn.Emulator(result.project, engine="numpy").predict(Xg)
    np.testing.assert_array_equal(np.asarray(em).reshape(500, -1), csim.outputs.reshape(500, -1))
    return result, Xg, csim


@hgq2_only
def test_hgq2_models_compile_bit_exact_and_their_rtl_equals_csim(tmp_path):
    from alkaid.converter import trace_model
    from alkaid.trace import trace

    rng = np.random.default_rng(0)
    for model in _hgq2_models():
        model.predict(rng.normal(size=(64, 16)).astype(np.float32), verbose=0)
        result, Xg, csim = _compile_exact(model, tmp_path, rng)
        # alkaid's own trace of the Keras model (hgq2's plugin) agrees with C-sim, as does triggernn's tracer
        inp, out = trace_model(model)
        np.testing.assert_array_equal(trace(inp, out).predict(Xg), csim.outputs.reshape(len(Xg), -1))
        if model.name == "hgq2_graph":  # its branch point keeps HGQ2 quantizers as nodes of their own
            assert "FixedPointQuantizer" in {n.class_name for n in result.project.hls_model.graph.values()}
            rtl = tn.rtl(result.project, Xg[:200], synthesize=False)
            assert rtl.passed
            assert rtl.exact_vs_csim == 1.0
            assert rtl.exact_vs_emulator == 1.0


@qkeras_v3_only
def test_qkeras_v3_models_compile_bit_exact_and_their_rtl_equals_csim(tmp_path):
    rng = np.random.default_rng(1)
    for model in _qkeras_v3_models():
        result, Xg, _ = _compile_exact(model, tmp_path, rng)
        if model.name == "qk3_cnn":
            rtl = tn.rtl(result.project, Xg[:200], synthesize=False)
            assert rtl.passed
            assert rtl.exact_vs_csim == 1.0


@qkeras_v3_only
def test_qkeras_v3_run_from_the_shipped_config_then_verify(tmp_path):
    """`triggernn run` builds QKeras-v3 layers from the same config as the Keras 2 stack, 50% pruned (Keras 3
    prunes by a callback: tfmot is Keras 2 only); `triggernn verify` re-checks the saved model."""
    cfg = (
        (ROOT / "configs" / "jet_dense.yaml")
        .read_text()
        .replace("  seed: 0\n", "  seed: 0\n  sparsity: 0.5\n", 1)
    )
    (tmp_path / "jet.yaml").write_text(cfg)
    runs, projects = tmp_path / "runs", tmp_path / "prj"
    args = ["--runs", str(runs)]
    assert (
        main(["run", str(tmp_path / "jet.yaml"), "--epochs", "2", *args, "--projects", str(projects), "-q"])
        == 0
    )
    metrics = json.loads((runs / "jet_dense" / "metrics.json").read_text())
    assert metrics["verification"]["bit_exact_fraction"] == 1.0
    from triggernn.models.io import load_model

    model = load_model(runs / "jet_dense" / "qkeras_model.h5")
    kernels = [np.asarray(layer.kernel) for layer in model.layers if hasattr(layer, "kernel")]
    assert all(abs(np.mean(k == 0) - 0.5) < 0.02 for k in kernels), [np.mean(k == 0) for k in kernels]
    assert main(["verify", str(tmp_path / "jet.yaml"), *args]) == 0
