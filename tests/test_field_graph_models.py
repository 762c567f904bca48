"""hls4ml 1.3.0's own graph test models (tests/field_graph_models.py: merges of two inputs, global pooling,
pooling) through ``triggernn.emit``, the C simulation, the numpy emulator and the RTL tracer.

For each model, on hls4ml's 100 events of ``np.random.rand`` (rounded onto the input grid):

- the C simulation against Keras within what hls4ml's own test asserts (``atol``, ``rtol=0``);
- the numpy engine equal to the C simulation bit for bit, or, where the catalogue records that it steps aside,
  its reason naming the layer (and then the C++ engine equal to the C simulation);
- the traced RTL logic (alkaid) equal to the C simulation bit for bit, or its refusal naming the layer;
- a model emit refuses: the HLSError, and no project written.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from field_graph_models import GRAPH_MODELS, N_EVENTS

import triggernn as tn
from triggernn.emulation import Emulator

#: One of each path, in the default run (about 40 s here): two inputs merged, traced; an average over 18
#: positions, emulated, the tracer refusing it; a padded max pooling (hls4ml's pad value patched), emulated and
#: traced; the Dot that emit refuses.
FAST = {"merge_subtract_swap", "global_pool1d_avg_keepdims", "keras_api_maxpool2d_same", "dot_axes1"}


def _params():
    for gm in GRAPH_MODELS:
        marks = [] if gm.name in FAST else [pytest.mark.slow]
        yield pytest.param(gm, id=gm.name, marks=marks)


def _rows(arrays: list[np.ndarray], n: int) -> np.ndarray:
    """Every array's values of an event side by side, one row per event."""
    return np.concatenate([np.asarray(a).reshape(n, -1) for a in arrays], axis=1)


@pytest.mark.parametrize("gm", list(_params()))
def test_field_graph_model(gm, tmp_path):
    model, X = gm.build(), gm.inputs(N_EVENTS, 0)
    xs = X if isinstance(X, list) else [X]
    assert [x.shape[1:] for x in xs] == list(gm.input_shapes)
    cfg = tn.load_config({"name": "graph"})
    if gm.emit_refused:
        with pytest.raises(tn.HLSError, match=re.escape(gm.emit_refused)):
            tn.emit(model, cfg, tmp_path / "prj", csim_inputs=X)
        assert not (tmp_path / "prj").exists()
        return
    project = tn.emit(model, cfg, tmp_path / "prj", csim_inputs=X)

    # C-sim vs Keras, as hls4ml's test asserts
    pred = model.predict(X, verbose=0)
    ref = _rows(pred if isinstance(pred, list) else [pred], N_EVENTS)
    csim = project.csim.outputs.reshape(N_EVENTS, -1)
    assert csim.shape == ref.shape
    # the comparison is not between constants (a max over 324 cells is near 1: no bound on the spread)
    assert np.unique(csim).size > 1
    np.testing.assert_allclose(csim, ref, rtol=0, atol=gm.atol)

    # the numpy engine, bit for bit (or the C++ engine, where the catalogue says the numpy one steps aside)
    em = Emulator(project)
    if gm.emulator_refused:
        assert em.engine == "cpp"
        assert gm.emulator_refused in em.reason
    else:
        assert em.engine == "numpy", em.reason
    np.testing.assert_array_equal(em.predict(X).reshape(N_EVENTS, -1), csim)

    # the RTL tracer, bit for bit, or its refusal naming the layer
    pytest.importorskip("alkaid")
    from triggernn.hdl import NotTraced, trace_graph

    if gm.tracer_refused:
        with pytest.raises(NotTraced, match=re.escape(gm.tracer_refused)):
            trace_graph(project.hls_model)
        return
    traced = trace_graph(project.hls_model)
    assert traced.dropped == []  # no final softmax in these models
    out = traced.comb.predict(traced.cast_inputs(_rows(xs, N_EVENTS)))
    np.testing.assert_array_equal(np.asarray(out).reshape(N_EVENTS, -1), csim)
