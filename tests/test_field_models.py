"""hls4ml 1.3.0's own QKeras test models (tests/field_models.py) through ``triggernn.compile`` and ``emulate``.

Each model either meets its documented criterion (docs/field_models.md) or is refused before anything is
written, with the layer named:

- ``exact``: bit for bit on the logits (or every output value) against QKeras, on every held-out event;
- ``approx``: a lookup table or float constants make bit-exactness impossible; judged by the largest error
  and argmax agreement, as run configs judge a GRU;
- ``reference rounds``: QKeras' float32 cannot hold the exact sums; the verdict must say so, shown in float64;
- ``refused``: a clear error naming the layer, no project written.

And the numpy emulator either reproduces the C simulation bit for bit, or steps aside for the C++ engine.
"""

from __future__ import annotations

import numpy as np
import pytest
from field_models import FIELD_MODELS

import triggernn as tn
from triggernn.emulation import Emulator

#: The verdict each model must get, and for refusals a phrase the message must contain.
EXPECTED = {
    "quantizer_special_sigmoid7_real": "approx",  # use_real_sigmoid: a table, 1 LSB from QKeras' sigmoid
    "quantised_po2_bit_width": "reference rounds",  # 2**20-scaled po2 weights: sums of 39 significant bits
    "btnn_4": "approx",  # a float BatchNormalization before a ternary activation: calibrated constants
    "btnn_5": "approx",
    "btnn_6": "approx",
    "qsimplernn": "refused: activation='relu'",
    "qlstm": "refused: QLSTM",
    "qgru": "approx",
}
#: Over 10 s each here (large images): in the slow run only.
SLOW = {"qseparableconv2d", "binary_cnn", "cnn_mnist_qkeras", "qdepthwiseconv2d"}
#: ... and, to keep the default run near 25 minutes on 2 cores, the binary/ternary nets beyond the first of each
#: kind and the serialization test's model (the same layers as others here)
SLOW |= {"btnn_2", "btnn_3", "btnn_4", "btnn_6", "btnn_7", "serialization_qkeras"}
N_EVENTS = 400


def _params():
    for fm in FIELD_MODELS:
        marks = [pytest.mark.slow] if fm.name in SLOW else []
        yield pytest.param(fm, id=fm.name, marks=marks)


@pytest.mark.parametrize("fm", list(_params()))
def test_field_model(fm, tmp_path):
    expected = EXPECTED.get(fm.name, "exact")
    model, X = fm.build(), fm.inputs(N_EVENTS, 0)
    kwargs = dict(name="m", out=tmp_path / "prj", run_root=tmp_path / "runs", compare_default=False)
    if expected.startswith("refused"):
        with pytest.raises(tn.TriggerNNError, match=expected.split(": ", 1)[1]):
            tn.compile(model, X, **kwargs)
        assert not (tmp_path / "prj").exists()
        assert not (tmp_path / "runs").exists()
        return
    r = tn.compile(model, X, **kwargs)
    v = r.verification
    assert v.n_events == N_EVENTS - N_EVENTS // 2
    if expected == "exact":
        assert v.passed, v.failures
        assert v.bit_exact_fraction == 1.0
        assert v.thresholds["min_bit_exact"] == 1.0  # judged bit for bit
    elif expected == "approx":
        assert v.passed, v.failures
        assert v.thresholds["min_bit_exact"] == 0.0
        # a bound on the largest error, or (outputs of a quantizer: values flip rather than drift) on the
        # fraction of identical values
        assert "max_abs_error" in v.thresholds or v.thresholds["min_value_exact"] >= 0.99
    else:  # the model needs more bits than float32 has: the float64 evidence is certain, the float32 run is not
        # Whether QKeras' float32 sums round on these events depends on the CPU's kernels (summation order,
        # FMA, vector width): both outcomes are accepted, and a failure must say why, naming the layer.
        from triggernn.verify import float32_rounded_layers

        grid = tn.to_fixed_grid(X, r.calibration.input_type)
        evidence = float32_rounded_layers(model, grid, r.calibration.input_type)
        assert any("layer 'dense'" in e and "float32 has 24" in e for e in evidence), evidence
        if v.bit_exact_fraction < 1.0:
            assert not v.passed
            assert "the QKeras reference itself rounds" in v.failures[0]
            assert "layer 'dense'" in v.failures[0]
        # the project's own testbench reproduces the C simulation on every event, whatever the CPU
        assert v.testbench_exact_fraction == 1.0, v.failures
        assert not any("testbench" in f for f in v.failures)
    # the emulator: bit for bit the C simulation, or the C++ engine where numpy does not cover a layer
    Xg = tn.to_fixed_grid(X, r.calibration.input_type)
    em = Emulator(r.project)
    np.testing.assert_array_equal(em.predict(Xg), r.project.predict(Xg).outputs)
    assert em.engine == "numpy" or em.reason


def test_every_catalogue_entry_has_a_verdict():
    """A model added to the catalogue gets the default verdict (exact) unless listed: no stale names."""
    names = {fm.name for fm in FIELD_MODELS}
    assert set(EXPECTED) <= names
    assert names >= SLOW
