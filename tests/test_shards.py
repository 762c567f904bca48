"""Generation at scale on Dask: shards on a real dask-scheduler + dask-worker pair started here, each shard
written atomically, an interrupted run resumed without redoing finished shards, the folder read as one dataset
equal to the single-file generation of the same arguments."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pythia8mc")

from triggernn.data import generate_jets, load_jets
from triggernn.data.shards import MANIFEST, generate_shards
from triggernn.errors import OutputError

DASK = str(Path(sys.executable).parent / "dask")


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """A dask scheduler and one worker on localhost, as separate processes; yields the address."""
    d = tmp_path_factory.mktemp("dask")
    file = d / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    sched = subprocess.Popen([DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                              "--scheduler-file", str(file)], cwd=d, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    procs = [sched]
    try:
        for _ in range(600):
            if file.is_file() and file.stat().st_size:
                break
            time.sleep(0.1)
        address = json.loads(file.read_text())["address"]
        procs.append(subprocess.Popen([DASK, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                       "--no-dashboard"], cwd=d, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))  # fmt: skip
        yield address
    finally:
        for p in procs[::-1]:
            p.terminate()
            p.wait(timeout=30)


def _features(path):
    return load_jets(path, fractions=(1.0, 0.0, 0.0), standardize=False)


def test_shards_on_a_scheduler_equal_the_single_file_and_resume(scheduler, tmp_path):
    args = {"seed": 4, "pt_min": 800.0, "pt_max": 1200.0}
    folder = tmp_path / "shards"
    first = generate_shards(folder, 40, scheduler=scheduler, progress=False, **args)
    assert len(first.ran) == 5  # one shard per sample: gg, qq, ww, zz, tt
    assert first.skipped == []
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([".triggernn", MANIFEST, *(p.name for p in first.shards)])  # no .tmp left
    whole = generate_jets(tmp_path / "one.root", 40, processes=1, progress=False, **args)
    a, b = _features(folder), _features(whole)
    np.testing.assert_array_equal(np.sort(a.X_train, axis=0), np.sort(b.X_train, axis=0))  # the same jets
    assert sorted(a.y_train.tolist()) == sorted(b.y_train.tolist())

    # an interrupted run: one shard missing. Started again, only that one runs; the others stay untouched.
    stamps = {p.name: p.stat().st_mtime_ns for p in first.shards}
    first.shards[2].unlink()
    with pytest.raises(Exception, match="shards are missing"):
        load_jets(folder)
    again = generate_shards(folder, 40, scheduler=scheduler, progress=False, **args)
    assert again.ran == [first.shards[2].name]
    assert len(again.skipped) == 4
    for p in first.shards:
        if p != first.shards[2]:
            assert p.stat().st_mtime_ns == stamps[p.name]
    np.testing.assert_array_equal(_features(folder).X_train, a.X_train)  # the same dataset, in shard order

    with pytest.raises(OutputError, match="seed differ"):  # other arguments: refused, nothing touched
        generate_shards(folder, 40, scheduler=scheduler, progress=False, **{**args, "seed": 5})


def test_cli_shards_locally_and_refuses_user_folders(tmp_path, capsys):
    from triggernn.cli import main

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep\n")
    assert main(["data", "generate", "-o", str(mine), "--shards", "--n-jets", "10", "-q"]) == 2
    assert "holds files triggernn did not write" in capsys.readouterr().err
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    out = tmp_path / "jets"
    assert (
        main(["data", "generate", "-o", str(out), "--shards", "--workers", "1", "--n-jets", "10", "-q"]) == 0
    )
    assert "5 shards, 5 generated now" in capsys.readouterr().out
    assert len(load_jets(out, fractions=(1.0, 0.0, 0.0)).y_train) == 10
