"""Plots a trigger physicist looks at: ROC curves, confusion matrix, C-sim residuals."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_confusion", "plot_residuals", "plot_roc"]

_STYLES = {"float": ("-", "float"), "qkeras": ("--", "QKeras"), "csim": (":", "C sim (hls4ml)")}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import mplhep

    plt.style.use(mplhep.style.ROOT)
    return plt


def plot_roc(y_true, scores: dict[str, np.ndarray], class_names, path: Path) -> Path:
    """Background efficiency vs signal efficiency (log scale), one colour per class, one line style per model."""
    from sklearn.metrics import roc_curve

    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 7))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, name in enumerate(class_names):
        is_k = np.asarray(y_true) == k
        if is_k.all() or not is_k.any():
            continue
        for model, s in scores.items():
            fpr, tpr, _ = roc_curve(is_k, s[:, k])
            style, label = _STYLES.get(model, ("-", model))
            ax.plot(
                tpr, np.maximum(fpr, 1e-5), style, color=colors[k % len(colors)], label=f"{name}, {label}"
            )
    ax.set_yscale("log")
    ax.set_xlabel("Signal efficiency")
    ax.set_ylabel("Background efficiency")
    ax.set_ylim(1e-4, 1.5)
    ax.grid(True, which="both", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:  # (nothing labelled: no legend, no warning)
        ax.legend(fontsize=9, ncol=2, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_confusion(y_true, scores: np.ndarray, class_names, path: Path, title: str = "C simulation") -> Path:
    """Row-normalised confusion matrix of the argmax of ``scores``."""
    from sklearn.metrics import confusion_matrix

    plt = _plt()
    cm = confusion_matrix(
        y_true, np.asarray(scores).argmax(1), labels=range(len(class_names)), normalize="true"
    )
    fig, ax = plt.subplots(figsize=(6.5, 6))
    im = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            ax.text(
                j,
                i,
                f"{cm[i, j]:.2f}",
                ha="center",
                va="center",
                color="white" if cm[i, j] > 0.5 else "black",
            )
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("Predicted")
    ax.set_ylabel("True")
    ax.set_title(title, fontsize=14)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_residuals(ref: np.ndarray, csim: np.ndarray, lsb: float, path: Path, label: str) -> Path:
    """Histogram of (C sim - reference) in units of the compared type's LSB (a single bar at 0 is bit-exact);
    in absolute units when the difference spans more than 1,000 LSB (tables, e.g. a GRU), where LSBs say nothing."""
    plt = _plt()
    d = (np.asarray(csim, dtype=np.float64) - np.asarray(ref, dtype=np.float64)).ravel()
    in_lsb = np.abs(d).max() / lsb <= 1000
    fig, ax = plt.subplots(figsize=(7, 5))
    if in_lsb:
        d = d / lsb
        lo, hi = min(d.min(), -1), max(d.max(), 1)
        bins = np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.5) if hi - lo < 200 else 100
        xlabel = f"{label}: C sim - QKeras [LSB = {lsb:.3g}]"
    else:
        bins, xlabel = 100, f"{label}: C sim - QKeras"
    ax.hist(d, bins=bins, histtype="stepfilled", alpha=0.7)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel, fontsize=14)
    ax.set_ylabel("Values")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
