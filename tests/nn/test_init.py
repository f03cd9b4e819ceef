"""nn.init: gains and fans as in PyTorch, the distributions' bounds and moments, seeding, dtype."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.nn import init as tinit

import backprop as bp
from backprop import nn
from backprop.nn import init


@pytest.mark.parametrize(
    "nl,param",
    [
        ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
        ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", math.sqrt(5)), ("selu", None),
    ],
)  # fmt: skip
def test_calculate_gain_matches_torch(nl, param):
    assert init.calculate_gain(nl, param) == pytest.approx(tinit.calculate_gain(nl, param))


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope"):
        init.calculate_gain("leaky_relu", "a")


@pytest.mark.parametrize("shape", [(3, 4), (20, 1, 5, 5), (50, 20, 5, 5), (4, 3, 7)])
def test_fans_match_torch(shape):
    assert init._calculate_fan_in_and_fan_out(bp.zeros(*shape)) == (
        tinit._calculate_fan_in_and_fan_out(torch.zeros(shape))
    )


def test_fans_need_two_dims():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(bp.zeros(5))
    with pytest.raises(ValueError, match="fewer than 2"):
        init.kaiming_normal_(bp.zeros(5))


def _big(*shape, dtype=bp.float32):
    return nn.Parameter(bp.zeros(*shape, dtype=dtype))


def test_uniform_normal_constant():
    t = _big(300, 400)  # a Parameter requiring grad, with grad mode on: still allowed
    assert init.uniform_(t, -2.0, 3.0) is t
    assert t.data.min() >= -2.0 and t.data.max() < 3.0
    assert abs(t.data.mean() - 0.5) < 0.02 and t.dtype == np.float32
    init.normal_(t, 1.0, 2.0)
    assert abs(t.data.mean() - 1.0) < 0.02 and abs(t.data.std() - 2.0) < 0.02
    init.constant_(t, 0.25)
    assert (t.data == 0.25).all()
    init.ones_(t)
    assert (t.data == 1).all()
    init.zeros_(t)
    assert not t.data.any()
    e = init.eye_(bp.zeros(3, 5))
    np.testing.assert_array_equal(e.data, np.eye(3, 5))
    init.trunc_normal_(t, std=1.0, a=-0.5, b=0.5)
    assert t.data.min() >= -0.5 and t.data.max() <= 0.5
    with pytest.raises(ValueError, match="eye_"):
        init.eye_(bp.zeros(2, 2, 2))
    with pytest.raises(TypeError, match="floating"):
        init.normal_(bp.tensor([1, 2]))
    with pytest.raises(ValueError, match="uniform_"):
        init.uniform_(t, 1.0, 0.0)


def test_xavier():
    t = _big(300, 500)
    init.xavier_uniform_(t)
    b = math.sqrt(6 / (300 + 500))  # Glorot: U[-b, b], b = sqrt(6 / (fan_in + fan_out))
    assert np.abs(t.data).max() <= b and np.abs(t.data).max() > 0.99 * b
    assert abs(t.data.std() - b / math.sqrt(3)) < 0.01 * b
    init.xavier_uniform_(t, gain=2.0)
    assert np.abs(t.data).max() > 1.98 * b
    init.xavier_normal_(t)
    assert abs(t.data.std() - math.sqrt(2 / 800)) < 0.01 * math.sqrt(2 / 800)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nl,a", [("relu", 0), ("leaky_relu", math.sqrt(5)), ("tanh", 0)])
def test_kaiming(mode, nl, a):
    t = _big(60, 40, 3, 3)
    fan = 40 * 9 if mode == "fan_in" else 60 * 9
    std = init.calculate_gain(nl, a) / math.sqrt(fan)
    init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nl)
    bound = math.sqrt(3) * std
    assert np.abs(t.data).max() <= bound * (1 + 1e-6) and np.abs(t.data).max() > 0.99 * bound
    init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nl)
    assert abs(t.data.std() - std) < 0.02 * std
    with pytest.raises(ValueError, match="mode"):
        init.kaiming_uniform_(t, mode="fan_avg")


def test_linear_default_init_is_kaiming_sqrt5():
    # kaiming_uniform_(a=sqrt(5)) works out to U[-1/sqrt(fan_in), 1/sqrt(fan_in)]
    t = _big(200, 100)
    init.kaiming_uniform_(t, a=math.sqrt(5))
    assert np.abs(t.data).max() <= 1 / math.sqrt(100) and np.abs(t.data).max() > 0.099


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 2, 3, 3)])
def test_orthogonal(shape):
    t = _big(*shape, dtype=bp.float64)
    init.orthogonal_(t, gain=1.5)
    m = t.data.reshape(shape[0], -1) / 1.5
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, np.eye(m.shape[0]), atol=1e-12)
    else:
        np.testing.assert_allclose(m.T @ m, np.eye(m.shape[1]), atol=1e-12)
    with pytest.raises(ValueError, match="orthogonal_"):
        init.orthogonal_(bp.zeros(4))


def test_init_is_seeded_and_keeps_dtype():
    bp.manual_seed(11)
    a = init.xavier_normal_(bp.zeros(4, 5)).data.copy()
    bp.manual_seed(11)
    b = init.xavier_normal_(bp.zeros(4, 5)).data
    np.testing.assert_array_equal(a, b)
    assert init.kaiming_uniform_(bp.zeros(3, 3, dtype=bp.float64)).dtype == np.float64
    with pytest.warns(UserWarning, match="zero-element"):
        init.kaiming_uniform_(bp.zeros(0, 3))
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))
