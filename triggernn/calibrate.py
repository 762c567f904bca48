"""Fixed-point types chosen from data: every layer's values are measured on calibration inputs and each type
is given the integer bits that hold the observed range plus ``headroom_bits``, the rest of a ``width``-bit
budget going to the fraction.

What is typed, for float layers (QKeras layers keep the types hls4ml derives exactly from their quantizers):

- the input: the range of the calibration inputs;
- weights and biases (Dense, Conv1D/2D) and BatchNormalization's folded scale and bias: their exact range,
  no headroom (they are constants), rounded to nearest rather than truncated;
- each layer's result (pre-activation for Dense/Conv, which :func:`~triggernn.models.prepare.prepare_for_hls`
  splits from their activation): the observed range plus headroom, unsigned where it never goes negative;
- accumulators: the result's integer bits and ``ceil(log2(n_in))`` more fractional bits, so that truncating
  each of the ``n_in`` products does not bias the sum by more than about one result LSB;
- sigmoid / tanh tables: their output range, unsigned for the sigmoid.

The softmax tables are sized from the calibration logits by :func:`triggernn.hls.config.softmax_precisions`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .compat import probe_model
from .errors import ConfigError
from .inputs import as_list, each, n_events, take
from .quantize import FixedSpec, parse_fixed

__all__ = ["Calibration", "PrecisionError", "TypeChoice", "calibrate", "fixed_for_range", "observed_ranges"]


class PrecisionError(ConfigError):
    """A range cannot be held by the requested width."""


@dataclass(frozen=True)
class TypeChoice:
    layer: str
    key: str
    type: str
    observed_min: float
    observed_max: float
    headroom_bits: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Calibration:
    input_type: FixedSpec
    precision: dict[str, dict[str, str]]
    """hls4ml per-layer types, ``{layer: {key: "ap_fixed<W,I>"}}`` (the format of ``hls.precision``)."""
    choices: list[TypeChoice]
    width: int
    headroom_bits: int
    n_events: int
    uncalibrated: list[str] = field(default_factory=list)
    """Layers left to hls4ml (QKeras layers, whose types follow their quantizers, and kinds not typed here)."""


def fixed_for_range(
    lo: float, hi: float, width: int, headroom_bits: int = 0, *, rounding: str = "TRN", layer: str = "?"
) -> FixedSpec:
    """The ``width``-bit type whose integer part holds [lo, hi] with ``headroom_bits`` to spare; unsigned when
    ``lo >= 0``. Raises :class:`PrecisionError` when the integer part alone would need more than ``width``."""
    signed = lo < 0
    mag = max(abs(lo), abs(hi))
    if not math.isfinite(mag):
        raise PrecisionError(f"layer '{layer}': values reach {mag}: check the model and the calibration data")
    integer = (math.floor(math.log2(mag)) + 1 if mag > 0 else 0) + (1 if signed else 0) + headroom_bits
    if integer >= width:
        raise PrecisionError(
            f"layer '{layer}': values in [{lo:.4g}, {hi:.4g}] need {integer} integer bits (with "
            f"{headroom_bits} of headroom), which leaves no fraction in {width} bits: raise the width to at least "
            f"{integer + 6} (--width), or rescale the inputs"
        )
    return FixedSpec(width, integer, signed=signed, rounding=rounding)


def observed_ranges(model, X, batch_size: int = 2048) -> dict[str, tuple[float, float]]:
    """Min and max of every layer's output of ``model`` over ``X``, streamed in batches."""

    layers = [layer for layer in model.layers if layer.__class__.__name__ != "InputLayer"]
    probe = probe_model(model, [layer.output for layer in layers])
    lo = {layer.name: np.inf for layer in layers}
    hi = {layer.name: -np.inf for layer in layers}
    for start in range(0, n_events(X), batch_size):
        outs = probe(take(X, slice(start, start + batch_size)), training=False)
        outs = outs if isinstance(outs, list | tuple) else [outs]
        for layer, values in zip(layers, outs, strict=True):
            v = np.asarray(values)
            lo[layer.name] = min(lo[layer.name], float(v.min()))
            hi[layer.name] = max(hi[layer.name], float(v.max()))
    return {n: (lo[n], hi[n]) for n in lo}


def _n_in(layer) -> int:
    kernel = layer.get_weights()[0]
    return int(np.prod(kernel.shape[:-1]))


def _exact_elementwise(layer) -> bool:
    """A plain ReLU or linear activation (no threshold, slope or cap): its output is its input's, or 0."""
    conf = layer.get_config()
    if layer.__class__.__name__ == "ReLU":
        return not conf.get("max_value") and not conf.get("negative_slope") and not conf.get("threshold")
    return conf.get("activation") in ("relu", "linear")


def calibrate(model, X, *, width: int = 16, headroom_bits: int = 1) -> Calibration:
    """Choose per-layer types for ``model`` (prepared by ``prepare_for_hls``) from its values on ``X``; each
    Keras layer as its kind's calibration role says (:func:`triggernn.layers.calibration_role`)."""
    from .layers import calibration_role

    if width < 4 or width > 32:
        raise PrecisionError(f"width {width} is outside 4..32 bits")
    if headroom_bits < 0:
        raise PrecisionError(f"headroom_bits must be >= 0, got {headroom_bits}")
    X = each(X, lambda x: np.asarray(x, dtype=np.float32))
    ranges = observed_ranges(model, X)
    # several inputs share one type: the one holding every input's range
    lo_in, hi_in = min(float(x.min()) for x in as_list(X)), max(float(x.max()) for x in as_list(X))
    input_type = fixed_for_range(lo_in, hi_in, width, headroom_bits, layer="input")
    choices = [TypeChoice("input", "result", str(input_type), lo_in, hi_in, headroom_bits)]
    precision: dict[str, dict[str, str]] = {}
    skipped: list[str] = []

    def choose(layer: str, key: str, lo: float, hi: float, headroom: int, **kw) -> FixedSpec:
        spec = fixed_for_range(lo, hi, width, headroom, layer=layer, **kw)
        precision.setdefault(layer, {})[key] = spec.hls()
        if key == "result":
            result_of[layer] = spec.hls()
        choices.append(TypeChoice(layer, key, spec.hls(), lo, hi, headroom))
        return spec

    # the type of each layer's output chosen so far, from the inputs' on
    inputs = [layer.name for layer in model.layers if layer.__class__.__name__ == "InputLayer"]
    result_of = {name: input_type.hls() for name in inputs or [model.layers[0].name]}
    for previous, layer in itertools.pairwise(model.layers):
        kind = layer.__class__.__name__
        name = layer.name
        role = calibration_role(kind)
        if name in result_of:  # an input (a model of several)
            continue
        if kind.startswith("Q"):
            skipped.append(f"{name} ({kind}: types follow its quantizers)")
            continue
        lo, hi = ranges[name]
        conf = layer.get_config()
        if role == "weighted":
            w = layer.get_weights()
            choose(name, "weight", float(w[0].min()), float(w[0].max()), 0, rounding="RND_CONV")
            if len(w) > 1:
                choose(name, "bias", float(w[1].min()), float(w[1].max()), 0, rounding="RND_CONV")
            res = choose(name, "result", lo, hi, headroom_bits)
            extra = math.ceil(math.log2(max(_n_in(layer), 2)))
            acc = FixedSpec(width + extra, res.integer, signed=res.signed)
            precision[name]["accum"] = acc.hls()
            choices.append(TypeChoice(name, "accum", acc.hls(), lo, hi, headroom_bits))
            # hls4ml adds a '<name>_linear' cast after a Dense/Conv whose activation is 'linear', typed with its
            # default (fixed<16,6>) unless told otherwise: it must carry the result unchanged
            precision[f"{name}_linear"] = {"result": res.hls()}
        elif role == "batchnorm":
            gamma, beta, mean, var = (
                layer.gamma.numpy() if layer.scale else 1.0,
                layer.beta.numpy() if layer.center else 0.0,
                layer.moving_mean.numpy(),
                layer.moving_variance.numpy(),
            )
            scale = gamma / np.sqrt(var + layer.epsilon)
            bias = beta - mean * scale
            choose(name, "scale", float(np.min(scale)), float(np.max(scale)), 0, rounding="RND_CONV")
            choose(name, "bias", float(np.min(bias)), float(np.max(bias)), 0, rounding="RND_CONV")
            choose(name, "result", lo, hi, headroom_bits)
        elif kind == "Activation" and conf.get("activation") == "softmax":
            continue  # tables sized from the logit spread (hls.softmax)
        elif kind == "Activation" and conf.get("activation") in ("sigmoid", "tanh"):
            bottom = 0.0 if conf["activation"] == "sigmoid" else -1.0
            spec = fixed_for_range(bottom, 0.999, width, 0, rounding="RND", layer=name)
            precision.setdefault(name, {})["result"] = result_of[name] = spec.hls()
            precision[name]["table_t"] = spec.hls()
            choices.append(TypeChoice(name, "result", spec.hls(), lo, hi, 0))
        elif role == "pass_through":
            # values pass unchanged: the type of what feeds them (hls4ml's own, after a QKeras layer)
            prev = result_of.get(previous.name)
            if prev is None:
                skipped.append(f"{name} ({kind}: passes its input's type through)")
                continue
            precision.setdefault(name, {})["result"] = result_of[name] = prev
            choices.append(TypeChoice(name, "result", prev, lo, hi, headroom_bits))
        elif role == "activation" and _exact_elementwise(layer):
            # ReLU/linear lose nothing: the type of what feeds them (unsigned for the ReLU); after a QKeras
            # layer, whose type hls4ml derives, left to triggernn.hls.exact_types
            prev = result_of.get(previous.name)
            if prev is None:
                skipped.append(f"{name} ({kind}: exact, typed from its QKeras input by hls)")
                continue
            spec = parse_fixed(prev)
            if spec.signed and conf.get("activation", "relu") != "linear":
                spec = FixedSpec(spec.width - 1, spec.integer - 1, signed=False)
            precision.setdefault(name, {})["result"] = result_of[name] = spec.hls()
            choices.append(TypeChoice(name, "result", spec.hls(), lo, hi, 0))
        elif role in ("activation", "range"):
            choose(name, "result", lo, hi, headroom_bits)
        else:
            skipped.append(f"{name} ({kind}: hls4ml's default types)")
    return Calibration(input_type, precision, choices, width, headroom_bits, n_events(X), skipped)
