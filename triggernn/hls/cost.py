"""A first resource estimate from the hls4ml graph, labelled as an estimate: multipliers and their widths.

Per Dense/Conv layer: the products per output position (nonzero weights), the physical multipliers after
the reuse factor, the weight and input widths, and the bit-weighted count ``multipliers x weight bits x
input bits`` (a proxy for LUTs/DSPs that falls with narrower types). No synthesis is involved.
"""

from __future__ import annotations

import math

__all__ = ["WEIGHTED", "layer_multipliers", "macs_per_event", "multiplier_cost"]

WEIGHTED = ("Dense", "Conv1D", "Conv2D", "PointwiseConv1D", "PointwiseConv2D")


def layer_multipliers(node) -> dict:
    """The multiplier row of one Dense/Conv node: name, products (nonzero weights), reuse factor, multipliers
    after it, weight and input bits, bit-weighted count, and the kernel's size (zeros included)."""
    w = node.get_weights("weight")
    products = int(w.nonzeros)
    rf = int(node.get_attr("reuse_factor") or 1)
    mults = math.ceil(products / rf)
    wbits = int(w.type.precision.width)
    abits = int(node.get_input_variable().type.precision.width)
    return {
        "layer": node.name,
        "products": products,
        "reuse_factor": rf,
        "multipliers": mults,
        "weight_bits": wbits,
        "input_bits": abits,
        "bit_weighted": mults * wbits * abits,
        "size": int(w.data.size),
    }


def multiplier_cost(hls_model) -> list[dict]:
    """One row per weighted layer: name, products, reuse factor, multipliers, weight/input bits, bit-weighted."""
    rows = []
    for node in hls_model.get_layers():
        if node.class_name in WEIGHTED:
            row = layer_multipliers(node)
            del row["size"]
            rows.append(row)
    return rows


def macs_per_event(hls_model) -> int:
    """Multiply-accumulates one event costs (all products, zero weights included), summed over the layers."""
    total = 0
    for node in hls_model.get_layers():
        kind = node.class_name
        if kind == "Dense":
            total += int(node.get_attr("n_in")) * int(node.get_attr("n_out"))
        elif kind in ("Conv1D", "Conv2D"):
            w = node.get_weights("weight").data.size
            out = node.get_output_variable().shape
            total += int(w) * int(math.prod(out[:-1]))
        elif kind in ("GRU", "LSTM", "SimpleRNN"):
            steps = int(node.get_input_variable().shape[0])
            w = sum(node.get_weights(k).data.size for k in ("weight", "recurrent_weight"))
            total += int(w) * steps
    return total
