"""The graph models of hls4ml 1.3.0's own test suite (merges of two inputs, global pooling, pooling), as a
catalogue triggernn's emit, C simulation, numpy emulator and RTL tracer can be run against.

Transcribed from the ``test/pytest`` folder of hls4ml (the versions of the 1.x series, read from
fastmachinelearning/hls4ml; every parametrization that changes the model kept, backend, io_type and strategy
parameters dropped):

* ``test_merge.py``: ``test_merge`` (Add, Average, Maximum, Minimum, Multiply, Subtract of two (10, 10, 3)
  inputs, each also with the inputs swapped: ``merge_layer()([in2, in1])``), ``test_dot`` (axes=1 of two (10,)
  inputs; hls4ml implements the 1-D dot only), ``test_concatenate1d``, ``test_concatenate2d`` (axis 1, 2) and
  ``test_concatenate3d`` (axis 1, 2, 3);
* ``test_globalpooling.py``: ``test_global_pool1d`` (18 x 6) and ``test_global_pool2d`` (18 x 18 x 6), max and
  average, ``keepdims`` True and False. (``test_globalpooling1d.py`` is an early file of the suite, no longer in
  the 1.x series; its models, 8 x 4 inputs, are those of ``test_global_pool1d`` without ``keepdims``.)
* ``test_pooling.py``: ``test_pool1d`` (``pool_size=3`` over 124 x 5) and ``test_pool2d`` (the default 2 x 2
  over 124 x 124 x 5), max and average, padding 'valid' and 'same' (``test_pool1d_stream`` /
  ``test_pool2d_stream`` build the same models, 'valid' only, for io_stream);
* ``test_keras_api.py``: ``test_pooling`` (Max/AveragePooling1D over 121 x 3, Max/AveragePooling2D over
  18 x 15 x 3, the default pool size, padding 'same' and 'valid'); in the 1.x series that file holds no merge
  test.

One addition, not in the files named above: ``test_keras_v3_api.py::test_pooling`` builds the same pooling
models with ``pool_size=(4, 2)`` for the 2-D layers (its 1-D models equal ``test_keras_api``'s); the file is
skipped under Keras 2 (this stack: TensorFlow 2.14), so its four 2-D models are kept here, built with tf.keras,
named ``keras_v3_api_*``.

No layer of these models has weights: ``build`` returns the same model on every call. Where hls4ml leaves a
layer unnamed, the name Keras gives it in a fresh process (``input_1``, ``add``, ``max_pooling1d``, ...) is
passed explicitly, so names do not depend on what else was built before in the process.

Inputs: hls4ml feeds 100 events of ``np.random.rand`` in [0, 1) to every input; here the same, rounded to
multiples of 2**-10 (ap_fixed<16,6>, the input type triggernn gives the firmware), so that the firmware's input
cast is exact. Several inputs: one array each, drawn in the model's input order from one seeded generator.

Deviation: hls4ml converts with its own ``default_precision`` (``ap_fixed<32,16>`` for the merges,
``ap_fixed<32,9>`` for the pooling tests, hls4ml's ``fixed<16,6>`` default in ``test_keras_api``); triggernn's
emit uses its run config (``{"name": "graph"}``: inputs ``ap_fixed<16,6>``, hls4ml's per-layer types with
triggernn's exact widths where hls4ml would lose bits). The C simulation is held to the tolerance hls4ml's test
asserts (``atol``), as measured in tests/test_field_graph_models.py.

Each entry also records what triggernn does with it beyond the C simulation, as measured: ``emit_refused``
(emit raises an HLSError containing it), ``emulator_refused`` (the numpy engine steps aside for the C++ one,
its ``reason`` containing it, the layer named), ``tracer_refused`` (``trace_graph`` raises NotTraced containing
it, the layer named). Empty: done. No model here ends in a softmax (nothing is dropped by the tracer).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tensorflow import keras

__all__ = ["GRAPH_MODELS", "N_EVENTS", "GraphModel", "graph_model"]

#: hls4ml feeds 100 events to each of these tests
N_EVENTS = 100


@dataclass(frozen=True)
class GraphModel:
    name: str  # pytest id
    build: Callable[[], keras.Model]  # a fresh model on every call (no weights)
    input_shapes: tuple[tuple[int, ...], ...]  # one per model input, each without the batch axis
    inputs: Callable[
        [int, int], np.ndarray | list[np.ndarray]
    ]  # (n events, seed) -> array, or list (1 per input)
    hls4ml_asserts: str  # what hls4ml's test asserts for this model
    atol: float  # hls4ml's tolerance (rtol=0): C-sim vs Keras
    source: str  # hls4ml test function and parametrization (and the hls4ml config it uses)
    emit_refused: str = ""  # emit raises an HLSError with this text ("": emit succeeds)
    emulator_refused: str = ""  # the numpy engine's refusal reason ("": engine == "numpy")
    tracer_refused: str = ""  # trace_graph's NotTraced message ("": traced)

    def __post_init__(self) -> None:
        if self.emit_refused and (self.emulator_refused or self.tracer_refused):
            raise ValueError(f"{self.name}: a model emit refuses reaches neither the emulator nor the tracer")


# --------------------------------------------------------------------------------------------- helpers


def _grid_rand(*shapes: tuple[int, ...]) -> Callable[[int, int], np.ndarray | list[np.ndarray]]:
    """``np.random.rand(n, *shape)`` for each input, rounded to multiples of 2**-10 (ap_fixed<16,6>)."""

    def gen(n: int, seed: int) -> np.ndarray | list[np.ndarray]:
        rng = np.random.default_rng(seed)
        xs = [(np.round(rng.random((n, *s)) * 2**10) * 2**-10).astype(np.float32) for s in shapes]
        return xs if len(xs) > 1 else xs[0]

    return gen


def _two_inputs(shape: tuple[int, ...], layer: Callable[[list], Any], swap: bool = False) -> keras.Model:
    """``Model([in1, in2], layer([in1, in2]))`` (or ``layer([in2, in1])``), as test_merge.py builds it."""
    import tensorflow as tf

    in1 = tf.keras.Input(shape=shape, name="input_1")
    in2 = tf.keras.Input(shape=shape, name="input_2")
    out = layer([in2, in1] if swap else [in1, in2])
    model = tf.keras.Model(inputs=[in1, in2], outputs=out, name="model")
    model.compile()
    return model


def _merge(kind: str, swap: bool) -> keras.Model:
    import tensorflow as tf

    return _two_inputs((10, 10, 3), getattr(tf.keras.layers, kind)(name=kind.lower()), swap)


def _dot(axes: int) -> keras.Model:
    import tensorflow as tf

    return _two_inputs((10,), tf.keras.layers.Dot(axes=axes, name="dot"))


def _concatenate(shape: tuple[int, ...], axis: int) -> keras.Model:
    import tensorflow as tf

    return _two_inputs(shape, tf.keras.layers.Concatenate(axis=axis, name="concatenate"))


def _sequential(layer_class: str, name: str, **kw: Any) -> keras.Model:
    """``Sequential([layer(**kw)])``, the layer named as Keras names it in a fresh process."""
    import tensorflow as tf

    model = tf.keras.Sequential([getattr(tf.keras.layers, layer_class)(name=name, **kw)], name="sequential")
    model.compile()
    return model


def _snake(class_name: str) -> str:
    """Keras' default layer name (its ``to_snake_case``): ``GlobalMaxPooling1D`` -> ``global_max_pooling1d``."""
    return re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", class_name)).lower()


# ---------------------------------------------------------------------------------------------- catalogue

_MERGE_ASSERT = "np.testing.assert_allclose(hls_prediction, keras_prediction, rtol=0, atol=0.001)"
_MERGE_CFG = "config_from_keras_model(model, default_precision='ap_fixed<32,16>')"
_POOL_ASSERT = "np.testing.assert_allclose(y_keras, y_hls, rtol=0, atol=5e-3)"
_POOL_CFG = "config_from_keras_model(model, default_precision='ap_fixed<32,9>', granularity='name')"
_API_ASSERT = (
    "np.testing.assert_allclose(hls_prediction, keras_prediction, rtol=0, atol=3e-2); and (test_keras_api) "
    "the parsed pooling layer's name, strides, pool size, padding and output size"
)


def _mean_over(layer: str, kind: str, n: int) -> dict[str, str]:
    """An average over ``n`` values, ``n`` not a power of two: emulated, not traced (C++'s truncating division)."""
    return {"tracer_refused": f"layer '{layer}' ({kind}): an average over {n} values"}


def _padded_mean(layer: str, kind: str) -> dict[str, str]:
    """A padded average ('same' where the input does not divide by the stride): each window divided by the
    cells of the input it covers, so windows of different sizes: emulated, not traced."""
    return {
        "tracer_refused": f"layer '{layer}' ({kind}): an average over windows of different sizes (padding)"
    }


#: What triggernn refuses, as measured (hls4ml 1.3.0, triggernn 16f2d61): entry -> GraphModel fields. The numpy
#: engine takes every model emit takes.
#: - emit: hls4ml's precision inference asserts that a Dot has only ``result_t`` to infer, but with
#:   granularity='name' (triggernn's config) its ``accum_t`` is 'auto' too: an AssertionError inside hls4ml
#:   (whose text is empty, so the HLSError says no more than this).
#: - the tracer: averages over N != 2^k values, and padded averages (121 / 2, 124 / 3, 15 / 2, 18 / 4 leave a
#:   partial window; 124 x 124 by 2 x 2 does not, so ``pool2d_avg_same`` is traced). Padded max pooling is
#:   emulated and traced.
_REFUSED: dict[str, dict[str, str]] = {
    "dot_axes1": {"emit_refused": "AssertionError in _infer_dot_precision"},
    "global_pool1d_avg_keepdims": _mean_over("global_average_pooling1d", "GlobalPooling1D", 18),
    "global_pool1d_avg": _mean_over("global_average_pooling1d", "GlobalPooling1D", 18),
    "global_pool2d_avg_keepdims": _mean_over("global_average_pooling2d", "GlobalPooling2D", 324),
    "global_pool2d_avg": _mean_over("global_average_pooling2d", "GlobalPooling2D", 324),
    "pool1d_avg_valid": _mean_over("average_pooling1d", "Pooling1D", 3),
    "pool1d_avg_same": _padded_mean("average_pooling1d", "Pooling1D"),
    "keras_api_avgpool1d_same": _padded_mean("average_pooling1d", "Pooling1D"),
    "keras_api_avgpool2d_same": _padded_mean("average_pooling2d", "Pooling2D"),
    "keras_v3_api_avgpool2d_same": _padded_mean("average_pooling2d", "Pooling2D"),
}


def _catalogue() -> list[GraphModel]:
    entries: list[GraphModel] = []

    def add(name: str, **kw: Any) -> None:
        entries.append(GraphModel(name=name, **kw, **_REFUSED.get(name, {})))

    # test_merge.py::test_merge[merge_layer, swap_inputs] x io_type x backend
    for kind in ("Add", "Average", "Maximum", "Minimum", "Multiply", "Subtract"):
        for swap in (False, True):
            add(
                f"merge_{kind.lower()}{'_swap' if swap else ''}",
                build=lambda k=kind, s=swap: _merge(k, s),
                input_shapes=((10, 10, 3), (10, 10, 3)),
                inputs=_grid_rand((10, 10, 3), (10, 10, 3)),
                hls4ml_asserts=_MERGE_ASSERT,
                atol=0.001,
                source=f"test_merge.py::test_merge[merge_layer={kind}, swap_inputs={swap}] ({_MERGE_CFG})",
            )
    # test_merge.py::test_dot[axes=1] (io_parallel only) x backend
    add(
        "dot_axes1",
        build=lambda: _dot(1),
        input_shapes=((10,), (10,)),
        inputs=_grid_rand((10,), (10,)),
        hls4ml_asserts=_MERGE_ASSERT,
        atol=0.001,
        source=f"test_merge.py::test_dot[axes=1] ({_MERGE_CFG})",
    )
    # test_merge.py::test_concatenate1d / 2d[axis] / 3d[axis] x io_type x backend
    for shape, axes, test in [
        ((10,), (-1,), "test_concatenate1d"),
        ((10, 3), (1, 2), "test_concatenate2d"),
        ((10, 10, 3), (1, 2, 3), "test_concatenate3d"),
    ]:
        for axis in axes:
            suffix = "" if axis == -1 else f"_axis{axis}"
            add(
                f"concatenate{len(shape)}d{suffix}",
                build=lambda s=shape, a=axis: _concatenate(s, a),
                input_shapes=(shape, shape),
                inputs=_grid_rand(shape, shape),
                hls4ml_asserts=_MERGE_ASSERT,
                atol=0.001,
                source=f"test_merge.py::{test}"
                + (f"[axis={axis}]" if axis != -1 else "")
                + f" ({_MERGE_CFG})",
            )

    # test_globalpooling.py::test_global_pool1d / 2d[model_type, keepdims] x backend x io_type
    for rank, shape in [(1, (18, 6)), (2, (18, 18, 6))]:
        for op, cls in [("max", "Max"), ("avg", "Average")]:
            for keepdims in (True, False):
                layer = f"Global{cls}Pooling{rank}D"
                add(
                    f"global_pool{rank}d_{op}{'_keepdims' if keepdims else ''}",
                    build=lambda c=layer, s=shape, k=keepdims: _sequential(
                        c, _snake(c), input_shape=s, keepdims=k
                    ),
                    input_shapes=(shape,),
                    inputs=_grid_rand(shape),
                    hls4ml_asserts=_POOL_ASSERT,
                    atol=5e-3,
                    source=f"test_globalpooling.py::test_global_pool{rank}d[model_type-{op}-keepdims-{keepdims}] "
                    f"({_POOL_CFG})",
                )

    # test_pooling.py::test_pool1d / 2d[model_type, padding] x backend (io_parallel; the io_stream tests: 'valid')
    for rank, shape, pool in [(1, (124, 5), {"pool_size": 3}), (2, (124, 124, 5), {})]:
        for op, cls in [("max", "Max"), ("avg", "Average")]:
            for padding in ("valid", "same"):
                layer = f"{cls}Pooling{rank}D"
                add(
                    f"pool{rank}d_{op}_{padding}",
                    build=lambda c=layer, s=shape, p=padding, kw=pool: _sequential(
                        c, _snake(c), input_shape=s, padding=p, **kw
                    ),
                    input_shapes=(shape,),
                    inputs=_grid_rand(shape),
                    hls4ml_asserts=_POOL_ASSERT,
                    atol=5e-3,
                    source=f"test_pooling.py::test_pool{rank}d[model_type-{op}-padding-{padding}] ({_POOL_CFG})",
                )

    # test_keras_api.py::test_pooling[pooling, padds, chans='channels_last'] x backend (default config)
    for cls in ("MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D"):
        shape = (18, 15, 3) if "2D" in cls else (121, 3)
        for padding in ("same", "valid"):
            add(
                f"keras_api_{cls.lower().replace('pooling', 'pool').replace('average', 'avg')}_{padding}",
                build=lambda c=cls, s=shape, p=padding: _sequential(c, _snake(c), padding=p, input_shape=s),
                input_shapes=(shape,),
                inputs=_grid_rand(shape),
                hls4ml_asserts=_API_ASSERT,
                atol=3e-2,
                source=f"test_keras_api.py::test_pooling[pooling={cls}, padds={padding}, chans=channels_last] "
                "(config_from_keras_model(keras_model))",
            )
    # test_keras_v3_api.py::test_pooling: the 2-D models with pool_size=(4, 2) (Keras 3 only there)
    for cls in ("MaxPooling2D", "AveragePooling2D"):
        for padding in ("same", "valid"):
            add(
                f"keras_v3_api_{cls.lower().replace('pooling', 'pool').replace('average', 'avg')}_{padding}",
                build=lambda c=cls, p=padding: _sequential(
                    c, _snake(c), pool_size=(4, 2), padding=p, input_shape=(18, 15, 3)
                ),
                input_shapes=((18, 15, 3),),
                inputs=_grid_rand((18, 15, 3)),
                hls4ml_asserts="np.testing.assert_allclose(hls_prediction, keras_prediction, rtol=0, atol=3e-2)",
                atol=3e-2,
                source=f"test_keras_v3_api.py::test_pooling[pooling={cls}, padds={padding}] (pool_size=(4, 2); "
                "config_from_keras_model(keras_model); built here with tf.keras)",
            )
    return entries


GRAPH_MODELS: list[GraphModel] = _catalogue()

_BY_NAME = {m.name: m for m in GRAPH_MODELS}
assert len(_BY_NAME) == len(GRAPH_MODELS), "duplicate graph model names"
assert set(_REFUSED) <= set(_BY_NAME), "refusals recorded for unknown entries"


def graph_model(name: str) -> GraphModel:
    """The catalogue entry called ``name``."""
    return _BY_NAME[name]
