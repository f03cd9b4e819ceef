"""The elementwise math of functional/math.py beyond the op table: the accuracy of the NumPy erf,
erfc and erfinv (against Python's math.erf/erfc and torch.special), the in-place twins, the
Tensor methods, and the errors for dtypes and arguments PyTorch refuses."""

import math

import numpy as np
import pytest
import torch

import backprop as bp
from backprop.functional.math import UnsupportedDtypeError
from backprop.ops._erf import erf_erfc, erfinv

ULP = np.finfo(np.float64).eps


def _grid():
    rng = np.random.default_rng(0)
    return np.concatenate([
        rng.normal(size=4000) * 3,
        rng.uniform(-27, 27, size=4000),
        np.linspace(-6, 6, 2001),
        [0.0, -0.0, 0.46875, -0.46875, 4.0, -4.0, 1e-300, 5e-324, 26.0, -26.0],
    ])  # fmt: skip


def test_erf_erfc_within_a_few_ulps_of_math():
    x = _grid()
    e, c = erf_erfc(np, x)
    me = np.array([math.erf(v) for v in x])
    mc = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(e, me, rtol=4 * ULP, atol=0)
    normal = mc > np.finfo(np.float64).tiny  # below it erfc is subnormal: fewer digits exist
    np.testing.assert_allclose(c[normal], mc[normal], rtol=8 * ULP, atol=0)
    np.testing.assert_allclose(c[~normal], mc[~normal], rtol=0, atol=1e-320)


def test_erf_erfc_match_torch_special_in_both_precisions():
    x = _grid()
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        with np.errstate(under="ignore"):
            got_e = bp.erf(bp.tensor(xd)).numpy()
            got_c = bp.erfc(bp.tensor(xd)).numpy()
        tol = dict(rtol=8 * np.finfo(dtype).eps, atol=np.finfo(dtype).tiny)
        np.testing.assert_allclose(got_e, torch.special.erf(torch.tensor(xd)).numpy(), **tol)
        np.testing.assert_allclose(got_c, torch.special.erfc(torch.tensor(xd)).numpy(), **tol)


def test_erf_special_values():
    e, c = erf_erfc(np, np.array([np.inf, -np.inf, np.nan, 0.0, 30.0, -30.0]))
    np.testing.assert_array_equal(e, [1.0, -1.0, np.nan, 0.0, 1.0, -1.0])
    np.testing.assert_array_equal(c, [0.0, 2.0, np.nan, 1.0, 0.0, 2.0])


def test_erfinv_inverts_erf_to_working_precision():
    rng = np.random.default_rng(1)
    y = np.concatenate([
        rng.uniform(-1, 1, size=5000),
        1 - 10.0 ** -rng.uniform(1, 16, size=2000),  # the tail, where erfc(x) = 1 - y is used
        10.0 ** -rng.uniform(3, 300, size=500),  # near 0: erfinv(y) ~ y sqrt(pi) / 2
    ])  # fmt: skip
    x = erfinv(np, y)
    # The exact inverse moves by dy / erf'(x) per unit of y: allow a few units of x and of y.
    slope = 2 / math.sqrt(math.pi) * np.exp(-x * x)
    back = np.array([math.erf(v) for v in x])
    tail = np.abs(y) > 0.5
    back_c = np.array([math.erfc(abs(v)) for v in x])
    resid = np.where(tail, np.abs(back_c - (1 - np.abs(y))), np.abs(back - y))
    allowed = 4 * ULP * (np.where(tail, 1 - np.abs(y), np.abs(y)) + slope * np.abs(x))
    assert np.all(resid <= allowed), float(np.max(resid / allowed))
    t = torch.special.erfinv(torch.tensor(y)).numpy()
    np.testing.assert_allclose(x[~tail], t[~tail], rtol=16 * ULP, atol=0)


def test_erfinv_domain():
    x = erfinv(np, np.array([1.0, -1.0, 1.5, -2.0, np.nan, 0.0, -0.0]))
    np.testing.assert_array_equal(x, [np.inf, -np.inf, np.nan, np.nan, np.nan, 0.0, 0.0])


# ------------------------------------------------------------------ in-place twins
A = np.array([[-0.7, 0.2, 0.5], [0.9, -0.1, 0.3]])


@pytest.mark.parametrize(
    "call",
    [
        lambda h, m: h.tan_(),
        lambda h, m: h.asin_(),
        lambda h, m: h.arctan_(),  # (torch has no gradient for atanh_, asinh_, acosh_)
        lambda h, m: h.erfinv_(),
        lambda h, m: h.erf_(),
        lambda h, m: h.expm1_(),
        lambda h, m: h.exp2_(),
        lambda h, m: h.atan2_(m.ones(3, dtype=h.dtype)),
        lambda h, m: h.copysign_(m.tensor([-1.0, 1.0, -1.0], dtype=h.dtype)),
        lambda h, m: h.hypot_(m.full((2, 3), 0.4, dtype=h.dtype)),
        lambda h, m: h.lerp_(m.zeros(3, dtype=h.dtype), 0.25),
        lambda h, m: h.lerp_(m.ones(3, dtype=h.dtype), m.full((2, 3), 0.8, dtype=h.dtype)),
        lambda h, m: h.nan_to_num_(),
        lambda h, m: h.clamp_min_(0.0),
    ],
)
def test_inplace_twins_match_torch(call):
    out = []
    for m in (bp, torch):
        x = m.tensor(A, requires_grad=True)
        h = (x * 2 - 0.5) * 0.5  # in (-1, 1): inside every domain above
        r = call(h, m)
        assert r is h
        (h * h).sum().backward()
        out.append((np.asarray(h.detach().numpy()), x.grad.numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_sgn_inplace_and_bitwise_inplace_values():
    x = bp.tensor([-2.0, 0.0, 3.0])
    assert x.sgn_() is x
    np.testing.assert_array_equal(x.numpy(), [-1.0, 0.0, 1.0])
    i = bp.tensor([5, 6, 7], dtype=bp.int16)
    assert i.bitwise_and_(3) is i and i.dtype == bp.int16
    np.testing.assert_array_equal(i.numpy(), [1, 2, 3])


def test_inplace_on_an_integer_tensor_refuses_a_float_result():
    x = bp.tensor([1, 2])
    with pytest.raises(RuntimeError, match="tan_"):
        x.tan_()


@pytest.mark.parametrize(
    "name",
    "tan asin acos atan atan2 sinh cosh asinh acosh atanh arcsin arccos arctan arctan2 arcsinh "
    "arccosh arctanh erf erfc erfinv exp2 expm1 log2 log10 logaddexp logaddexp2 copysign hypot "
    "lerp sgn signbit isclose isinf isposinf isneginf nan_to_num clamp_min clamp_max "
    "bitwise_and bitwise_or bitwise_xor bitwise_not bitwise_left_shift "
    "bitwise_right_shift".split(),
)
def test_function_method_and_inplace_exist_where_torch_has_them(name):
    assert callable(getattr(bp, name))
    assert callable(getattr(bp.Tensor, name))
    assert hasattr(bp.Tensor, name + "_") == hasattr(torch.Tensor, name + "_"), name


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("name", ["logaddexp", "logaddexp2", "hypot"])
def test_integer_inputs_refused_where_torch_refuses_them(name):
    with pytest.raises(NotImplementedError):
        getattr(torch, name)(torch.tensor([1, 2]), torch.tensor([1, 2]))
    with pytest.raises(UnsupportedDtypeError, match=f"{name}: not implemented for dtype int64"):
        getattr(bp, name)(bp.tensor([1, 2]), bp.tensor([1, 2]))


def test_lerp_checks_dtypes_and_shapes():
    a = bp.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="lerp: expected dtype float32 for end, got float64"):
        bp.lerp(a, a.double(), 0.5)
    with pytest.raises(TypeError, match="lerp: expected dtype float32 for weight"):
        bp.lerp(a, a, bp.tensor([0.5, 0.5], dtype=bp.float64))
    with pytest.raises(UnsupportedDtypeError, match="lerp"):
        bp.lerp(bp.tensor([1, 2]), bp.tensor([1, 2]), 0.5)
    with pytest.raises(ValueError, match="lerp: shapes"):
        bp.lerp(a, bp.ones(3), 0.5)
    with pytest.raises(TypeError, match="lerp: weight must be a number or a Tensor"):
        bp.lerp(a, a, "half")
    # A 0-d weight of another floating dtype is taken, as torch takes it.
    w = bp.tensor(0.5, dtype=bp.float64)
    np.testing.assert_allclose(bp.lerp(a, a * 3, w).numpy(), [2.0, 4.0])


def test_isclose_checks_dtypes_and_tolerances():
    a = bp.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="isclose: input has dtype float32 but other has"):
        bp.isclose(a, a.double())
    with pytest.raises(ValueError, match="isclose: rtol and atol must be >= 0"):
        bp.isclose(a, a, atol=-1.0)
    np.testing.assert_array_equal(bp.isclose(a, 1.0).numpy(), [True, False])


def test_clamp_with_tensor_bounds_checks_them():
    x = bp.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="clamp: shapes"):
        bp.clamp(x, bp.zeros(2), None)
    with pytest.raises(TypeError, match="clamp: min and max must be numbers or Tensors"):
        bp.clamp(x, bp.zeros(3), "1")
    # A number beside a tensor bound is taken (torch wants both of one kind).
    np.testing.assert_allclose(bp.clamp(x, bp.tensor([1.5, 0.0, 0.0]), 2.5).numpy(), [1.5, 2, 2.5])
