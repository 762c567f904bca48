"""QGRU on the pinned TensorFlow, and the recurrent precision recipe that makes hls4ml agree with QKeras."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import tensorflow as tf

from triggernn import Emulator
from triggernn.compat import import_qkeras
from triggernn.config import load_config
from triggernn.errors import HLSError
from triggernn.hls import emit
from triggernn.hls.recurrent import check_recurrent, with_quantized_weights
from triggernn.models import build_model
from triggernn.quantize import qkeras_bits


def test_qgru_runs_on_tensorflow_2_14():
    from tensorflow.python.util import nest

    import_qkeras()
    assert nest.is_sequence is nest.is_nested
    cfg = load_config({"name": "g", "data": {"representation": "sequences"}, "model": {"family": "jet_gru"}})
    model = build_model(cfg, (12, 3), 5, quantized=True)
    out = model.predict(np.random.default_rng(0).normal(size=(7, 12, 3)).astype(np.float32), verbose=0)
    assert out.shape == (7, 5)
    np.testing.assert_allclose(out.sum(1), 1, rtol=1e-5)


def test_quantized_weights_copy_leaves_outputs_and_original_alone(config_run):
    model = config_run("jet_gru").qkeras_model
    before = [w.copy() for w in model.get_layer("gru").get_weights()]
    X = np.random.default_rng(1).normal(size=(64, *model.input_shape[1:])).astype(np.float32)
    copy = with_quantized_weights(model)
    for w in copy.get_layer("gru").get_weights():  # 8-bit quantized_bits(8,0): multiples of 2^-7 in [-1, 1)
        np.testing.assert_array_equal(w * 2**7, np.round(w * 2**7))
        assert w.min() >= -1
        assert w.max() < 1
    assert any(
        not np.array_equal(a, b) for a, b in zip(before, copy.get_layer("gru").get_weights(), strict=True)
    )
    for a, b in zip(before, model.get_layer("gru").get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    cell, qcell = model.get_layer("gru").cell, copy.get_layer("gru").cell
    for name in (
        "kernel",
        "recurrent_kernel",
        "bias",
    ):  # the quantized weights the model computes with are unchanged
        q = getattr(
            cell,
            {
                "kernel": "kernel_quantizer_internal",
                "recurrent_kernel": "recurrent_quantizer_internal",
                "bias": "bias_quantizer_internal",
            }[name],
        )
        np.testing.assert_array_equal(q(getattr(qcell, name)).numpy(), q(getattr(cell, name)).numpy())
    # same outputs (to float32 reassociation in a freshly built graph)
    np.testing.assert_allclose(copy.predict(X, verbose=0), model.predict(X, verbose=0), atol=1e-6)


def _qgru_model(**options):
    options = {"activation": "tanh", "recurrent_activation": "sigmoid", **options}
    qk = import_qkeras()
    x = inp = tf.keras.Input((5, 2), name="features")
    q = qkeras_bits(8, 0)
    x = qk.QGRU(4, kernel_quantizer=q, recurrent_quantizer=q, bias_quantizer=q, name="gru", **options)(x)
    return tf.keras.Model(inp, qk.QDense(2, kernel_quantizer=q, bias_quantizer=q, name="output")(x))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"reset_after": False}, "reset_after=False"),
        (
            {"reset_after": True, "recurrent_activation": "hard_sigmoid"},
            "recurrent_activation='hard_sigmoid'",
        ),
        ({"reset_after": True, "return_sequences": True}, "return_sequences"),
        ({"reset_after": True, "state_quantizer": "quantized_relu(8,0)"}, "state_quantizer"),
        ({"reset_after": True, "activation": "quantized_tanh(8)"}, "activation='quantized_tanh'"),
    ],
)
def test_forms_hls4ml_would_get_wrong_are_refused(options, message, tmp_path):
    model = _qgru_model(**options)
    with pytest.raises(HLSError, match="layer 'gru'") as err:
        check_recurrent(model)
    assert message in str(err.value)
    cfg = load_config({"name": "r", "model": {"softmax": False}})
    with pytest.raises(HLSError):
        emit(model, cfg, tmp_path / "prj")
    assert not list(tmp_path.iterdir())  # refused before anything was written


def test_a_state_quantizer_becomes_the_state_type():
    """QKeras quantizes the previous state with the state quantizer at every step: the firmware's state
    (hls4ml's ``result``) gets its type, rounded and saturating like quantized_bits, instead of hls4ml's
    mapping onto the in-cell accumulator."""
    from triggernn.hls.config import make_hls_config
    from triggernn.hls.recurrent import state_type

    model = _qgru_model(reset_after=True, state_quantizer="quantized_bits(6,1,1)")
    assert state_type(model.get_layer("gru")) == "fixed<6,2,RND_CONV,SAT>"
    assert state_type(_qgru_model(reset_after=True).get_layer("gru")) is None
    hc = make_hls_config(model, load_config({"name": "r", "model": {"softmax": False}}))
    gru = hc["LayerName"]["gru"]["Precision"]
    assert gru["result"] == "fixed<6,2,RND_CONV,SAT>"
    assert gru["accum"] == "fixed<32,12>"  # the wide in-cell type, not the state quantizer's


def test_lstm_is_refused_with_the_alternative():
    qk = import_qkeras()
    inp = tf.keras.Input((5, 2), name="features")
    model = tf.keras.Model(inp, qk.QLSTM(4, name="lstm")(inp))
    with pytest.raises(HLSError, match="use a QGRU"):
        check_recurrent(model)


def test_recipe_beats_hls4mls_automatic_config(config_run, tmp_path):
    """The trained jet_gru meets its contract, and hls4ml's automatic config of the same model does not."""
    import hls4ml

    r = config_run("jet_gru")
    v = r.verification
    assert v.logit_argmax_agreement >= 0.998
    assert v.max_abs_error < 0.05
    X = r.X_test[:500]
    model = r.qkeras_model
    logits = tf.keras.Model(model.inputs, model.get_layer("output").output).predict(X, verbose=0)
    hc = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vitis")
    hc["LayerName"]["output"]["Trace"] = True
    with contextlib.redirect_stdout(io.StringIO()):
        auto = hls4ml.converters.convert_from_keras_model(
            model,
            hls_config=hc,
            output_dir=str(tmp_path / "auto_prj"),
            backend="Vitis",
            io_type="io_parallel",
        )
        auto.compile()
        _, traces = auto.trace(X)
    auto_logits = np.asarray(traces["output"]).reshape(logits.shape)
    auto_error = np.abs(auto_logits - logits).max()
    auto_agreement = np.mean(auto_logits.argmax(1) == logits.argmax(1))
    ours = r.project.csim.logits[:500]
    assert np.abs(ours - logits).max() * 5 < auto_error
    assert np.mean(ours.argmax(1) == logits.argmax(1)) > auto_agreement


def _qsimple_rnn(**kw):
    qk = import_qkeras()
    inp = tf.keras.Input((6, 2), name="features")
    q = dict(kernel_quantizer=qkeras_bits(8, 0), recurrent_quantizer=qkeras_bits(8, 0), bias_quantizer=qkeras_bits(8, 0))  # fmt: skip
    x = qk.QSimpleRNN(5, name="rnn", **q, **kw)(inp)
    return tf.keras.Model(inp, x if kw.get("return_sequences") else qk.QDense(3, name="out", kernel_quantizer=qkeras_bits(8, 0), bias_quantizer=qkeras_bits(8, 0))(x))  # fmt: skip


def test_simple_rnn_compiles_and_agrees(tmp_path):
    """hls4ml 1.3.0's Vivado/Vitis backends emit nothing for a SimpleRNN; triggernn's template computes it."""
    tf.keras.utils.set_random_seed(3)
    model = _qsimple_rnn(activation="tanh")
    X = np.round(np.random.default_rng(0).uniform(-1, 1, size=(300, 6, 2)) * 1024).astype(np.float32) / 1024
    cfg = load_config({"name": "srnn", "hls": {"tb_events": 20}})
    project = emit(model, cfg, tmp_path / "srnn", csim_inputs=X, tb_inputs=X[:20])
    cpp = (project.path / "firmware" / "myproject.cpp").read_text()
    assert "nnet::simple_rnn_stack<" in cpp
    assert (project.path / "firmware" / "nnet_utils" / "nnet_simple_rnn.h").is_file()
    keras = model.predict(X, verbose=0)
    assert np.max(np.abs(project.csim.outputs - keras)) < 0.01
    assert np.std(keras) > 0.05  # the comparison is not between two constants
    # our template is outside the numpy emulation: the batched C++ engine runs it, bit for bit
    em = Emulator(project)
    assert em.engine == "cpp"
    assert "SimpleRNN" in em.reason
    np.testing.assert_array_equal(em.predict(X), project.csim.outputs)


def test_simple_rnn_forms_we_cannot_compile_are_refused():
    with pytest.raises(HLSError, match="return_sequences"):
        check_recurrent(_qsimple_rnn(activation="tanh", return_sequences=True))
    with pytest.raises(HLSError, match="activation"):
        check_recurrent(_qsimple_rnn(activation="relu"))
