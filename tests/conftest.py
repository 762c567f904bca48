"""Shared fixtures: small seeded QKeras models and configs, each test writing into its own tmp folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from triggernn.config import load_config
from triggernn.quantize import FixedSpec, to_fixed_grid

# C-sim builds are cached by content (triggernn.hls.build_cache): one fresh cache per test session, shared by
# its tests, so nothing is left in the home folder and no build from an earlier run is trusted.
os.environ["TRIGGERNN_CACHE"] = tempfile.mkdtemp(prefix="triggernn-test-cache-")


@pytest.fixture
def small_cfg(tmp_path):
    """A jet_dense config with a small training budget."""
    return load_config(
        {
            "name": "tiny",
            "model": {"hidden": [16, 8]},
            "train": {"epochs": 3, "patience": 2},
            "hls": {"tb_events": 50, "softmax": {"table_size": 4096}},
        }
    )


def make_qkeras_dense(cfg, n_in: int = 16, n_classes: int = 5, seed: int = 0):
    """An untrained QKeras dense model of ``cfg`` with seeded random weights."""
    from triggernn.models import build_model
    from triggernn.train import seed_everything

    seed_everything(seed)
    return build_model(cfg, (n_in,), n_classes, quantized=True)


def grid_inputs(n: int, n_in: int = 16, seed: int = 1, scale: float = 1.5) -> np.ndarray:
    """Random inputs on the ap_fixed<16,6> grid."""
    rng = np.random.default_rng(seed)
    return to_fixed_grid(rng.normal(scale=scale, size=(n, n_in)), FixedSpec(16, 6))


ROOT = Path(__file__).parents[1]
# the run configs (configs/flow.yaml and gan.yaml describe reference runs: tests/test_reference_train.py)
CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.yaml") if "reference:" not in p.read_text())
#: Configs whose full run takes minutes (60k training images, 10k C-simulated events): marked slow.
SLOW_CONFIGS = {"fashion_mnist_dense"}
FAST_CONFIGS = [p for p in CONFIGS if p.stem not in SLOW_CONFIGS]
#: What CI changes in a shipped config: only the testbench size. Training on the embedded 10k jets takes
#: seconds per model, so CI checks exactly the configs users run (about 30 s each, most of it hls4ml).
CI_OVERRIDES = {"hls": {"tb_events": 100}}


@pytest.fixture(scope="session")
def config_run(tmp_path_factory):
    """``config_run("jet_gru")``: configs/jet_gru.yaml run once per session (cached), with ``CI_OVERRIDES``."""
    from triggernn.pipeline import run

    cache = {}

    def get(name: str):
        if name not in cache:
            cfg = load_config(ROOT / "configs" / f"{name}.yaml")
            cfg = cfg.with_overrides(
                **{k: {**getattr(cfg, k).model_dump(), **v} for k, v in CI_OVERRIDES.items()}
            )
            d = tmp_path_factory.mktemp(f"config_{name}")
            cache[name] = run(cfg, run_root=d / "runs", project_root=d / "hls", progress=False)
        return cache[name]

    return get


def save_tiny_classifier(path: Path, n_in: int, hidden: int, n_classes: int = 3) -> Path:
    """A float Keras classifier ``n_in -> hidden (ReLU) -> n_classes -> softmax`` saved to ``path``: a user's
    model for the tests of mistakes (nothing in them gets as far as training)."""
    import tensorflow as tf

    inp = tf.keras.Input((n_in,), name="features")
    x = tf.keras.layers.Dense(hidden, activation="relu", name="fc1")(inp)
    x = tf.keras.layers.Dense(n_classes, name="logits")(x)
    tf.keras.Model(inp, tf.keras.layers.Activation("softmax", name="softmax")(x)).save(path)
    return path


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` (hidden ones included) with its content hash."""
    import hashlib

    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
        for p in sorted(folder.rglob("*"))
    }


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (`make test` runs two workers, `--dist loadgroup`): the tests of one file share a worker
    (their module fixtures are built once), and every test of a session fixture that trains (``config_run``,
    ``lecture_run``) shares one worker, so no config is trained twice. Without xdist the marks do nothing."""
    for item in items:
        shared = [f for f in ("config_run", "lecture_run") if f in getattr(item, "fixturenames", ())]
        item.add_marker(pytest.mark.xdist_group(shared[0] if shared else item.nodeid.split("::")[0]))
