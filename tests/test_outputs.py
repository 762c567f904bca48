"""Staged folders: what a killed process left behind is cleaned by the next write, nothing else."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from triggernn.errors import OutputError
from triggernn.outputs import MARKER, check_output_dir, staged_dir


def _stage_left_by(parent, name: str, pid: int, host: str) -> object:
    p = parent / f".{name}.partial-{pid}{host[-5:]}"
    p.mkdir()
    (p / MARKER).write_text(
        f"written by triggernn; replaced whole by the next run\nstaged by pid {pid} on {host}\n"
    )
    (p / "half.v").write_text("module half")
    return p


def test_a_killed_process_staging_folder_is_removed_by_the_next_write(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host = socket.gethostname()
        stale = _stage_left_by(tmp_path, "rtl", dead.pid, host)
        running = _stage_left_by(tmp_path, "rtl", alive.pid, host)
        elsewhere = _stage_left_by(
            tmp_path, "rtl", dead.pid, host + "-other"
        )  # another machine's, shared disk
        users = tmp_path / ".rtl.partial-mine"  # looks the same, but no marker: not ours
        users.mkdir()
        (users / "notes.txt").write_text("mine")
        other = _stage_left_by(tmp_path, "rtl2", dead.pid, host)  # another folder's stage
        with staged_dir(tmp_path / "rtl", what="RTL folder") as st:
            (st.path / "a.v").write_text("module a")
        assert (tmp_path / "rtl" / "a.v").is_file()
        assert not stale.exists()
        assert (users / "notes.txt").read_text() == "mine"
        left = sorted(p.name for p in tmp_path.iterdir())
        assert left == sorted(["rtl", running.name, elsewhere.name, users.name, other.name])
    finally:
        alive.kill()
        alive.wait()


def test_a_folder_whose_place_is_fixed_is_refused_with_a_fix_that_applies(tmp_path):
    """A project's rtl/ folder is not chosen by an option: the fix offered is to move the files, not a flag."""
    users = tmp_path / "rtl"
    users.mkdir()
    (users / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"move your files out of it or pass --force") as err:
        check_output_dir(users, what="RTL folder", flag=None)
    assert "--out" not in str(err.value)
    with pytest.raises(OutputError, match=r"choose another path \(--out PATH\)"):
        check_output_dir(users, what="output folder")
    assert (users / "notes.txt").read_text() == "mine"
