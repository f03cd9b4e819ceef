"""Issue 17's activation modules, nn.PReLU's parameter, nn.Fold / nn.Unfold: reprs, parameters
and parity with torch's modules (weights copied), in-place behaviour and bad settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import backprop as bp
from backprop import nn

_REPRS = [
    ("Hardtanh()", "Hardtanh(min_val=-1.0, max_val=1.0)"),
    ("Hardtanh(-2.0, 3.0, True)", "Hardtanh(min_val=-2.0, max_val=3.0, inplace=True)"),
    ("ReLU6()", "ReLU6()"),
    ("ReLU6(True)", "ReLU6(inplace=True)"),
    ("Hardsigmoid(True)", "Hardsigmoid()"),
    ("Hardswish(True)", "Hardswish()"),
    ("SELU(True)", "SELU(inplace=True)"),
    ("CELU()", "CELU(alpha=1.0)"),
    ("CELU(2.0, True)", "CELU(alpha=2.0, inplace=True)"),
    ("Mish()", "Mish()"),
    ("Softsign()", "Softsign()"),
    ("LogSigmoid()", "LogSigmoid()"),
    ("Tanhshrink()", "Tanhshrink()"),
    ("Softshrink()", "Softshrink(0.5)"),
    ("Hardshrink(0.3)", "Hardshrink(0.3)"),
    ("PReLU(3, 0.1)", "PReLU(num_parameters=3)"),
    ("GLU(1)", "GLU(dim=1)"),
    ("Unfold(2, padding=1)", "Unfold(kernel_size=2, dilation=1, padding=1, stride=1)"),
    (
        "Fold((4, 5), 2)",
        "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)",
    ),
]


@pytest.mark.parametrize("expr,expected", _REPRS)
def test_repr_matches_torch(expr, expected):
    assert repr(eval("nn." + expr, {"nn": nn})) == expected
    assert repr(eval("nn." + expr, {"nn": torch.nn})) == expected


_MODULES = [
    "Hardtanh(-0.5, 0.8)", "ReLU6()", "Hardsigmoid()", "Hardswish()", "SELU()", "CELU(0.7)",
    "Mish()", "Softsign()", "LogSigmoid()", "Tanhshrink()", "Softshrink(0.3)", "Hardshrink(0.3)",
    "GLU(1)",
]  # fmt: skip


@pytest.mark.parametrize("expr", _MODULES)
def test_module_parity(expr):
    x = np.random.default_rng(0).standard_normal((3, 4, 2)) * 3
    xb = bp.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yb = eval("nn." + expr, {"nn": nn})(xb)
    yt = eval("nn." + expr, {"nn": torch.nn})(xt)
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    yb.sum().backward()
    yt.sum().backward()
    np.testing.assert_allclose(xb.grad.data, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_prelu_parameter_and_gradient():
    m = nn.PReLU(3, init=0.1)
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert m.weight.shape == (3,) and m.weight.dtype == np.float32
    np.testing.assert_array_equal(m.weight.data, np.full(3, 0.1, np.float32))
    assert nn.PReLU().weight.data.tolist() == [0.25]
    tm = torch.nn.PReLU(3, init=0.1)
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    xb, xt = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    m(xb).sum().backward()
    tm(xt).sum().backward()
    np.testing.assert_allclose(m.weight.grad.data, tm.weight.grad.numpy(), rtol=1e-5)
    np.testing.assert_allclose(xb.grad.data, xt.grad.numpy(), rtol=1e-6)
    assert nn.PReLU(2, dtype=bp.float64).weight.dtype == np.float64
    with pytest.raises(ValueError, match="PReLU: num_parameters"):
        nn.PReLU(0)
    with pytest.raises(ValueError, match="prelu: weight has 3 parameters"):
        m(bp.randn(2, 4))


def test_fold_unfold_modules_match_torch():
    x = np.random.default_rng(2).standard_normal((2, 3, 5, 6))
    kw = {"kernel_size": (2, 3), "dilation": (1, 2), "padding": 1, "stride": (2, 1)}
    ub, ut = nn.Unfold(**kw), torch.nn.Unfold(**kw)
    cols_b, cols_t = ub(bp.tensor(x)), ut(torch.tensor(x))
    np.testing.assert_allclose(cols_b.data, cols_t.numpy(), rtol=1e-12)
    fb, ft = nn.Fold((5, 6), **kw), torch.nn.Fold((5, 6), **kw)
    np.testing.assert_allclose(fb(cols_b).data, ft(cols_t).numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="fold: .* sliding blocks"):
        nn.Fold((5, 7), **kw)(cols_b)
    with pytest.raises(ValueError, match="Unfold: stride must be >= 1"):
        nn.Unfold(2, stride=0)


def test_inplace_modules_write_into_their_input():
    x = bp.tensor([-2.0, 0.5, 7.0], requires_grad=True)
    y = x * 1
    out = nn.ReLU6(inplace=True)(y)
    assert out is y
    np.testing.assert_array_equal(y.data, [0.0, 0.5, 6.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 1.0, 0.0])
    # A leaf that requires grad cannot be written to in grad mode (PyTorch's rule) ...
    with pytest.raises(RuntimeError, match="leaf"):
        nn.Hardtanh(inplace=True)(x)
    # ... and the out-of-place default leaves the input alone.
    z = bp.tensor([-2.0, 2.0])
    assert nn.SELU()(z) is not z and z.data.tolist() == [-2.0, 2.0]


def test_bad_settings_name_the_function():
    x = bp.randn(2, 4)
    with pytest.raises(ValueError, match="hardtanh: min_val"):
        nn.functional.hardtanh(x, 1.0, -1.0)
    with pytest.raises(ValueError, match="softshrink: lambd must be >= 0"):
        nn.functional.softshrink(x, -1.0)
    with pytest.raises(ValueError, match="celu: alpha cannot be 0"):
        nn.functional.celu(x, 0.0)
    with pytest.raises(ValueError, match="glu: .* must be even"):
        nn.functional.glu(bp.randn(2, 5))
    with pytest.raises(TypeError, match="prelu: input dtype"):
        nn.functional.prelu(x, bp.tensor([0.2], dtype=bp.float64))
