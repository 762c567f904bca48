"""Float Keras -> QKeras conversion with per-layer bits, and the converted model is bit-exact in C simulation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from conftest import grid_inputs

from triggernn.hls import emit
from triggernn.models import build_model
from triggernn.quantize import FixedSpec, quantize_model
from triggernn.train import seed_everything


def test_float_model_converts_with_per_layer_bits(small_cfg, tmp_path):
    cfg = small_cfg.with_overrides(quantization={"layers": {"fc1": {"weight": {"bits": 8, "integer": 0}}}})
    seed_everything(3)
    float_model = build_model(cfg, (16,), 5, quantized=False)
    qmodel = quantize_model(float_model, cfg.quantization)
    kinds = {layer.name: layer.__class__.__name__ for layer in qmodel.layers}
    assert kinds["fc1"] == "QDense"
    assert kinds["relu1"] == "QActivation"
    assert kinds["softmax"] == "Activation"
    # fc1 weights sit on the 8-bit grid, fc2 weights on the 6-bit grid
    for name, bits in (("fc1", 8), ("fc2", 6)):
        layer = qmodel.get_layer(name)
        w = np.asarray(layer.kernel_quantizer_internal(layer.kernel))
        lsb = FixedSpec(bits, 1).lsb
        np.testing.assert_array_equal(w / lsb, np.round(w / lsb))
        assert len(np.unique(w)) > 2 ** (bits - 3)  # really that fine, not coarser
    X = grid_inputs(300)
    project = emit(qmodel, cfg, tmp_path / "prj", csim_inputs=X)
    logits = tf.keras.Model(qmodel.inputs, qmodel.get_layer("output").output).predict(X, verbose=0)
    np.testing.assert_array_equal(project.csim.logits, logits)


def test_fused_activation_is_refused(small_cfg):
    from triggernn.errors import ModelError

    inp = tf.keras.Input((4,), name="features")
    model = tf.keras.Model(inp, tf.keras.layers.Dense(3, activation="tanh", name="fc1")(inp))
    import pytest

    with pytest.raises(ModelError, match="'fc1' has a fused 'tanh'"):
        quantize_model(model, small_cfg.quantization)
