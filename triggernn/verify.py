"""Verification: QKeras vs C simulation (bit for bit) and float vs QKeras vs C simulation (physics metrics)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

__all__ = [
    "ModelMetrics",
    "VerificationResult",
    "classification_metrics",
    "compare_fixed",
    "float32_inexact_layers",
    "verify_outputs",
]


@dataclass(frozen=True)
class ModelMetrics:
    """Accuracy, one-vs-rest ROC AUC per class, and background rejection (1/FPR) at 50% signal efficiency."""

    accuracy: float
    auc: dict[str, float]
    rejection_at_50: dict[str, float]


def classification_metrics(y_true: np.ndarray, scores: np.ndarray, class_names) -> ModelMetrics:
    """Metrics of one model's class scores (``(n, n_classes)``) against integer labels ``y_true``."""
    from sklearn.metrics import roc_auc_score, roc_curve

    y_true = np.asarray(y_true)
    scores = np.asarray(scores, dtype=np.float64)
    auc, rej = {}, {}
    for k, name in enumerate(class_names):
        is_k = y_true == k
        if is_k.all() or not is_k.any():
            continue
        auc[name] = float(roc_auc_score(is_k, scores[:, k]))
        fpr, tpr, _ = roc_curve(is_k, scores[:, k])
        fpr_at = float(np.interp(0.5, tpr, fpr))
        rej[name] = float(1.0 / fpr_at) if fpr_at > 0 else float("inf")
    return ModelMetrics(accuracy=float(np.mean(scores.argmax(1) == y_true)), auc=auc, rejection_at_50=rej)


def compare_fixed(reference: np.ndarray, csim: np.ndarray, lsb: float) -> dict[str, float]:
    """Bit-level agreement of two outputs on a fixed-point grid of step ``lsb``.

    Returns the fraction of events whose whole output vector is identical, the fraction of identical
    values, and the largest difference in LSBs.
    """
    ref = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    got = np.asarray(csim, dtype=np.float64).reshape(len(csim), -1)
    if ref.shape != got.shape:
        raise ValueError(f"reference has shape {ref.shape} but C simulation {got.shape}")
    equal = ref == got
    diff = np.abs(ref - got)
    return {
        "bit_exact_fraction": float(np.mean(equal.all(axis=1))),
        "value_exact_fraction": float(np.mean(equal)),
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "max_lsb_error": float(diff.max() / lsb) if diff.size else 0.0,
        "argmax_agreement": float(np.mean(ref.argmax(1) == got.argmax(1))),
    }


def near_tie_flips(reference: np.ndarray, csim: np.ndarray) -> int:
    """How many argmax flips happen on near-ties: events whose two largest reference values are closer than
    twice the largest |reference - csim| seen, so the measured error alone can explain the flip."""
    ref = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    got = np.asarray(csim, dtype=np.float64).reshape(len(csim), -1)
    flips = ref.argmax(1) != got.argmax(1)
    if not flips.any():
        return 0
    top2 = np.sort(ref, axis=1)[:, -2:]
    tol = 2 * np.abs(ref - got).max()
    return int(np.sum(flips & ((top2[:, 1] - top2[:, 0]) <= tol)))


@dataclass(frozen=True)
class VerificationResult:
    """Every number of a verification, and whether it passed the config's thresholds."""

    n_events: int
    compared_layer: str
    compared_type: str
    compared_lsb: float
    bit_exact_fraction: float
    value_exact_fraction: float
    max_lsb_error: float
    max_abs_error: float
    logit_argmax_agreement: float
    output_argmax_agreement: float
    max_output_diff: float
    near_tie_flips: int
    metrics: dict[str, ModelMetrics]
    thresholds: dict[str, float]
    testbench_events: int = 0
    testbench_exact_fraction: float | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        d = asdict(self)
        d["passed"] = self.passed
        return d


def verify_outputs(
    y_true: np.ndarray,
    class_names,
    *,
    float_out: np.ndarray | None,
    qkeras_out: np.ndarray,
    qkeras_logits: np.ndarray,
    csim_out: np.ndarray,
    csim_logits: np.ndarray,
    compared_layer: str,
    compared_lsb: float,
    compared_type: str,
    thresholds,
    testbench_out: np.ndarray | None = None,
    output_lsb: float | None = None,
    float32_limits: list[str] | tuple[str, ...] = (),
) -> VerificationResult:
    """Compare QKeras and C simulation bit for bit on the logits, and all three models on physics metrics.

    ``testbench_out`` are the outputs of the project's own C++ testbench on the first events (compared with
    ``csim_out`` on the output grid of step ``output_lsb``). ``thresholds`` is a
    :class:`triggernn.config.VerifyConfig`. A failure is listed (not raised) for each
    threshold that is not met.
    """
    bits = compare_fixed(qkeras_logits, csim_logits, compared_lsb)
    outputs = compare_fixed(qkeras_out, csim_out, compared_lsb)
    scores = {"float": float_out, "qkeras": qkeras_out, "csim": csim_out}
    metrics = {k: classification_metrics(y_true, v, class_names) for k, v in scores.items() if v is not None}
    failures = []
    if bits["bit_exact_fraction"] < thresholds.min_bit_exact:
        failures.append(
            f"bit-exact fraction {bits['bit_exact_fraction']:.4%} < {thresholds.min_bit_exact:.4%} "
            f"(largest error {bits['max_lsb_error']:.0f} LSB on '{compared_layer}')"
            + (
                "; the QKeras reference itself rounds here (float32 arithmetic, see docs/scan.md): "
                + "; ".join(float32_limits)
                if float32_limits
                else ""
            )
        )
    if thresholds.max_abs_error is not None and bits["max_abs_diff"] > thresholds.max_abs_error:
        failures.append(
            f"largest |QKeras - C-sim| on '{compared_layer}' is {bits['max_abs_diff']:.3g} > "
            f"{thresholds.max_abs_error:.3g}"
        )
    if outputs["argmax_agreement"] < thresholds.min_argmax_agreement:
        failures.append(
            f"argmax agreement {outputs['argmax_agreement']:.4%} < {thresholds.min_argmax_agreement:.4%}"
        )
    for name, auc_q in metrics["qkeras"].auc.items():
        drop = auc_q - metrics["csim"].auc.get(name, 0.0)
        if drop > thresholds.max_auc_drop:
            failures.append(
                f"AUC of class {name} drops by {drop:.4f} > {thresholds.max_auc_drop} in C simulation"
            )
    tb_exact = None
    if testbench_out is not None:
        n_tb = len(testbench_out)
        same = np.round(np.asarray(testbench_out).reshape(n_tb, -1) / output_lsb) == np.round(
            np.asarray(csim_out[:n_tb], dtype=np.float64).reshape(n_tb, -1) / output_lsb
        )
        tb_exact = float(np.mean(same.all(axis=1)))
        if tb_exact < 1.0:
            failures.append(
                f"the project's C++ testbench agrees with the C simulation on only {tb_exact:.4%} of events"
            )
    return VerificationResult(
        n_events=len(y_true),
        testbench_events=0 if testbench_out is None else len(testbench_out),
        testbench_exact_fraction=tb_exact,
        compared_layer=compared_layer,
        compared_type=compared_type,
        compared_lsb=float(compared_lsb),
        bit_exact_fraction=bits["bit_exact_fraction"],
        value_exact_fraction=bits["value_exact_fraction"],
        max_lsb_error=bits["max_lsb_error"],
        max_abs_error=bits["max_abs_diff"],
        logit_argmax_agreement=bits["argmax_agreement"],
        output_argmax_agreement=outputs["argmax_agreement"],
        max_output_diff=outputs["max_abs_diff"],
        near_tie_flips=near_tie_flips(qkeras_logits, csim_logits),
        metrics=metrics,
        thresholds={k: float(v) for k, v in thresholds.model_dump().items() if v is not None},
        failures=failures,
    )


def float32_inexact_layers(model, input_type) -> list[str]:
    """Layers of a QKeras dense/conv model whose QKeras output float32 cannot compute exactly.

    QKeras computes in float32 (24 significant bits). A layer's products need ``input bits + weight bits``
    and its sums ``ceil(log2(fan_in + 1))`` more; past 24 the QKeras reference itself is rounded, and a
    bit-exact comparison with the (exact) firmware is meaningless. Returns a message per such layer; an
    empty list means bit-exactness is guaranteed. The bound is worst case: the 6-bit jet tagger exceeds it
    on its first layer (16 + 6 + 5 = 27 bits) and is still exact on every test event, because standardized
    inputs rarely use their top bits. ``input_type`` is a :class:`FixedSpec`.
    """
    import math

    width = input_type.width
    problems = []
    for layer in model.layers:
        kind = layer.__class__.__name__
        if kind in ("QDense", "QConv1D", "QConv2D"):
            q = layer.kernel_quantizer_internal
            fan_in = int(np.prod(layer.kernel.shape[:-1]))
            need = width + int(q.bits) + math.ceil(math.log2(fan_in + 1))
            if need > 24:
                problems.append(
                    f"layer '{layer.name}': {width}-bit inputs x {q.bits}-bit weights over {fan_in} terms need "
                    f"{need} significant bits, float32 has 24; use fewer bits or compare with a tolerance"
                )
            width = need
        elif kind == "QActivation":
            width = int(getattr(layer.activation, "bits", width))
    return problems
