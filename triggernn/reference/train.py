"""Train the flow and GAN references where TensorFlow is not: a GPU machine with PyTorch alone.

Two steps, so that the GPU machine needs numpy, PyTorch, zuko, SciPy and scikit-learn only (no TensorFlow,
hls4ml, pydantic or uproot)::

    # here, with triggernn installed: the jets' splits as one .npz
    python -m triggernn.reference.train export jets.npz
    # on the GPU machine (zuko carried as a wheel): both references, GPU vs CPU seconds per epoch
    python -m triggernn.reference.train fit jets.npz --out weights/

``fit`` trains each reference on the GPU when PyTorch sees one (else the CPU), then times a few epochs of the
same training on the CPU of the same machine, and writes ``flow_qcd.{pt,json}`` and
``gan_generator.{pt,json}`` (the shipped format, feature scaling included: copy them to
``triggernn/reference/weights/``) and ``timing.json``. ``triggernn reference flow|gan`` then loads them anywhere and compiles their FPGA models.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from . import flow as F
from . import gan as Gm

__all__ = ["export_jets", "fit_references", "load_arrays", "train_flow_reference", "train_gan_reference"]

_SPLITS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test", "mean", "std")


def export_jets(path: str | Path, source: str | Path | None = None) -> Path:
    """The splits of :func:`triggernn.data.load_jets` of ``source`` (default: the embedded jets) - standardized
    features, labels, scales, names - as one ``.npz``, written atomically."""
    from ..data import load_jets

    ds = load_jets(source)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as f:
        np.savez_compressed(f, **{k: getattr(ds, k) for k in _SPLITS},
                            class_names=np.array(ds.class_names), feature_names=np.array(ds.feature_names),
                            source=np.array(ds.source))  # fmt: skip
    partial.replace(path)
    return path


def load_arrays(path: str | Path) -> SimpleNamespace:
    """:func:`export_jets`' file as an object with the attributes of a ``JetDataset``."""
    with np.load(path) as z:
        missing = [k for k in (*_SPLITS, "class_names", "feature_names") if k not in z.files]
        if missing:
            raise F.InputError(
                f"{path} lacks {missing}: write it with `python -m triggernn.reference.train export`"
            )
        ds = SimpleNamespace(**{k: z[k] for k in _SPLITS})
        ds.class_names = tuple(str(c) for c in z["class_names"])
        ds.feature_names = tuple(str(c) for c in z["feature_names"])
        ds.source = str(z["source"]) if "source" in z.files else str(path)
    return ds


def _device_name(dev: str) -> str:
    import torch

    if dev.startswith("cuda"):
        return torch.cuda.get_device_name(0)
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads"


def train_flow_reference(ds, epochs: int, *, on: str | None = None, progress: bool = False):
    """The flow of QCD jets from ``ds`` (a ``JetDataset`` or :func:`load_arrays`): ``(flow, spec, training)``,
    ``training`` the record saved beside the weights (device, seconds per epoch, best validation NLL)."""
    qcd_tr, qcd_va = (F.is_qcd(y, ds.class_names) for y in (ds.y_train, ds.y_val))
    spec = F.jet_flow_spec(ds.feature_names, ds.X_train.astype(np.float64) * ds.std + ds.mean, ds.std)
    flow, log = F.train_flow(
        ds.X_train[qcd_tr], ds.X_val[qcd_va], spec, epochs=epochs, on=on, progress=progress
    )
    training = {"device": log.device, "device_name": _device_name(log.device), "epochs": epochs,
                "seconds_per_epoch": log.seconds_per_epoch, "jets": int(qcd_tr.sum()), "data": str(ds.source),
                "best_val_nll": min(log.val_nll)}  # fmt: skip
    return flow, spec, training


def train_gan_reference(ds, epochs: int, *, on: str | None = None, progress: bool = False):
    """The conditional GAN of all of ``ds``'s jets: ``(G, spec, training)``."""
    spec = Gm.GANSpec()
    G, _, log = Gm.train_gan(ds.X_train, ds.y_train, spec, epochs=epochs, on=on, progress=progress)
    training = {"device": log.device, "device_name": _device_name(log.device), "epochs": epochs,
                "seconds_per_epoch": log.seconds_per_epoch, "jets": len(ds.X_train), "data": str(ds.source),
                "d_loss_last": log.d_loss[-1], "g_loss_last": log.g_loss[-1]}  # fmt: skip
    return G, spec, training


def fit_references(
    ds,
    out: str | Path,
    *,
    flow_epochs: int = 300,
    gan_epochs: int = 2000,
    cpu_epochs: int = 5,
    on: str | None = None,
    evaluate_on=None,
    progress: bool = True,
) -> dict:
    """Train the flow (QCD jets) and the conditional GAN (all jets) of ``ds`` on ``on`` (default: GPU when
    present), time ``cpu_epochs`` epochs of each on the CPU too (0: skip), judge both on the test split of
    ``evaluate_on`` (default ``ds``), save them in the shipped format under ``out``; returns the timing table
    also written to ``<out>/timing.json``."""
    from .run import gan_quality
    from .units import from_reference, scaling_of, to_reference

    ev = ds if evaluate_on is None else evaluate_on
    scaling = scaling_of(ds)

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dev = str(F.device(on))
    flow, spec, flow_t = train_flow_reference(ds, flow_epochs, on=dev, progress=progress)
    G, gspec, gan_t = train_gan_reference(ds, gan_epochs, on=dev, progress=progress)
    if cpu_epochs and dev != "cpu":
        for t, train in ((flow_t, train_flow_reference), (gan_t, train_gan_reference)):
            cpu = train(ds, cpu_epochs, on="cpu")[2]
            t.update(cpu_seconds_per_epoch=cpu["seconds_per_epoch"], cpu_name=cpu["device_name"],
                     cpu_over_gpu=cpu["seconds_per_epoch"] / t["seconds_per_epoch"])  # fmt: skip
    flow_metrics = F.evaluate(flow, to_reference(ev.X_test, ev, scaling), ev.y_test, ev.class_names)
    F.save(flow, spec, {"scaling": scaling, "training": flow_t, "metrics": {**flow_metrics, "data": ev.source}},
           out / "flow_qcd")  # fmt: skip
    fake = from_reference(Gm.generate(G, Gm.generator_inputs(ev.y_test, gspec, seed=1)), ev, scaling)
    gan_metrics = {**gan_quality(ev.X_test, fake, ev.y_test, ev), "data": ev.source}
    Gm.save(G, gspec, {"scaling": scaling, "training": gan_t, "metrics": gan_metrics}, out / "gan_generator")
    rows = {"flow": flow_t, "gan": gan_t}
    (out / "timing.json").write_text(json.dumps(rows, indent=1))
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m triggernn.reference.train", description=__doc__.split("\n")[0]
    )
    sub = p.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser(
        "export", help="write the embedded jets' splits as one .npz (needs triggernn's data stack)"
    )
    ex.add_argument("path", type=Path)
    ex.add_argument("--source", default=None, help="a jet file (default: the embedded jets)")
    fit = sub.add_parser("fit", help="train the flow and the GAN from an exported .npz (PyTorch + zuko only)")
    fit.add_argument("data", type=Path, help="the jets to train on (an export)")
    fit.add_argument(
        "--evaluate-on", type=Path, default=None, help="an export whose test split judges (default: data)"
    )
    fit.add_argument("--out", type=Path, required=True, help="folder for the weights and timing.json")
    fit.add_argument("--flow-epochs", type=int, default=300)
    fit.add_argument("--gan-epochs", type=int, default=2000)
    fit.add_argument(
        "--cpu-epochs", type=int, default=5, help="epochs timed on the CPU beside the GPU (0: none)"
    )
    fit.add_argument("--device", default=None, help="cuda or cpu (default: cuda when PyTorch sees a GPU)")
    args = p.parse_args(argv)
    if args.cmd == "export":
        print(export_jets(args.path, args.source))
        return 0
    ev = load_arrays(args.evaluate_on) if args.evaluate_on else None
    rows = fit_references(load_arrays(args.data), args.out, flow_epochs=args.flow_epochs, evaluate_on=ev,
                          gan_epochs=args.gan_epochs, cpu_epochs=args.cpu_epochs, on=args.device)  # fmt: skip
    print(f"{'model':<6}{'device':<28}{'s/epoch':>10}{'CPU s/epoch':>13}{'CPU/GPU':>9}")
    for name, r in rows.items():
        cpu = r.get("cpu_seconds_per_epoch")
        ratio = f"{r['cpu_over_gpu']:.1f}x" if cpu else "-"
        cpu_s = f"{cpu:.3f}" if cpu else "-"
        print(f"{name:<6}{r['device_name'][:27]:<28}{r['seconds_per_epoch']:>10.3f}{cpu_s:>13}{ratio:>9}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
