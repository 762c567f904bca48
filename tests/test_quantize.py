"""Quantizer specs: QKeras quantizers and ap_fixed types agree, grids are exact, bad types are refused."""

import numpy as np
import pytest

from triggernn.quantize import FixedSpec, parse_fixed, qkeras_bits, qkeras_relu, to_fixed_grid


@pytest.mark.parametrize(
    ("text", "width", "integer", "signed"),
    [
        ("ap_fixed<16,6>", 16, 6, True),
        ("fixed<6,1,TRN,WRAP,0>", 6, 1, True),
        ("ap_ufixed<8,0>", 8, 0, False),
        ("ufixed<18,1,RND,SAT>", 18, 1, False),
        ("ap_int<8>", 8, 8, True),
        ("ap_fixed<18,-2>", 18, -2, True),
    ],
)
def test_parse_fixed(text, width, integer, signed):
    spec = parse_fixed(text)
    assert (spec.width, spec.integer, spec.signed) == (width, integer, signed)
    assert parse_fixed(spec.hls()) == spec


@pytest.mark.parametrize("text", ["ap_fixed<0,0>", "ap_fixed<200,6>", "float", "ap_fixed<16>", ""])
def test_parse_fixed_rejects(text):
    with pytest.raises(ValueError, match="fixed"):
        parse_fixed(text)


def test_range_and_lsb():
    s = FixedSpec(16, 6)
    assert s.lsb == 2**-10
    assert s.min == -32
    assert s.max == 32 - 2**-10
    u = FixedSpec(6, 0, signed=False)
    assert (u.min, u.max, u.lsb) == (0.0, 1 - 2**-6, 2**-6)


def test_to_fixed_grid_is_on_grid_and_clipped():
    rng = np.random.default_rng(1)
    x = rng.normal(scale=20, size=10_000)
    spec = FixedSpec(16, 6)
    q = to_fixed_grid(x, spec)
    assert q.dtype == np.float32
    assert np.all(q >= spec.min)
    assert np.all(q <= spec.max)
    np.testing.assert_array_equal(q * 1024, np.round(q * 1024))
    inside = (x > -31) & (x < 31)
    assert np.max(np.abs(q[inside] - x[inside])) <= spec.lsb / 2


@pytest.mark.parametrize(("bits", "integer"), [(6, 0), (8, 0), (4, 1), (10, 3)])
def test_qkeras_bits_values_are_ap_fixed_values(bits, integer):
    """quantized_bits(b, i, alpha=1) outputs lie on the ap_fixed<b, i+1> grid and inside its range."""
    spec = FixedSpec(bits, integer + 1)
    x = np.linspace(spec.min * 1.5, spec.max * 1.5, 4001).astype(np.float32)
    q = np.asarray(qkeras_bits(bits, integer)(x))
    np.testing.assert_array_equal(q / spec.lsb, np.round(q / spec.lsb))
    assert q.min() >= spec.min
    assert q.max() <= spec.max


@pytest.mark.parametrize(("bits", "integer"), [(6, 0), (8, 2), (4, 0)])
def test_qkeras_relu_values_are_ap_ufixed_values(bits, integer):
    spec = FixedSpec(bits, integer, signed=False)
    x = np.linspace(-1, spec.max * 2 + 1, 4001).astype(np.float32)
    q = np.asarray(qkeras_relu(bits, integer)(x))
    np.testing.assert_array_equal(q / spec.lsb, np.round(q / spec.lsb))
    assert q.min() == 0
    assert q.max() == pytest.approx(spec.max)
