"""generate_jets: physics of a small generated sample, reproducibility, atomic output, missing extras."""

from __future__ import annotations

import builtins
import json
import pathlib

import numpy as np
import pytest

from triggernn.data import CLASS_NAMES, HLF_FEATURES, DataError, generate_jets, load_jets
from triggernn.data import generate as gen

N_PER_CLASS = 60


def _read(path: pathlib.Path) -> dict[str, np.ndarray]:
    import uproot

    with uproot.open(path) as f:
        arrays = f["jets"].arrays(library="np")
        arrays["meta"] = json.loads(str(f["meta"]))
    return arrays


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    path = tmp_path_factory.mktemp("gen") / "jets.root"
    out = generate_jets(path, 5 * N_PER_CLASS, seed=11, processes=1, max_constituents=20, progress=False)
    assert out == path
    assert path.is_file()
    assert not path.with_name(path.name + ".tmp").exists()
    return _read(path)


@pytest.mark.gen
def test_balance_and_finite(sample: dict[str, np.ndarray]) -> None:
    assert np.bincount(sample["label"]).tolist() == [N_PER_CLASS] * 5
    for name in (*HLF_FEATURES, "jet_pt", "jet_eta", "jet_phi", "jet_mass"):
        assert np.all(np.isfinite(sample[name])), name
    assert np.all((sample["jet_pt"] >= 800) & (sample["jet_pt"] < 1600))  # the default window
    assert np.all(np.abs(sample["jet_eta"]) < 2.5)
    assert sample["meta"]["counts"] == dict.fromkeys(CLASS_NAMES, N_PER_CLASS)


@pytest.mark.gen
def test_groomed_mass_peaks_and_multiplicity(sample: dict[str, np.ndarray]) -> None:
    label, mass, mult = sample["label"], sample["mass_mmdt"], sample["multiplicity"]
    med = {c: float(np.median(mass[label == i])) for i, c in enumerate(CLASS_NAMES)}
    assert 65 < med["w"] < 95, med
    assert 75 < med["z"] < 105, med
    assert 150 < med["t"] < 195, med
    assert min(med["w"], med["z"], med["t"]) > max(med["q"], med["g"]), med
    assert mult[label == 0].mean() > mult[label == 1].mean(), "gluon jets must have more constituents"
    # substructure: two-prong W/Z have lower N2 than QCD jets on average
    n2 = sample["n2_b1_mmdt"]
    assert np.median(n2[np.isin(label, [2, 3])]) < np.median(n2[np.isin(label, [0, 1])])


@pytest.mark.gen
def test_constituents_truncated_after_features(sample: dict[str, np.ndarray]) -> None:
    npart = sample["npart"]
    assert npart.max() == 20
    assert np.any(sample["multiplicity"] > 20)  # features saw the full jet
    np.testing.assert_array_equal(npart, np.minimum(sample["multiplicity"], 20))
    for i in range(0, len(npart), 37):
        pt = sample["part_pt"][i]
        assert np.all(np.diff(pt) <= 0)
        np.testing.assert_allclose(
            sample["part_deta"][i], sample["part_eta"][i] - sample["jet_eta"][i], atol=1e-5
        )
        dphi = (sample["part_phi"][i] - sample["jet_phi"][i] + np.pi) % (2 * np.pi) - np.pi
        np.testing.assert_allclose(sample["part_dphi"][i], dphi, atol=1e-5)
        assert np.all(np.hypot(sample["part_deta"][i], sample["part_dphi"][i]) < 0.85)


@pytest.mark.gen
def test_reproducible_across_process_counts(sample: dict[str, np.ndarray], tmp_path: pathlib.Path) -> None:
    """Same seed with 2 processes gives identical arrays; another seed gives other jets."""
    two = _read(
        generate_jets(
            tmp_path / "two.root", 5 * N_PER_CLASS, seed=11, processes=2, max_constituents=20, progress=False
        )
    )
    for key in ("label", *HLF_FEATURES, "jet_pt", "npart"):
        np.testing.assert_array_equal(two[key], sample[key], err_msg=key)
    np.testing.assert_array_equal(
        np.concatenate(list(two["part_pt"])), np.concatenate(list(sample["part_pt"]))
    )
    other = _read(
        generate_jets(tmp_path / "other.root", 10, classes=("w", "t"), seed=12, processes=1, progress=False)
    )
    assert np.bincount(other["label"], minlength=5).tolist() == [0, 0, 5, 0, 5]
    assert not np.isin(other["jet_pt"], sample["jet_pt"]).any()


@pytest.mark.gen
def test_loads_as_dataset(sample: dict[str, np.ndarray], tmp_path: pathlib.Path) -> None:
    path = generate_jets(tmp_path / "small.root", 10, seed=3, processes=1, progress=False)
    ds = load_jets(path, fractions=(0.6, 0.2, 0.2))
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 10


def test_task_layout_independent_of_processes() -> None:
    tasks = gen._tasks(2300, CLASS_NAMES, seed=1, pt_min=800.0, pt_max=1200.0, max_constituents=None)
    per_class = {c: sum(dict(t.quotas).get(c, 0) for t in tasks) for c in CLASS_NAMES}
    assert per_class == dict.fromkeys(CLASS_NAMES, 460)
    seeds = [gen.task_seed(1, t.stream, t.chunk) for t in tasks]
    assert len(set(seeds)) == len(seeds)
    assert all(1 <= s <= 900_000_000 for s in seeds)
    assert gen._split(7, 3) == [3, 2, 2]


def test_bad_arguments(tmp_path: pathlib.Path) -> None:
    with pytest.raises(DataError, match="classes"):
        generate_jets(tmp_path / "x.root", 10, classes=("b",))
    with pytest.raises(DataError, match="pt_min"):
        generate_jets(tmp_path / "x.root", 10, pt_min=900, pt_max=800)
    with pytest.raises(DataError, match="at least the number of classes"):
        generate_jets(tmp_path / "x.root", 3)
    with pytest.raises(DataError, match="does not exist"):
        generate_jets(tmp_path / "nodir" / "x.root", 10)


def test_missing_generator_dependency(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name in ("pythia8mc", "fastjet"):
            raise ImportError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(DataError, match=r'pip install "triggernn\[gen\]"'):
        generate_jets(tmp_path / "x.root", 10, progress=False)
    assert not list(tmp_path.iterdir())


def test_failed_write_leaves_no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    """A crash while writing leaves neither the output nor the .tmp; an old output stays untouched."""
    target = tmp_path / "jets.root"  # an earlier jet file triggernn wrote (one it may replace)
    previous = (pathlib.Path(gen.__file__).parent / "embedded" / "jets_default.root").read_bytes()
    target.write_bytes(previous)

    def fake_task(task: gen._Task) -> dict[str, np.ndarray]:
        return {"n_events": np.asarray([1])}

    def broken_write(path: pathlib.Path, parts: list, meta: dict) -> None:
        path.write_bytes(b"root half written")
        raise OSError("disk full")

    monkeypatch.setattr(gen, "_import_gen", lambda: (None, None))
    monkeypatch.setattr(gen, "_run_task", fake_task)
    monkeypatch.setattr(gen, "_write_root", broken_write)
    with pytest.raises(OSError, match="disk full"):
        generate_jets(target, 10, processes=1, progress=False, force=True)
    assert target.read_bytes() == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jets.root"]


def test_generation_options_are_checked_before_any_work(tmp_path: pathlib.Path) -> None:
    for bad, match in [
        ({"wz": "bogus"}, "wz must be one of"),
        ({"labels": "sample", "qcd": "inclusive"}, "needs separate QCD samples"),
        ({"hard_pt": 2000.0}, "outside the jet window"),
        ({"detector": "yes"}, "detector must be true or false"),
        ({"colour": 1}, "unknown generation option 'colour'"),
    ]:
        with pytest.raises(DataError, match=match):
            generate_jets(tmp_path / "x.root", 10, progress=False, **bad)
    assert not list(tmp_path.iterdir())


def test_default_streams_follow_the_documented_production() -> None:
    opts = gen.GenOptions()
    assert [opts.stream(c) for c in CLASS_NAMES] == ["gg", "qq", "ww", "zz", "t"]
    settings = gen.pythia_settings("ww", 1, 800.0, 1600.0, opts)
    assert "WeakDoubleBoson:ffbar2WW = on" in settings
    assert "PhaseSpace:pTHatMin = 995" in settings
    assert "PhaseSpace:pTHatMax = 1005" in settings
    old = gen.GenOptions(wz="boson_jet", qcd="inclusive", labels="matching", hard_pt=None)
    assert [old.stream(c) for c in CLASS_NAMES] == ["qcd", "qcd", "w", "z", "t"]
