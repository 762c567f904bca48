"""``triggernn verify``: saved models and emitted projects checked again; tampering and bad input caught."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from triggernn.cli import main
from triggernn.report.render import find_chromium, screenshot

CONFIG = "configs/jet_dense.yaml"


@pytest.fixture(scope="module")
def dense(config_run):
    return config_run("jet_dense")


def _verify(dense, *extra):
    return main(["verify", CONFIG, "--runs", str(dense.run_dir.parent), *extra])


def test_verify_saved_model_and_its_project(dense, tmp_path, capsys):
    assert _verify(dense, "--project", str(dense.project.path), "--out", str(tmp_path / "v")) == 0
    out = capsys.readouterr().out
    assert "== jet_dense: PASS" in out
    assert "bit-exact      100.0000%" in out
    assert (tmp_path / "v" / "report.html").is_file()
    assert (tmp_path / "v" / "hls_project" / "firmware" / "myproject.cpp").is_file()


def test_tampered_project_fails(dense, tmp_path, capsys):
    assert _verify(dense, "--out", str(tmp_path / "a")) == 0
    prj = tmp_path / "a" / "hls_project"
    w = prj / "firmware" / "weights" / "w2.txt"  # what the C simulation loads (w2.h is for synthesis)
    text = w.read_text()
    # every first-layer weight flipped in sign: the firmware no longer computes the model
    w.write_text(re.sub(r"(?<![\d.])(-?)(\d\.\d+)", lambda m: ("" if m[1] else "-") + m[2], text))
    assert w.read_text() != text
    # and its input type widened: on the config's test grid the outputs would not show it, the types do
    defines = prj / "firmware" / "defines.h"
    declared = defines.read_text()
    assert "typedef ap_fixed<16,6> input_t;" in declared
    defines.write_text(declared.replace("typedef ap_fixed<16,6> input_t;", "typedef ap_fixed<20,8> input_t;"))
    capsys.readouterr()
    assert _verify(dense, "--project", str(prj), "--out", str(tmp_path / "b")) == 1
    captured = capsys.readouterr()
    assert "== jet_dense: FAIL" in captured.out
    assert "differs from what" in captured.err
    assert "declares input_t as ap_fixed<20,8> where the config gives ap_fixed<16,6>" in captured.err


def test_model_of_other_quantizers_exits_2(dense, tmp_path, capsys):
    """A model verified against a config of other bits: refused before any work, not verified as another design."""
    import yaml

    cfg = yaml.safe_load(Path(CONFIG).read_text())
    cfg["quantization"]["weight"]["bits"] = 4
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(cfg))
    # in its run folder: the config recorded there says which key differs (the input type too, where it does)
    assert (
        main(["verify", str(tmp_path / "other.yaml"), "--model", str(dense.run_dir / "qkeras_model.h5")]) == 2
    )
    err = capsys.readouterr().err
    assert "was trained with quantization.weight" in err
    assert "pass the config the model was trained with" in err
    # anywhere else: its quantizers against those the config builds
    import shutil

    shutil.copy(dense.run_dir / "qkeras_model.h5", tmp_path / "model.h5")
    assert main(["verify", str(tmp_path / "other.yaml"), "--model", str(tmp_path / "model.h5")]) == 2
    err = capsys.readouterr().err
    assert "kernel_quantizer is quantized_bits(6" in err
    assert "pass the config the model was trained with" in err


def test_missing_model_exits_2(tmp_path, capsys):
    assert main(["verify", CONFIG, "--model", str(tmp_path / "none.h5")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_model_of_another_config_exits_2(dense, capsys):
    model = dense.run_dir / "qkeras_model.h5"
    assert main(["verify", "configs/jet_cnn.yaml", "--model", str(model)]) == 2
    err = capsys.readouterr().err
    assert "takes inputs of shape (16,)" in err
    assert "Traceback" not in err


def test_folder_that_is_not_a_project_exits_2(dense, tmp_path, capsys):
    assert _verify(dense, "--project", str(tmp_path)) == 2
    assert "not an hls4ml project" in capsys.readouterr().err


def _colour_fraction(png) -> float:
    import matplotlib.image as mpimg

    im = mpimg.imread(png)[..., :3]
    return float(np.mean(im.max(-1) - im.min(-1) > 0.25))


@pytest.mark.skipif(
    find_chromium() is None, reason="no Chromium (make test installs Debian's chromium as root)"
)
def test_report_renders_in_a_browser(dense, tmp_path):
    """The HTML report opened in headless Chromium shows its plots: ROC curves, confusion matrix, ranges."""
    shot = screenshot(dense.run_dir / "report.html", tmp_path / "report.png")
    plain = tmp_path / "noimg.html"
    plain.write_text(re.sub(r"<img [^>]*>", "", (dense.run_dir / "report.html").read_text()))
    control = screenshot(plain, tmp_path / "noimg.png")
    with_plots, without = _colour_fraction(shot), _colour_fraction(control)
    assert with_plots > 0.01  # the plots' colours
    assert with_plots > 5 * without  # ... which come from the images, not from the tables
