"""Graph models (skip connections, branches, merges, particle sets, pooling) through emit, C-sim and the numpy
emulator: QKeras equal to the C simulation on every event where the arithmetic can be exact, the numpy engine
equal to the C simulation always, on the emitted project and on the project opened again from disk.

The models are built as users build them (functional Keras, QKeras layers); hls4ml 1.3.0 converts each.
Exact by triggernn's fixes: a per-particle QDense (hls4ml wrote its kernel unquantized), the average merge
and average pooling (hls4ml kept the input's fraction bits, losing the division's).
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import triggernn as tn
from triggernn.emulation import Emulator

L = tf.keras.layers


def _qdense(n: int, name: str):
    from qkeras import QDense, quantized_bits

    return QDense(n, kernel_quantizer=quantized_bits(6, 0, alpha=1), bias_quantizer=quantized_bits(6, 0, alpha=1),
                  name=name)  # fmt: skip


def _relu(name: str):
    from qkeras import QActivation, quantized_relu

    return QActivation(quantized_relu(6, 2), name=name)


def _two_branches(merge):
    inp = tf.keras.Input((16,), name="features")
    a = _relu("r1")(_qdense(16, "d1")(inp))
    b = _relu("r2")(_qdense(16, "d2")(a))  # a residual block: b is computed from a, then merged with it
    return tf.keras.Model(inp, _qdense(5, "head")(merge([a, b])))


def _residual_concat():
    inp = tf.keras.Input((16,), name="features")
    a = _relu("r1")(_qdense(16, "d1")(inp))
    b = _relu("r2")(_qdense(16, "d2")(a))
    c = _relu("r3")(_qdense(8, "d3")(inp))  # a second branch from the input
    x = L.Concatenate(name="cat")([L.Add(name="add")([a, b]), c])
    return tf.keras.Model(inp, _qdense(5, "head")(x))


def _deep_sets(pool):
    inp = tf.keras.Input((16, 3), name="particles")  # 16 particles x (pT, eta, phi)
    h = _relu("phi_act")(_qdense(16, "phi")(inp))  # the same QDense on every particle
    return tf.keras.Model(inp, _qdense(5, "rho")(pool(h)))


def _image(pool, flatten: bool):
    from qkeras import QConv2D, quantized_bits

    inp = tf.keras.Input((8, 8, 1), name="image")
    q = quantized_bits(6, 0, alpha=1)
    c = _relu("r1")(QConv2D(4, 3, kernel_quantizer=q, bias_quantizer=q, name="conv")(inp))
    x = pool(c)
    return tf.keras.Model(inp, _qdense(5, "head")(L.Flatten(name="flat")(x) if flatten else x))


#: name -> (builder, exact): exact means QKeras equals the C simulation bit for bit on every event.
MODELS = {
    "add": (lambda: _two_branches(L.Add(name="merge")), True),
    "subtract": (lambda: _two_branches(L.Subtract(name="merge")), True),
    "multiply": (lambda: _two_branches(L.Multiply(name="merge")), True),
    "average": (lambda: _two_branches(L.Average(name="merge")), True),
    "maximum": (lambda: _two_branches(L.Maximum(name="merge")), True),
    "minimum": (lambda: _two_branches(L.Minimum(name="merge")), True),
    "residual_concat": (_residual_concat, True),
    "deep_sets_avg": (lambda: _deep_sets(L.GlobalAveragePooling1D(name="pool")), True),
    "deep_sets_max": (lambda: _deep_sets(L.GlobalMaxPooling1D(name="pool")), True),
    "avg_pool_2d": (lambda: _image(L.AveragePooling2D(2, name="pool"), True), True),
    # 6 x 6 positions: a division by 36 is exact in no fixed-point type; the mean is kept to the LSB
    "global_avg_2d": (lambda: _image(L.GlobalAveragePooling2D(name="pool"), False), False),
    "global_max_2d": (lambda: _image(L.GlobalMaxPooling2D(name="pool"), False), True),
    # padded windows over unsigned (ReLU) values: hls4ml 1.3.0 pads a max with half the unsigned range (4.0 off
    # on every event until triggernn's patch); an average divides by the cells each window covers (4, 2, 1 here)
    "max_pool_same": (lambda: _image(L.MaxPooling2D(4, padding="same", name="pool"), True), True),
    "avg_pool_same": (
        lambda: _image(L.AveragePooling2D(2, strides=1, padding="same", name="pool"), True),
        True,
    ),
}


#: The same merge code as ``add`` and ``average`` (one template each in nnet_merge.h): in the slow run only.
SLOW = {"subtract", "maximum", "minimum", "global_max_2d", "avg_pool_same"}


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[pytest.mark.slow] if n in SLOW else []) for n in MODELS]
)
def test_graph_model_is_exact_and_emulated(name, tmp_path):
    build, exact = MODELS[name]
    tf.keras.utils.set_random_seed(1)
    model = build()
    shape = model.input_shape[1:]
    X = tn.to_fixed_grid(
        np.random.default_rng(0).normal(size=(400, *shape)), tn.parse_fixed("ap_fixed<16,6>")
    )
    project = tn.emit(model, tn.load_config({"name": "graph"}), tmp_path / "prj", csim_inputs=X)
    ref = model.predict(X, verbose=0).reshape(len(X), -1)
    csim = project.csim.outputs.reshape(len(X), -1)
    assert np.std(csim) > 0.05  # the comparison is not between constants
    if exact:
        np.testing.assert_array_equal(csim, ref)
    else:  # the accumulator keeps log2(36) -> 6 more fraction bits than the input's 2^-4: |error| < 2^-10 in
        # the mean, times the head's weights (|w| <= 1, 4 of them) and its own rounding
        assert np.abs(csim - ref).max() < 4 * 2.0**-10 + 2.0**-9
    em = Emulator(project)
    assert em.engine == "numpy", em.reason
    np.testing.assert_array_equal(em.predict(X).reshape(len(X), -1), csim)
    opened = Emulator(tn.open_project(project.path))  # the project as it is on disk, a week later
    assert opened.engine == "numpy", opened.reason
    np.testing.assert_array_equal(opened.predict(X).reshape(len(X), -1), csim)


def _float_residual():
    inp = tf.keras.Input((16,), name="features")
    a = L.Dense(16, activation="relu", name="d1")(inp)
    b = L.Dense(16, activation="relu", name="d2")(a)
    x = L.Concatenate(name="cat")([L.Add(name="add")([a, b]), L.Dense(8, name="d3")(inp)])
    return tf.keras.Model(inp, L.Dense(5, activation="softmax", name="head")(x))


#: (builder, verdict): "exact" is bit for bit on the logits; "approx" judged on argmax agreement (a mean over
#: 36 positions; float weights calibrated)
COMPILED = {
    "residual_concat": (_residual_concat, "exact"),
    "deep_sets_avg": (MODELS["deep_sets_avg"][0], "exact"),
    "global_avg_2d": (MODELS["global_avg_2d"][0], "approx"),
    "float_residual": (_float_residual, "approx"),
}


@pytest.mark.parametrize("name", list(COMPILED))
def test_graph_model_compiles(name, tmp_path):
    """``tn.compile`` on graph models as users bring them: bit-exact where the arithmetic allows, else judged on
    its documented criterion, and the numpy engine equal to C-sim on the compiled project."""
    build, verdict = COMPILED[name]
    tf.keras.utils.set_random_seed(1)
    model = build()
    X = np.random.default_rng(0).normal(size=(1000, *model.input_shape[1:])).astype(np.float32)
    r = tn.compile(
        model, X, name=name, out=tmp_path / "prj", run_root=tmp_path / "runs", compare_default=False
    )
    v = r.verification
    assert v.passed, v.failures
    assert v.n_events == 500
    if verdict == "exact":
        assert v.bit_exact_fraction == 1.0
        assert v.thresholds["min_bit_exact"] == 1.0
    else:
        assert v.thresholds["min_bit_exact"] == 0.0
    Xg = tn.to_fixed_grid(X, r.calibration.input_type)
    em = Emulator(r.project)
    assert em.engine == "numpy", em.reason
    np.testing.assert_array_equal(em.predict(Xg), r.project.predict(Xg).outputs)


@pytest.mark.parametrize("name", ["residual_concat", pytest.param("deep_sets_avg", marks=pytest.mark.slow)])
def test_graph_model_rtl_equals_csim(name, tmp_path):
    """``tn.rtl`` walks the same graph: Verilator equal to the C simulation on every event (no synthesis)."""
    pytest.importorskip("alkaid")
    tf.keras.utils.set_random_seed(1)
    model = MODELS[name][0]()
    X = tn.to_fixed_grid(
        np.random.default_rng(0).normal(size=(300, *model.input_shape[1:])), tn.parse_fixed("ap_fixed<16,6>")
    )
    project = tn.emit(model, tn.load_config({"name": "graph"}), tmp_path / "prj", csim_inputs=X)
    r = tn.rtl(project, X, synthesize=False)
    assert r.passed
    assert r.events == 300
    assert r.exact_vs_csim == 1.0


def _two_inputs_two_outputs():
    """High-level features beside constituents (a Deep Sets branch), two heads: a tagger and a regression."""
    hlf = tf.keras.Input((8,), name="hlf")
    parts = tf.keras.Input((8, 3), name="particles")
    a = _relu("r1")(_qdense(8, "d1")(hlf))
    p = L.GlobalAveragePooling1D(name="pool")(_relu("phi_act")(_qdense(8, "phi")(parts)))
    x = L.Concatenate(name="cat")([a, p])
    return tf.keras.Model([hlf, parts], [_qdense(5, "tag")(x), _qdense(1, "reg")(x)])


def test_multi_input_output_model_is_exact_emulated_and_traced(tmp_path):
    """Several inputs (a list of arrays, one per input) and several outputs (side by side, in the model's
    order): QKeras = C-sim on every event, the numpy engine = C-sim (the project as emitted and re-opened from
    disk), and the RTL (Verilator) = C-sim."""
    tf.keras.utils.set_random_seed(1)
    model = _two_inputs_two_outputs()
    rng = np.random.default_rng(0)
    grid = tn.parse_fixed("ap_fixed<16,6>")
    X = [tn.to_fixed_grid(rng.normal(size=(300, *s[1:])), grid) for s in model.input_shape]
    project = tn.emit(model, tn.load_config({"name": "graph"}), tmp_path / "prj", csim_inputs=X)
    ref = np.concatenate([o.reshape(300, -1) for o in model.predict(X, verbose=0)], axis=1)
    csim = project.csim.outputs
    assert csim.shape == (300, 6)
    assert np.std(csim) > 0.05
    np.testing.assert_array_equal(csim, ref)
    em = Emulator(project)
    assert em.engine == "numpy", em.reason
    np.testing.assert_array_equal(em.predict(X), csim)
    np.testing.assert_array_equal(em.predict(X, batch_size=64), csim)  # batches split every input alike
    with pytest.raises(tn.InputError, match="list of 2 arrays"):
        em.predict(X[0])
    opened = Emulator(tn.open_project(project.path))  # from disk: the same graph, the numpy engine
    assert opened.engine == "numpy", opened.reason
    np.testing.assert_array_equal(opened.predict(X), csim)
    pytest.importorskip("alkaid")
    r = tn.rtl(project, synthesize=False)  # the recorded test events, side by side on the one input port
    assert (r.events, r.exact_vs_csim, r.exact_vs_emulator) == (300, 1.0, 1.0)


def test_multi_input_model_compiles_from_a_list_and_from_a_file(tmp_path):
    """``tn.compile`` and ``triggernn compile`` on a model of two inputs and two heads: data as a list of arrays
    or an .npz with one array per input (named as the inputs); bit-exact on every held-out event, both heads."""
    tf.keras.utils.set_random_seed(1)
    model = _two_inputs_two_outputs()
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(1000, *s[1:])).astype(np.float32) for s in model.input_shape]
    r = tn.compile(
        model, X, name="two_in", out=tmp_path / "prj", run_root=tmp_path / "runs", compare_default=False
    )
    v = r.verification
    assert v.passed, v.failures
    assert (v.n_events, v.bit_exact_fraction, v.task) == (500, 1.0, "values")
    em = Emulator(r.project)
    Xg = [tn.to_fixed_grid(x, r.calibration.input_type) for x in X]
    np.testing.assert_array_equal(em.predict(Xg), r.project.predict(Xg).outputs)
    with pytest.raises(tn.InputError, match=r"inputs \(hlf, particles\)"):
        tn.compile(model, X[0], name="one", out=tmp_path / "p1", run_root=tmp_path / "r1")

    from triggernn.cli import main

    model.save(tmp_path / "two_in.h5")
    np.savez(tmp_path / "calib.npz", hlf=X[0], particles=X[1])
    code = main(["compile", str(tmp_path / "two_in.h5"), "--data", str(tmp_path / "calib.npz"), "--out",
                 str(tmp_path / "prj2"), "--runs", str(tmp_path / "runs2"), "--no-default"])  # fmt: skip
    assert code == 0
