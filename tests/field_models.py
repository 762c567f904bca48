"""The QKeras models of hls4ml 1.3.0's own test suite, as a catalogue our compiler can be run against.

Transcribed from the ``test/pytest`` folder of the hls4ml 1.3.0 source distribution (PyPI sdist):
``test_qkeras.py`` (every parametrization that changes the model; backend, io_type and strategy parameters
do not), which also holds the QKeras recurrent tests (``test_qsimplernn``, ``test_qlstm``, ``test_qgru``;
there is no separate QKeras RNN test file), plus the other QKeras models of that suite:
``test_binary_cnn.py``, ``test_cnn_mnist_qkeras.py`` (architecture of example-models
``keras/qkeras_mnist_cnn.json``, rebuilt in code) and ``test_serialization.py``.

Layers are exactly as hls4ml defines them. Where hls4ml leaves a layer unnamed, the name Keras gives it in a
fresh process (``q_activation``, ``q_batch_normalization_1``, ``max_pooling2d``, ``input_1``, ...) is passed
explicitly, so names do not depend on what else was built before in the process.

Weights: each ``build`` seeds TensorFlow/NumPy from the entry name, then keeps hls4ml's initializers and
explicit weights (``kernel_initializer='ones'``, the po2 test's ``2**18 * rand`` kernel, ...). Deviations,
all in the weights only:

* BatchNormalization / QBatchNormalization layers (``test_btnn`` 3-6, ``test_binary_cnn``) get random
  gamma, beta, moving mean and positive moving variance: hls4ml's tests run them at their initial values
  (mean 0, variance 1), which makes the batch norm a near identity.
* ``cnn_mnist_qkeras``: hls4ml loads trained weights (example-models ``qkeras_mnist_cnn_weights.h5``);
  here He-normal kernels (the layer's own initializer, seeded) and small random biases.
* ``qconv2dbn_randw`` is not in hls4ml: ``qconv2dbn`` with random kernel, bias and batch-norm parameters
  (hls4ml's all-ones kernel saturates nearly every output).

Not reproduced: ``test_qkeras.py::test_accuracy`` (example-models ``keras/qkeras_3layer.json`` and its trained
weights; the JSON is not available, and a guessed architecture would not be hls4ml's model).

Inputs are of the kind each hls4ml test feeds (``np.random.rand`` in [0, 1), often rounded to multiples of
2**-10, i.e. onto ap_fixed<16,6>); for the recurrent tests, which feed a single fixed sequence, event 0 is that
sequence and the other events are uniform in the same range.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tensorflow import keras

__all__ = ["FIELD_MODELS", "FieldModel", "field_model"]

KINDS = ("exact", "tolerance", "recurrent")


@dataclass(frozen=True)
class FieldModel:
    name: str  # pytest id
    build: Callable[[], keras.Model]  # a fresh model with deterministic weights on every call
    input_shape: tuple[int, ...]  # one event, without the batch axis
    inputs: Callable[[int, int], np.ndarray]  # (n events, seed) -> float32 array (n, *input_shape)
    hls4ml_asserts: str  # what hls4ml's test asserts for this model
    source: str  # hls4ml test function and parametrization (and the hls4ml config it uses)
    kind: str  # "exact" | "tolerance" | "recurrent"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is not one of {KINDS}")


# --------------------------------------------------------------------------------------------- helpers


def _qk() -> Any:
    """qkeras, with triggernn's TF 2.14 shims (nest.is_sequence, array_ops.unstack) applied first."""
    from triggernn.compat import import_qkeras

    return import_qkeras()


def _seed(name: str) -> np.random.Generator:
    """Seed Python, NumPy and TensorFlow from the entry name; return a generator for explicit weights."""
    import tensorflow as tf

    seed = zlib.crc32(name.encode()) & 0x7FFFFFFF
    tf.keras.utils.set_random_seed(seed)
    return np.random.default_rng(seed)


def _set_weights(layer: Any, draw: dict[str, Callable[[tuple[int, ...]], np.ndarray]]) -> None:
    """Replace each weight of ``layer`` whose variable name starts with a key of ``draw`` by ``draw[key](shape)``."""
    weights = []
    for var, value in zip(layer.weights, layer.get_weights(), strict=True):
        short = var.name.rsplit("/", 1)[-1]
        key = next((k for k in draw if short.startswith(k)), None)
        weights.append(value if key is None else np.asarray(draw[key](value.shape), dtype=value.dtype))
    layer.set_weights(weights)


def _randomize_batchnorm(layer: Any, rng: np.random.Generator) -> None:
    """Non-trivial gamma, beta, moving mean and (positive) moving variance for a (Q)BatchNormalization."""
    _set_weights(
        layer,
        {
            "gamma": lambda s: rng.uniform(0.5, 1.5, s),
            "beta": lambda s: rng.normal(0.0, 0.5, s),
            "moving_mean": lambda s: rng.normal(0.0, 1.0, s),
            "moving_variance": lambda s: rng.uniform(0.5, 2.0, s),
        },
    )


def _uniform(shape: tuple[int, ...], *, grid: bool, negate: bool = False) -> Callable[[int, int], np.ndarray]:
    """``np.random.rand`` events, optionally negated and rounded to multiples of 2**-10 (ap_fixed<16,6>)."""

    def gen(n: int, seed: int) -> np.ndarray:
        x = np.random.default_rng(seed).random((n, *shape))
        if negate:
            x = -x
        if grid:
            x = np.round(x * 2**10) * 2**-10
        return x.astype(np.float32)

    return gen


def _sepconv_inputs(shape: tuple[int, ...]) -> Callable[[int, int], np.ndarray]:
    """``quantized_bits(8, 0, alpha=1)(np.random.rand(...))``, as test_qseparableconv1d/2d feed."""

    def gen(n: int, seed: int) -> np.ndarray:
        data = np.random.default_rng(seed).random((n, *shape))
        return np.asarray(_qk().quantized_bits(8, 0, alpha=1)(data).numpy(), dtype=np.float32)

    return gen


def _rnn_inputs(limit: float) -> Callable[[int, int], np.ndarray]:
    """Event 0: hls4ml's ``np.linspace(-limit, limit, 5)`` on both features; then uniform in [-limit, limit]."""

    def gen(n: int, seed: int) -> np.ndarray:
        x = np.linspace(-limit, limit, 5)
        first = np.stack([x, x], axis=1).reshape(1, 5, 2)
        rest = np.random.default_rng(seed).uniform(-limit, limit, (max(n - 1, 0), 5, 2))
        return np.concatenate([first, rest])[:n].astype(np.float32)

    return gen


def _mnist_inputs(n: int, seed: int) -> np.ndarray:
    """MNIST-like pixels: k / 255 for integer k in [0, 255]."""
    return (np.random.default_rng(seed).integers(0, 256, (n, 28, 28, 1)) / 255).astype(np.float32)


# -------------------------------------------------------------------------------- test_qkeras.py models


def _single_dense_activation(name: str, alpha: Any) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    bits = 4
    model = tf.keras.Sequential(
        [
            qk.QActivation(
                activation=qk.quantized_bits(bits, 0, alpha=1), input_shape=(16,), name="inp_quant"
            ),
            qk.QDense(
                16,
                name="fc1",
                kernel_quantizer=qk.quantized_bits(bits, 0, alpha=alpha),
                bias_quantizer=qk.quantized_bits(bits, 0, alpha=1),
                kernel_initializer="lecun_uniform",
            ),
            qk.QActivation(activation=qk.quantized_relu(bits, 0), name="relu1"),
        ],
        name="sequential",
    )
    model.compile()
    return model


def _single_quantizer(name: str, quantizer: Callable[[Any], Any]) -> keras.Model:
    """test_quantizer / test_quantizer_special / test_relu_negative_slope: one QActivation."""
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    model = tf.keras.Sequential(name="sequential")
    model.add(qk.QActivation(input_shape=(1,), activation=quantizer(qk), name="quantizer"))
    model.compile()
    return model


def _btnn(
    name: str, kernel_q: Callable, bias_q: Callable, act_q: Callable, use_batchnorm: bool
) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    rng = _seed(name)
    model = tf.keras.Sequential(name="sequential")
    model.add(
        qk.QDense(
            10, input_shape=(10,), kernel_quantizer=kernel_q(qk), bias_quantizer=bias_q(qk), name="dense"
        )
    )
    if use_batchnorm:
        model.add(tf.keras.layers.BatchNormalization(name="bn"))
    model.add(qk.QActivation(activation=act_q(qk), name="q_activation"))
    model.compile()
    if use_batchnorm:
        _randomize_batchnorm(model.get_layer("bn"), rng)
    return model


def _qactivation_kwarg(name: str, weight_quantizer: str, activation_quantizer: str) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    inputs = tf.keras.Input(shape=(10,), name="input_1")
    outputs = qk.QDense(
        10,
        activation=activation_quantizer,
        name="qdense",
        kernel_quantizer=weight_quantizer,
        bias_quantizer=weight_quantizer,
        kernel_initializer="lecun_uniform",
    )(inputs)
    return tf.keras.Model(inputs, outputs, name="model")


def _quantizer_parsing(name: str) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    model = tf.keras.Sequential(name="sequential")
    model.add(
        qk.QDense(
            8,
            input_shape=(10,),
            kernel_quantizer=None,  # "Incorrect usage, but shouldn't break hls4ml"
            kernel_initializer="ones",
            bias_quantizer=None,
            bias_initializer="zeros",
            activation="quantized_relu(8, 0)",
            name="q_dense",
        )
    )
    model.compile()
    return model


def _qconv2dbn(name: str, randomize: bool = False) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    rng = _seed(name)
    model = tf.keras.Sequential(name="sequential")
    model.add(
        qk.QConv2DBatchnorm(
            4,
            kernel_size=(3, 3),
            input_shape=(8, 8, 1),
            kernel_quantizer="quantized_bits(8, 0, alpha=1)",
            kernel_initializer="ones",
            bias_quantizer="quantized_bits(8, 0, alpha=1)",
            bias_initializer="zeros",
            activation="quantized_relu(8, 0)",
            name="q_conv2d_batchnorm",
        )
    )
    model.compile()
    if randomize:
        _set_weights(
            model.layers[0],
            {
                "kernel": lambda s: rng.uniform(-0.5, 0.5, s),
                "bias": lambda s: rng.uniform(-0.25, 0.25, s),
                "gamma": lambda s: rng.uniform(0.5, 1.5, s),
                "beta": lambda s: rng.normal(0.0, 0.25, s),
                "moving_mean": lambda s: rng.normal(0.0, 0.5, s),
                "moving_variance": lambda s: rng.uniform(0.25, 1.0, s),
            },
        )
    return model


def _qdepthwiseconv2d(name: str) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    model = tf.keras.Sequential(name="sequential")
    model.add(
        qk.QDepthwiseConv2D(
            kernel_size=(3, 3),
            input_shape=(32, 32, 3),
            depthwise_quantizer="quantized_bits(6, 0, alpha=1)",
            bias_quantizer="quantized_bits(4, 0, alpha=1)",
            bias_initializer="he_normal",
            activation="quantized_relu(3, 0)",
            name="q_depthwise_conv2d",
        )
    )
    model.compile()
    return model


def _quantised_po2_bit_width(name: str) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    rng = _seed(name)
    model = tf.keras.Sequential(name="sequential")
    model.add(
        qk.QDense(6, input_shape=(26,), name="dense", kernel_quantizer=qk.quantized_po2(18, max_value=2**20))
    )
    weights = model.layers[0].get_weights()
    weights[0] = (2**18) * rng.random((26, 6))  # hls4ml: "Set weights to same high random number"
    model.layers[0].set_weights(weights)
    model.compile()
    return model


_Q8 = "quantized_bits(8, 0, alpha=1)"
_Q16 = "quantized_bits(16, 0, alpha=1)"


def _qsimplernn(name: str) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    model = tf.keras.Sequential(name="sequential")
    model.add(
        qk.QSimpleRNN(
            4,
            input_shape=(5, 2),
            kernel_quantizer=_Q16,
            recurrent_quantizer=_Q16,
            bias_quantizer=_Q16,
            state_quantizer=_Q16,
            activation="relu",
            name="q_simple_rnn",
        )
    )
    model.compile()
    return model


def _qlstm(name: str) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    model = tf.keras.Sequential(name="sequential")
    model.add(
        qk.QLSTM(
            4,
            input_shape=(5, 2),
            kernel_quantizer=_Q8,
            recurrent_quantizer=_Q8,
            bias_quantizer=_Q8,
            state_quantizer=_Q8,
            activation="tanh",
            recurrent_activation="sigmoid",
            name="qlstm",
        )
    )
    model.compile()
    return model


def _qgru(name: str) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    model = tf.keras.Sequential(name="sequential")
    model.add(
        qk.QGRU(
            4,
            input_shape=(5, 2),
            kernel_quantizer=_Q8,
            recurrent_quantizer=_Q8,
            bias_quantizer=_Q8,
            state_quantizer=_Q8,
            activation="tanh",
            recurrent_activation="sigmoid",
            # sic: hls4ml passes the *string* 'False', which is truthy, so Keras builds a reset_after=True GRU
            reset_after="False",
            name="qgru",
        )
    )
    model.compile()
    return model


def _qseparableconv(name: str, rank: int) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    shape, layer = ((13, 20), qk.QSeparableConv1D) if rank == 1 else ((13, 21, 20), qk.QSeparableConv2D)
    x_in = tf.keras.Input(shape, name="input_layer")
    x = layer(
        5,
        3,
        depthwise_quantizer=qk.quantized_bits(8, 3, alpha=1),
        pointwise_quantizer=qk.quantized_bits(8, 3, alpha=1),
        bias_quantizer=qk.quantized_bits(8, 3, alpha=1),
        name="qsepconv_1",
    )(x_in)
    return tf.keras.Model(inputs=x_in, outputs=x, name="model")


# --------------------------------------------------------------------------- the other QKeras test files


def _binary_cnn(name: str) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    rng = _seed(name)
    layers, l2 = tf.keras.layers, tf.keras.regularizers.l2
    x_in = layers.Input(shape=(28, 28, 1), name="input_1")
    x = qk.QConv2D(
        4,
        (3, 3),
        kernel_quantizer="binary",
        name="conv2d_1",
        kernel_regularizer=l2(0.0001),
        use_bias=True,
        bias_quantizer="quantized_bits(5,2)",
    )(x_in)
    x = qk.QBatchNormalization(name="q_batch_normalization")(x)
    x = qk.QActivation("binary", name="act1")(x)
    x = qk.QConv2D(
        8, (3, 3), kernel_quantizer="binary", name="conv2d_2", kernel_regularizer=l2(0.0001), use_bias=False
    )(x)
    x = qk.QBatchNormalization(name="q_batch_normalization_1")(x)
    x = qk.QActivation("binary", name="act2")(x)
    x = layers.MaxPooling2D(pool_size=(2, 2), name="max_pooling2d")(x)
    x = qk.QConv2D(
        8, (3, 3), kernel_quantizer="binary", name="conv2d_3", kernel_regularizer=l2(0.0001), use_bias=False
    )(x)
    x = qk.QBatchNormalization(name="q_batch_normalization_2")(x)
    x = qk.QActivation("binary", name="act3")(x)
    x = layers.MaxPooling2D(pool_size=(2, 2), name="max_pooling2d_1")(x)
    x = layers.Flatten(name="flatten")(x)
    x = qk.QDense(10, kernel_quantizer="binary", name="q_dense_6", use_bias=False)(x)
    x = qk.QBatchNormalization(name="q_batch_normalization_3")(x)
    x = qk.QActivation("binary_tanh", name="act4")(x)
    x = qk.QDense(10, kernel_quantizer="binary", activation="linear", name="q_dense_7", use_bias=False)(x)
    model = tf.keras.Model(inputs=x_in, outputs=x, name="model")
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    for i in range(4):
        _randomize_batchnorm(model.get_layer("q_batch_normalization" + (f"_{i}" if i else "")), rng)
    return model


def _cnn_mnist_qkeras(name: str) -> keras.Model:
    """example-models keras/qkeras_mnist_cnn.json; QKeras derives the JSON's QInitializer and Clip constraints."""
    import tensorflow as tf

    qk = _qk()
    rng = _seed(name)
    layers = tf.keras.layers

    def q6():
        return qk.quantized_bits(6, 0, alpha=1)

    model = tf.keras.Sequential(
        [
            layers.InputLayer(input_shape=(28, 28, 1), name="input_1"),
            qk.QConv2D(
                16,
                (3, 3),
                activation="relu",
                kernel_quantizer=q6(),
                bias_quantizer=q6(),
                kernel_initializer="he_normal",
                name="q_conv2d",
            ),
            qk.QActivation(qk.quantized_relu(6, 0), name="q_activation"),
            layers.MaxPooling2D((2, 2), name="max_pooling2d"),
            qk.QConv2D(
                16,
                (3, 3),
                activation="relu",
                kernel_quantizer=q6(),
                bias_quantizer=q6(),
                kernel_initializer="he_normal",
                name="q_conv2d_1",
            ),
            qk.QActivation(qk.quantized_relu(6, 0), name="q_activation_1"),
            layers.MaxPooling2D((2, 2), name="max_pooling2d_1"),
            layers.Flatten(name="flatten"),
            layers.Dropout(0.5, name="dropout"),
            qk.QDense(
                10, kernel_quantizer=q6(), bias_quantizer=q6(), kernel_initializer="he_normal", name="q_dense"
            ),
            layers.Activation("softmax", name="softmax"),
        ],
        name="sequential",
    )
    for layer in model.layers:  # trained weights are not available: small random biases instead of zeros
        if getattr(layer, "use_bias", False):
            w = layer.get_weights()
            w[1] = rng.uniform(-0.25, 0.25, w[1].shape).astype(w[1].dtype)
            layer.set_weights(w)
    return model


def _serialization_qkeras_model(name: str) -> keras.Model:
    import tensorflow as tf

    qk = _qk()
    _seed(name)
    layers = tf.keras.layers
    model = tf.keras.Sequential(name="sequential")
    model.add(layers.Input(shape=(8, 8, 3), name="input_1"))
    model.add(
        qk.QConv2D(
            4,
            kernel_size=(3, 3),
            kernel_quantizer="quantized_bits(8,4)",
            bias_quantizer=qk.ternary(),
            name="conv2d_1",
        )
    )
    model.add(qk.QActivation(name="relu_1", activation="quantized_relu(6)"))
    model.add(
        qk.QConv2D(
            5,
            kernel_size=(3, 3),
            kernel_quantizer=qk.quantized_bits(8, 4),
            bias_quantizer=qk.binary(),
            name="conv2d_2",
        )
    )
    model.add(qk.QActivation(name="relu_2", activation=qk.quantized_relu(2)))
    model.add(layers.Flatten(name="flatten"))
    model.add(qk.QDense(5, activation="softmax", kernel_quantizer="quantized_po2(8,4)", name="dense_1"))
    return model


# ------------------------------------------------------------------------------------------ catalogue

_T = "test_qkeras.py::"
_EQUAL = "np.testing.assert_array_equal(y_qkeras, y_hls4ml)"


def _entry(name: str, builder: Callable[..., keras.Model], *args: Any, **kw: Any) -> dict[str, Any]:
    return {"name": name, "build": partial(builder, name, *args)} | kw


def _catalogue() -> list[FieldModel]:
    entries: list[dict[str, Any]] = []

    # test_single_dense_activation_exact[bits,alpha in (4, 1), (4, 'auto_po2')] x backend x io_type
    entries.append(
        _entry(
            "dense_act_alpha1",
            _single_dense_activation,
            1,
            input_shape=(16,),
            inputs=_uniform((16,), grid=False),
            hls4ml_asserts=_EQUAL + " (converted with bit_exact=True)",
            source=_T + "test_single_dense_activation_exact[bits=4, alpha=1]",
            kind="exact",
        )
    )
    entries.append(
        _entry(
            "dense_act_auto_po2",
            _single_dense_activation,
            "auto_po2",
            input_shape=(16,),
            inputs=_uniform((16,), grid=False),
            hls4ml_asserts="np.testing.assert_allclose(y_qkeras.ravel(), y_hls4ml.ravel(), atol=2**-4, rtol=1.0) (bit_exact=False)",
            source=_T + "test_single_dense_activation_exact[bits=4, alpha='auto_po2']",
            kind="tolerance",
        )
    )

    # test_quantizer_special[quantizer] x backend x io_type
    for name, q, text in [
        ("quantizer_special_tanh8", lambda qk: qk.quantized_tanh(8), "quantized_tanh(8)"),
        ("quantizer_special_sigmoid5", lambda qk: qk.quantized_sigmoid(5), "quantized_sigmoid(5)"),
        (
            "quantizer_special_sigmoid7_real",
            lambda qk: qk.quantized_sigmoid(7, use_real_sigmoid=True),
            "quantized_sigmoid(7, use_real_sigmoid=True)",
        ),
    ]:
        entries.append(
            _entry(
                name,
                _single_quantizer,
                q,
                input_shape=(1,),
                inputs=_uniform((1,), grid=True),
                hls4ml_asserts="np.testing.assert_allclose(y_qkeras, y_hls4ml, rtol=1e-2, atol=0.02)",
                source=_T + f"test_quantizer_special[{text}]",
                kind="tolerance",
            )
        )

    # test_btnn[test_no, N=10, kernel, bias, activation, use_batchnorm, is_xnor] x backend x io_type
    btnn = [
        (
            1,
            lambda qk: qk.ternary(alpha=1),
            lambda qk: "binary_tanh",
            False,
            False,
            "ternary(alpha=1), 'binary_tanh'",
        ),
        (2, lambda qk: qk.binary(), lambda qk: "binary_tanh", False, True, "binary(), 'binary_tanh'"),
        (
            3,
            lambda qk: qk.ternary(alpha="auto"),
            lambda qk: qk.binary(),
            True,
            True,
            "ternary(alpha='auto'), binary(), bn",
        ),
        (
            4,
            lambda qk: qk.ternary(alpha="auto"),
            lambda qk: "ternary",
            True,
            False,
            "ternary(alpha='auto'), 'ternary', bn",
        ),
        (
            5,
            lambda qk: qk.ternary(alpha="auto"),
            lambda qk: qk.ternary(threshold=0.2),
            True,
            False,
            "ternary(alpha='auto'), ternary(threshold=0.2), bn",
        ),
        (
            6,
            lambda qk: qk.ternary(alpha="auto"),
            lambda qk: qk.ternary(threshold=0.8),
            True,
            False,
            "ternary(alpha='auto'), ternary(threshold=0.8), bn",
        ),
        (7, lambda qk: qk.binary(), lambda qk: qk.binary(), False, True, "binary(), binary()"),
    ]
    for no, kernel_q, act_q, use_bn, is_xnor, text in btnn:
        entries.append(
            _entry(
                f"btnn_{no}",
                _btnn,
                kernel_q,
                lambda qk: qk.quantized_bits(5, 2),
                act_q,
                use_bn,
                input_shape=(10,),
                inputs=_uniform((10,), grid=False),
                hls4ml_asserts="fraction of outputs with y_hls != y_keras < 0.005"
                + (
                    " (hls4ml may return XNOR binary: y_hls = np.where(y_hls == 0, -1, 1) first)"
                    if is_xnor
                    else ""
                ),
                source=_T + f"test_btnn[{no}: kernel {text}, bias quantized_bits(5, 2), is_xnor={is_xnor}]",
                kind="tolerance",
            )
        )

    # test_quantizer[quantizer] x backend x io_type
    for name, args in [
        ("quantizer_bits8_0", ("quantized_bits", 8, 0)),
        ("quantizer_bits8_4", ("quantized_bits", 8, 4)),
        ("quantizer_bits4_2", ("quantized_bits", 4, 2)),
        ("quantizer_bits4_0", ("quantized_bits", 4, 0)),
        ("quantizer_bits10_0", ("quantized_bits", 10, 0)),
        ("quantizer_relu4", ("quantized_relu", 4)),
        ("quantizer_relu4_2", ("quantized_relu", 4, 2)),
        ("quantizer_relu8", ("quantized_relu", 8)),
        ("quantizer_relu8_4", ("quantized_relu", 8, 4)),
        ("quantizer_relu10", ("quantized_relu", 10)),
        ("quantizer_relu10_5", ("quantized_relu", 10, 5)),
    ]:
        cls, *numbers = args
        entries.append(
            _entry(
                name,
                _single_quantizer,
                lambda qk, cls=cls, numbers=tuple(numbers): getattr(qk, cls)(*numbers),
                input_shape=(1,),
                inputs=_uniform((1,), grid=True),
                hls4ml_asserts=_EQUAL,
                source=_T + f"test_quantizer[{cls}({', '.join(map(str, numbers))})]",
                kind="exact",
            )
        )

    # test_relu_negative_slope[quantizer] x backend x io_type (inputs negated: X = -rand)
    for name, (bits, integer, slope) in [
        ("relu_negslope_4_0_0p5", (4, 0, 0.5)),
        ("relu_negslope_8_4_1p0", (8, 4, 1.0)),
        ("relu_negslope_10_2_0p25", (10, 2, 0.25)),
    ]:
        text = (
            f"quantized_relu({bits}, negative_slope={slope})"
            if integer == 0
            else (f"quantized_relu({bits}, {integer}, negative_slope={slope})")
        )
        entries.append(
            _entry(
                name,
                _single_quantizer,
                lambda qk, b=bits, i=integer, s=slope: qk.quantized_relu(b, i, negative_slope=s),
                input_shape=(1,),
                inputs=_uniform((1,), grid=True, negate=True),
                hls4ml_asserts="np.testing.assert_allclose(y_hls4ml, y_qkeras, rtol=1e-5, atol=0)",
                source=_T + f"test_relu_negative_slope[{text}]",
                kind="tolerance",
            )
        )

    # test_qactivation_kwarg[weight_quantizer, activation_quantizer] (Vivado, io_parallel)
    for name, wq, aq, layer in [
        ("qactivation_kwarg_binary", "binary", "binary", "bnbt_qdense_alpha"),
        ("qactivation_kwarg_ternary", "ternary", "ternary", "bnbt_qdense_ternary_scale"),
        (
            "qactivation_kwarg_relu2",
            "quantized_bits(4, 0, alpha=1)",
            "quantized_relu(2, 0)",
            "qdense_quantized_relu",
        ),
        (
            "qactivation_kwarg_relu4",
            "quantized_bits(4, 0, alpha=1)",
            "quantized_relu(4, 0)",
            "qdense_quantized_relu",
        ),
        (
            "qactivation_kwarg_relu8",
            "quantized_bits(4, 0, alpha=1)",
            "quantized_relu(8, 0)",
            "qdense_quantized_relu",
        ),
    ]:
        if aq.startswith("quantized_relu("):
            bits = int(aq.split("(")[1].split(",")[0])
            check = f"np.testing.assert_allclose(y_qkeras.ravel(), y_hls4ml.ravel(), atol=2**-{bits - 1}, rtol=1.0)"
        else:
            check = ("y_hls4ml = np.where(y_hls4ml == 0, -1, 1); " if aq == "binary" else "") + (
                "fraction of y_hls4ml != y_qkeras <= 0.005"
            )
        entries.append(
            _entry(
                name,
                _qactivation_kwarg,
                wq,
                aq,
                input_shape=(10,),
                inputs=_uniform((10,), grid=True),
                hls4ml_asserts=f"layer {layer!r} in hls_model.get_layers(); {check}",
                source=_T + f"test_qactivation_kwarg[weight_quantizer={wq!r}, activation_quantizer={aq!r}]",
                kind="tolerance",
            )
        )

    entries.append(
        _entry(
            "quantizer_parsing",
            _quantizer_parsing,
            input_shape=(10,),
            inputs=_uniform((10,), grid=True),
            hls4ml_asserts="np.testing.assert_array_equal(y_qkeras, y_hls4ml.reshape(y_qkeras.shape))",
            source=_T + "test_quantizer_parsing (x backend x io_type; default_precision='fixed<24,8>')",
            kind="exact",
        )
    )
    entries.append(
        _entry(
            "qconv2dbn",
            _qconv2dbn,
            input_shape=(8, 8, 1),
            inputs=_uniform((8, 8, 1), grid=True),
            hls4ml_asserts="np.testing.assert_array_equal(y_qkeras, y_hls4ml.reshape(y_qkeras.shape))",
            source=_T + "test_qconv2dbn (x backend x io_type; default_precision='fixed<24,8>')",
            kind="exact",
        )
    )
    entries.append(
        _entry(
            "qconv2dbn_randw",
            _qconv2dbn,
            True,
            input_shape=(8, 8, 1),
            inputs=_uniform((8, 8, 1), grid=True),
            hls4ml_asserts="(as qconv2dbn) np.testing.assert_array_equal(y_qkeras, y_hls4ml.reshape(y_qkeras.shape))",
            source=_T + "test_qconv2dbn, triggernn variant: random kernel, bias and batch-norm parameters",
            kind="exact",
        )
    )
    entries.append(
        _entry(
            "qdepthwiseconv2d",
            _qdepthwiseconv2d,
            input_shape=(32, 32, 3),
            inputs=_uniform((32, 32, 3), grid=True),
            hls4ml_asserts="np.testing.assert_allclose(y_qkeras, y_hls4ml.reshape(y_qkeras.shape), rtol=1e-2, atol=0.01)",
            source=_T + "test_qdepthwiseconv2d (Vivado/Vitis, io_stream; default_precision='fixed<24,8>')",
            kind="tolerance",
        )
    )
    entries.append(
        _entry(
            "quantised_po2_bit_width",
            _quantised_po2_bit_width,
            input_shape=(26,),
            inputs=_uniform((26,), grid=False),
            hls4ml_asserts="np.testing.assert_allclose(y_hls.flatten(), y_keras.flatten(), rtol=2e-2)",
            source=_T + "test_quantised_po2_bit_width (x backend x io_type x strategy; "
            "default_precision='ap_fixed<64, 32>', reuse 1)",
            kind="tolerance",
        )
    )
    rnn_assert = (
        "np.testing.assert_allclose(y_qkeras, y_hls4ml.reshape(y_qkeras.shape), atol=0.1) on one sequence"
    )
    entries.append(
        _entry(
            "qsimplernn",
            _qsimplernn,
            input_shape=(5, 2),
            inputs=_rnn_inputs(0.25),
            hls4ml_asserts=rnn_assert,
            source=_T + "test_qsimplernn (Quartus/oneAPI only; default_precision='ap_fixed<16,1>')",
            kind="recurrent",
        )
    )
    entries.append(
        _entry(
            "qlstm",
            _qlstm,
            input_shape=(5, 2),
            inputs=_rnn_inputs(0.5),
            hls4ml_asserts=rnn_assert,
            source=_T + "test_qlstm (Vivado/Quartus/oneAPI; default_precision='ap_fixed<8,1>')",
            kind="recurrent",
        )
    )
    entries.append(
        _entry(
            "qgru",
            _qgru,
            input_shape=(5, 2),
            inputs=_rnn_inputs(0.5),
            hls4ml_asserts=rnn_assert,
            source=_T
            + "test_qgru (Vivado/Quartus/oneAPI; default_precision='ap_fixed<8,1>'; reset_after='False' string)",
            kind="recurrent",
        )
    )
    sep_cfg = (
        "Vivado/Vitis io_stream; default_precision='fixed<23,7>', input 'fixed<8,1>', dw_output 'fixed<15,4>'"
    )
    for rank, shape in [(1, (13, 20)), (2, (13, 21, 20))]:
        entries.append(
            _entry(
                f"qseparableconv{rank}d",
                _qseparableconv,
                rank,
                input_shape=shape,
                inputs=_sepconv_inputs(shape),
                hls4ml_asserts="np.testing.assert_allclose(y_qkeras, y_hls4ml.reshape(y_qkeras.shape), rtol=0, atol=0)",
                source=_T + f"test_qseparableconv{rank}d ({sep_cfg})",
                kind="exact",
            )
        )

    entries.append(
        _entry(
            "binary_cnn",
            _binary_cnn,
            input_shape=(28, 28, 1),
            inputs=_uniform((28, 28, 1), grid=True),
            hls4ml_asserts="np.testing.assert_allclose(y_hls, y, rtol=1e-2, atol=0.01)",
            source="test_binary_cnn.py::test_binary_cnn (x backend, io_type, strategy; default_precision='fixed<32,12>', "
            "reuse factors 9/36/72/2000/100)",
            kind="tolerance",
        )
    )
    entries.append(
        _entry(
            "cnn_mnist_qkeras",
            _cnn_mnist_qkeras,
            input_shape=(28, 28, 1),
            inputs=_mnist_inputs,
            hls4ml_asserts="acc_keras > 0.92 and abs(acc_keras - acc_hls4ml) / acc_keras < 0.01 on 1000 MNIST test "
            "images (trained weights; not applicable to random weights)",
            source="test_cnn_mnist_qkeras.py::test_accuracy (example-models keras/qkeras_mnist_cnn.json; "
            "softmax Strategy 'Stable')",
            kind="tolerance",
        )
    )
    entries.append(
        _entry(
            "serialization_qkeras",
            _serialization_qkeras_model,
            input_shape=(8, 8, 3),
            inputs=_uniform((8, 8, 3), grid=True),
            hls4ml_asserts="no comparison with QKeras: np.testing.assert_equal(y_original, y_clone) of the hls4ml "
            "model and its saved/reloaded clone",
            source="test_serialization.py::qkeras_model (test_save_load__model, test_linking_project; "
            "default_precision='fixed<16,6>', softmax 'legacy')",
            kind="tolerance",
        )
    )
    return [FieldModel(**e) for e in entries]


FIELD_MODELS: list[FieldModel] = _catalogue()

_BY_NAME = {m.name: m for m in FIELD_MODELS}
assert len(_BY_NAME) == len(FIELD_MODELS), "duplicate field model names"


def field_model(name: str) -> FieldModel:
    """The catalogue entry called ``name``."""
    return _BY_NAME[name]
