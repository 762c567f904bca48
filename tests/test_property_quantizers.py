"""Property test over every QKeras quantizer kind hls4ml converts, io type and strategy: random QDense
chains are bit-exact in C simulation against QKeras, and ``emulate()`` (whatever engine it picks) equals the
C simulation on every output.

Weights: ``quantized_bits`` (alpha 1 or ``auto_po2``), ``quantized_po2``, ``binary``, ``ternary``;
activations: none, Keras ``relu`` fused into the layer (hls4ml splits it), ``quantized_relu`` (with and
without ``negative_slope``), ``quantized_bits``, the hard ``quantized_tanh`` and ``quantized_sigmoid``,
``binary``, ``ternary``; io_parallel / io_stream; Latency / Resource. Derandomized: the same ``MAX_EXAMPLES``
models every run. A model QKeras' float32 cannot compute exactly is outside the promise (``assume``).
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from triggernn.compat import import_qkeras
from triggernn.config import load_config
from triggernn.emulation import Emulator
from triggernn.hls import emit
from triggernn.quantize import FixedSpec, to_fixed_grid
from triggernn.train import seed_everything
from triggernn.verify import float32_inexact_layers

MAX_EXAMPLES = 8

WEIGHTS = ("bits", "bits_auto_po2", "po2", "binary", "ternary")
ACTIVATIONS = (
    "none",
    "keras_relu",
    "relu",
    "relu_slope",
    "bits",
    "hard_tanh",
    "hard_sigmoid",
    "binary",
    "ternary",
)


def _weight_quantizer(qk, kind: str, bits: int):
    return {
        "bits": lambda: qk.quantized_bits(bits, 1, alpha=1),
        "bits_auto_po2": lambda: qk.quantized_bits(bits, 1, alpha="auto_po2"),
        "po2": lambda: qk.quantized_po2(max(bits, 3), max_value=2),
        "binary": lambda: qk.binary(alpha=1),
        "ternary": lambda: qk.ternary(alpha=1),
    }[kind]()


def _activation(qk, kind: str, bits: int):
    return {
        "relu": lambda: qk.quantized_relu(bits, 2),
        # QKeras clips the negative branch at -slope * 2**integer, hls4ml's leaky ReLU does not (docs/field_models.md):
        # integer bits above any sum these models make
        "relu_slope": lambda: qk.quantized_relu(bits + 8, 8, negative_slope=0.25),
        "bits": lambda: qk.quantized_bits(bits, 2, alpha=1),
        "hard_tanh": lambda: qk.quantized_tanh(bits),
        "hard_sigmoid": lambda: qk.quantized_sigmoid(bits),
        "binary": lambda: qk.binary(alpha=1),
        "ternary": lambda: qk.ternary(alpha=1),
    }[kind]()


@st.composite
def specs(draw):
    layers = [
        {
            "units": draw(st.integers(1, 12)),
            "weight": draw(st.sampled_from(WEIGHTS)),
            "wbits": draw(st.integers(3, 10)),
            "act": draw(st.sampled_from(ACTIVATIONS)),
            "abits": draw(st.integers(3, 10)),
        }
        for _ in range(draw(st.integers(1, 3)))
    ]
    return {
        "n_in": draw(st.integers(2, 12)),
        "layers": layers,
        "io_type": draw(st.sampled_from(["io_parallel", "io_stream"])),
        "strategy": draw(st.sampled_from(["Latency", "Resource"])),
        "seed": draw(st.integers(0, 10_000)),
    }


def build(spec):
    qk = import_qkeras()
    seed_everything(spec["seed"])
    x = inp = tf.keras.Input((spec["n_in"],), name="features")
    for i, layer in enumerate(spec["layers"]):
        fused = layer["act"] == "keras_relu"
        x = qk.QDense(
            layer["units"],
            kernel_quantizer=_weight_quantizer(qk, layer["weight"], layer["wbits"]),
            bias_quantizer=qk.quantized_bits(6, 2, alpha=1),
            bias_initializer=tf.keras.initializers.RandomUniform(-1, 1),
            activation="relu" if fused else None,
            name=f"fc{i}",
        )(x)
        if layer["act"] not in ("none", "keras_relu"):
            x = qk.QActivation(_activation(qk, layer["act"], layer["abits"]), name=f"act{i}")(x)
    return tf.keras.Model(inp, x)


@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(spec=specs())
def test_every_quantizer_is_bit_exact_and_emulated(spec, tmp_path_factory):
    model = build(spec)
    input_type = FixedSpec(12, 4)
    assume(not float32_inexact_layers(model, input_type))
    cfg = load_config(
        {
            "name": "prop",
            "model": {"softmax": False},
            "quantization": {"input": "ap_fixed<12,4>"},
            "hls": {"io_type": spec["io_type"], "strategy": spec["strategy"]},
        }
    )
    rng = np.random.default_rng(spec["seed"])
    X = to_fixed_grid(rng.normal(scale=2.0, size=(300, spec["n_in"])), input_type)
    project = emit(model, cfg, tmp_path_factory.mktemp("quant") / "prj", csim_inputs=X)
    expected = model.predict(X, verbose=0)
    got = project.decode_outputs(project.csim.outputs).reshape(expected.shape)
    np.testing.assert_array_equal(got, expected)  # QKeras vs the firmware, every value
    em = Emulator(project)
    np.testing.assert_array_equal(em.predict(X), project.csim.outputs.astype(np.float32))
    assert em.engine == "numpy" or em.reason  # a refusal says why
