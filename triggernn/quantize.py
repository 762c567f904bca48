"""Quantizer specifications, in one place: QKeras quantizers <-> ap_fixed types <-> numpy grids.

A :class:`FixedSpec` is a fixed-point number ``ap_fixed<W, I>`` (or ``ap_ufixed``): ``W`` bits in total,
``I`` of them integer bits *including* the sign bit for signed types. QKeras counts integer bits without
the sign, so ``quantized_bits(W, I-1)`` is ``ap_fixed<W, I>`` and ``quantized_relu(W, I)`` is
``ap_ufixed<W, I>`` (see QKeras' ``quantizers.py`` docstrings and hls4ml's QKeras converter).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError, InputError

__all__ = [
    "FixedSpec",
    "parse_fixed",
    "qkeras_bits",
    "qkeras_relu",
    "to_fixed_grid",
    "user_fixed",
]

_FIXED_RE = re.compile(
    r"^\s*(?:ap_)?(?P<u>u?)fixed\s*<\s*(?P<w>-?\d+)\s*,\s*(?P<i>-?\d+)\s*(?P<rest>(?:,\s*[A-Z_]+\s*)*)(?:,\s*\d+\s*)?>\s*$"
)
_INT_RE = re.compile(r"^\s*(?:ap_)?(?P<u>u?)int\s*<\s*(?P<w>-?\d+)\s*>\s*$")
MAX_WIDTH = 128
#: Vivado/Vitis HLS' quantization (rounding) and overflow modes of ap_fixed.
ROUNDING_MODES = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV")
OVERFLOW_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")


@dataclass(frozen=True)
class FixedSpec:
    """A fixed-point type ``ap_[u]fixed<width, integer>``.

    ``integer`` counts the sign bit for signed types, as in Vivado/Vitis HLS. ``rounding`` and ``saturation``
    are the HLS mode names (``TRN``/``RND``/``RND_CONV``..., ``WRAP``/``SAT``...).
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    saturation: str = "WRAP"

    def __post_init__(self) -> None:
        for name in ("width", "integer"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise ConfigError(f"a fixed-point type's {name} must be a whole number, got {value!r:.40}")
        if not 1 <= self.width <= MAX_WIDTH:
            raise ConfigError(
                f"a fixed-point type needs 1 to {MAX_WIDTH} bits, got {self.width}: "
                "choose a width such as 16 (ap_fixed<16,6>)"
            )
        if self.signed and self.width < 2:
            raise ConfigError("a signed fixed-point type needs at least 2 bits (sign + 1)")
        if self.rounding not in ROUNDING_MODES:
            raise ConfigError(
                f"unknown rounding mode '{self.rounding}': choose one of {', '.join(ROUNDING_MODES)}"
            )
        if self.saturation not in OVERFLOW_MODES:
            raise ConfigError(
                f"unknown overflow mode '{self.saturation}': choose one of {', '.join(OVERFLOW_MODES)}"
            )

    @property
    def fractional(self) -> int:
        return self.width - self.integer

    @property
    def lsb(self) -> float:
        """Value of the least significant bit."""
        return 2.0**-self.fractional

    @property
    def min(self) -> float:
        return -(2.0 ** (self.integer - 1)) if self.signed else 0.0

    @property
    def max(self) -> float:
        top = 2.0 ** (self.integer - 1) if self.signed else 2.0**self.integer
        return top - self.lsb

    def hls(self) -> str:
        """The type as hls4ml writes it, e.g. ``fixed<16,6>`` or ``ufixed<18,1,RND,SAT>``."""
        modes = (
            ""
            if (self.rounding, self.saturation) == ("TRN", "WRAP")
            else f",{self.rounding},{self.saturation}"
        )
        return f"{'' if self.signed else 'u'}fixed<{self.width},{self.integer}{modes}>"

    def __str__(self) -> str:
        return "ap_" + self.hls()


def user_fixed(text: str) -> FixedSpec:
    """A type a user wrote (a config, a flag): :func:`parse_fixed`, and its integer bits (the sign included) at
    most its width. hls4ml's own types may have more (a scaled type); a user writing them meant something else."""
    spec = parse_fixed(text)
    if spec.integer > spec.width:
        raise ConfigError(
            f"'{text}' has {spec.integer} integer bits of {spec.width}: the integer bits (sign included) cannot "
            f"exceed the width; write e.g. 'ap_{'' if spec.signed else 'u'}fixed<{spec.width},{spec.width // 2}>'"
        )
    return spec


def parse_fixed(text: str) -> FixedSpec:
    """Parse ``ap_fixed<W,I[,Q,O]>``, ``fixed<W,I>``, ``ap_ufixed<..>`` or ``ap_int<W>`` into a FixedSpec.

    Raises ConfigError (a ValueError) naming the string and the accepted forms.
    """
    if not isinstance(text, str):
        raise ConfigError(
            f"a fixed-point type is text such as 'ap_fixed<16,6>', got {type(text).__name__} {text!r:.40}"
        )
    m = _FIXED_RE.match(text)
    if m:
        modes = [p.strip() for p in m["rest"].split(",") if p.strip()]
        kwargs = {}
        if modes:
            kwargs["rounding"] = modes[0]
        if len(modes) > 1:
            kwargs["saturation"] = modes[1]
        return FixedSpec(int(m["w"]), int(m["i"]), signed=not m["u"], **kwargs)
    m = _INT_RE.match(text)
    if m:
        return FixedSpec(int(m["w"]), int(m["w"]), signed=not m["u"])
    raise ConfigError(
        f"'{text}' is not a fixed-point type: write e.g. 'ap_fixed<16,6>', 'ap_ufixed<8,0>', "
        "'ap_fixed<18,8,RND,SAT>' or 'ap_int<8>'"
    )


def qkeras_bits(bits: int, integer: int = 0, *, alpha: float = 1, keep_negative: bool = True):
    """``quantized_bits(bits, integer, alpha=1)``; matches ``ap_fixed<bits, integer + 1>``."""
    from .compat import import_qkeras

    return import_qkeras().quantized_bits(bits, integer, alpha=alpha, keep_negative=keep_negative)


def qkeras_relu(bits: int, integer: int = 0):
    """``quantized_relu(bits, integer)``; matches ``ap_ufixed<bits, integer>`` (rounded, saturated)."""
    from .compat import import_qkeras

    return import_qkeras().quantized_relu(bits, integer)


def to_fixed_grid(x: np.ndarray, spec: FixedSpec) -> np.ndarray:
    """Round ``x`` to the grid of ``spec`` and clip it to its range, as float32.

    Inputs prepared this way are represented exactly by the firmware's input type, so any difference
    between QKeras and the C simulation comes from the network, not from the input cast.
    """
    if isinstance(spec, str):
        spec = parse_fixed(spec)
    if not isinstance(spec, FixedSpec):
        raise ConfigError(
            f"spec must be a FixedSpec or a type such as 'ap_fixed<16,6>', got {type(spec).__name__}"
        )
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise InputError(f"values to put on the {spec} grid must be real numbers, got dtype {arr.dtype}")
    x = arr.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise InputError(
            f"{int(np.sum(~np.isfinite(x)))} of the values to put on the {spec} grid are NaN or infinite: "
            "no fixed-point value stands for them; clean or drop those events"
        )
    scale = 2.0**spec.fractional
    q = np.clip(np.round(x * scale) / scale, spec.min, spec.max)
    out = q.astype(np.float32)
    if not np.array_equal(out.astype(np.float64), q):
        raise ConfigError(f"{spec} has more precision than float32 holds; use at most 24 significant bits")
    return out


def quantize_model(model, quant_cfg):
    """Convert a float Keras model (or the path of a saved one) into a QKeras model with the bits of ``quant_cfg`` (a QuantConfig).

    Dense/Conv1D/Conv2D layers become QDense/QConv1D/QConv2D with ``quantized_bits`` kernels and biases,
    ReLU activations (layers or fused) become ``QActivation(quantized_relu)``; a softmax stays float (hls4ml
    implements it with tables). Per-layer overrides in ``quant_cfg.layers`` apply by layer name. Weights are
    copied, so the QKeras model starts from the float solution and is usually fine-tuned afterwards
    (quantization-aware training). The graph is rebuilt with ``clone_model``, not QKeras' JSON round trip,
    which Keras 2.14 cannot deserialize.
    """
    import tensorflow as tf

    from .compat import import_qkeras
    from .config import QuantConfig, RunConfig
    from .errors import ModelError
    from .validate import keras_model

    if isinstance(model, str | os.PathLike):  # the path of a saved float model
        from .models import load_model

        model = load_model(model)
    keras_model(model)
    quant_cfg = quant_cfg.quantization if isinstance(quant_cfg, RunConfig) else quant_cfg
    if not isinstance(quant_cfg, QuantConfig):
        raise ModelError(
            f"quant_cfg must be a QuantConfig (cfg.quantization), got {type(quant_cfg).__name__}"
        )
    qkeras = import_qkeras()

    quantized_kinds = {"Dense": qkeras.QDense, "Conv1D": qkeras.QConv1D, "Conv2D": qkeras.QConv2D}

    def clone(layer):
        kind = layer.__class__.__name__
        conf = layer.get_config()
        if kind in quantized_kinds:
            w, b = quant_cfg.for_layer(layer.name, "weight"), quant_cfg.for_layer(layer.name, "bias")
            if conf.get("activation") not in ("linear", None):
                raise ModelError(
                    f"layer '{layer.name}' has a fused '{conf['activation']}' activation: split it into a separate "
                    "Activation layer so it can be quantized"
                )
            conf.update(
                kernel_quantizer=qkeras_bits(w.bits, w.integer), bias_quantizer=qkeras_bits(b.bits, b.integer)
            )
            return quantized_kinds[kind].from_config(conf)
        if (kind == "Activation" and conf["activation"] == "relu") or kind == "ReLU":
            a = quant_cfg.for_layer(layer.name, "activation")
            return qkeras.QActivation(qkeras_relu(a.bits, a.integer), name=layer.name)
        return layer.__class__.from_config(conf)

    qmodel = tf.keras.models.clone_model(model, clone_function=clone)
    for src, dst in zip(model.layers, qmodel.layers, strict=True):
        if src.weights:
            dst.set_weights(src.get_weights())
    return qmodel
