"""Hypothesis throws random layer configurations at backprop and PyTorch side by side: each either
matches torch (output, input gradient, every parameter gradient) or, where torch refuses the
configuration or the input, raises a clear ValueError/TypeError naming the layer."""

import numpy as np
import pytest
import torch
from _nn_parity import compare_layer
from hypothesis import given
from hypothesis import strategies as st

import backprop as bp

_REFUSED = (RuntimeError, ValueError, TypeError, IndexError)


def _both(build, x, *, float_input=True):
    """Build the layer in both libraries; compare them, or check both refuse."""
    try:
        torch.manual_seed(0)
        t_mod = build(torch.nn)
        t_mod.double()(torch.tensor(x))
    except _REFUSED:
        with pytest.raises((ValueError, TypeError)) as info:
            b_mod = build(bp.nn)
            b_mod.double()(bp.tensor(x))
        assert type(info.value).__module__ == "builtins" and str(info.value)
        return
    b_mod = build(bp.nn)
    compare_layer(b_mod, t_mod, x, np.float64)


@given(
    n=st.integers(1, 2),
    cin=st.integers(1, 4),
    cout=st.integers(1, 4),
    groups=st.sampled_from([1, 2]),
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    padding=st.one_of(
        st.tuples(st.integers(0, 2), st.integers(0, 2)), st.sampled_from(["same", "valid"])
    ),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    bias=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_conv2d_configs(
    n, cin, cout, groups, size, k, stride, padding, dilation, bias, seed
):
    if padding == "same" and stride != (1, 1):
        stride = (1, 1)  # torch refuses 'same' with strides at construction; covered by unit tests
    x = np.random.default_rng(seed).standard_normal((n, cin, *size))

    def build(nn):
        return nn.Conv2d(cin, cout, k, stride=stride, padding=padding, dilation=dilation,
                         groups=groups, bias=bias)  # fmt: skip

    _both(build, x)


@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    k=st.integers(1, 4),
    stride=st.one_of(st.none(), st.integers(1, 3)),
    padding=st.integers(0, 2),
    ceil_mode=st.booleans(),
    kind=st.sampled_from(["max", "avg"]),
    seed=st.integers(0, 99),
)
def test_random_pool2d_configs(n, c, size, k, stride, padding, ceil_mode, kind, seed):
    x = np.random.default_rng(seed).standard_normal((n, c, *size))

    def build(nn):
        cls = nn.MaxPool2d if kind == "max" else nn.AvgPool2d
        return cls(k, stride=stride, padding=padding, ceil_mode=ceil_mode)

    _both(build, x)


@given(
    batch=st.lists(st.integers(0, 3), min_size=0, max_size=2).map(tuple),
    fin=st.integers(1, 5),
    fout=st.integers(1, 5),
    given_in=st.integers(1, 5),
    bias=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_linear_configs(batch, fin, fout, given_in, bias, seed):
    x = np.random.default_rng(seed).standard_normal((*batch, given_in))
    _both(lambda nn: nn.Linear(fin, fout, bias=bias), x)


@given(
    shape=st.sampled_from([(4, 3), (2, 3, 5), (3, 3, 2, 2), (1, 3), (3,), (2, 4, 2, 2)]),
    kind=st.sampled_from(["BatchNorm1d", "BatchNorm2d"]),
    affine=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_batchnorm_inputs(shape, kind, affine, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    _both(lambda nn: getattr(nn, kind)(3, affine=affine), x)
