"""Property test: random QKeras dense models are bit-exact in C simulation against QKeras.

Each CI run checks ``MAX_EXAMPLES`` (8) random models that pass the precondition below (derandomized, so the
same 8 every run; about 19 more are drawn and discarded) (depth 1-3, widths 1-24, weight/bias bits 2-12 with 0-3
integer bits, quantized_relu 2-10 bits or linear, io_parallel or io_stream) on 200 random inputs on the
ap_fixed<16,6> grid. Models whose QKeras reference float32 cannot compute exactly (see
``triggernn.verify.float32_inexact_layers``) are outside the promise and skipped by ``assume``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from conftest import grid_inputs
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from triggernn.config import load_config
from triggernn.hls import emit
from triggernn.quantize import FixedSpec, qkeras_bits, qkeras_relu
from triggernn.train import seed_everything
from triggernn.verify import float32_inexact_layers

MAX_EXAMPLES = 8


@st.composite
def dense_specs(draw):
    depth = draw(st.integers(1, 3))
    layers = []
    for _ in range(depth):
        wbits = draw(st.integers(2, 12))
        layers.append(
            {
                "units": draw(st.integers(1, 24)),
                "wbits": wbits,
                "wint": draw(st.integers(0, min(3, wbits - 1))),
                "bbits": draw(st.integers(2, 12)),
                "act": draw(st.sampled_from(["relu", "linear"])),
                "abits": draw(st.integers(2, 10)),
                "aint": draw(st.integers(0, 3)),
            }
        )
    return {
        "n_in": draw(st.integers(1, 16)),
        "layers": layers,
        "io_type": draw(st.sampled_from(["io_parallel", "io_stream"])),
        "seed": draw(st.integers(0, 10_000)),
        "scale": draw(st.sampled_from([0.5, 2.0, 8.0])),
    }


def build(spec):
    from qkeras import QActivation, QDense

    seed_everything(spec["seed"])
    x = inp = tf.keras.Input((spec["n_in"],), name="features")
    for i, layer in enumerate(spec["layers"]):
        bint = min(layer["wint"], layer["bbits"] - 1)
        x = QDense(
            layer["units"],
            kernel_quantizer=qkeras_bits(layer["wbits"], layer["wint"]),
            bias_quantizer=qkeras_bits(layer["bbits"], bint),
            kernel_initializer=tf.keras.initializers.RandomUniform(
                -(2.0 ** layer["wint"]), 2.0 ** layer["wint"]
            ),
            bias_initializer=tf.keras.initializers.RandomUniform(-1, 1),
            name=f"fc{i}",
        )(x)
        if layer["act"] == "relu" and i < len(spec["layers"]) - 1:
            aint = min(layer["aint"], layer["abits"] - 1)
            x = QActivation(qkeras_relu(layer["abits"], aint), name=f"relu{i}")(x)
    return tf.keras.Model(inp, x)


@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(spec=dense_specs())
def test_random_qkeras_dense_is_bit_exact(spec, tmp_path_factory):
    model = build(spec)
    assume(not float32_inexact_layers(model, FixedSpec(16, 6)))
    cfg = load_config({"name": "prop", "model": {"softmax": False}, "hls": {"io_type": spec["io_type"]}})
    X = grid_inputs(200, n_in=spec["n_in"], seed=spec["seed"], scale=spec["scale"])
    project = emit(model, cfg, tmp_path_factory.mktemp("prop") / "prj", csim_inputs=X)
    expected = model.predict(X, verbose=0)
    np.testing.assert_array_equal(project.csim.outputs.reshape(expected.shape), expected)


def test_float32_limit_is_flagged():
    wide = build(
        {
            "n_in": 16,
            "seed": 0,
            "layers": [dict(units=4, wbits=16, wint=0, bbits=8, act="linear", abits=8, aint=0)],
        }
    )
    narrow = build(
        {
            "n_in": 16,
            "seed": 0,
            "layers": [dict(units=4, wbits=6, wint=0, bbits=6, act="linear", abits=8, aint=0)],
        }
    )
    problems = float32_inexact_layers(wide, FixedSpec(16, 6))
    assert len(problems) == 1
    assert "'fc0'" in problems[0]
    assert "37 significant bits" in problems[0]
    assert float32_inexact_layers(narrow, FixedSpec(12, 4)) == []  # 12 + 6 + 5 bits = 23
