"""Config loading: the shipped configs validate; every kind of bad input gets a message naming the key."""

import re

import pytest
from conftest import CONFIGS  # the run configs; configs/flow.yaml and gan.yaml: tests/test_reference_train.py

from triggernn.config import load_config
from triggernn.errors import ConfigError


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs_validate(path):
    cfg = load_config(path)
    assert cfg.name == path.stem


def _write(tmp_path, text):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nmodle: {}\n", "unknown key 'modle'"),
        ("name: x\nhls: {io_type: io_serial}\n", "hls.io_type"),
        ("name: x\nhls: {backend: Quartus}\n", "hls.backend"),
        ("name: x\nquantization: {weight: {bits: 0}}\n", "quantization.weight.bits"),
        ("name: x\nquantization: {weight: {bits: 4, integer: 4}}\n", "integer bits"),
        ("name: x\nquantization: {input: ap_fixed<200,6>}\n", "quantization.input"),
        ("name: x\nhls: {precision: {fc1: {result: 'ap_fixed<0,0>'}}}\n", "fc1"),
        ("name: x\nhls: {softmax: {table_size: 1000}}\n", "power of two"),
        ("name: x\ndata: {fractions: [0.5, 0.5, 0.5]}\n", "sum to 1"),
        ("name: x\ntrain: {epochs: -1}\n", "train.epochs"),
        ("name: 'a b'\n", "name"),
        ("- just\n- a list\n", "mapping"),
        ("name: [unclosed\n", "not valid YAML"),
        ("name: x\nhls: {recurrent: {state: float}}\n", "hls.recurrent.state"),
        ("name: x\nhls: {recurrent: {table_size: 3000}}\n", "power of two"),
        ("name: x\ndata: {sequence_features: [pt_rel, charge]}\n", "unknown sequence features ['charge']"),
        ("name: x\ndata: {image_size: 2}\n", "data.image_size"),
        ("name: x\nmodel: {cell: lstm}\n", "model.cell"),
        ("name: x\nmodel: {filters: []}\n", "at least one conv block"),
    ],
)
def test_bad_config_messages(tmp_path, text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(_write(tmp_path, text))


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")


def test_overrides_are_validated():
    cfg = load_config({"name": "x"})
    assert cfg.with_overrides(train={"epochs": 3}).train.epochs == 3
    with pytest.raises(ConfigError, match=r"train\.epochs"):
        cfg.with_overrides(train={"epochs": 0})


def test_per_layer_quantization_override():
    cfg = load_config({"name": "x", "quantization": {"layers": {"fc1": {"weight": {"bits": 8}}}}})
    assert cfg.quantization.for_layer("fc1", "weight").bits == 8
    assert cfg.quantization.for_layer("fc2", "weight").bits == 6
    assert cfg.quantization.for_layer("fc1", "bias").bits == 6
