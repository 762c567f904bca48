"""Every private hls4ml API triggernn touches, in one module, behind one version check.

triggernn is measured against hls4ml 1.3.0 (docs/byom.md, docs/recurrent.md). What it needs beyond hls4ml's
public API lives here, so an hls4ml upgrade is one file to read:

- :func:`link_library`: load a C-simulation library that triggernn built (or took from its cache) into a
  ``ModelGraph``, through hls4ml's ``_compile``, which links what ``backend.compile`` returns;
- :func:`patch_firmware`: the emitted C++ where hls4ml 1.3.0's own loses bits:

  * **power-of-two products.** ``nnet::product::weight_exponential`` shifts the input inside
    ``ap_fixed<2 * (W_e + W_x), W_e + W_x>`` (``W_e`` the exponent's width, ``W_x`` the input's): only
    ``W_e + W_x`` fractional bits, so ``x * 2^-12`` of a 2-bit input (10 fractional bits) is truncated
    before the (exact) accumulator sees it (measured: 23% of a po2 layer's sums exact). Patched to a type
    holding every shift the project's exponents make: ``x``'s bits plus the largest exponent on each side;
  * **a padded max pooling of unsigned values.** ``nnet::pad_val`` fills a padded cell with the input type's
    bit pattern of only its top bit set, "the most negative value": for an ``ap_ufixed`` that is half its
    range, larger than most values, so every window touching the padding returns it (measured: ``MaxPooling``
    with ``padding="same"`` after a ``quantized_relu(8, 3)``, 0% of events equal to Keras, 4.0 off). Patched to
    the type's smallest value (0 for an unsigned type);
- :func:`fixes_applied`: corrections of hls4ml 1.3.0 behaviour that would make the firmware disagree with
  QKeras, applied for the length of one of triggernn's conversions and undone after it:

  * **binary thresholds rounded the wrong way.** A batch norm followed by a binary activation becomes one
    ``BatchNormalizationQuantizedTanh`` node computing ``x >= t`` with the folded threshold
    ``t = -bias / scale`` rounded *down* to the input grid. QKeras' ``binary`` is ``+1`` where
    ``x * scale + bias >= 0``, i.e. ``x >= -bias / scale``, which for ``x`` on the grid is ``x >= ceil(t)``:
    rounded down, every input exactly one grid step below the threshold flips (measured on hls4ml's own
    binary CNN: 66% of events bit-exact, 97% argmax agreement). A batch norm with a negative scale reverses the
    inequality, which the template cannot express: refused with the layer named. The ternary case is tested
    as ``x > t_hi``, where QKeras' ternary is ``+1`` from ``x >= t_hi``: the same on the grid except where
    ``t_hi`` is a grid value, corrected the same way;
  * **a QDense on N-D inputs written unquantized.** hls4ml replaces a Dense over (particles, features) by a
    1x1 convolution (``ReplaceMultidimensionalDenseWithConv``) built from the raw Keras kernel, without the
    layer's quantizers: the float weights are then truncated to the weight type by the C++ where QKeras
    rounds them (measured on a Deep Sets ``QDense(16)`` per particle: 71% of values exact, 3.9 off). The
    convolution now gets the Dense's quantizers, as the Dense itself would;
  * **batch-norm constants folded in float32.** ``scale = gamma / sqrt(var + eps)`` and ``bias`` are computed
    in the Keras weights' float32, so a folded threshold can land on the wrong side of a grid value
    (measured: 0.03% of a ternary net's values flipped). Computed in float64.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import numpy as np

from ...errors import HLSError

__all__ = [
    "HLS4ML_VERSION",
    "check_version",
    "fixes_applied",
    "link_library",
    "load_hls4ml",
    "patch_firmware",
]

log = logging.getLogger(__name__)

#: The hls4ml release whose internals this module is written against.
HLS4ML_VERSION = "1.3.0"


def check_version() -> None:
    """Refuse an hls4ml other than the one this module was written and measured against."""
    import hls4ml

    if hls4ml.__version__ != HLS4ML_VERSION:
        raise HLSError(
            f"hls4ml {hls4ml.__version__} is installed, triggernn is built and verified against {HLS4ML_VERSION}: "
            f'pip install "hls4ml[qkeras]=={HLS4ML_VERSION}"'
        )


def describe_failure(err: BaseException) -> str:
    """An hls4ml failure in words: its message (with its type and place where the message alone is a key or
    a name: ``KeyError 'inp_norm_t' in transform, bit_exact.py:810``), or for a bare assertion the hls4ml
    function and line that failed (``AssertionError in _infer_dot_precision, infer_precision.py:514``)."""
    import traceback
    from pathlib import Path

    frames = [
        f for f in traceback.extract_tb(err.__traceback__) if "hls4ml" in f.filename
    ] or traceback.extract_tb(err.__traceback__)
    where = f" in {frames[-1].name}, {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    if str(err) and not isinstance(err, KeyError | AttributeError | IndexError | TypeError):
        return str(err)
    if str(err):
        return f"{type(err).__name__} {err}{where} (an hls4ml 1.3.0 failure on a layer or setting it does not support)"
    return f"{type(err).__name__}{where} (hls4ml gives no message: a layer or setting it does not support)"


def load_hls4ml():
    """``import hls4ml``, checked against :data:`HLS4ML_VERSION`, with the handlers triggernn adds through
    hls4ml's extension points registered (QKeras-v3's on the Keras 3 stack: ``qkeras_v3.py``). Every use of
    hls4ml outside this package starts here."""
    import hls4ml as module

    check_version()
    from ...compat import keras3, quantized_library

    if keras3() and quantized_library() == "qkeras-v3":
        from .qkeras_v3 import register

        register()
    return module


def supported_layers() -> set[str]:
    """The Keras layer classes hls4ml 1.3.0 converts on this stack, by class name (Keras 2's converter), or by
    class name and ``module.Class`` (Keras 3's handlers, QKeras-v3's registered by triggernn, and Keras 2's
    handlers, which its parser falls back to)."""
    from hls4ml.converters import get_supported_keras_layers

    from ...compat import keras3

    names = set(get_supported_keras_layers())
    if keras3():
        load_hls4ml()  # triggernn's handlers registered
        from hls4ml.converters.keras_v3._base import registry

        names |= set(registry) | {key.rsplit(".", 1)[-1] for key in registry}
    return names


def link_library(hls_model, library: str) -> None:
    """Load the C-simulation library at ``library`` into ``hls_model`` (hls4ml's ``_compile`` links what
    ``backend.compile`` returns)."""
    backend = hls_model.config.backend
    backend.compile = lambda model: library
    try:
        hls_model._compile()
    finally:
        del backend.compile


_PO2_PRODUCT = (
    "template <class x_T, class w_T> class weight_exponential : public Product {\n"
    "  public:\n"
    "    using r_T = ap_fixed<2 * (decltype(w_T::weight)::width + x_T::width), "
    "(decltype(w_T::weight)::width + x_T::width)>;"
)
#: integer bits of an input type, ap_int/ap_uint included (they have no ``iwidth``)
_IWIDTH = """template <class T> struct triggernn_iwidth { static const int value = T::iwidth; };
template <int W> struct triggernn_iwidth<ap_int<W>> { static const int value = W; };
template <int W> struct triggernn_iwidth<ap_uint<W>> { static const int value = W; };
"""


def _largest_shift(hls_model) -> int:
    from hls4ml.model.types import ExponentWeightVariable

    shift = 0
    for node in hls_model.get_layers():
        for var in node.weights.values():
            if isinstance(var, ExponentWeightVariable):
                w = np.abs(np.asarray(var.data, dtype=np.float64))
                w = w[w > 0]
                if w.size:
                    shift = max(shift, int(np.max(np.abs(np.log2(w)))))
    return shift


_MAX_PAD = "    case Max: {\n        T x = 0;\n        x[x.width - 1] = 1;\n        return x;\n"
#: the most negative value of T, as hls4ml's comment intends: its top bit set for a signed type, 0 for unsigned
_MAX_PAD_EXACT = (
    "    case Max: {  // triggernn: the smallest value of T, signed or not (triggernn/hls/adapter/__init__.py)\n"
    "        T x = 0;\n        x[x.width - 1] = 1;\n        return x > 0 ? T(0) : x;\n"
)


def patch_firmware(hls_model) -> None:
    """Patch the C++ hls4ml wrote for ``hls_model`` where it loses bits (see the module docstring); call
    after ``hls_model.write()``, before building."""
    from pathlib import Path

    utils = Path(hls_model.config.get_output_dir()) / "firmware" / "nnet_utils"
    pooling = utils / "nnet_pooling.h"
    if pooling.is_file() and _MAX_PAD in (text := pooling.read_text()):
        pooling.write_text(text.replace(_MAX_PAD, _MAX_PAD_EXACT))
    shift = _largest_shift(hls_model)
    if not shift:
        return
    header = utils / "nnet_mult.h"
    text = header.read_text()
    if _PO2_PRODUCT not in text:
        raise HLSError(
            f"{header} does not hold the power-of-two product hls4ml {HLS4ML_VERSION} writes: this hls4ml is "
            "not the one triggernn was verified with"
        )
    exact = (
        _IWIDTH + "template <class x_T, class w_T> class weight_exponential : public Product {\n  public:\n"
        f"    using r_T = ap_fixed<x_T::width + 2 * {shift} + 1, triggernn_iwidth<x_T>::value + {shift} + 1>;"
        f"  // triggernn: every shift by up to 2^+-{shift} exact (triggernn/hls/adapter.py)"
    )
    header.write_text(text.replace(_PO2_PRODUCT, exact))


_LOCK = threading.RLock()


@contextlib.contextmanager
def fixes_applied():
    """The corrections of the module docstring, applied to hls4ml for one conversion (``with fixes_applied():
    convert...``) and undone after it, so that hls4ml's own behaviour (compile's "hls4ml default" baseline, a
    user's conversion in the same process) stays hls4ml's. Conversions under it are serialized (a lock)."""
    check_version()
    from hls4ml.backends.fpga.fpga_layers import BatchNormalizationQuantizedTanh
    from hls4ml.model.layers import BatchNormalization
    from hls4ml.model.optimizer.passes.multi_dense import ReplaceMultidimensionalDenseWithConv

    patches = [
        (BatchNormalizationQuantizedTanh, "set_thresholds", _set_thresholds(BatchNormalizationQuantizedTanh.set_thresholds)),
        (BatchNormalization, "initialize", _initialize_float64(BatchNormalization.initialize)),
        (ReplaceMultidimensionalDenseWithConv, "transform", _keeping_quantizers(ReplaceMultidimensionalDenseWithConv.transform)),
    ]  # fmt: skip
    with _LOCK:
        originals = [(cls, name, cls.__dict__.get(name)) for cls, name, _ in patches]
        try:
            for cls, name, fn in patches:
                setattr(cls, name, fn)
            yield
        finally:
            for cls, name, fn in originals:
                if fn is None:  # inherited: the subclass had no method of its own
                    delattr(cls, name)
                else:
                    setattr(cls, name, fn)


def _set_thresholds(original):
    def set_thresholds(self, scale, bias, ternary_threshold=0.5):
        scale = np.asarray(scale, dtype=np.float64)
        if self.get_attr("quantize") == 2 and np.any(scale <= 0):
            raise HLSError(
                f"layer '{self.name}': a batch norm with a zero or negative scale (gamma) before a binary "
                "activation reverses its threshold, which hls4ml's comparison (x >= t) cannot express: "
                "constrain gamma to be positive (e.g. a non-negative constraint), or drop the batch norm's scale"
            )
        original(self, scale, bias, ternary_threshold)
        lsb = (
            2.0
            ** -self.model.config.backend.convert_precision_string(
                self.get_input_variable().type.precision
            ).fractional
        )
        threshold = -np.asarray(bias, dtype=np.float64) / scale
        if self.get_attr("quantize") == 2:  # +1 where x >= t: x >= ceil(t) on the grid
            self.get_weights("threshold").data = np.ceil(threshold / lsb) * lsb
        elif self.get_attr("quantize") == 3:  # +1 where x >= t_hi, tested as x > th: th = ceil(t_hi) - lsb
            hi = ternary_threshold / scale + threshold
            self.get_weights("threshold_hi").data = np.ceil(hi / lsb) * lsb - lsb

    return set_thresholds


def _initialize_float64(initialize):
    def initialize_float64(self):
        for attr in ("gamma_data", "variance_data", "beta_data", "mean_data"):
            value = self.get_attr(attr)
            if value is not None:
                self.set_attr(attr, np.asarray(value, dtype=np.float64))
        initialize(self)

    return initialize_float64


def _keeping_quantizers(replace):
    def transform_keeping_quantizers(self, model, node):
        quantizers = {k: node.get_attr(k) for k in ("weight_quantizer", "bias_quantizer") if node.get_attr(k)}
        make_node = model.make_node

        def make_quantized(kind, name, attributes, inputs, *args, **kwargs):
            return make_node(kind, name, {**attributes, **quantizers}, inputs, *args, **kwargs)

        model.make_node = make_quantized
        try:
            return replace(self, model, node)
        finally:
            del model.make_node

    return transform_keeping_quantizers
