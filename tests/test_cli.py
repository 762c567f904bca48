"""The command line: configs are checked, user errors exit with code 2 and a message, not a traceback."""

from __future__ import annotations

from pathlib import Path

from triggernn.cli import main

CONFIGS = sorted(str(p) for p in (Path(__file__).parents[1] / "configs").glob("*.yaml"))


def test_check_shipped_configs(capsys):
    assert main(["check", *CONFIGS]) == 0
    out = capsys.readouterr().out
    assert out.count(": ok") == len(CONFIGS)
    assert "flow reference, shipped" in out  # configs/flow.yaml is a reference run's config


def test_bad_config_exits_2_with_message(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nhls: {reuse_factor: 0, clock: 5}\n")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "hls.reuse_factor" in err
    assert "unknown key 'hls.clock'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_missing_config_exits_2(tmp_path, capsys):
    assert main(["check", str(tmp_path / "none.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
