"""The GAN reference on the CPU, with tiny budgets: shapes, losses on a toy, the Keras copy of the generator,
and the shipped generator compiled for the FPGA."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from triggernn.reference import gan as Gm


def test_shapes_and_keras_copy():
    spec = Gm.GANSpec()
    torch.manual_seed(0)
    G, D = Gm.make_gan(spec)
    inputs = Gm.generator_inputs(np.arange(50) % 5, spec)
    assert inputs.shape == (50, 13)
    np.testing.assert_array_equal(inputs[:, 8:].argmax(1), np.arange(50) % 5)
    fake = Gm.generate(G, inputs)
    assert fake.shape == (50, 16)
    assert D(
        torch.cat([torch.as_tensor(fake, dtype=torch.float32), torch.as_tensor(inputs[:, 8:])], 1)
    ).shape == (50, 1)
    keras = Gm.keras_generator(G, spec).predict(inputs, verbose=0)
    np.testing.assert_allclose(keras, fake, atol=1e-5)


def test_losses_move_as_expected_on_a_toy():
    """Two classes of 1D Gaussians: G learns each class's mean and width, and D ends near its equilibrium
    (cannot tell real from generated: loss 2 ln 2 = 1.386)."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=4000)
    X = (np.where(y == 0, -2.0, 3.0) + np.where(y == 0, 0.5, 1.0) * rng.normal(size=4000))[:, None].astype(
        np.float32
    )
    spec = Gm.GANSpec(features=1, classes=2, latent=4, hidden=(32, 32))
    torch.manual_seed(0)
    G0, _ = Gm.make_gan(spec)
    G, _, log = Gm.train_gan(X, y, spec, epochs=40, batch_size=128, lr=1e-3)
    assert log.device == "cpu"
    assert len(log.d_loss) == 40
    for k, (mu, sd) in enumerate([(-2.0, 0.5), (3.0, 1.0)]):
        fake = Gm.generate(G, Gm.generator_inputs(np.full(3000, k), spec)).ravel()
        before = Gm.generate(G0, Gm.generator_inputs(np.full(3000, k), spec)).ravel()
        assert abs(fake.mean() - mu) < 0.3
        assert abs(fake.std() - sd) < 0.3
        assert abs(before.mean() - mu) > 1.0  # the untrained generator was elsewhere
    assert 1.1 < np.mean(log.d_loss[-5:]) < 1.6


def test_shipped_gan_and_its_fpga_generator(tmp_path):
    """`triggernn reference gan`: the shipped generator reproduces its record; its firmware, its jets."""
    from triggernn.cli import main
    from triggernn.reference.run import SHIPPED_GAN

    recorded = json.loads(SHIPPED_GAN.with_suffix(".json").read_text())
    assert recorded["metrics"]["data"] == "embedded"  # its record was judged on the jets every user has
    assert "scaling" in recorded  # trained on other jets: their feature scaling travels with the weights
    args = ["reference", "gan", "--out", str(tmp_path / "run"), "--projects", str(tmp_path / "hls"), "-q"]
    assert main(args) == 0
    res = json.loads((tmp_path / "run" / "metrics.json").read_text())
    gan, fpga = res["gan"], res["fpga_generator"]
    assert gan["source"].startswith("shipped reference")
    for c, w in recorded["metrics"]["w1_mean"].items():  # loads on the CPU and reproduces its record
        # the same weights: another CPU's float32 kernels move each generated value by an ulp at most (1e-7
        # relative), which moves the distance by ~1e-8; 1e-6 relative holds on any x86-64 CPU and still pins it
        assert gan["w1_mean"][c] == pytest.approx(w, rel=1e-6, abs=1e-9)
    assert fpga["max_abs_diff_vs_keras"] < 0.01  # 18-bit calibrated firmware vs the float generator
    for c in gan["w1_mean"]:
        assert abs(fpga["w1_mean"][c] - gan["w1_mean"][c]) < 0.01
        assert gan["w1_mean"][c] < 4 * gan["w1_floor"][c]  # far closer to the data than chance
    assert (tmp_path / "run" / "features.png").stat().st_size > 50_000
    assert (tmp_path / "hls" / "gan_generator" / "firmware" / "myproject.cpp").is_file()
