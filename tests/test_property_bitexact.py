"""Property tests: random QKeras dense and CNN models are bit-exact in C simulation against QKeras.

Each CI run checks ``MAX_EXAMPLES`` (8) random dense models (depth 1-3, widths 1-24, weight/bias bits 2-16 with
0-3 integer bits, quantized_relu 2-10 bits or linear, io_parallel or io_stream) and ``MAX_CNN_EXAMPLES`` (4)
random CNNs (1-2 QConv2D layers of 1-6 filters, kernels 1-3, optional 2x2 max pooling, a QDense output; images
4-8 pixels wide with 1-3 channels, inputs ap_fixed<16,6>, <10,4> or <8,3>), all on 200 random inputs on the
input grid; derandomized, so the
same models every run. Models whose QKeras reference float32 cannot compute exactly (see
``triggernn.verify.float32_inexact_layers``) are outside the promise and discarded by ``assume`` (hypothesis
then draws others).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from conftest import grid_inputs
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from triggernn.config import load_config
from triggernn.hls import emit
from triggernn.quantize import FixedSpec, qkeras_bits, qkeras_relu, to_fixed_grid
from triggernn.train import seed_everything
from triggernn.verify import float32_inexact_layers

MAX_EXAMPLES = 8
MAX_CNN_EXAMPLES = 4


@st.composite
def dense_specs(draw):
    depth = draw(st.integers(1, 3))
    layers = []
    for _ in range(depth):
        wbits = draw(st.integers(2, 16))
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
    # a bit-exact failure on such a model says that the reference rounds, and where
    from triggernn.config import VerifyConfig
    from triggernn.verify import verify_outputs

    y = np.arange(8) % 4
    logits = np.eye(4)[y] + 0.25
    off = logits + np.where(np.arange(8) < 2, 2.0**-10, 0.0)[:, None]
    kwargs = dict(float_out=None, qkeras_out=logits, csim_out=logits, compared_layer="fc0",
                  compared_lsb=2.0**-10, compared_type="ap_fixed<37,12>", thresholds=VerifyConfig(min_events=1))  # fmt: skip
    v = verify_outputs(
        y, list("abcd"), qkeras_logits=logits, csim_logits=off, float32_limits=problems, **kwargs
    )
    assert len(v.failures) == 1
    assert v.failures[0].startswith("bit-exact fraction 75.0000%")
    assert "the QKeras reference itself rounds" in v.failures[0]
    assert "37 significant bits" in v.failures[0]
    plain = verify_outputs(y, list("abcd"), qkeras_logits=logits, csim_logits=off, **kwargs)
    assert "reference itself" not in plain.failures[0]


@st.composite
def cnn_specs(draw):
    side = draw(st.integers(4, 8))
    convs = []
    for _ in range(draw(st.integers(1, 2))):
        wbits = draw(st.integers(2, 10))
        convs.append(
            {
                "filters": draw(st.integers(1, 6)),
                "kernel": draw(st.integers(1, 3)),
                "wbits": wbits,
                "wint": draw(st.integers(0, min(2, wbits - 1))),
                "act": draw(st.sampled_from(["relu", "linear"])),
                "abits": draw(st.integers(2, 10)),
                "pool": draw(st.booleans()),
            }
        )
    return {
        "side": side,
        "channels": draw(st.integers(1, 3)),
        "convs": convs,
        "n_out": draw(st.integers(1, 5)),
        "io_type": draw(st.sampled_from(["io_parallel", "io_stream"])),
        "seed": draw(st.integers(0, 10_000)),
        "scale": draw(st.sampled_from([0.5, 2.0])),
        "input": draw(st.sampled_from([(16, 6), (10, 4), (8, 3)])),
    }


def build_cnn(spec):
    from qkeras import QActivation, QConv2D, QDense

    seed_everything(spec["seed"])
    x = inp = tf.keras.Input((spec["side"], spec["side"], spec["channels"]), name="features")
    side = spec["side"]
    for i, c in enumerate(spec["convs"]):
        k = min(c["kernel"], side)
        x = QConv2D(
            c["filters"],
            (k, k),
            kernel_quantizer=qkeras_bits(c["wbits"], c["wint"]),
            bias_quantizer=qkeras_bits(c["wbits"], c["wint"]),
            bias_initializer=tf.keras.initializers.RandomUniform(-1, 1),
            name=f"conv{i}",
        )(x)
        side = side - k + 1
        if c["act"] == "relu":
            x = QActivation(qkeras_relu(c["abits"], 0), name=f"crelu{i}")(x)
        if c["pool"] and side >= 2:
            x = tf.keras.layers.MaxPooling2D(2, name=f"pool{i}")(x)
            side //= 2
    x = tf.keras.layers.Flatten(name="flatten")(x)
    x = QDense(
        spec["n_out"], kernel_quantizer=qkeras_bits(8, 0), bias_quantizer=qkeras_bits(8, 0), name="output"
    )(x)
    return tf.keras.Model(inp, x)


@settings(
    max_examples=MAX_CNN_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(spec=cnn_specs())
def test_random_qkeras_cnn_is_bit_exact(spec, tmp_path_factory):
    model = build_cnn(spec)
    in_type = FixedSpec(*spec["input"])
    assume(not float32_inexact_layers(model, in_type))
    cfg = load_config(
        {
            "name": "propcnn",
            "model": {"softmax": False},
            "quantization": {"input": in_type.hls()},
            "hls": {"io_type": spec["io_type"]},
        }
    )
    shape = (200, spec["side"], spec["side"], spec["channels"])
    rng = np.random.default_rng(spec["seed"])
    X = to_fixed_grid(rng.normal(scale=spec["scale"], size=shape), in_type)
    project = emit(model, cfg, tmp_path_factory.mktemp("propcnn") / "prj", csim_inputs=X)
    expected = model.predict(X, verbose=0)
    np.testing.assert_array_equal(project.csim.outputs.reshape(expected.shape), expected)


def test_testbench_disagreement_beyond_float64_says_why():
    """A testbench that disagrees on outputs wider than float64's 53 bits is explained; a narrow one is not."""
    from triggernn.config import VerifyConfig
    from triggernn.verify import verify_outputs

    y = np.arange(8) % 4
    lsb = 2.0**-10
    for scale, explained in ((2.0**55, True), (1.0, False)):
        out = (np.eye(4)[y] + 0.25) * scale
        tb = out.copy()
        tb[0, 0] += 4 * scale * lsb  # several LSB off on one event
        v = verify_outputs(y, list("abcd"), float_out=None, qkeras_out=out, qkeras_logits=out, csim_out=out,
                           csim_logits=out, compared_layer="fc0", compared_lsb=lsb, compared_type="t",
                           thresholds=VerifyConfig(min_events=1), testbench_out=tb, output_lsb=lsb)  # fmt: skip
        assert v.testbench_exact_fraction == 7 / 8
        (failure,) = v.failures
        assert ("53 significant bits" in failure) is explained, failure
