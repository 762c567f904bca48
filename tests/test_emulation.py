"""Fast emulation: bit for bit the C simulation, on every shipped config and on forms the configs lack."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
import tensorflow as tf
from conftest import FAST_CONFIGS, grid_inputs, make_qkeras_dense

import triggernn.hls.build_cache as build_cache
from triggernn import Emulator, emulate, load_config
from triggernn.emulation.fixed import cast
from triggernn.errors import ConfigError, InputError
from triggernn.hls import emit
from triggernn.hls.link import link_project
from triggernn.quantize import FixedSpec

# (width, integer, signed, rounding, saturation): every mode, narrow and wide, signed and not
_TYPES = [
    (8, 3, True, "TRN", "WRAP"),
    (8, 3, True, "RND", "SAT"),
    (6, 0, False, "RND_CONV", "SAT"),
    (10, 4, True, "TRN_ZERO", "SAT_SYM"),
    (7, 2, True, "RND_ZERO", "WRAP"),
    (9, 5, True, "RND_INF", "SAT_ZERO"),
    (12, -2, True, "RND_MIN_INF", "WRAP"),
    (5, 7, False, "TRN", "WRAP"),
    (40, 12, True, "RND_CONV", "SAT"),
]


def test_cast_is_xilinx_ap_fixed(tmp_path):
    """numpy casts against the ap_fixed headers themselves, compiled here, on values that hit every tie."""
    import hls4ml

    ap_types = f"{hls4ml.__path__[0]}/templates/vivado/ap_types"
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [rng.normal(scale=s, size=300) for s in (0.05, 1, 8, 200)]
        + [np.arange(-64, 64) / 32 + 1 / 64, np.arange(-64, 64) / 8 + 1 / 16, [0.0, -0.0, 1e-9, -1e-9]]
    )  # the last rows sit exactly halfway between neighbours of the narrow types
    lines = ["#include <cstdio>", '#include "ap_fixed.h"', "int main() { double v[] = {"]
    lines.append(",".join(f"{v.hex()}" for v in values) + "};")
    for w, i, s, q, o in _TYPES:
        t = f"ap_{'' if s else 'u'}fixed<{w},{i},AP_{q},AP_{o}>"
        lines.append(f'for (double x : v) {{ {t} y = x; std::printf("%a\\n", y.to_double()); }}')
    lines.append("return 0; }")
    (tmp_path / "cast.cpp").write_text("\n".join(lines))
    subprocess.run(["g++", "-O1", f"-I{ap_types}", "cast.cpp", "-o", "cast"], cwd=tmp_path, check=True)
    out = subprocess.run(["./cast"], cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    expected = np.array([float.fromhex(x) for x in out]).reshape(len(_TYPES), len(values))
    for row, (w, i, s, q, o) in zip(expected, _TYPES, strict=True):
        got = cast(values, FixedSpec(w, i, signed=s, rounding=q, saturation=o))
        bad = np.flatnonzero(got != row)
        assert bad.size == 0, (
            f"{(w, i, s, q, o)}: {values[bad[:5]]} -> {got[bad[:5]]}, ap_fixed {row[bad[:5]]}"
        )


@pytest.mark.parametrize("name", [p.stem for p in FAST_CONFIGS])
def test_every_config_is_emulated_bit_for_bit(config_run, name):
    """emulate() equals hls4ml's predict() on every test event of every shipped model (outputs and logits)."""
    r = config_run(name)
    em = Emulator(r.project, logits_layer=r.project.logits_layer)
    assert em.engine == "numpy", em.reason
    out, logits = em.predict(r.X_test, return_logits=True)
    assert (
        out.dtype == np.float64
    )  # exact for wide types too (the GRU's logits need more than float32's 24 bits)
    np.testing.assert_array_equal(out, r.project.csim.outputs.reshape(out.shape))
    np.testing.assert_array_equal(logits, r.project.csim.logits)
    if name == "jet_gru":  # the C++ engine too, on the model with the most arithmetic per event
        cpp = emulate(r.project, r.X_test[:300], engine="cpp")
        np.testing.assert_array_equal(cpp, r.project.csim.outputs[:300])


def _float_tables_model():
    """A float model with tanh and sigmoid tables, compiled at hls4ml's default fixed<16,6> everywhere: the
    accumulators are coarser than the products, so each product is truncated on its own."""
    tf.keras.utils.set_random_seed(4)
    inp = tf.keras.Input((16,), name="features")
    x = tf.keras.layers.Dense(12, activation="tanh", name="fc1")(inp)
    x = tf.keras.layers.Dense(8, activation="sigmoid", name="fc2")(x)
    x = tf.keras.layers.BatchNormalization(name="bn")(x)
    x = tf.keras.layers.Dense(4, name="out")(x)
    out = tf.keras.layers.Activation("softmax", name="softmax")(x)
    model = tf.keras.Model(inp, out)
    bn = model.get_layer("bn")
    bn.set_weights([w + 0.3 for w in bn.get_weights()])  # a batch norm that does something
    return model


@pytest.mark.slow  # minutes on 2 cores: the default run stays near 25 min (make test PYTEST_ARGS="-m ''")
def test_float_model_with_tables_and_truncated_products(tmp_path):
    model = _float_tables_model()
    cfg = load_config({"name": "tables", "hls": {"io_type": "io_parallel"}})
    X = grid_inputs(3000, scale=3.0)
    project = emit(model, cfg, tmp_path / "prj", csim_inputs=X)
    em = Emulator(project)
    assert em.engine == "numpy", em.reason
    out = em.predict(X, batch_size=700)  # several batches, the last one short
    np.testing.assert_array_equal(out, project.csim.outputs)
    assert np.std(out) > 0.05  # the comparison is not between constants
    np.testing.assert_array_equal(emulate(project, X[:500], engine="cpp"), project.csim.outputs[:500])


def test_fused_softmax_is_refused_with_the_fix(tmp_path):
    inp = tf.keras.Input((16,), name="features")
    model = tf.keras.Model(inp, tf.keras.layers.Dense(4, activation="softmax", name="out")(inp))
    with pytest.raises(ConfigError, match=r"'out' \(Dense\) applies its softmax itself"):
        emit(model, load_config({"name": "fused"}), tmp_path / "prj")
    assert not (tmp_path / "prj").exists()


@pytest.mark.slow  # minutes on 2 cores: the default run stays near 25 min (make test PYTEST_ARGS="-m ''")
def test_workers_and_engines_agree(small_cfg, tmp_path):
    model = make_qkeras_dense(small_cfg)
    X = grid_inputs(4000)
    project = emit(model, small_cfg, tmp_path / "prj", csim_inputs=X)
    one = emulate(project, X, batch_size=1000)
    np.testing.assert_array_equal(one, project.csim.outputs)
    np.testing.assert_array_equal(emulate(project, X, batch_size=1000, workers=2), one)
    np.testing.assert_array_equal(emulate(project, X, engine="cpp", batch_size=1000, workers=2), one)
    # a project re-opened from disk (files only, no layer graph): the C++ engine, same outputs
    existing = Emulator(link_project(project.path))
    assert existing.engine == "cpp"
    assert "re-opened from disk" in existing.reason
    np.testing.assert_array_equal(existing.predict(X), one)
    # the same project opened with tn.open_project: its recorded model converted again and checked against
    # the firmware on disk, so the numpy engine walks its layers
    import triggernn as tn

    opened = tn.open_project(project.path)
    assert opened.has_layer_graph
    assert opened.input_shape == (16,)
    em = Emulator(opened)
    assert em.engine == "numpy", em.reason
    np.testing.assert_array_equal(em.predict(X), one)
    np.testing.assert_array_equal(opened.predict(X[:300]).outputs, one[:300])


def test_build_cache_reuses_unchanged_firmware(small_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("TRIGGERNN_CACHE", str(tmp_path / "cache"))
    model = make_qkeras_dense(small_cfg)
    X = grid_inputs(200)
    first = emit(model, small_cfg, tmp_path / "a", csim_inputs=X)
    entries = sorted((tmp_path / "cache" / "csim").iterdir())
    assert entries
    assert all((e / "csim.so").is_file() and (e / "weights").is_dir() for e in entries)

    def no_compiler(*args, **kwargs):
        raise AssertionError("g++ was called for firmware already in the cache")

    monkeypatch.setattr(build_cache, "_gcc", no_compiler)
    again = emit(model, small_cfg, tmp_path / "b", csim_inputs=X)  # same firmware, another folder
    np.testing.assert_array_equal(again.csim.outputs, first.csim.outputs)
    assert sorted((tmp_path / "cache" / "csim").iterdir()) == entries
    monkeypatch.undo()
    monkeypatch.setenv("TRIGGERNN_CACHE", str(tmp_path / "cache"))
    changed = tf.keras.models.clone_model(model)
    changed.set_weights([w * 0.5 for w in model.get_weights()])
    emit(changed, small_cfg, tmp_path / "c", csim_inputs=X)
    assert len(list((tmp_path / "cache" / "csim").iterdir())) > len(entries)  # new weights, new build


def test_bad_requests_are_refused(small_cfg, tmp_path):
    project = emit(make_qkeras_dense(small_cfg), small_cfg, tmp_path / "prj")
    with pytest.raises(InputError, match="engine must be one of"):
        Emulator(project, "fpga")
    with pytest.raises(InputError, match=r"the model takes \(16,\)"):
        emulate(project, np.zeros((10, 15), dtype=np.float32))
    with pytest.raises(InputError, match="beyond float32's range"):
        emulate(project, np.full((2, 16), 1e300))
    with pytest.raises(InputError, match="one input, pass one array"):
        emulate(project, {"features": np.zeros((2, 16))})
    with pytest.raises(InputError, match="one input, pass one array"):
        emulate(project, [np.zeros((2, 16)), np.zeros((2, 16))])
    with pytest.raises(InputError, match="cannot emulate a str"):
        emulate("hls_projects/x", np.zeros((1, 16)))
    with pytest.raises(InputError, match="logits_layer"):
        Emulator(project).predict(np.zeros((2, 16)), return_logits=True)
