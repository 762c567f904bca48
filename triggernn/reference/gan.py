"""A conditional GAN for the 16 jet features, and its generator on an FPGA (fast simulation).

Generator ``G(z, c)`` and discriminator ``D(x, c)`` (``c`` the class, one-hot) are small dense networks
trained in turns, as in the lecture: ``D`` maximizes ``sum log D(x) + sum log(1 - D(G(z)))``, ``G`` the
non-saturating ``sum log D(G(z))`` (Goodfellow et al. 2014). PyTorch, on a GPU when present.

Judged against held-out Pythia jets: per class and feature, the 1D Wasserstein distance between generated
and real test jets, beside the same distance between two real samples (the statistical floor); and a
classifier two-sample test, the cross-validated AUC of a gradient-boosted classifier asked to tell generated
from real (0.5: it cannot). The generator is then a Keras model (same weights), compiled with hls4ml at
calibrated precision and C-simulated: its jets are judged the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .store import load_state, save_state

__all__ = ["GANSpec", "c2st_auc", "generate", "keras_generator", "load", "make_gan", "save", "spec_of", "train_gan",
           "wasserstein_table"]  # fmt: skip


@dataclass(frozen=True)
class GANSpec:
    features: int = 16
    classes: int = 5
    latent: int = 8
    hidden: tuple[int, ...] = (64, 64)


@dataclass
class GANLog:
    device: str
    epochs: int
    seconds_per_epoch: float
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)


def make_gan(spec: GANSpec):
    """``(G, D)`` as ``torch.nn.Sequential``: G takes ``[z, onehot]``, D takes ``[x, onehot]`` and gives a logit."""
    import torch.nn as nn

    def mlp(n_in, n_out, act):
        layers, w = [], n_in
        for h in spec.hidden:
            layers += [nn.Linear(w, h), act()]
            w = h
        return nn.Sequential(*layers, nn.Linear(w, n_out))

    return mlp(spec.latent + spec.classes, spec.features, nn.ReLU), mlp(spec.features + spec.classes, 1,
                                                                        lambda: nn.LeakyReLU(0.2))  # fmt: skip


def _onehot(y, n, dev):
    import torch

    return torch.nn.functional.one_hot(torch.as_tensor(y, device=dev).long(), n).float()


def train_gan(X, y, spec: GANSpec = GANSpec(), *, epochs=200, batch_size=256, lr=2e-4, seed=0, on=None,
              progress=False):  # fmt: skip
    """Train G and D in turns on features ``X`` with classes ``y``; returns ``(G, D, GANLog)`` on the CPU."""
    import torch

    from .flow import device

    torch.manual_seed(seed)
    dev = device(on)
    G, D = (m.to(dev) for m in make_gan(spec))
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    x_all = torch.as_tensor(np.asarray(X, dtype=np.float32), device=dev)
    c_all = _onehot(y, spec.classes, dev)
    log = GANLog(str(dev), epochs, 0.0)
    gen = torch.Generator(device="cpu").manual_seed(seed)
    it = range(epochs)
    if progress:
        from tqdm.auto import tqdm

        it = tqdm(it, desc=f"GAN on {dev}", unit="epoch")
    t0 = time.perf_counter()
    for _ in it:
        order = torch.randperm(len(x_all), generator=gen).to(dev)
        dl = gl = 0.0
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            x, c = x_all[idx], c_all[idx]
            z = torch.randn(len(idx), spec.latent, device=dev)
            fake = G(torch.cat([z, c], 1))
            # D: real -> 1, generated -> 0
            d_loss = bce(D(torch.cat([x, c], 1)), torch.ones(len(idx), 1, device=dev)) + bce(
                D(torch.cat([fake.detach(), c], 1)), torch.zeros(len(idx), 1, device=dev)
            )
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            # G: make D call its jets real
            g_loss = bce(D(torch.cat([fake, c], 1)), torch.ones(len(idx), 1, device=dev))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            dl += d_loss.item() * len(idx)
            gl += g_loss.item() * len(idx)
        log.d_loss.append(dl / len(x_all))
        log.g_loss.append(gl / len(x_all))
    log.seconds_per_epoch = (time.perf_counter() - t0) / max(1, epochs)
    return G.cpu().eval(), D.cpu().eval(), log


def generator_inputs(y, spec: GANSpec, seed: int = 1) -> np.ndarray:
    """``[z, onehot(y)]`` for classes ``y``: the generator's (and its firmware's) inputs."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(len(y), spec.latent)).astype(np.float32)
    return np.hstack([z, np.eye(spec.classes, dtype=np.float32)[np.asarray(y)]])


def generate(G, inputs: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        return G(torch.as_tensor(inputs)).numpy().astype(np.float64)


def wasserstein_table(real, fake, y_real, y_fake, class_names, reference=None, y_ref=None) -> dict:
    """``{class: [W1 per feature]}`` between real and generated jets (and, with ``reference``, between real
    and another real sample: the floor a perfect generator would reach)."""
    from scipy.stats import wasserstein_distance

    out = {}
    for k, name in enumerate(class_names):
        r, f = real[y_real == k], fake[y_fake == k]
        row = {"generated": [wasserstein_distance(r[:, j], f[:, j]) for j in range(real.shape[1])]}
        if reference is not None:
            ref = reference[y_ref == k]
            row["real_vs_real"] = [wasserstein_distance(r[:, j], ref[:, j]) for j in range(real.shape[1])]
        out[name] = row
    return out


def c2st_auc(real, fake, y_real, y_fake, n_classes: int, seed: int = 0) -> float:
    """Classifier two-sample test: 5-fold cross-validated AUC of telling generated from real (class given)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    X = np.vstack(
        [np.hstack([real, np.eye(n_classes)[y_real]]), np.hstack([fake, np.eye(n_classes)[y_fake]])]
    )
    t = np.r_[np.zeros(len(real)), np.ones(len(fake))]
    clf = HistGradientBoostingClassifier(max_iter=100, random_state=seed)
    return float(np.mean(cross_val_score(clf, X, t, cv=5, scoring="roc_auc")))


def keras_generator(G, spec: GANSpec):
    """The generator as a Keras model with the same weights (Dense + ReLU layers), for hls4ml."""
    import tensorflow as tf

    linears = [m for m in G if hasattr(m, "weight")]
    x = inp = tf.keras.Input((spec.latent + spec.classes,), name="noise_class")
    for i, lin in enumerate(linears):
        last = i == len(linears) - 1
        x = tf.keras.layers.Dense(lin.out_features, name="out" if last else f"fc{i + 1}")(x)
        if not last:
            x = tf.keras.layers.Activation("relu", name=f"fc{i + 1}_relu")(x)
    model = tf.keras.Model(inp, x, name="gan_generator")
    for lin in linears:
        layer = model.get_layer("out" if lin is linears[-1] else f"fc{linears.index(lin) + 1}")
        layer.set_weights([lin.weight.detach().numpy().T, lin.bias.detach().numpy()])
    return model


def save(G, spec: GANSpec, meta: dict, path) -> Path:
    return save_state(G, spec, meta, path)


def spec_of(meta: dict) -> GANSpec:
    """The :class:`GANSpec` recorded in a saved generator's metadata."""
    s = meta["spec"]
    return GANSpec(s["features"], s["classes"], s["latent"], tuple(s["hidden"]))


def load(path):
    """``(G, meta)`` on the CPU."""
    state, meta = load_state(path)
    G, _ = make_gan(spec_of(meta))
    G.load_state_dict(state)
    return G.eval(), meta
