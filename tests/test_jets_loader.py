"""load_jets: every reader on tiny files, splits, standardization, representations, bad input, embedded set."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from triggernn.data import CLASS_NAMES, EMBEDDED_JETS, HLF_FEATURES, DataError, JetDataset, load_jets
from triggernn.data.generate import _write_root

N_PER_CLASS = 40


def _synthetic_parts(n_per_class: int = N_PER_CLASS, seed: int = 0) -> dict[str, np.ndarray]:
    """Per-jet arrays in the layout generate_jets writes; feature k of class c is centred on c + k."""
    rng = np.random.default_rng(seed)
    n = n_per_class * len(CLASS_NAMES)
    labels = np.repeat(np.arange(len(CLASS_NAMES)), n_per_class).astype(np.int32)
    out: dict[str, np.ndarray] = {"label": labels}
    for k, name in enumerate(HLF_FEATURES):
        out[name] = labels + k + rng.normal(0, 0.1, n)
    counts = rng.integers(3, 12, n)
    out["n_constituents"] = counts
    out["jet_pt"] = rng.uniform(800, 1200, n)
    for key in ("jet_eta", "jet_phi", "jet_mass"):
        out[key] = rng.normal(0, 1, n)
    total = int(counts.sum())
    out["part_pt"] = rng.uniform(1, 100, total).astype(np.float32)
    for key in ("part_eta", "part_phi", "part_deta", "part_dphi"):
        out[key] = rng.normal(0, 0.2, total).astype(np.float32)
    out["n_events"] = np.asarray([n])
    return out


def _meta() -> dict[str, object]:
    return {"arguments": {"mantissa_bits": None}, "compression": "zstd"}


@pytest.fixture(scope="module")
def root_file(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("jets") / "tiny.root"
    _write_root(path, [_synthetic_parts()], _meta())
    return path


def test_features_shapes_split_and_standardization(root_file: pathlib.Path) -> None:
    ds = load_jets(root_file, seed=3)
    assert isinstance(ds, JetDataset)
    n = N_PER_CLASS * len(CLASS_NAMES)
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == n
    assert ds.X_train.shape == (len(ds.y_train), 16)
    assert ds.X_train.dtype == np.float32
    assert ds.y_train.dtype == np.int64
    assert ds.feature_names == HLF_FEATURES
    assert ds.class_names == CLASS_NAMES
    assert ds.n_classes == 5
    # stratified: every class 60/20/20
    for y, frac in ((ds.y_train, 0.6), (ds.y_val, 0.2), (ds.y_test, 0.2)):
        assert np.bincount(y, minlength=5).tolist() == [round(frac * N_PER_CLASS)] * 5
    # fitted on train only: train is exactly standardized, val/test use the same transform
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.X_train.std(axis=0), 1.0, atol=1e-4)
    raw = load_jets(root_file, seed=3, standardize=False)
    assert raw.mean is None
    assert raw.std is None
    np.testing.assert_allclose(ds.X_val, (raw.X_val - ds.mean) / ds.std, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ds.mean, raw.X_train.mean(axis=0), rtol=1e-5)
    # labels travel with their rows: feature 0 is centred on the class index
    np.testing.assert_allclose(np.round(raw.X_test[:, 0]), raw.y_test)
    assert "train: 120 jets" in ds.summary()


def test_split_is_deterministic_by_seed(root_file: pathlib.Path) -> None:
    a, b, c = (load_jets(root_file, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_train, c.X_train)


def test_balanced_subsample(root_file: pathlib.Path) -> None:
    ds = load_jets(root_file, max_jets=52, fractions=(1.0, 0.0, 0.0), seed=5)
    assert np.bincount(ds.y_train).tolist() == [11, 11, 10, 10, 10]
    again = load_jets(root_file, max_jets=52, fractions=(1.0, 0.0, 0.0), seed=5)
    np.testing.assert_array_equal(ds.X_train, again.X_train)


def test_more_jets_asked_than_the_file_holds_says_so(root_file: pathlib.Path, caplog) -> None:
    whole = load_jets(root_file, fractions=(1.0, 0.0, 0.0), seed=5)
    n = len(whole.y_train)
    with caplog.at_level("WARNING"):
        ds = load_jets(root_file, max_jets=n + 1000, fractions=(1.0, 0.0, 0.0), seed=5)
    assert len(ds.y_train) == n
    assert f"max_jets {n + 1000} is more than the {n} jets" in caplog.text


def test_images_and_sequences(root_file: pathlib.Path) -> None:
    img = load_jets(root_file, "images", image_size=8)
    assert img.X_train.shape[1:] == (8, 8, 1)
    assert img.feature_names == ()
    assert img.mean is None
    assert np.all(img.X_train >= 0)
    assert np.all(img.X_train.sum(axis=(1, 2, 3)) <= 1.0 + 1e-5)
    seq = load_jets(root_file, "sequences", sequence_length=6, standardize=False)
    assert seq.X_train.shape[1:] == (6, 3)
    assert seq.feature_names == ("pt_rel", "deta", "dphi")
    pt_rel = seq.X_train[:, :, 0]
    assert np.all(np.diff(pt_rel, axis=1) <= 0)  # pT-ordered, zero padding at the end
    std = load_jets(root_file, "sequences", sequence_length=6)
    assert std.mean.shape == (3,)
    np.testing.assert_array_equal(std.X_train == 0, seq.X_train == 0)  # padding stays 0


def _write_table(path: pathlib.Path, kind: str, n_per_class: int = 6) -> None:
    rng = np.random.default_rng(1)
    rows = [(rng.normal(c, 0.1, 16), name) for c, name in enumerate(CLASS_NAMES) for _ in range(n_per_class)]
    if kind == "arff":
        lines = ["% hls4ml_lhc_jets_hlf, hand written", "@RELATION hls4ml_lhc_jets_hlf", ""]
        lines += [f"@ATTRIBUTE {f} NUMERIC" for f in HLF_FEATURES]
        lines += ["@ATTRIBUTE class {'g','q','t','w','z'}", "", "@DATA"]
        lines += [",".join(f"{v:.6f}" for v in x) + f",'{c}'" for x, c in rows]
    else:
        lines = [",".join([*HLF_FEATURES, "class"])] + [
            ",".join(f"{v:.6f}" for v in x) + f",{c}" for x, c in rows
        ]
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("kind", ["arff", "csv"])
def test_openml_table(tmp_path: pathlib.Path, kind: str) -> None:
    path = tmp_path / f"hlf.{kind}"
    _write_table(path, kind)
    ds = load_jets(path, standardize=False, seed=0)
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    X = np.concatenate([ds.X_train, ds.X_val, ds.X_test])
    assert np.bincount(y).tolist() == [6] * 5
    np.testing.assert_allclose(X.mean(axis=1), y, atol=0.15)  # 'w' is index 2 whatever the file order
    with pytest.raises(DataError, match="only the 16 high-level features"):
        load_jets(path, "images")


def test_openml_parquet(tmp_path: pathlib.Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    cols = {f: np.arange(10, dtype=float) + k for k, f in enumerate(HLF_FEATURES)}
    cols["class"] = list("gqwztgqwzt")
    pq.write_table(pa.table(cols), tmp_path / "hlf.parquet")
    ds = load_jets(tmp_path / "hlf.parquet", fractions=(0.5, 0.0, 0.5), standardize=False)
    assert len(ds.y_train) == 5


def _write_zenodo(path: pathlib.Path, n: int = 25) -> np.ndarray:
    """An h5 file in the hls4ml Zenodo layout; returns the labels it holds (last 3 rows: j_undef)."""
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(2)
    jet_names = ["j_ptfrac", "j_pt", "j_eta", "j_mass"] + [f"j_{f}" for f in HLF_FEATURES]
    jet_names += [f"j_{c}" for c in CLASS_NAMES] + ["j_undef"]
    labels = np.arange(n) % 5
    jets = rng.normal(0, 1, (n, len(jet_names)))
    jets[:, jet_names.index("j_pt")] = 1000.0
    jets[:, -6:] = 0
    jets[np.arange(n - 3), jet_names.index("j_g") + labels[: n - 3]] = 1
    jets[n - 3 :, -1] = 1  # undefined truth: must be dropped
    pnames = "px py pz e erel pt ptrel eta etarel etarot phi phirel phirot deltaR costheta costhetarel pdgid"
    pnames = [f"j1_{p}" for p in pnames.split()]
    cons = np.zeros((n, 150, 16))
    for i in range(n):
        m = 5 + i % 7
        cons[i, :m, pnames.index("j1_pt")] = np.sort(rng.uniform(1, 100, m))[::-1]
        cons[i, :m, pnames.index("j1_etarel")] = rng.normal(0, 0.2, m)
        cons[i, :m, pnames.index("j1_phirel")] = rng.normal(0, 0.2, m)
    with h5py.File(path, "w") as f:
        f["jets"] = jets
        f["jetFeatureNames"] = np.array([s.encode() for s in jet_names])
        f["jetConstituentList"] = cons
        f["particleFeatureNames"] = np.array([s.encode() for s in pnames])  # 17 names, 16 columns
    return labels[: n - 3]


def test_zenodo_h5(tmp_path: pathlib.Path) -> None:
    labels = _write_zenodo(tmp_path / "jetImage_0_150p.h5")
    ds = load_jets(tmp_path / "jetImage_0_150p.h5", fractions=(1.0, 0.0, 0.0), standardize=False)
    assert sorted(ds.y_train.tolist()) == sorted(labels.tolist())
    seq = load_jets(
        tmp_path / "jetImage_0_150p.h5", "sequences", fractions=(1.0, 0.0, 0.0), standardize=False
    )
    assert seq.X_train.shape == (len(labels), 20, 3)
    assert np.all(seq.X_train[:, 0, 0] <= 0.1)
    assert np.all(seq.X_train[:, 0, 0] > 0)  # pt_rel = pt / 1000
    _write_zenodo(tmp_path / "jetImage_1_150p.h5")
    both = load_jets(tmp_path, fractions=(1.0, 0.0, 0.0))  # a directory of h5 files reads as one sample
    assert len(both.y_train) == 2 * len(labels)


def test_missing_file_and_bad_arguments(root_file: pathlib.Path, tmp_path: pathlib.Path) -> None:
    assert issubclass(DataError, ValueError)
    with pytest.raises(DataError, match=r"does not exist.*triggernn data generate"):
        load_jets(tmp_path / "nope.root")
    with pytest.raises(DataError, match="unknown representation"):
        load_jets(root_file, "graphs")
    for bad in ((0.5, 0.5, 0.5), (0.0, 0.5, 0.5), (0.7, 0.3), (1.2, -0.1, -0.1)):
        with pytest.raises(DataError, match="fractions"):
            load_jets(root_file, fractions=bad)
    with pytest.raises(DataError, match=r"sequence_features"):
        load_jets(root_file, "sequences", sequence_features=("mass",))
    with pytest.raises(DataError, match="fmt"):
        load_jets(root_file, fmt="hdf4")


def test_corrupt_root_file(root_file: pathlib.Path, tmp_path: pathlib.Path) -> None:
    data = root_file.read_bytes()
    for name, blob in (("truncated.root", data[: len(data) // 2]), ("garbage.root", b"root" + b"\0" * 300)):
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(DataError, match="regenerate"):
            load_jets(tmp_path / name)


def test_wrong_schema_root_file(tmp_path: pathlib.Path) -> None:
    uproot = pytest.importorskip("uproot")
    with uproot.recreate(tmp_path / "other.root") as f:
        f.mktree("jets", {"label": np.int32, "zlogz": np.float32})
        f["jets"].extend({"label": np.zeros(3, np.int32), "zlogz": np.zeros(3, np.float32)})
    with pytest.raises(DataError, match=r"lacks branches \['c1_b0_mmdt'"):
        load_jets(tmp_path / "other.root")
    with uproot.recreate(tmp_path / "notree.root") as f:
        f["meta"] = "nothing"
    with pytest.raises(DataError, match="'jets' tree"):
        load_jets(tmp_path / "notree.root")


# ------------------------------------------------------------------------------ the embedded sample
def test_embedded_sample_is_balanced_small_and_documented() -> None:
    assert EMBEDDED_JETS.is_file()
    assert EMBEDDED_JETS.stat().st_size < 4.2e6
    prov = json.loads(EMBEDDED_JETS.with_suffix(".json").read_text())
    assert prov["counts"] == dict.fromkeys(CLASS_NAMES, 2000)
    assert prov["file_bytes"] == EMBEDDED_JETS.stat().st_size
    assert prov["command"].startswith("python scripts/generate_jets.py")
    assert "pythia8mc" in prov["versions"]
    ds = load_jets(standardize=False)
    assert ds.source == "embedded"
    y = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    assert np.bincount(y).tolist() == [2000] * 5
    for X in (ds.X_train, ds.X_val, ds.X_test):
        assert np.all(np.isfinite(X))


def test_embedded_physics() -> None:
    """Groomed mass peaks at the W, Z and top masses, above the q/g medians; gluons have more particles."""
    ds = load_jets(standardize=False, fractions=(1.0, 0.0, 0.0))
    mass = ds.X_train[:, HLF_FEATURES.index("mass_mmdt")]
    mult = ds.X_train[:, HLF_FEATURES.index("multiplicity")]
    med = {c: float(np.median(mass[ds.y_train == i])) for i, c in enumerate(CLASS_NAMES)}
    assert 70 < med["w"] < 90
    assert 80 < med["z"] < 100
    assert 160 < med["t"] < 185
    assert med["z"] > med["w"]
    assert min(med["w"], med["z"], med["t"]) > max(med["q"], med["g"])
    assert mult[ds.y_train == 0].mean() > mult[ds.y_train == 1].mean() + 10
    seq = load_jets("embedded", "sequences", sequence_length=32, max_jets=500)
    assert seq.X_train.shape[1:] == (32, 3)
    img = load_jets(None, "images", max_jets=500)
    assert img.X_train.shape[1:] == (16, 16, 1)
