"""Overflow and saturation detection: per-layer value ranges on data against each layer's firmware type."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .compat import probe_model
from .inputs import Events
from .quantize import FixedSpec

__all__ = ["LayerRange", "layer_ranges", "plot_ranges"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LayerRange:
    """Observed output range of one layer and whether its fixed-point type holds it."""

    layer: str
    type: str
    observed_min: float
    observed_max: float
    type_min: float
    type_max: float
    overflows: bool
    suggestion: str | None

    def to_dict(self) -> dict:
        return asdict(self)


def _fitting_type(spec: FixedSpec, lo: float, hi: float) -> FixedSpec:
    """The same number of fractional bits with enough integer bits for [lo, hi]."""
    mag = max(abs(lo), abs(hi), spec.lsb)
    integer = math.floor(math.log2(mag)) + 1 + (1 if spec.signed or lo < 0 else 0)
    return FixedSpec(max(integer + spec.fractional, 1), integer, signed=spec.signed or lo < 0)


def layer_ranges(model, project, X: Events) -> list[LayerRange]:
    """Run ``model`` (Keras/QKeras) on ``X`` and compare every layer's outputs with its type in ``project``.

    A layer whose values leave its type's range would wrap or saturate in the firmware: it is flagged,
    logged as a warning naming the layer, and given a type that would fit.
    """

    graph = project.hls_model.graph
    # a softmax's output type saturates by design ([0, 1] in ufixed<16,0,RND,SAT>: 1.0 is its largest value)
    names = [
        layer.name
        for layer in model.layers[1:]
        if layer.name in graph and layer.get_config().get("activation") != "softmax"
    ]
    if not names:  # every layer merged into nodes of other names (a folded batch norm, ...)
        return []
    probe = probe_model(model, [model.get_layer(n).output for n in names])
    outputs = probe.predict(X, batch_size=4096, verbose=0)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    out = []
    for name, values in zip(names, outputs, strict=True):
        spec = project.output_type(name)
        lo, hi = float(np.min(values)), float(np.max(values))
        overflows = lo < spec.min or hi > spec.max
        suggestion = str(_fitting_type(spec, lo, hi)) if overflows else None
        if overflows:
            log.warning(
                "layer '%s': values in [%.4g, %.4g] do not fit %s [%.4g, %.4g]; use %s",
                name, lo, hi, spec, spec.min, spec.max, suggestion,
            )  # fmt: skip
        out.append(LayerRange(name, str(spec), lo, hi, spec.min, spec.max, overflows, suggestion))
    return out


def plot_ranges(ranges: list[LayerRange], path: Path) -> Path:
    """Per layer: the type's range (grey bar) and the observed range (blue, red if it overflows), symlog axis."""
    from .report.plots import _plt

    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 0.8 * len(ranges) + 2))
    for i, r in enumerate(ranges):
        ax.barh(
            i,
            r.type_max - r.type_min,
            left=r.type_min,
            height=0.6,
            color="0.85",
            label="type" if i == 0 else None,
        )
        ax.barh(
            i, max(r.observed_max - r.observed_min, 1e-9), left=r.observed_min, height=0.3,
            color="tab:red" if r.overflows else "tab:blue", label="observed" if i == 0 else None,
        )  # fmt: skip
    ax.set_yticks(range(len(ranges)), [f"{r.layer}\n{r.type}" for r in ranges], fontsize=12)
    ax.set_xscale("symlog", linthresh=2**-6)
    ticks = [-1e3, -1e1, -1e-1, 0, 1e-1, 1e1, 1e3]
    ax.set_xticks(ticks, ["-1000", "-10", "-0.1", "0", "0.1", "10", "1000"])
    ax.set_xlabel("Value")
    ax.invert_yaxis()
    if ax.get_legend_handles_labels()[0]:  # (nothing labelled: no legend, no warning)
        ax.legend(fontsize=11, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
