"""Verification: QKeras vs C simulation (bit for bit) and float vs QKeras vs C simulation (physics metrics)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .compat import probe_model, quantized_display_name
from .errors import InputError
from .inputs import Events

__all__ = [
    "ModelMetrics",
    "VerificationResult",
    "classification_metrics",
    "compare_fixed",
    "float32_inexact_layers",
    "float32_rounded_layers",
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


#: Above this many classes the report draws no per-class plots (a conv map's outputs are not classes).
MAX_PLOTTED_CLASSES = 20
#: A reference that puts more than this fraction of the events in one class makes argmax agreement say little.
ONE_CLASS_FRACTION = 0.98


@dataclass(frozen=True)
class VerificationResult:
    """Every number of a verification, and whether it passed the config's thresholds.

    ``task`` is ``"classification"`` (a flat output of two or more scores: argmax agreement, per-class
    metrics) or ``"values"`` (one output, or an output with more than one axis: per-value errors only;
    the argmax fields are then None). ``reference`` names the model the firmware is compared with
    (``"qkeras"``, or ``"keras"`` for a float model); ``metrics`` is keyed ``float``/reference/``csim``.
    """

    n_events: int
    compared_layer: str
    compared_type: str
    compared_lsb: float
    bit_exact_fraction: float
    value_exact_fraction: float
    max_lsb_error: float
    max_abs_error: float
    logit_argmax_agreement: float | None
    output_argmax_agreement: float | None
    max_output_diff: float
    near_tie_flips: int
    metrics: dict[str, ModelMetrics]
    thresholds: dict[str, float]
    testbench_events: int = 0
    testbench_exact_fraction: float | None = None
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    task: str = "classification"
    reference: str = "qkeras"
    n_outputs: int = 0

    @property
    def passed(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        d = asdict(self)
        d["passed"] = self.passed
        return d

    def summary(self) -> list[str]:
        """The verdict's lines, as the CLI prints them."""
        ref = quantized_display_name() if self.reference == "qkeras" else "Keras"
        lines = [
            f"bit-exact      {self.bit_exact_fraction:.4%} of {self.n_events} test events on "
            f"'{self.compared_layer}' (largest error {self.max_abs_error:.3g} = {self.max_lsb_error:g} LSB of "
            f"{self.compared_type}; {ref} vs C-sim)"
        ]
        if self.output_argmax_agreement is not None:
            lines.append(
                f"argmax agree   {self.output_argmax_agreement:.4%} (outputs), max output diff "
                f"{self.max_output_diff:.3g}"
            )
        else:
            lines.append(
                f"values         {self.n_outputs} per event, max output diff {self.max_output_diff:.3g}"
            )
        for model, m in self.metrics.items():
            aucs = " ".join(f"{c}:{a:.3f}" for c, a in m.auc.items())
            lines.append(f"{model:<7}        accuracy {m.accuracy:.4f}  AUC {aucs}")
        lines += [f"warning        {w}" for w in self.warnings]
        return lines


def _flat(a: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=np.float64).reshape(len(a), -1)


def verify_outputs(
    y_true: np.ndarray | None,
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
    task: str | None = None,
    reference: str = "qkeras",
) -> VerificationResult:
    """Compare the reference (QKeras) and C simulation bit for bit on the logits (or the output), and all
    models on physics metrics where the output is a set of class scores.

    Outputs of any shape are compared flattened, value by value. ``task`` is ``"classification"`` or
    ``"values"`` (default: classification for a flat output of two or more values). ``y_true`` may be None
    (no labels: the reference's own argmax stands in for the metrics). ``testbench_out`` are the outputs of
    the project's own C++ testbench on the first events (compared with ``csim_out`` on the output grid of
    step ``output_lsb``). ``thresholds`` is a :class:`triggernn.config.VerifyConfig`. ``float32_limits`` are
    the layers where an exact float64 evaluation showed the reference itself rounds
    (:func:`float32_rounded_layers`). A failure is listed (not raised) for each threshold that is not met.
    """
    arrays = {"qkeras_out": qkeras_out, "qkeras_logits": qkeras_logits, "csim_out": csim_out,
              "csim_logits": csim_logits, "float_out": float_out, "testbench_out": testbench_out}  # fmt: skip
    n_events = None
    for name, value in arrays.items():
        if value is None and name in ("float_out", "testbench_out"):
            continue
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf" or arr.ndim < 1 or len(arr) == 0:
            raise InputError(
                f"{name} must be a non-empty numeric array of events, got {type(value).__name__}"
            )
        if name != "testbench_out" and n_events is not None and len(arr) != n_events:
            raise InputError(f"{name} holds {len(arr)} events, the others {n_events}: pass the same events")
        n_events = len(arr) if name != "testbench_out" else n_events
    qk_out, cs_out = _flat(qkeras_out), _flat(csim_out)
    fl_out = None if float_out is None else _flat(float_out)
    qk_logits, cs_logits = _flat(qkeras_logits), _flat(csim_logits)
    n_out = qk_out.shape[1]
    shaped = np.ndim(qkeras_out) == 2
    task = task or ("classification" if shaped and n_out >= 2 else "values")
    classify = task == "classification"
    bits = compare_fixed(qk_logits, cs_logits, compared_lsb)
    outputs = compare_fixed(qk_out, cs_out, compared_lsb)
    warnings: list[str] = []
    metrics: dict[str, ModelMetrics] = {}
    if classify:
        truth = y_true if y_true is not None else qk_out.argmax(1)
        counts = np.bincount(qk_out.argmax(1), minlength=n_out)
        top = int(counts.argmax())
        if counts[top] > ONE_CLASS_FRACTION * len(qk_out):
            warnings.append(
                f"the {reference} model puts {counts[top] / len(qk_out):.1%} of the test events in class "
                f"{class_names[top] if top < len(class_names) else top}: argmax agreement says little about "
                "the firmware here; judge it on the bit-exact fraction, or pass inputs that exercise every class"
            )
        scores = {"float": fl_out, reference: qk_out, "csim": cs_out}
        metrics = {
            k: classification_metrics(truth, v, class_names) for k, v in scores.items() if v is not None
        }
    failures = []
    if len(qk_out) < getattr(thresholds, "min_events", 1):
        failures.append(
            f"only {len(qk_out)} test events: a verdict needs at least {thresholds.min_events} "
            "(verify.min_events); use more data"
        )
    if bits["bit_exact_fraction"] < thresholds.min_bit_exact:
        failures.append(
            f"bit-exact fraction {bits['bit_exact_fraction']:.4%} < {thresholds.min_bit_exact:.4%} "
            f"(largest error {bits['max_lsb_error']:.0f} LSB on '{compared_layer}')"
            + (
                "; the QKeras reference itself rounds here (its float32 arithmetic cannot hold the exact sums, "
                "shown in float64; see docs/scan.md): " + "; ".join(float32_limits)
                if float32_limits
                else ""
            )
        )
    if bits["value_exact_fraction"] < thresholds.min_value_exact:
        failures.append(
            f"identical values {bits['value_exact_fraction']:.4%} < {thresholds.min_value_exact:.4%} on "
            f"'{compared_layer}'"
        )
    if thresholds.max_abs_error is not None and bits["max_abs_diff"] > thresholds.max_abs_error:
        failures.append(
            f"largest |{reference} - C-sim| on '{compared_layer}' is {bits['max_abs_diff']:.3g} > "
            f"{thresholds.max_abs_error:.3g}"
        )
    if classify and outputs["argmax_agreement"] < thresholds.min_argmax_agreement:
        failures.append(
            f"argmax agreement {outputs['argmax_agreement']:.4%} < {thresholds.min_argmax_agreement:.4%}"
        )
    if classify:
        for name, auc_q in metrics[reference].auc.items():
            drop = auc_q - metrics["csim"].auc.get(name, 0.0)
            if drop > thresholds.max_auc_drop:
                failures.append(
                    f"AUC of class {name} drops by {drop:.4f} > {thresholds.max_auc_drop} in C simulation"
                )
    tb_exact = None
    if testbench_out is not None:
        n_tb = len(testbench_out)
        same = np.round(np.asarray(testbench_out).reshape(n_tb, -1) / output_lsb) == np.round(
            cs_out[:n_tb] / output_lsb
        )
        tb_exact = float(np.mean(same.all(axis=1)))
        if tb_exact < 1.0:
            # The C simulation comes back through hls4ml's bridge as float64: a value of more than 53
            # significant bits is rounded there, while the testbench prints every digit of it.
            wide = float(np.max(np.abs(cs_out[:n_tb])) / output_lsb) >= 2.0**53
            failures.append(
                f"the project's C++ testbench agrees with the C simulation on only {tb_exact:.4%} of events"
                + (
                    "; the outputs need more than float64's 53 significant bits, which hls4ml's Python bridge "
                    "rounds (the testbench prints them exactly): narrow the output type"
                    if wide
                    else ""
                )
            )
    return VerificationResult(
        n_events=len(qk_out),
        testbench_events=0 if testbench_out is None else len(testbench_out),
        testbench_exact_fraction=tb_exact,
        compared_layer=compared_layer,
        compared_type=compared_type,
        compared_lsb=float(compared_lsb),
        bit_exact_fraction=bits["bit_exact_fraction"],
        value_exact_fraction=bits["value_exact_fraction"],
        max_lsb_error=bits["max_lsb_error"],
        max_abs_error=bits["max_abs_diff"],
        logit_argmax_agreement=bits["argmax_agreement"] if classify else None,
        output_argmax_agreement=outputs["argmax_agreement"] if classify else None,
        max_output_diff=outputs["max_abs_diff"],
        near_tie_flips=near_tie_flips(qk_logits, cs_logits) if classify else 0,
        metrics=metrics,
        thresholds={k: float(v) for k, v in thresholds.model_dump().items() if v is not None},
        failures=failures,
        warnings=warnings,
        task=task,
        reference=reference,
        n_outputs=n_out,
    )


def float32_rounded_layers(model, X: Events, input_type) -> list[str]:
    """The layers where QKeras' float32 arithmetic is shown, in exact float64, to round on ``X``.

    Only the layers :func:`float32_inexact_layers` flags can round. For each, its inputs on ``X`` (QKeras'
    own values of the layer before) are multiplied with the quantized kernel in float64, which is exact
    there; where a sum is not a float32 number, float32 cannot have computed it exactly. Returns a message
    per such layer, naming how many values; empty where the reference is exact on these events (then a
    bit-exact failure is the firmware's, not the reference's).
    """
    import tensorflow as tf

    flagged = {p.split("'")[1]: p for p in float32_inexact_layers(model, input_type)}
    layers = [layer for layer in model.layers if layer.name in flagged]
    if not layers:
        return []
    probe = probe_model(model, [layer.input for layer in layers])
    ins = probe.predict(X, batch_size=2048, verbose=0)
    ins = ins if isinstance(ins, list) else [ins]
    found = []
    for layer, x in zip(layers, ins, strict=True):
        q = layer.kernel_quantizer_internal
        kernel = np.asarray(layer.kernel if q is None else q(layer.kernel), dtype=np.float64)
        x64 = tf.constant(np.asarray(x, dtype=np.float64))
        if layer.__class__.__name__ == "QDense":
            z = tf.linalg.matmul(tf.reshape(x64, (-1, kernel.shape[0])), kernel)
        else:
            conf = layer.get_config()
            z = tf.nn.convolution(x64, kernel, strides=conf["strides"], padding=conf["padding"].upper())
        z = np.asarray(z)
        rounded = int(np.sum(z.astype(np.float32).astype(np.float64) != z))
        if rounded:
            found.append(
                f"{flagged[layer.name].split(';')[0]}; {rounded} of its {z.size} sums on these events"
            )
    return found


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
            if q is None:  # float weights: all 24 bits of float32 significands
                w_bits = 24
            elif (
                q.__class__.__name__ == "quantized_po2"
            ):  # a product keeps x's bits, shifted over the exponents
                w = np.abs(np.asarray(q(layer.kernel), dtype=np.float64))
                w = w[w > 0]
                w_bits = 1 + (int(np.ptp(np.log2(w))) if w.size else 0)
            else:
                w_bits = int(q.bits)
            need = width + w_bits + math.ceil(math.log2(fan_in + 1))
            if need > 24:
                problems.append(
                    f"layer '{layer.name}': {width}-bit inputs x {w_bits}-bit weights over {fan_in} terms need "
                    f"{need} significant bits, float32 has 24; use fewer bits or compare with a tolerance"
                )
            width = need
        elif kind == "QActivation":
            width = int(getattr(layer.activation, "bits", width))
    return problems
