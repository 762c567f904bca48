"""hls4ml 1.3.0's own Keras 3 test models (tests/field_keras3_models.py: HGQ2 layers and plain Keras 3) through
``triggernn.compile`` on the Keras 3 stack, each saved as ``.keras`` and compiled from the file, as a user would.

For each model, on 1000 events uniform in its input range (seeded by its name):

- HGQ2: PASS, every output of every held-out event equal to the Keras model's, bit for bit;
- plain Keras 3 (float weights): PASS on the verdict triggernn gives a float model;
- the numpy emulator (or the C++ engine, where it steps aside) equal to the C simulation bit for bit, or, where
  ``EMULATOR_REFUSED`` records it, the Emulator's HLSError;
- or, where the catalogue records it (``expect``), the message: of the TriggerNNError ``compile`` raises, or
  (``FAIL_VERDICT``) of the FAIL verdict's first failure, where hls4ml converts the model wrongly and the
  verification catches it.

Where triggernn itself is at fault (measured), the model is marked ``xfail(strict=True)`` with the defect named
(``XFAIL``), so that a fix turns the mark into a failure to remove.
"""

from __future__ import annotations

import numpy as np
import pytest
from field_keras3_models import KERAS3_MODELS, keras3_model, seed_of

import triggernn as tn
from triggernn import compat
from triggernn.errors import HLSError, TriggerNNError
from triggernn.quantize import to_fixed_grid

N_EVENTS = 1000

keras3_only = pytest.mark.skipif(not compat.keras3(), reason="the Keras 3 stack's test (make test-keras3)")
hgq2_only = pytest.mark.skipif(
    not compat.keras3() or compat.quantized_library() != "hgq2", reason="needs the Keras 3 stack with hgq2"
)

#: In the default run (one of each family): an HGQ2 dense layer, an HGQ2 convolution, a float Keras 3 model.
FAST = {"hgq2_dense", "hgq2_conv1d_same", "keras_v3_activation_relu"}

#: hls4ml's ``config_from_keras_model(granularity='name')`` (the per-layer config triggernn starts from) writes
#: its own default Softmax implementation ('stable') over an HGQ2 ``QSoftmax(stable=False)``, and warns (its
#: ParallelizationFactor over an HGQ2 conv's warns too: ignored in pyproject.toml, a schedule, bit-exact).
_IMPL = "ignore:Overriding attribute 'implementation' of layer:UserWarning"
WARNINGS: dict[str, str] = {"hgq2_softmax_latency": _IMPL}

#: Entries whose ``expect`` is the FAIL verdict's first failure (compile returns), not a raised TriggerNNError.
FAIL_VERDICT = {"hgq2_add"}

#: The Emulator's refusal, as measured: entry -> a substring of its HLSError.
EMULATOR_REFUSED: dict[str, str] = {
    "hgq2_einsum_xbi_xio_xbo": "the C++ batch engine takes models of one input and one output",
}

#: Measured triggernn defects: entry -> (the defect, the exception it raises today). None now.
XFAIL: dict[str, tuple[str, type[BaseException]]] = {}


def _params():
    for m in KERAS3_MODELS:
        marks = [hgq2_only if m.name.startswith("hgq2_") else keras3_only]
        if m.name not in FAST:
            marks.append(pytest.mark.slow)
        if m.name in WARNINGS:
            marks.append(pytest.mark.filterwarnings(WARNINGS[m.name]))
        if m.name in XFAIL:
            reason, raises = XFAIL[m.name]
            marks.append(pytest.mark.xfail(strict=True, reason=reason, raises=raises))
        yield pytest.param(m, id=m.name, marks=marks)


def _inputs(model, input_range: tuple[float, float], seed: int) -> list[np.ndarray]:
    """One float32 array per model input, ``N_EVENTS`` events uniform in ``input_range``."""
    rng = np.random.default_rng(seed)
    return [
        rng.uniform(*input_range, size=(N_EVENTS, *tuple(t.shape[1:]))).astype(np.float32)
        for t in model.inputs
    ]


@pytest.mark.parametrize("m", list(_params()))
def test_field_keras3_model(m, tmp_path):
    model = m.build()
    path = tmp_path / f"{m.name}.keras"
    model.save(path)
    xs = _inputs(model, m.input_range, seed_of(m.name))
    X = xs if len(xs) > 1 else xs[0]
    kwargs = dict(name=m.name, out=tmp_path / "prj", run_root=tmp_path / "runs", compare_default=False)
    if (
        m.name in FAIL_VERDICT
    ):  # compiled, but the verification caught what hls4ml got wrong: the verdict says
        result = tn.compile(path, X, **kwargs)
        assert not result.passed, result.summary()
        assert m.expect in result.verification.failures[0], result.summary()
        return
    if m.expect:
        with pytest.raises(TriggerNNError) as err:
            tn.compile(path, X, **kwargs)
        assert m.expect in str(err.value)
        return
    result = tn.compile(path, X, **kwargs)
    assert result.passed, result.summary()
    if m.name.startswith("hgq2_"):
        assert result.verification.bit_exact_fraction == 1.0, result.summary()

    # the emulator (numpy, or the C++ engine where numpy steps aside) against the C simulation, bit for bit
    Xg = [to_fixed_grid(x[:300], result.calibration.input_type) for x in xs]
    Xg = Xg if len(Xg) > 1 else Xg[0]
    if m.name in EMULATOR_REFUSED:
        with pytest.raises(HLSError) as err:
            tn.Emulator(result.project)
        assert EMULATOR_REFUSED[m.name] in str(err.value)
        return
    em = tn.Emulator(result.project)
    assert em.engine == "numpy" or em.reason
    np.testing.assert_array_equal(np.asarray(em.predict(Xg)), np.asarray(result.project.predict(Xg).outputs))


def test_every_entry_named_here_is_in_the_catalogue():
    """No stale names in the tables above."""
    names = {m.name for m in KERAS3_MODELS}
    assert FAST | set(WARNINGS) | FAIL_VERDICT | set(EMULATOR_REFUSED) | set(XFAIL) <= names
    assert all(keras3_model(n).expect for n in FAIL_VERDICT | set(XFAIL))
