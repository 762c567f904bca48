"""Scans on a Dask LocalCluster: every point verified, failures recorded without stopping the scan, resumed
without redoing finished points, a table and a Pareto plot."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from triggernn.errors import ConfigError
from triggernn.scan import load_scan, pareto_front, run_scan, scan_points

ROOT_CONFIGS = __import__("conftest").ROOT / "configs"


def _scan_file(tmp_path, grid, name="tiny_scan"):
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": name,
                "base": str(ROOT_CONFIGS / "jet_dense.yaml"),
                "overrides": {"train": {"epochs": 2}, "data": {"max_jets": 2000}, "model": {"hidden": [16]}},
                "grid": grid,
            }
        )
    )
    return path


def test_scan_runs_records_failures_and_resumes(tmp_path):
    corrupt = tmp_path / "corrupt.root"
    corrupt.write_bytes(b"root" + bytes(range(256)) * 8)  # not a ROOT file
    grid = {"bits": [4, 8], "data.source": ["embedded", str(corrupt)]}
    first = run_scan(_scan_file(tmp_path, grid), out=tmp_path / "out", workers=2, progress=False)
    records = {r["key"]: r for r in first.records}
    assert len(first.ran) == 4
    ok = [r for r in records.values() if r["status"] == "ok"]
    failed = [r for r in records.values() if r["status"] == "failed"]
    assert len(ok) == 2
    assert len(failed) == 2
    assert all("corrupt.root" in r["error"] for r in failed)  # the error names the bad file
    assert not first.passed  # two points failed: the scan's verdict says so (the CLI exits 1)
    lines = first.summary()
    assert lines[0] == "4 points run, 0 already done, 2 failed"
    assert sum(line.startswith("FAILED") for line in lines) == 2
    assert sum(line.rstrip().endswith("PASS") for line in lines) == 2
    for r in ok:  # each good point went through the whole pipeline and its verification
        assert r["passed"] is True
        assert r["bit_exact"] == 1.0
        assert r["accuracy_csim"] > 0.3
        assert r["est_multipliers"] > 0
    by_bits = {r["p:bits"]: r for r in ok}
    assert by_bits[4]["est_bops"] < by_bits[8]["est_bops"]  # narrower types, fewer bit operations
    with (tmp_path / "out" / "results.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert (tmp_path / "out" / "pareto.png").stat().st_size > 10_000
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out" / "points").glob("*.json")}

    # resume with a grown grid: only the new points run; finished and failed ones are kept as they are
    grid["bits"].append(6)
    second = run_scan(_scan_file(tmp_path, grid), out=tmp_path / "out", workers=2, progress=False)
    assert len(second.ran) == 2
    assert sorted(second.skipped) == sorted(records)
    for name, stamp in stamps.items():
        assert (tmp_path / "out" / "points" / name).stat().st_mtime_ns == stamp
    assert len(second.records) == 6
    assert not list((tmp_path / "out" / "points").glob("*.partial"))


def test_bad_grid_values_stop_before_any_work(tmp_path):
    path = _scan_file(tmp_path, {"bits": [4, 40]})
    scan, base = load_scan(path)
    with pytest.raises(ConfigError, match=r"scan point \{'bits': 40\}"):
        scan_points(scan, base)
    (tmp_path / "bad.yaml").write_text(
        json.dumps({"name": "x", "base": "jet_dense.yaml", "grid": {}, "oops": 1})
    )
    with pytest.raises(ConfigError, match=r"invalid configuration in the scan config .*unknown key .oops."):
        load_scan(tmp_path / "bad.yaml")
    with pytest.raises(ConfigError, match="is not a section"):
        scan_points(*load_scan(_scan_file(tmp_path, {"train.epochs.x": [1]})))


def test_shipped_scan_has_at_least_24_distinct_points():
    scan, base = load_scan(ROOT_CONFIGS / "scans" / "jet_dense.yaml")
    points = scan_points(scan, base)
    assert len({key for key, _, _ in points}) == len(points) >= 24


def test_pareto_front():
    pts = [(10, 0.5), (5, 0.6), (20, 0.7), (20, 0.65), (30, 0.69), (1, 0.2)]
    assert [pts[i] for i in pareto_front(pts)] == [(1, 0.2), (5, 0.6), (20, 0.7)]


def test_points_cut_short_by_an_interrupt_run_again(tmp_path):
    """Ctrl-C reaches the workers: the points it cuts short fail on their way out. Those records (written
    after the interrupt) are forgotten so the next start runs them; earlier results are kept."""
    import json
    import os
    import time

    from triggernn.trials import forget_failures_since

    points = tmp_path / "points"
    points.mkdir()
    old = time.time() - 100
    for key, status, when in (("done", "ok", old), ("broken", "failed", old), ("cut", "failed", None)):
        (points / f"{key}.json").write_text(json.dumps({"key": key, "status": status}))
        if when is not None:
            os.utime(points / f"{key}.json", (when, when))
    forget_failures_since(tmp_path, time.time() - 10)
    assert sorted(p.stem for p in points.glob("*.json")) == ["broken", "done"]
