"""`triggernn optimize`: a real (small) search on the embedded jets, its records, its resume, the best design
written as a run config and confirmed with Yosys and Verilator; and its plan's refusals."""

from __future__ import annotations

import csv

import pytest

from triggernn.config import load_config
from triggernn.errors import ConfigError, TriggerNNError
from triggernn.optimizer import Design, plan_optimize, run_optimize

TINY = {
    "name": "opt",
    "data": {"max_jets": 2000},
    "model": {"family": "jet_dense", "hidden": [8]},
    "quantization": {"weight": {"bits": 4, "integer": 0}, "activation": {"bits": 4, "integer": 0},
                     "input": "ap_fixed<10,4>"},
    "train": {"epochs": 2, "patience": 2},
    "hls": {"tb_events": 50, "softmax": {"table_size": 1024}},
}  # fmt: skip


def test_moves_are_one_step_each_and_combine():
    d = Design(weight=(3, 2), activation=(2,), hidden=(8,), sparsity=0.85, input_width=8)
    moves = dict(d.moves(input_integer=4, widths=True))
    assert set(moves) == {"fc1 weights 3->2", "fc1 width 8->4", "sparsity 0.85->0.9", "input 8->7 bits"}
    assert moves["fc1 weights 3->2"].weight == (2, 2)
    assert Design((2,), (), (), 0.9, 6).moves(input_integer=4, widths=True) == []
    # coarse moves change every layer at once; combined moves take every field at its cheapest
    wide = Design(weight=(6, 6, 2), activation=(6, 4), hidden=(64, 6), sparsity=0.0, input_width=16)
    coarse = dict(wide.moves(input_integer=5, widths=True, coarse=True))
    assert set(coarse) == {"all weights -1", "all ReLU bits -1", "all widths halved", "sparsity 0->0.5",
                           "input 16->14 bits"}  # fmt: skip
    assert coarse["all weights -1"].weight == (5, 5, 2)
    assert coarse["all widths halved"].hidden == (32, 6)
    both = wide.combine([coarse["all weights -1"], coarse["sparsity 0->0.5"], coarse["input 16->14 bits"]])
    assert both == Design((5, 5, 2), (6, 4), (64, 6), 0.5, 14)
    cfg = moves["sparsity 0.85->0.9"].config(load_config(TINY).model_dump(mode="json"), 4, "x")
    assert load_config(cfg).train.sparsity == 0.9
    assert load_config(cfg).quantization.for_layer("output", "weight").bits == 2


def test_a_small_search_keeps_the_physics_resumes_and_is_confirmed(tmp_path):
    cfg = load_config({**TINY, "model": {"family": "jet_dense", "hidden": []}})  # a linear tagger: 4 trials
    plan = plan_optimize(cfg, rounds=1, widths=False, out=tmp_path / "opt", workers=2)
    result = run_optimize(plan, progress=False)
    base, best = result.baseline, result.best
    floor = base["val_accuracy_float"] - plan.max_drop
    # the round tried every coarse move (the weights, the pruning, the input) beside the baseline, and all the
    # feasible ones at once where there were several
    step = result.rounds[0]
    moves = plan.start.moves(plan.input_integer, widths=False, coarse=True)
    assert step["tried"] == len(moves) + (step["feasible"] > 1)
    assert len(result.trials) == 1 + step["tried"]
    assert best["rtl_alkaid_lut"] <= base["rtl_alkaid_lut"]
    if best is not base:  # the chosen design is feasible and cheaper
        assert best["passed"]
        assert best["val_accuracy_qkeras"] >= floor
    cheaper_feasible = [
        t for t in result.trials if t.get("passed") and t.get("val_accuracy_qkeras", -1) >= floor
    ]
    assert best["rtl_alkaid_lut"] == min(t["rtl_alkaid_lut"] for t in cheaper_feasible)
    # the best as a run config, reproducing the design
    again = load_config(result.best_config)
    assert again.name == "opt_min"
    assert again.train.sparsity == result.best_design.sparsity
    assert tuple(again.model.hidden) == result.best_design.hidden
    # confirmed: Verilator equal to C-sim, real Yosys numbers, no DSP for these narrow products
    c = result.confirmed
    assert c["exact_vs_csim"] == 1.0
    assert c["lut"] > 0
    assert c["dsp"] == 0
    with (tmp_path / "opt" / "trials.csv").open() as f:
        assert len(list(csv.DictReader(f))) == len(result.trials)
    assert (tmp_path / "opt" / "pareto.png").stat().st_size > 10_000
    # resumed: every trial from its record, the same answer
    plan2 = plan_optimize(cfg, rounds=1, widths=False, out=tmp_path / "opt", workers=1, confirm=False)
    resumed = run_optimize(plan2, progress=False)
    assert resumed.ran == 0
    assert resumed.best_design == result.best_design


@pytest.mark.parametrize(
    ("change", "kwargs", "fragment"),
    [
        ({"model": {"family": "jet_cnn"}, "data": {"representation": "images"}}, {}, "dense families"),
        ({}, {"max_drop": float("nan")}, "max_drop"),
        ({}, {"max_drop": 2}, "max_drop"),
        ({}, {"rounds": 0}, "rounds"),
        ({}, {"scheduler": "notaurl"}, "scheduler"),
    ],
)
def test_plan_refuses_what_cannot_be_searched(change, kwargs, fragment, tmp_path):
    cfg = {**TINY, **change}
    with pytest.raises(TriggerNNError, match=fragment):
        plan_optimize(load_config(cfg), out=tmp_path / "o", **kwargs)
    assert not (tmp_path / "o").exists()


def test_cli_refuses_other_configs(tmp_path, capsys):
    from triggernn.cli import main

    scan = tmp_path / "s.yaml"
    scan.write_text("name: s\nbase: ../configs/jet_dense.yaml\ngrid: {bits: [4]}\n")
    assert main(["optimize", str(scan), "--check"]) == 2
    assert "not a run config" in capsys.readouterr().err
    with pytest.raises(ConfigError):
        plan_optimize(
            load_config({**TINY, "model": {"family": "jet_dense", "activation": "tanh"}}), out=tmp_path
        )
