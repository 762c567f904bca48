"""A first resource estimate from the hls4ml graph, labelled as an estimate: multipliers and their widths.

Per weighted node (the layer kinds that multiply by constant weights, :mod:`triggernn.layers`): the products
per output position (nonzero weights), the physical multipliers after the reuse factor, the weight and input
widths, and the bit-weighted count ``multipliers x weight bits x input bits`` (a proxy for LUTs/DSPs that falls
with narrower types). No synthesis is involved.
"""

from __future__ import annotations

import math

from .adapter.view import NodeView, graph_views

__all__ = ["layer_multipliers", "macs_per_event", "multiplier_cost", "weighted_nodes"]


def weighted_nodes(hls_model, *, recurrent: bool = False) -> list[NodeView]:
    """The nodes whose kind multiplies by constant weights (recurrent ones only with ``recurrent``)."""
    from ..layers import kind_of

    found = []
    for view in graph_views(hls_model).nodes:
        kind = kind_of(view.kind)
        if kind is not None and kind.weighted and (recurrent or not kind.recurrent):
            found.append(view)
    return found


def layer_multipliers(view: NodeView) -> dict:
    """The multiplier row of one weighted node: name, products (nonzero weights), reuse factor, multipliers
    after it, weight and input bits, bit-weighted count, and the kernel's size (zeros included)."""
    products = view.nonzeros()
    rf = int(view.attr("reuse_factor") or 1)
    mults = math.ceil(products / rf)
    wbits, abits = view.weight_width(), view.width("input")
    return {
        "layer": view.name,
        "products": products,
        "reuse_factor": rf,
        "multipliers": mults,
        "weight_bits": wbits,
        "input_bits": abits,
        "bit_weighted": mults * wbits * abits,
        "size": view.weight_size(),
    }


def multiplier_cost(hls_model) -> list[dict]:
    """One row per weighted layer: name, products, reuse factor, multipliers, weight/input bits, bit-weighted."""
    rows = []
    for view in weighted_nodes(hls_model):
        row = layer_multipliers(view)
        del row["size"]
        rows.append(row)
    return rows


def macs_per_event(hls_model) -> int:
    """Multiply-accumulates one event costs (all products, zero weights included), summed over the layers."""
    from ..layers import kind_of

    total = 0
    for view in graph_views(hls_model).nodes:
        kind = kind_of(view.kind)
        total += kind.macs(view) if kind is not None else 0
    return total
