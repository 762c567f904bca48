"""The command line: configs are checked, user errors exit with code 2 and a message, not a traceback."""

from __future__ import annotations

from pathlib import Path

from triggernn.cli import main

CONFIGS = sorted(str(p) for p in (Path(__file__).parents[1] / "configs").glob("*.yaml"))


LECTURE = sorted(str(p) for p in (Path(__file__).parents[1] / "configs" / "lecture").glob("*.yaml"))
SCANS = sorted(str(p) for p in (Path(__file__).parents[1] / "configs" / "scans").glob("*.yaml"))


def test_check_shipped_configs(capsys):
    """``check`` builds each verb's plan: run configs load their data and build their model, so a config
    whose dataset is not installed here is refused as ``run`` would refuse it, naming the fix."""
    from triggernn.data.digits import DIGIT_SOURCES  # noqa: F401 (the image sources check reads)

    code = main(["check", *CONFIGS, *LECTURE, *SCANS])
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    refused = [line for line in err.splitlines() if line.startswith("triggernn: error: ")]
    assert out.count(": ok") + len(refused) == len(CONFIGS) + len(LECTURE) + len(SCANS)
    for line in refused:  # only a dataset missing on this machine, with its fix
        assert "fashion_mnist" in line, line
        assert "apt-get install dataset-fashion-mnist" in line, line
    assert code == (2 if refused else 0)
    assert "flow reference, shipped" in out  # configs/flow.yaml is a reference run's config
    assert "scan scan_jet_dense: 48 points" in out
    assert "lecture example gates" in out
    assert "jet_dense, family jet_dense" in out
    assert "classes" in out


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


def test_a_flag_twice_is_refused_only_where_the_values_differ():
    from triggernn.cli import _parser
    from triggernn.cli_args import repeated_option

    p = _parser()
    opt = ["optimize", "c.yaml"]
    assert repeated_option(p, [*opt, "--max-drop", "0.01", "--max-drop=0.02"]).startswith(
        "--max-drop is given twice"
    )
    assert repeated_option(p, [*opt, "--max-drop=0.01", "--max-drop", "0.01", "-q", "-q"]) is None
    # a value equal to a sub-command's name is a value; each sub-command's flags are its own
    assert repeated_option(p, ["run", "--runs", "run", "c.yaml", "--projects", "p"]) is None
    assert repeated_option(p, ["-v", "data", "generate", "-o", "a.root", "--output", "b.root"]) is not None
