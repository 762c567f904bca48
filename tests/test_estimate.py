"""Resource and latency estimates: the counts follow the weights and the reuse factor, the report carries them,
and `triggernn synth` without Vitis/Vivado says what is needed."""

from __future__ import annotations

import json
import math

import numpy as np
from conftest import make_qkeras_dense

import triggernn.hls.synth as synth
from triggernn.cli import main
from triggernn.config import load_config
from triggernn.hls import emit
from triggernn.hls.estimate import estimate


def test_counts_follow_weights_and_reuse(small_cfg, tmp_path):
    model = make_qkeras_dense(small_cfg)
    by_rf = {}
    for rf in (1, 4):
        cfg = small_cfg.with_overrides(
            hls={"reuse_factor": rf, "strategy": "Resource" if rf > 1 else "Latency"}
        )
        by_rf[rf] = estimate(emit(model, cfg, tmp_path / f"rf{rf}").hls_model)
    for rf, est in by_rf.items():
        for row in est["layers"]:
            layer = model.get_layer(row["layer"])
            kernel = layer.kernel_quantizer_internal(layer.kernel).numpy()  # what the firmware holds
            nonzero = int(np.count_nonzero(kernel))
            n_in, n_out = kernel.shape
            assert row["products"] == nonzero
            assert row["multipliers"] == math.ceil(nonzero / rf)
            assert row["reuse_factor"] == rf
            fp = 1 - nonzero / kernel.size
            bw, ba = row["weight_bits"], row["input_bits"]
            assert row["bops"] == round(n_out * n_in * ((1 - fp) * bw * ba + bw + ba + math.log2(n_in)))
        assert est["totals"]["multipliers"] == sum(r["multipliers"] for r in est["layers"])
    one, four = by_rf[1]["totals"], by_rf[4]["totals"]
    assert four["ii"] == 4
    assert one["ii"] == 1
    assert four["latency_cycles"] > one["latency_cycles"]
    assert four["multipliers"] < one["multipliers"] / 3
    assert four["bops"] == one["bops"]  # the work per event does not depend on how it is scheduled
    first, hidden = by_rf[1]["layers"][0], by_rf[1]["layers"][1]
    assert (first["input_bits"], first["multiplier_kind"]) == (
        16,
        "DSP",
    )  # 6-bit weights x ap_fixed<16,6> inputs
    assert hidden["multiplier_kind"] == "LUT"  # 6 x 6 bits
    assert by_rf[1]["totals"]["latency_ns"] == by_rf[1]["totals"]["latency_cycles"] * 5.0


def test_report_carries_the_estimate(config_run):
    r = config_run("jet_dense")
    metrics = json.loads((r.run_dir / "metrics.json").read_text())
    totals = metrics["estimate"]["totals"]
    assert totals["multipliers"] > 1000  # 16-64-32-32-5 at reuse 1: about 4,000 products
    assert totals["dsp"] + totals["lut_multipliers"] == totals["multipliers"]
    assert (
        "Resource and latency estimate (from the hls4ml graph, no synthesis)"
        in (r.run_dir / "report.md").read_text()
    )


def test_recurrent_layers_count_every_time_step(config_run):
    """A GRU's products and bit operations are per event: its kernels run once per time step."""
    r = config_run("jet_gru")
    row = next(x for x in estimate(r.project.hls_model)["layers"] if x["kind"] == "GRU")
    steps = int(r.X_test.shape[1])
    node = r.project.hls_model.graph[row["layer"]]
    nonzero = sum(int(node.get_weights(k).nonzeros) for k in ("weight", "recurrent_weight"))
    assert row["products"] == nonzero * steps
    assert row["bops"] >= row["products"] * row["weight_bits"] * row["input_bits"]
    assert row["multipliers"] == math.ceil(nonzero / row["reuse_factor"])  # shared by the steps


def test_synth_without_hls_tools_says_what_is_needed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(synth, "find_hls_tool", lambda: None)
    assert main(["synth", str(tmp_path)]) == 2  # a wrong path is said first: installing a tool would not help
    assert "is not an hls4ml project folder" in capsys.readouterr().err
    (tmp_path / "hls4ml_config.yml").write_text("OutputDir: .\n")  # a project (as far as the plan can tell)
    assert main(["synth", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "vitis_hls" in err
    assert "estimate" in err


def _graph(model, tmp_path, io_type: str = "io_parallel", clock: float = 5.0):
    """hls4ml's graph of ``model`` (converted, not compiled: the estimate reads the graph only)."""
    from triggernn.hls.adapter import load_hls4ml

    hls4ml = load_hls4ml()
    hc = hls4ml.utils.config_from_keras_model(model, granularity="name", backend="Vivado")
    return hls4ml.converters.convert_from_keras_model(model, hls_config=hc, output_dir=str(tmp_path / "p"),
                                                      io_type=io_type, clock_period=clock, backend="Vivado")  # fmt: skip


def test_latency_estimate_matches_the_published_vivado_hls_reports(tmp_path):
    """The two calibration points of docs/optimize.md: the hls4ml tutorial's jet tagger (16-64-32-32-5 with a
    softmax, io_parallel, 5 ns: 13-18 cycles in its Vivado HLS reports) and hls4ml's report fixture
    (test/pytest/test_report/Vivado: Dense(5) over 16 inputs + ReLU, io_stream, 5 ns: 10 cycles), each within
    20%; a faster clock chains less per cycle."""
    import tensorflow as tf

    tagger = make_qkeras_dense(load_config({"name": "tutorial"}))
    assert 13 <= estimate(_graph(tagger, tmp_path))["totals"]["latency_cycles"] <= 18
    assert estimate(_graph(tagger, tmp_path, clock=2.5))["totals"]["latency_cycles"] > 18
    inp = tf.keras.Input((16,), name="fc1_input")
    fixture = tf.keras.Model(
        inp, tf.keras.layers.Activation("relu", name="relu1")(tf.keras.layers.Dense(5, name="fc1")(inp))
    )
    assert abs(estimate(_graph(fixture, tmp_path, "io_stream"))["totals"]["latency_cycles"] - 10) <= 2
