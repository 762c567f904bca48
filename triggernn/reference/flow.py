"""The density of QCD (gluon and light-quark) jets' 16 features, as a masked autoregressive flow.

The flow is zuko's :class:`zuko.flows.MAF` (Papamakarios et al. 2017), not written here. Trained by maximum
likelihood on QCD jets only, ``-log p(x)`` is an anomaly score: W, Z and top jets, never seen in training,
should be less likely. :func:`evaluate` gives the AUC of that score for each of them against QCD.

Training runs on a GPU when PyTorch sees one, else on the CPU, and records seconds per epoch of both kinds
where measured. :func:`save` writes the weights with their hyper-parameters and metrics; :func:`load` reads
them back onto the CPU, so a reference trained elsewhere can be compared without a GPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from .store import load_state, save_state

__all__ = [
    "JET_DEPENDENT",
    "FlowSpec",
    "anomaly_auc",
    "anomaly_aucs",
    "device",
    "discrete_columns",
    "evaluate",
    "is_qcd",
    "jet_flow_spec",
    "load",
    "make_flow",
    "nll",
    "save",
    "spec_of",
    "train_flow",
]

QCD = ("g", "q")


@dataclass(frozen=True)
class FlowSpec:
    """Hyper-parameters of the MAF: ``transforms`` autoregressive layers of ``hidden`` units each.

    ``columns``: the input columns the density is put on (empty: all ``features``). A density needs features
    that are not functions of each other: on a lower-dimensional surface it grows without bound and the NLL
    runs to minus infinity while the flow learns nothing useful (see :data:`JET_DEPENDENT`).

    ``dequantize``: ``(column, bin width)`` pairs, columns of the input, of features taking discrete values
    (the constituent multiplicity): the same unbounded growth happens on integers, so in training each value
    is spread uniformly over its bin; the density is evaluated at bin centres, the values themselves."""

    features: int = 16
    transforms: int = 5
    hidden: tuple[int, ...] = (128, 128)
    columns: tuple[int, ...] = ()
    dequantize: tuple[tuple[int, float], ...] = ()

    @property
    def modelled(self) -> tuple[int, ...]:
        """The input columns the flow sees, in order."""
        return self.columns or tuple(range(self.features))


#: The four jet features that are functions of the others, on every jet (features.py's definitions):
#: ``d2_bB = e3/e2^3 = c2_bB / c1_bB``, ``d2_a1_b1 = d2_b1`` identically, ``d2_a1_b2 = e3^(1)/(e2^(2))^1.5 =
#: c2_b1 c1_b1^2 / c1_b2^1.5``. The flow models the density of the other twelve.
JET_DEPENDENT = ("d2_b1_mmdt", "d2_b2_mmdt", "d2_a1_b1_mmdt", "d2_a1_b2_mmdt")


@dataclass
class TrainLog:
    device: str
    epochs: int
    seconds_per_epoch: float
    train_nll: list[float] = field(default_factory=list)
    val_nll: list[float] = field(default_factory=list)


def device(prefer: str | None = None):
    """``cuda`` when PyTorch sees a GPU (or ``prefer``), else ``cpu``."""
    import torch

    if prefer:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def discrete_columns(
    raw: np.ndarray, *, max_values: int = 1000, atol: float = 1e-3
) -> tuple[tuple[int, float], ...]:
    """``(column, 1.0)`` for each column of ``raw`` (features in their own units) holding only integers (to
    ``atol``: float32 round trips through standardization) and fewer than ``max_values`` distinct ones: the
    bins :class:`FlowSpec` ``dequantize`` spreads in training. Divide the width by the column's scale when
    the flow sees standardized features."""
    out = []
    for j in range(raw.shape[1]):
        col = np.asarray(raw[:, j], dtype=np.float64)
        if np.all(np.abs(col - np.round(col)) < atol) and len(np.unique(np.round(col))) < max_values:
            out.append((j, 1.0))
    return tuple(out)


def jet_flow_spec(feature_names, X_raw: np.ndarray, std: np.ndarray, **kwargs) -> FlowSpec:
    """The spec for standardized jet features: every column but :data:`JET_DEPENDENT`, the discrete ones
    (found in ``X_raw``, the features in their own units) dequantized over one unit, ``1/std`` standardized."""
    names = list(feature_names)
    columns = tuple(j for j, n in enumerate(names) if n not in JET_DEPENDENT)
    bins = tuple((j, w / float(std[j])) for j, w in discrete_columns(X_raw) if j in columns)
    return FlowSpec(features=len(names), columns=columns, dequantize=bins, **kwargs)


def _dequantizer(spec: FlowSpec, dev):
    """``x -> x + uniform noise over each discrete column's bin`` (identity when there is none), on the
    modelled columns."""
    import torch

    if not spec.dequantize:
        return lambda x, gen: x
    width = torch.zeros(len(spec.modelled), device=dev)
    for j, w in spec.dequantize:
        width[spec.modelled.index(j)] = w

    def spread(x, gen):
        u = torch.rand(x.shape, generator=gen).to(dev) - 0.5
        return x + u * width

    return spread


def make_flow(spec: FlowSpec):
    """zuko's MAF on ``spec.modelled`` columns; ``flow.columns`` tells :func:`nll` which to take."""
    import zuko

    bad = [j for j in spec.modelled if not 0 <= j < spec.features]
    bad += [j for j, _ in spec.dequantize if j not in spec.modelled]
    if bad:
        raise InputError(f"flow columns {bad} are not among the {spec.features} inputs / modelled columns")
    flow = zuko.flows.MAF(features=len(spec.modelled), context=0, transforms=spec.transforms,
                          hidden_features=list(spec.hidden))  # fmt: skip
    flow.columns = list(spec.modelled)
    return flow


def nll(flow, X: np.ndarray, batch_size: int = 65536) -> np.ndarray:
    """``-log p(x)`` per event, in nats (the anomaly score)."""
    import torch

    dev = next(flow.parameters()).device
    out = []
    flow.eval()
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            x = torch.as_tensor(np.asarray(X[i : i + batch_size, flow.columns], dtype=np.float32), device=dev)
            out.append(-flow().log_prob(x).cpu().numpy())
    return np.concatenate(out).astype(np.float64)


def train_flow(
    X_train: np.ndarray,
    X_val: np.ndarray,
    spec: FlowSpec = FlowSpec(),
    *,
    epochs: int = 50,
    batch_size: int = 512,
    learning_rate: float = 1e-3,
    seed: int = 0,
    on: str | None = None,
    progress: bool = False,
):
    """Fit a MAF to ``X_train`` by maximum likelihood (Adam); returns ``(flow, TrainLog)``, the flow with the
    weights of the best validation NLL, on the CPU."""
    import torch

    if X_train.ndim != 2 or X_train.shape[1] != spec.features:
        raise InputError(f"the flow takes (n, {spec.features}) features, got {X_train.shape}")
    torch.manual_seed(seed)
    dev = device(on)
    flow = make_flow(spec).to(dev)
    opt = torch.optim.Adam(flow.parameters(), lr=learning_rate)
    x_all = torch.as_tensor(np.asarray(X_train[:, flow.columns], dtype=np.float32), device=dev)
    log = TrainLog(device=str(dev), epochs=epochs, seconds_per_epoch=0.0)
    best, best_state = np.inf, None
    gen = torch.Generator(device="cpu").manual_seed(seed)
    spread = _dequantizer(spec, dev)
    it = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"flow on {dev}", unit="epoch")
    t0 = time.perf_counter()
    for _ in it:
        flow.train()
        order = torch.randperm(len(x_all), generator=gen).to(dev)
        total = 0.0
        for i in range(0, len(order), batch_size):
            x = spread(x_all[order[i : i + batch_size]], gen)
            loss = -flow().log_prob(x).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(x)
        log.train_nll.append(total / len(x_all))
        val = float(nll(flow, X_val).mean())
        log.val_nll.append(val)
        if val < best:
            best, best_state = val, {k: v.detach().clone() for k, v in flow.state_dict().items()}
    if dev.type == "cuda":
        torch.cuda.synchronize()
    log.seconds_per_epoch = (time.perf_counter() - t0) / max(1, epochs)
    flow.load_state_dict(best_state)
    return flow.cpu(), log


def anomaly_auc(scores: np.ndarray, is_signal: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(is_signal, scores))


def evaluate(flow, X: np.ndarray, y: np.ndarray, class_names, *, scores: np.ndarray | None = None) -> dict:
    """Test NLL of QCD jets and, per non-QCD class, the AUC of ``-log p`` against QCD (``scores``: the flow's
    ``nll(X)`` when already computed)."""
    scores = nll(flow, X) if scores is None else scores
    return {
        "qcd_nll": float(scores[is_qcd(y, class_names)].mean()),
        "auc": anomaly_aucs(scores, y, class_names),
    }


def is_qcd(y: np.ndarray, class_names) -> np.ndarray:
    """Which of the labels ``y`` are QCD jets (gluon or light quark), by class name."""
    names = list(class_names)
    return np.isin(y, [names.index(c) for c in QCD if c in names])


def anomaly_aucs(scores: np.ndarray, y: np.ndarray, class_names) -> dict[str, float]:
    """Per non-QCD class, the AUC of ``scores`` (higher: more anomalous) for that class against QCD."""
    qcd = is_qcd(y, class_names)
    out = {}
    for k, name in enumerate(class_names):
        if name not in QCD:
            sel = qcd | (y == k)
            out[name] = anomaly_auc(scores[sel], (y[sel] == k).astype(int))
    return out


def save(flow, spec: FlowSpec, meta: dict, path: str | Path) -> Path:
    """Weights (``<path>.pt``) and ``<path>.json`` with the spec and ``meta`` (metrics, training log)."""
    return save_state(flow, spec, meta, path)


def spec_of(meta: dict) -> FlowSpec:
    """The :class:`FlowSpec` recorded in a saved flow's metadata."""
    s = meta["spec"]
    dq = tuple((int(j), float(w)) for j, w in s.get("dequantize", ()))
    return FlowSpec(s["features"], s["transforms"], tuple(s["hidden"]), tuple(s.get("columns", ())), dq)


def load(path: str | Path):
    """``(flow, meta)`` from :func:`save`'s files, on the CPU."""
    state, meta = load_state(path)
    flow = make_flow(spec_of(meta))
    flow.load_state_dict(state)
    return flow.eval(), meta
