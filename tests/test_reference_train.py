"""Training the references where only PyTorch is (the GPU machine): the export, the trainer's imports, the
saved files in the shipped format, and the reference configs behind `triggernn run configs/flow.yaml`."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from triggernn.errors import ConfigError
from triggernn.reference import flow as F
from triggernn.reference import gan as Gm
from triggernn.reference.config import is_reference_config, load_reference_config
from triggernn.reference.run import training_line
from triggernn.reference.train import export_jets, fit_references, load_arrays, main


def test_the_trainer_needs_no_tensorflow_pydantic_or_uproot():
    code = (
        "import sys, triggernn.reference.train\n"
        "heavy = {'tensorflow', 'keras', 'hls4ml', 'pydantic', 'yaml', 'uproot', 'awkward', 'qkeras'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow  # minutes on 2 cores: the default run stays near 25 min (make test PYTEST_ARGS="-m ''")
def test_export_fit_and_load_like_the_shipped_references(tmp_path):
    from triggernn.data import load_jets

    ds = load_jets()
    path = export_jets(tmp_path / "jets.npz")
    arrays = load_arrays(path)
    for k in ("X_train", "y_test", "std"):
        np.testing.assert_array_equal(getattr(arrays, k), getattr(ds, k))
    assert arrays.feature_names == ds.feature_names
    assert arrays.class_names == ds.class_names
    rows = fit_references(arrays, tmp_path / "w", flow_epochs=2, gan_epochs=2, cpu_epochs=1, progress=False)
    assert set(rows) == {"flow", "gan"}
    assert all(r["device"] == "cpu" and r["seconds_per_epoch"] > 0 for r in rows.values())
    assert json.loads((tmp_path / "w" / "timing.json").read_text()) == json.loads(json.dumps(rows))
    flow, meta = F.load(tmp_path / "w" / "flow_qcd")
    assert len(flow.columns) == 12
    assert meta["training"]["epochs"] == 2
    scores = F.nll(flow, arrays.X_test)
    assert abs(F.evaluate(flow, arrays.X_test, arrays.y_test, arrays.class_names, scores=scores)["auc"]["t"]
               - meta["metrics"]["auc"]["t"]) < 1e-12  # fmt: skip
    _G, gmeta = Gm.load(tmp_path / "w" / "gan_generator")
    assert set(gmeta["metrics"]["w1_mean"]) == set(ds.class_names)
    assert 0 < gmeta["metrics"]["c2st_auc"] <= 1
    assert "2 epochs on cpu" in training_line(meta["training"])


def test_trainer_refuses_a_file_that_is_not_an_export(tmp_path):
    np.savez(tmp_path / "other.npz", X_train=np.zeros((2, 16)))
    with pytest.raises(F.InputError, match=r"lacks .*export"):
        main(["fit", str(tmp_path / "other.npz"), "--out", str(tmp_path / "w")])
    assert not (tmp_path / "w" / "flow_qcd.pt").exists()


def test_timing_line_sets_gpu_beside_cpu():
    t = {"device": "cuda", "device_name": "NVIDIA H100", "epochs": 300, "seconds_per_epoch": 0.01,
         "cpu_seconds_per_epoch": 0.05, "cpu_name": "x86_64, 16 threads", "cpu_over_gpu": 5.0}  # fmt: skip
    line = training_line(t)
    assert "300 epochs on cuda (NVIDIA H100)" in line
    assert "5.0x" in line
    assert "0.050 s" in line


def test_reference_configs():
    flow = load_reference_config("flow")  # the shipped configs/flow.yaml
    assert flow.reference == "flow"
    assert not flow.retrain
    assert flow.epochs >= 100
    assert flow.name == "flow"
    gan = load_reference_config("configs/gan.yaml")
    assert gan.name == "gan"
    assert gan.reference == "gan"
    assert gan.width == 18
    assert is_reference_config("configs/gan.yaml")
    assert not is_reference_config("configs/jet_dense.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("reference: flow\nepochs: 10\nstudent_epoch: 5\n", r"unknown key '(flow\.)?student_epoch'"),
        ("reference: vae\n", "'reference:' set to flow or gan"),
        ("reference: gan\nwidth: 3\n", "width"),
        ("reference: [flow\n", "not valid YAML"),
    ],
)
def test_bad_reference_configs_are_named(tmp_path, text, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_reference_config(bad)


def test_reference_units_follow_the_reference_not_the_dataset():
    """A reference keeps the scaling of the jets it was trained on: another sample (its own mean and width)
    is moved into those units, and generated features back, exactly."""
    from types import SimpleNamespace

    from triggernn.data import load_jets
    from triggernn.reference.units import from_reference, scaling_of, to_reference

    a, b = load_jets(), load_jets(seed=7)  # other splits: other means and widths
    assert not np.allclose(a.mean, b.mean)
    raw = b.X_test.astype(np.float64) * b.std + b.mean
    in_a = to_reference(b.X_test, b, scaling_of(a))
    np.testing.assert_allclose(in_a, (raw - a.mean) / a.std, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(from_reference(in_a, b, scaling_of(a)), b.X_test, rtol=1e-4, atol=1e-4)
    other = SimpleNamespace(feature_names=("pt",) * 16, mean=None, std=None)
    with pytest.raises(F.InputError, match="trained on features"):
        to_reference(b.X_test, other, scaling_of(a))


def test_a_saved_reference_without_its_scaling_is_refused(tmp_path):
    """Judging a reference in the wrong units would give plausible, wrong numbers: refuse with the fix."""
    import shutil

    from triggernn.reference.run import SHIPPED_FLOW, _trained_or_shipped

    meta = json.loads(SHIPPED_FLOW.with_suffix(".json").read_text())
    shutil.copy(SHIPPED_FLOW.with_suffix(".pt"), tmp_path / "old.pt")
    (tmp_path / "old.json").write_text(json.dumps({k: v for k, v in meta.items() if k != "scaling"}))
    cfg = load_reference_config("flow")
    with pytest.raises(F.InputError, match="no feature scaling: retrain"):
        _trained_or_shipped(F, tmp_path / "old", None, cfg, None, False)
    flow, spec, _, scaling, source = _trained_or_shipped(F, SHIPPED_FLOW, None, cfg, None, False)
    assert flow.columns == list(spec.modelled)
    assert spec == F.spec_of(meta)
    assert scaling == meta["scaling"]
    assert source.startswith("shipped reference")
