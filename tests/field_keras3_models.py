"""The Keras 3 models of hls4ml 1.3.0's own test suite (HGQ2 and plain Keras 3), as a catalogue
``triggernn.compile`` is run against on the Keras 3 stack (tests/test_field_keras3_models.py).

Transcribed from the ``test/pytest`` folder of fastmachinelearning/hls4ml (the parametrizations kept and dropped
are named below; backend, io_type and strategy parameters dropped everywhere: triggernn emits io_parallel,
Latency, its configured backend):

* ``test_hgq_layers.py::test_syn_hlayers`` is hls4ml's layer-by-layer test of HGQ, written for HGQ 1
  (``HGQ.layers``, tf.keras: it cannot run on Keras 3). Its models are rebuilt here with the HGQ2 (``hgq``)
  layer of the same role, the structure kept: a 16-value input, reshaped to (16, 1) for Conv1D and (4, 4, 1)
  for Conv2D, one quantized layer, random fractional bits of 2 to 6 for every weight and every activation
  value (HGQ 1's ``kq.fbw`` / ``paq.fbw``; HGQ2's per-weight ``b`` of a kbi weight quantizer, 2 integer bits,
  and per-value ``f`` of a kif input quantizer), integer bits then set by ``trace_minmax`` on the input range
  (hls4ml's ``cover_factor=1.0``), inputs uniform in (-7, 7) (``get_data((N, 16), 7, 1)``: hls4ml also scales
  each feature by a random factor in [0, 1), dropped). Kept: ``HDense(10)`` -> ``QDense(10)``,
  ``HDense(10, use_bias=False)``, ``HDenseBatchNorm(10)`` -> ``QBatchNormDense(10)``,
  ``HConv1D(2, 3, padding='same')``, ``HConv1D(2, 3, padding='valid', strides=2)``,
  ``HConv2D(2, (3,3), padding='same')``, ``HConv2D(2, (3,3), padding='valid', strides=2)``, ``HAdd()`` (of one
  input with itself) -> ``QAdd()``, ``HActivation('tanh')`` -> ``QUnaryFunctionLUT('tanh')`` (hgq2 0.2.0 has no
  ``QActivation``; its activation layer is the lookup table, and hls4ml converts it only with a homogeneous
  table, ``allow_heterogeneous_table=False``). Dropped: ``HConv1DBatchNorm`` / ``HConv2DBatchNorm`` (no HGQ2
  layer), ``HActivation('relu')`` (a ReLU is a lookup table in HGQ2; the tanh one stands for the kind),
  ``HActivation('sigmoid')`` (the same kind as tanh), ``HActivation(custom_activation_fn)`` (a Python function
  a ``.keras`` file does not carry), and the variants of the kept layers without a new shape or setting
  (``HConv1D`` 'valid', 'valid' without bias, 'same' stride 2; ``HConv2D`` the same three); io_stream,
  ``rnd_strategy='floor'`` and ``aggressive`` (HGQ 1 proxy-model options with no HGQ2 counterpart).
* ``test_hgq2_softmax.py::test_hgq2_softmax_uses_trained_tables`` (a regression test for hls4ml#1523, newer
  than 1.3.0: it imports ``extract_lut_table``, which 1.3.0 lacks; its models use only layers 1.3.0 has
  handlers for): ``QDense(8)`` then ``QSoftmax(axis=-1, stable=..., name='sm')`` on 16 inputs uniform in
  (-2, 2), ``trace_minmax`` on them; kept: stable True and False, shape (16,). Dropped: the (4, 16) input (a
  softmax per row of a matrix, not a trigger's output), ``test_plain_keras_softmax_keeps_runtime_tables``
  (writes the project only, no prediction) and ``test_dead_channels_stay_zero`` (a quantizer unit test).
* ``test_qeinsum.py::test_einsum_dense`` (the HGQ2 version: ``from hgq.layers import QEinsum``): one of its
  four equations kept, ``'xbi,xio->xbo'`` over (7, 8) and (8, 9) inputs of ``randn`` (here uniform in (-3, 3)),
  a product of two inputs, as a trigger's pairwise features would be. The others (outer products and a rank-5
  contraction) dropped.
* ``test_hgq2_mha.py::test_hgq2_mha``: dropped: multi-head attention is not a kind triggernn compiles, and
  hls4ml skips the whole file itself ("Skip until hgq2 supports parallelization_factor in QEinsumDense").
* ``test_keras_v3_api.py`` (plain Keras 3, float weights; the file is skipped under Keras 2):
  ``test_dense`` (Dense(2) with weights in [1, 10), then ELU), ``test_activations`` (Dense(64) then ReLU,
  LeakyReLU(0.5), PReLU with zero slopes, sigmoid; its ELU is ``test_dense``'s kind), ``test_conv1d``
  (Conv1D(32, 3, strides=2) over (128, 4) then ReLU; kept: 'same' with relu, 'valid' with elu),
  ``test_conv2d`` ('same' of Conv2D(32, (2, 3), strides=(4, 5)) over (32, 32, 3); 'valid' dropped, the same
  kind), ``test_depthwise2d`` (DepthwiseConv2D 3x3 over (32, 32, 3)) and ``test_reused_layer`` (one Conv1D
  applied to two inputs, Add, Dense(5), four outputs; hls4ml's dangling second Dense, outside the model,
  dropped). Dropped: ``test_depthwise1d`` (hls4ml tests it in io_stream only) and ``test_pooling`` (its
  models are tests/field_graph_models.py's ``keras_v3_api_*``).
* ``test_einsum_dense.py::test_einsum_dense`` (plain Keras 3 EinsumDense): ``'bi,io->bo'`` (8 -> 7, no bias)
  and ``'...abcd,bcde->...aeb'`` over (5, 4, 3, 2) to (5, 6, 4) with bias axes 'aeb' (random biases in
  [0, 1) as hls4ml assigns them); the outer products ``'bi,j->bij'`` and the other bias axes dropped.

Versions read (fastmachinelearning/hls4ml, the stored copy): test_hgq_layers.py 3a711cd, test_hgq2_softmax.py
563efa8, test_qeinsum.py 6fdd250 (an older version of it uses s-quark's QEinsum), test_hgq2_mha.py 4b165c8,
test_keras_v3_api.py 19cf0ae, test_einsum_dense.py 150a3f6. hls4ml 1.3.0's Keras 3 handlers
(``hls4ml/converters/keras_v3/`` and ``keras_v3/hgq2/``, installed) were read for what it converts.

Inputs: hls4ml's ``np.random.rand`` ([0, 1)) for the plain Keras models, the ranges named above for HGQ2. Layers
hls4ml leaves unnamed are named here as Keras 3 names them in a fresh process, so names do not depend on what
was built before. Weights: seeded from the entry name (``keras.utils.set_random_seed``), so every build of an
entry is the same model.

``expect``: empty where ``triggernn.compile`` passes (bit for bit for HGQ2; for the float models, on the
tolerance triggernn judges a float model by); otherwise a substring of the one-line message measured (hls4ml
1.3.0, hgq2 0.2.0, Keras 3.15): of the TriggerNNError ``compile`` raises, or, where hls4ml converts the model
wrongly and the verification catches it, of the FAIL verdict's first failure. Measured triggernn defects are
marked in the test file (``XFAIL``), not here.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import keras

__all__ = ["KERAS3_MODELS", "Keras3Model", "keras3_model", "seed_of"]


@dataclass(frozen=True)
class Keras3Model:
    name: str  # pytest id, and the compile's name
    source: str  # hls4ml test file::function[parametrization] (and what was changed)
    build: Callable[[], keras.Model]  # the same model (weights included) on every call
    input_range: tuple[float, float]  # inputs drawn uniform in [lo, hi)
    expect: str = ""  # "": compiles, PASS; else a substring of the TriggerNNError's message (measured)


def seed_of(name: str) -> int:
    """A seed from the entry name, the same in every process (``hash()`` is salted per process)."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


# ------------------------------------------------------------------------------------------------ HGQ2


def _randomize_bits(model: keras.Model, rng: np.random.Generator) -> None:
    """HGQ 1's ``fbw`` in [2, 6) per weight and per activation value (hls4ml's test_hgq_layers), in HGQ2:
    weights (kbi, 2 integer bits) get ``b = i + f`` with ``f`` in 2..6, input quantizers (kif) ``f`` in 2..6."""
    import keras
    from hgq.quantizer.internal import FixedPointQuantizerKBI, FixedPointQuantizerKIF

    def fbits(shape: Any) -> np.ndarray:
        return rng.integers(2, 7, size=tuple(shape)).astype(np.float32)

    for layer in model.layers:
        quantizers = []
        for attr in ("kq", "iq"):
            try:
                q = getattr(layer, attr)
            except AttributeError:  # disabled, or not a quantized layer
                continue
            quantizers += list(q) if hasattr(q, "quantizers") else [q]  # a merge: one per input
        for q in quantizers:
            inner = q.quantizer
            if isinstance(inner, FixedPointQuantizerKBI):
                inner._b.assign(keras.ops.convert_to_numpy(inner._i) + fbits(inner._b.shape))
            elif isinstance(inner, FixedPointQuantizerKIF):
                inner._f.assign(fbits(inner._f.shape))


def _calibrate(model: keras.Model, name: str, input_range: tuple[float, float]) -> keras.Model:
    """hgq2's ``trace_minmax`` on 1000 events uniform in ``input_range`` (a seed of its own, not the test's)."""
    from hgq.utils import trace_minmax

    rng = np.random.default_rng(seed_of(name) ^ 0x5A5A)
    shapes = [tuple(t.shape[1:]) for t in model.inputs]
    data = [rng.uniform(*input_range, size=(1000, *s)).astype(np.float32) for s in shapes]
    trace_minmax(model, data if len(data) > 1 else data[0], batch_size=1000)
    return model


def _hgq_layer(name: str, kind: str) -> keras.Model:
    """test_hgq_layers.py's ``create_hlayer_model``: 16 inputs, reshaped for a convolution, one HGQ2 layer."""
    import keras
    from hgq.layers import QAdd, QBatchNormDense, QConv1D, QConv2D, QDense, QUnaryFunctionLUT

    keras.utils.set_random_seed(seed_of(name))
    inp = keras.Input((16,), name="input_layer")
    layers: dict[str, Callable[[], Any]] = {
        "dense": lambda: QDense(10, name="q_dense")(inp),
        "dense_nobias": lambda: QDense(10, use_bias=False, name="q_dense")(inp),
        "batchnorm_dense": lambda: QBatchNormDense(10, name="q_batch_norm_dense")(inp),
        "conv1d_same": lambda: QConv1D(2, 3, padding="same", name="q_conv1d")(
            keras.layers.Reshape((16, 1), name="reshape")(inp)
        ),
        "conv1d_valid_stride2": lambda: QConv1D(2, 3, padding="valid", strides=2, name="q_conv1d")(
            keras.layers.Reshape((16, 1), name="reshape")(inp)
        ),
        "conv2d_same": lambda: QConv2D(2, (3, 3), padding="same", name="q_conv2d")(
            keras.layers.Reshape((4, 4, 1), name="reshape")(inp)
        ),
        "conv2d_valid_stride2": lambda: QConv2D(2, (3, 3), padding="valid", strides=2, name="q_conv2d")(
            keras.layers.Reshape((4, 4, 1), name="reshape")(inp)
        ),
        "add": lambda: QAdd(name="q_add")([inp, inp]),
        "unary_lut_tanh": lambda: QUnaryFunctionLUT(
            "tanh", allow_heterogeneous_table=False, name="q_unary_function_lut"
        )(inp),
    }
    model = keras.Model(inp, layers[kind](), name=name)
    _randomize_bits(model, np.random.default_rng(seed_of(name)))
    return _calibrate(model, name, _HGQ_RANGE)


def _hgq2_softmax(name: str, stable: bool) -> keras.Model:
    """test_hgq2_softmax.py's ``_build_model(stable, shape=(16,), n_out=8)``."""
    import keras
    from hgq.layers import QDense, QSoftmax

    keras.utils.set_random_seed(seed_of(name))
    inp = keras.Input((16,), name="input_layer")
    x = QDense(8, name="q_dense")(inp)
    model = keras.Model(inp, QSoftmax(axis=-1, stable=stable, name="sm")(x), name=name)
    return _calibrate(model, name, (-2.0, 2.0))


def _hgq2_einsum(name: str) -> keras.Model:
    """test_qeinsum.py's ``QEinsum('xbi,xio->xbo', name='einsum')([inp0, inp1])`` over (7, 8) and (8, 9)."""
    import keras
    from hgq.layers import QEinsum

    keras.utils.set_random_seed(seed_of(name))
    inp0 = keras.Input((7, 8), name="input_layer")
    inp1 = keras.Input((8, 9), name="input_layer_1")
    out = QEinsum("xbi,xio->xbo", name="einsum")([inp0, inp1])
    return _calibrate(keras.Model([inp0, inp1], out, name=name), name, (-3.0, 3.0))


#: test_hgq_layers.py's ``get_data((N, 16), 7, 1)``: uniform in (-7, 7)
_HGQ_RANGE = (-7.0, 7.0)


# ------------------------------------------------------------------------------------- plain Keras 3


def _seeded(name: str) -> Any:
    import keras

    keras.utils.set_random_seed(seed_of(name))
    return keras


def _v3_dense(name: str) -> keras.Model:
    """test_keras_v3_api.py::test_dense: Dense(2) with kernel uniform in [1, 10), zero bias, then ELU."""
    keras = _seeded(name)
    init = keras.initializers.RandomUniform(minval=1, maxval=10)
    return keras.Sequential(
        [
            keras.Input((1,), name="input_layer"),
            keras.layers.Dense(2, name="Dense", kernel_initializer=init, bias_initializer="zeros"),
            keras.layers.Activation(activation="elu", name="Activation"),
        ],
        name=name,
    )


def _v3_activation(name: str, kind: str) -> keras.Model:
    """test_keras_v3_api.py::test_activations: Dense(64, lecun_uniform) on one input, then the activation."""
    keras = _seeded(name)
    act = {
        "relu": lambda: keras.layers.Activation(activation="relu", name="relu"),
        "leaky_relu": lambda: keras.layers.LeakyReLU(negative_slope=0.5, name="leaky_re_lu"),
        "prelu": lambda: keras.layers.PReLU(alpha_initializer="zeros", name="p_re_lu"),
        "sigmoid": lambda: keras.layers.Activation(activation="sigmoid", name="sigmoid"),
    }[kind]()
    return keras.Sequential(
        [
            keras.Input((1,), name="input_layer"),
            keras.layers.Dense(64, name="Dense", kernel_initializer="lecun_uniform"),
            act,
        ],
        name=name,
    )


def _v3_conv1d(name: str, padding: str, activation: str) -> keras.Model:
    """test_keras_v3_api.py::test_conv1d: Conv1D(32, 3, strides=2, no bias) over (128, 4), then ReLU."""
    keras = _seeded(name)
    return keras.Sequential(
        [
            keras.Input((128, 4), name="input_layer"),
            keras.layers.Conv1D(
                filters=32, kernel_size=3, strides=2, padding=padding, activation=activation,
                kernel_initializer="normal", use_bias=False, name="conv",
            ),
            keras.layers.Activation(activation="relu", name="activation"),
        ],
        name=name,
    )  # fmt: skip


def _v3_conv2d(name: str, padding: str) -> keras.Model:
    """test_keras_v3_api.py::test_conv2d: Conv2D(32, (2, 3), strides=(4, 5), no bias) over (32, 32, 3)."""
    keras = _seeded(name)
    return keras.Sequential(
        [
            keras.Input((32, 32, 3), name="input_layer"),
            keras.layers.Conv2D(
                filters=32, kernel_size=(2, 3), strides=(4, 5), padding=padding,
                kernel_initializer="normal", use_bias=False, name="conv",
            ),
        ],
        name=name,
    )  # fmt: skip


def _v3_depthwise2d(name: str) -> keras.Model:
    """test_keras_v3_api.py::test_depthwise2d: DepthwiseConv2D((3, 3)) over (32, 32, 3)."""
    keras = _seeded(name)
    return keras.Sequential(
        [
            keras.Input((32, 32, 3), name="input_layer"),
            keras.layers.DepthwiseConv2D(kernel_size=(3, 3), name="depthwise_conv2d"),
        ],
        name=name,
    )


def _v3_reused_layer(name: str) -> keras.Model:
    """test_keras_v3_api.py::test_reused_layer: one Conv1D(2, 3, relu) on two (10, 10) inputs, Add, Dense(5);
    outputs [conv(in1), conv(in2), add, dense]."""
    keras = _seeded(name)
    inp1 = keras.Input((10, 10), name="input_layer")
    inp2 = keras.Input((10, 10), name="input_layer_1")
    conv = keras.layers.Conv1D(2, 3, activation="relu", name="conv1d")
    o1, o2 = conv(inp1), conv(inp2)
    o3 = keras.layers.Add(name="add")([o1, o2])
    o4 = keras.layers.Dense(5, name="dense")(o3)
    return keras.Model([inp1, inp2], [o1, o2, o3, o4], name=name)


def _einsum_dense(name: str, eq: str, inp: tuple[int, ...], out: Any, bias_axes: str | None) -> keras.Model:
    """test_einsum_dense.py::test_einsum_dense: ``EinsumDense(eq, output_shape, bias_axes, name='einsum_dense')``,
    biases (where any) random in [0, 1) as hls4ml assigns them."""
    keras = _seeded(name)
    model = keras.Sequential(
        [
            keras.Input(inp, name="input_layer"),
            keras.layers.EinsumDense(eq, output_shape=out, bias_axes=bias_axes, name="einsum_dense"),
        ],
        name=name,
    )
    if bias_axes is not None:
        bias = model.get_layer("einsum_dense").bias
        bias.assign(np.random.default_rng(seed_of(name)).random(tuple(bias.shape)).astype(np.float32))
    return model


# ---------------------------------------------------------------------------------------------- catalogue

_HL = "test_hgq_layers.py::test_syn_hlayers"
_V3 = "test_keras_v3_api.py"
_UNIT = (0.0, 1.0)  # np.random.rand

#: What triggernn answers where the model does not compile to a PASS, as measured: entry -> a substring of the
#: message.
#: - hgq2_add: hls4ml's Keras 3 parser wires both inputs of the Merge to the second of QAdd's two input
#:   quantizers (``q_add`` reads ``['quantizer_1', 'quantizer_1']``) where one tensor feeds both: the same with
#:   hls4ml's own test config (``{'Model': {'Precision': 'ap_fixed<1,0>'}}``), 44% of the values equal. triggernn's
#:   verification catches it: FAIL, 0% bit-exact.
#: - hgq2_softmax_latency: hls4ml's ``config_from_keras_model(granularity='name')`` writes Implementation
#:   'stable' for the QSoftmax, overriding ``stable=False``; hls4ml's bit-exact pass then looks for the stable
#:   implementation's ``inp_norm_t`` (KeyError). The same in plain hls4ml with that config: refused, an
#:   HLSError naming the KeyError and where hls4ml raised it.
#: - keras_v3_reused_layer: triggernn refuses a layer applied more than once, naming it.
_REFUSED: dict[str, str] = {
    "hgq2_add": "(largest error 8 LSB on 'q_add')",
    "hgq2_softmax_latency": "'inp_norm_t'",
    "keras_v3_reused_layer": "layer 'conv1d' is applied 2 times (a shared layer)",
}


def _catalogue() -> list[Keras3Model]:
    entries: list[Keras3Model] = []

    def add(
        name: str, source: str, build: Callable[[], keras.Model], input_range: tuple[float, float]
    ) -> None:
        entries.append(Keras3Model(name, source, build, input_range, _REFUSED.get(name, "")))

    # HGQ2: test_hgq_layers.py (HGQ 1) rebuilt with HGQ2 layers
    for kind, layer in [
        ("dense", "HDense(10) -> QDense(10)"),
        ("dense_nobias", "HDense(10, use_bias=False) -> QDense(10, use_bias=False)"),
        ("batchnorm_dense", "HDenseBatchNorm(10) -> QBatchNormDense(10)"),
        ("conv1d_same", "HConv1D(2, 3, padding='same') -> QConv1D"),
        ("conv1d_valid_stride2", "HConv1D(2, 3, padding='valid', strides=2) -> QConv1D"),
        ("conv2d_same", "HConv2D(2, (3,3), padding='same') -> QConv2D"),
        ("conv2d_valid_stride2", "HConv2D(2, (3,3), padding='valid', strides=2) -> QConv2D"),
        ("add", "HAdd() -> QAdd()"),
        (
            "unary_lut_tanh",
            "HActivation('tanh') -> QUnaryFunctionLUT('tanh', allow_heterogeneous_table=False)",
        ),
    ]:
        name = f"hgq2_{kind}"
        add(
            name, f"{_HL}[layer={layer}] (HGQ 1 -> HGQ2)", lambda n=name, k=kind: _hgq_layer(n, k), _HGQ_RANGE
        )
    for stable in (True, False):
        name = f"hgq2_softmax_{'stable' if stable else 'latency'}"
        add(
            name,
            f"test_hgq2_softmax.py::test_hgq2_softmax_uses_trained_tables[stable={stable}, shape=(16,)]",
            lambda n=name, s=stable: _hgq2_softmax(n, s),
            (-2.0, 2.0),
        )
    add(
        "hgq2_einsum_xbi_xio_xbo",
        "test_qeinsum.py::test_einsum_dense[operation=('xbi,xio->xbo', (7, 8), (8, 9))] (randn -> U(-3, 3))",
        lambda: _hgq2_einsum("hgq2_einsum_xbi_xio_xbo"),
        (-3.0, 3.0),
    )

    # plain Keras 3: test_keras_v3_api.py
    add("keras_v3_dense_elu", f"{_V3}::test_dense", lambda: _v3_dense("keras_v3_dense_elu"), _UNIT)
    for kind in ("relu", "leaky_relu", "prelu", "sigmoid"):
        name = f"keras_v3_activation_{kind}"
        add(name, f"{_V3}::test_activations[{kind}]", lambda n=name, k=kind: _v3_activation(n, k), _UNIT)
    for padding, act in (("same", "relu"), ("valid", "elu")):
        name = f"keras_v3_conv1d_{padding}_{act}"
        add(
            name,
            f"{_V3}::test_conv1d[padds={padding}, activation={act}]",
            lambda n=name, p=padding, a=act: _v3_conv1d(n, p, a),
            _UNIT,
        )
    add(
        "keras_v3_conv2d_same",
        f"{_V3}::test_conv2d[padds=same, chans=channels_last]",
        lambda: _v3_conv2d("keras_v3_conv2d_same", "same"),
        _UNIT,
    )
    add(
        "keras_v3_depthwise2d",
        f"{_V3}::test_depthwise2d",
        lambda: _v3_depthwise2d("keras_v3_depthwise2d"),
        _UNIT,
    )
    add(
        "keras_v3_reused_layer",
        f"{_V3}::test_reused_layer (the Dense outside the model dropped)",
        lambda: _v3_reused_layer("keras_v3_reused_layer"),
        _UNIT,
    )

    # plain Keras 3: test_einsum_dense.py
    for name, eq, inp, out, bias in [
        ("einsum_dense_bi_io_bo", "bi,io->bo", (8,), 7, None),
        ("einsum_dense_abcd_bcde_aeb", "...abcd,bcde->...aeb", (5, 4, 3, 2), (5, 6, 4), "aeb"),
    ]:
        add(
            name,
            f"test_einsum_dense.py::test_einsum_dense[operation=({eq!r}, {inp}, {out}, {bias!r})]",
            lambda n=name, e=eq, i=inp, o=out, b=bias: _einsum_dense(n, e, i, o, b),
            _UNIT,
        )
    return entries


KERAS3_MODELS: list[Keras3Model] = _catalogue()

_BY_NAME = {m.name: m for m in KERAS3_MODELS}
assert len(_BY_NAME) == len(KERAS3_MODELS), "duplicate Keras 3 model names"
assert set(_REFUSED) <= set(_BY_NAME), "refusals recorded for unknown entries"


def keras3_model(name: str) -> Keras3Model:
    """The catalogue entry called ``name``."""
    return _BY_NAME[name]
