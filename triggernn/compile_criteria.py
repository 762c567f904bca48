"""What a brought model is judged on (docs/byom.md): which layers approximate their reference by construction
(lookup tables, calibrated float constants, averages over windows that are not a power of two), the thresholds
that follow from them, and the tables of the compile report."""

from __future__ import annotations

import numpy as np

__all__ = ["MIN_TEST_EVENTS", "activation_name", "criteria", "report_tables", "table_layers"]

#: The fewest held-out events a verdict is given on.
MIN_TEST_EVENTS = 20
#: Activations hls4ml computes with lookup tables: their outputs approximate QKeras', never bit for bit.
_TABLE_ACTIVATIONS = ("sigmoid", "tanh", "softmax", "elu", "selu", "softplus", "softsign", "swish")
#: How far a table-based model may be from its reference: hls4ml's tables step by at most 1/64 in input
#: (1,024 entries over [-8, 8)); a tanh or sigmoid output moves less than that per step.
TABLE_MAX_ABS_ERROR = 1 / 32
#: Calibrated float constants, values output: the largest error, as a fraction of the largest reference value.
FLOAT_MAX_REL_ERROR = 0.05
#: ... and when the output is a quantizer's (few values: a flip, not a drift), the identical fraction.
QUANTIZED_MIN_VALUE_EXACT = 0.99
_FLOAT_CONSTANTS = ("Dense", "Conv1D", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "BatchNormalization")


def _is_table(activation: str) -> bool:
    """Whether an activation (a Keras name, or a QKeras quantizer as ``quantized_tanh(8)``) is a lookup table."""
    return activation.split("(")[0].strip() in _TABLE_ACTIVATIONS


def _table_activation(layer) -> bool:
    """Whether ``layer``'s activation is a lookup table in the firmware: a Keras sigmoid, tanh, softmax...,
    or QKeras' quantized_sigmoid / quantized_tanh with ``use_real_*`` (without, they are hard: exact)."""
    act = getattr(layer, "activation", None)
    for flag in ("use_real_sigmoid", "use_real_tanh"):
        if hasattr(act, flag):
            return bool(getattr(act, flag))
    return _is_table(activation_name(layer))


def activation_name(layer) -> str:
    act = layer.get_config().get("activation")
    return (act.get("class_name", "") if isinstance(act, dict) else str(act or "")).lower()


def table_layers(model) -> dict[str, str]:
    """Layers of a QKeras model whose firmware output approximates the reference by construction,
    ``{layer: kind}``: "table" for recurrent cells and sigmoid, tanh, softmax... activations (lookup
    tables; a final softmax is not counted, the logits before it are compared), "float" for a layer with
    float constants (a Dense/Conv without quantizers, a float BatchNormalization), whose calibrated types
    round them, or an average over a window that is not a power of two (the division cannot be exact). A float batch norm right before a binary activation is not counted: hls4ml folds the pair
    into one exact threshold (see :mod:`triggernn.hls.adapter`)."""
    from .hls.recurrent import RECURRENT_KINDS

    found = {}
    for i, layer in enumerate(model.layers):
        kind, name = layer.__class__.__name__, activation_name(layer)
        nxt = activation_name(model.layers[i + 1]) if i + 1 < len(model.layers) else ""
        if kind in RECURRENT_KINDS:
            found[layer.name] = "table"
        elif kind in _FLOAT_CONSTANTS and not (kind == "BatchNormalization" and nxt.startswith("binary")):
            found[layer.name] = "float"
        elif _table_activation(layer) and not (name == "softmax" and i == len(model.layers) - 1):
            found[layer.name] = "table"
        elif kind in _AVERAGE_POOLING and not _power_of_two(_window_size(layer)):
            found[layer.name] = (
                "float"  # a mean over N positions: exact in no fixed-point type unless N = 2^k
            )
    return found


_AVERAGE_POOLING = (
    "AveragePooling1D",
    "AveragePooling2D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
)


def _window_size(layer) -> int:
    if layer.__class__.__name__.startswith("Global"):
        return int(np.prod(layer.input_shape[1:-1]))
    return int(np.prod(layer.pool_size))


def _power_of_two(n: int) -> bool:
    return n > 0 and not n & (n - 1)


def criteria(model, approximate: dict[str, str], classify: bool, scale: float) -> dict[str, float]:
    """The verdict's thresholds (docs/byom.md): bit-exact on the logits for a QKeras model without tables
    or float constants. Otherwise argmax agreement for a classifier, and the largest error: the tables'
    step; for calibrated float constants in a model that ends in a quantizer (its outputs flip between grid
    values rather than drift), 99% identical values; for other float outputs, 5% of the largest reference
    value ``scale``."""
    quantized = any(layer.__class__.__name__.startswith("Q") for layer in model.layers)
    if quantized and not approximate:
        return {
            "min_bit_exact": 1.0,
            "min_argmax_agreement": 0.999,
            "max_auc_drop": 0.01,
            "min_events": MIN_TEST_EVENTS,
        }
    kinds = set(approximate.values()) if quantized else {"float"}
    out = {
        "min_bit_exact": 0.0,
        "min_argmax_agreement": 0.99,
        "max_auc_drop": 0.01,
        "min_events": MIN_TEST_EVENTS,
    }
    if "table" in kinds:
        out["max_abs_error"] = TABLE_MAX_ABS_ERROR
    if "float" in kinds and not classify:
        if model.layers[-1].__class__.__name__ == "QActivation":
            out["min_value_exact"] = QUANTIZED_MIN_VALUE_EXACT
        else:
            out["max_abs_error"] = max(out.get("max_abs_error", 0.0), FLOAT_MAX_REL_ERROR * scale)
    return out


def report_tables(calibration, prepared, verification, default, cost, no_labels, widths_tried) -> dict:
    tables = {
        "Calibrated precision (observed range on calibration data, headroom in bits)": (
            ["Layer", "Key", "Type", "Observed min", "Observed max", "Headroom"],
            [
                [
                    c.layer,
                    c.key,
                    c.type,
                    f"{c.observed_min:.4g}",
                    f"{c.observed_max:.4g}",
                    str(c.headroom_bits),
                ]
                for c in calibration.choices
            ],
        ),
    }
    agree = verification.output_argmax_agreement
    rows = [["calibrated (triggernn)", "n/a (values)" if agree is None else f"{agree:.4%}",
             f"{verification.max_output_diff:.3g}", f"{verification.bit_exact_fraction:.2%}"]]  # fmt: skip
    if default:
        d_agree = default["argmax_agreement"]
        rows.append(["hls4ml default (granularity='name')", "n/a" if d_agree is None else f"{d_agree:.4%}",
                     f"{default['max_abs_diff']:.3g}", f"{default['exact_fraction']:.2%} (outputs)"])  # fmt: skip
    tables["Agreement with the Keras model, same test events"] = (
        ["Configuration", "Argmax agreement", "Largest output difference", "Bit-exact (logits)"],
        rows,
    )
    crow = []
    for label, layers in cost.items():
        crow.append([label, str(sum(r["multipliers"] for r in layers)), str(sum(r["bit_weighted"] for r in layers)),
                     ", ".join(f"{r['layer']}: {r['weight_bits']}x{r['input_bits']}" for r in layers)])  # fmt: skip
    tables["Multipliers (estimate, no synthesis)"] = (
        ["Configuration", "Multipliers", "Bit-weighted (mults x w bits x in bits)", "Widths per layer"],
        crow,
    )
    notes = [[f"removed (inactive at inference): {r}"] for r in prepared.removed]
    notes += [[f"split: {s}"] for s in prepared.split]
    notes += [[f"left to hls4ml: {u}"] for u in calibration.uncalibrated]
    notes += [
        [f"width {w} bits: " + ("the ranges do not fit" if np.isnan(a) else f"argmax agreement {a:.4%}")]
        for w, a in widths_tried.items()
    ]
    if no_labels:
        notes.append(["no labels given: the physics metrics use the Keras model's own argmax as truth"])
    tables["Notes"] = (["Note"], notes or [["none"]])
    return tables
