"""The design space of ``triggernn optimize``: one point (:class:`Design`), its moves and its run config.

A move lowers the cost of a design one step: bits, widths, pruning or the input type. The search (``optimizer.py``)
first takes *coarse* moves, each applied to every layer at once (all weights one bit narrower, all ReLUs, every
hidden layer halved), then *fine* ones, one layer at a time. Several feasible moves of a round combine into one
design (:meth:`Design.combine`): every field at its cheapest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["MIN_BITS", "MIN_WIDTH", "SPARSITY_STEPS", "Design", "layer_names"]

#: The pruning fractions the search steps through.
SPARSITY_STEPS = (0.0, 0.5, 0.7, 0.8, 0.85, 0.9)
MIN_BITS = 2
MIN_WIDTH = 4


@dataclass(frozen=True)
class Design:
    """One point of the search: the bits of each weighted layer and of each ReLU, the hidden widths, the pruning
    fraction and the input type's width (its integer bits are fixed by the data)."""

    weight: tuple[int, ...]
    activation: tuple[int, ...]
    hidden: tuple[int, ...]
    sparsity: float
    input_width: int

    def label(self) -> str:
        w = "/".join(map(str, self.weight))
        a = "/".join(map(str, self.activation))
        h = "-".join(map(str, self.hidden))
        return f"w {w} a {a} h {h} s {self.sparsity:g} in {self.input_width}"

    def moves(self, input_integer: int, widths: bool, coarse: bool = False) -> list[tuple[str, Design]]:
        """Every one-step move from here: weight or ReLU bits one lower, hidden layers half as wide (one layer
        each, or with ``coarse`` every layer at once), the next pruning fraction, the input one bit narrower (two
        with ``coarse``)."""
        out: list[tuple[str, Design]] = []
        names = layer_names(len(self.hidden))
        for field, what in (("weight", "weights"), ("activation", "ReLU bits")):
            bits: tuple[int, ...] = getattr(self, field)
            lower = [i for i, b in enumerate(bits) if b > MIN_BITS]
            if coarse and lower:
                new = tuple(b - 1 if b > MIN_BITS else b for b in bits)
                out.append((f"all {what} -1", replace(self, **{field: new})))
            elif not coarse:
                for i in lower:
                    step = f"{bits[i]}->{bits[i] - 1}"
                    label = f"{names[i]} weights {step}" if field == "weight" else f"relu{i + 1} {step} bits"
                    out.append((label, replace(self, **{field: _set(bits, i, bits[i] - 1)})))
        if widths:
            halve = [i for i, n in enumerate(self.hidden) if n // 2 >= MIN_WIDTH]
            if coarse and halve:
                new = tuple(n // 2 if i in halve else n for i, n in enumerate(self.hidden))
                out.append(("all widths halved", replace(self, hidden=new)))
            elif not coarse:
                for i in halve:
                    n = self.hidden[i]
                    out.append(
                        (
                            f"{names[i]} width {n}->{n // 2}",
                            replace(self, hidden=_set(self.hidden, i, n // 2)),
                        )
                    )
        nxt = [s for s in SPARSITY_STEPS if s > self.sparsity + 1e-9]
        if nxt:
            out.append((f"sparsity {self.sparsity:g}->{nxt[0]:g}", replace(self, sparsity=nxt[0])))
        step = 2 if coarse else 1
        if self.input_width - step >= input_integer + 2:
            narrower = self.input_width - step
            out.append((f"input {self.input_width}->{narrower} bits", replace(self, input_width=narrower)))
        return out

    def combine(self, others: list[Design]) -> Design:
        """This design with every field at its cheapest over ``others`` (moves from it): the moves taken at once."""
        every = [self, *others]
        return Design(
            weight=tuple(min(v) for v in zip(*(d.weight for d in every), strict=True)),
            activation=tuple(min(v) for v in zip(*(d.activation for d in every), strict=True)),
            hidden=tuple(min(v) for v in zip(*(d.hidden for d in every), strict=True)),
            sparsity=max(d.sparsity for d in every),
            input_width=min(d.input_width for d in every),
        )

    def config(self, base: dict[str, Any], input_integer: int, name: str) -> dict[str, Any]:
        """The run config of this design: ``base`` (a config as a mapping) with its bits, widths, pruning and
        input type set."""
        cfg = json.loads(json.dumps(base))
        cfg["name"] = name
        cfg.setdefault("model", {})["hidden"] = list(self.hidden)
        cfg.setdefault("train", {})["sparsity"] = self.sparsity
        q = cfg.setdefault("quantization", {})
        q["input"] = f"ap_fixed<{self.input_width},{input_integer}>"
        layers = {}
        names = layer_names(len(self.hidden))
        for i, layer in enumerate(names):
            entry = {**q.get("layers", {}).get(layer, {})}
            entry["weight"] = {"bits": self.weight[i], "integer": _integer(q, entry, "weight")}
            if i < len(self.activation):
                entry["activation"] = {
                    "bits": self.activation[i],
                    "integer": _integer(q, entry, "activation"),
                }
            layers[layer] = {k: v for k, v in entry.items() if v is not None}
        q["layers"] = layers
        return cfg


def _integer(q: dict[str, Any], entry: dict[str, Any], key: str) -> int:
    """The integer bits of a layer's ``key`` quantizer: its own, else the section's, else QKeras' default 0."""
    own = entry.get(key) or q.get(key) or {}
    return int(own.get("integer", 0))


def _set(values: tuple[int, ...], i: int, v: int) -> tuple[int, ...]:
    return (*values[:i], v, *values[i + 1 :])


def layer_names(n_hidden: int) -> list[str]:
    """The weighted layers of a dense family with ``n_hidden`` hidden layers."""
    return [*(f"fc{i + 1}" for i in range(n_hidden)), "output"]
