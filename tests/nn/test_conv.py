"""Conv1d / Conv2d: parity with PyTorch (same weights: output, input and parameter gradients),
gradcheck, initialisation, layout independence and the ValueErrors for invalid configurations."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import backprop as bp
from backprop import nn

torch.set_num_threads(1)

TOL = {np.float64: (1e-8, 1e-10), np.float32: (1e-4, 1e-5)}


def close(actual, desired, dtype, err_msg=""):
    """rtol per element, atol relative to the array's scale: a float32 sum of hundreds of terms
    is accurate to ~1e-6 of its largest terms, not of a small result."""
    rtol, atol = TOL[dtype]
    desired = np.asarray(desired)
    scale = max(1.0, float(np.abs(desired).max(initial=0.0)))
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol * scale, err_msg=err_msg)


def _pair(bp_mod, t_mod, x, dtype):
    """Run both modules on x with the same weights; compare output and every gradient."""
    t_mod = t_mod.double() if dtype == np.float64 else t_mod.float()
    bp_mod.to(dtype)
    bp_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    x = x.astype(dtype)
    bx = bp.tensor(x, requires_grad=True)
    tx = torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note about 'same' with even kernels
        ty = t_mod(tx)
    by = bp_mod(bx)
    assert by.shape == tuple(ty.shape)
    assert by.dtype == dtype
    close(by.data, ty.detach().numpy(), dtype)
    u = np.random.default_rng(1).standard_normal(by.shape).astype(dtype)
    (by * bp.tensor(u)).sum().backward()
    (ty * torch.tensor(u)).sum().backward()
    close(bx.grad.data, tx.grad.numpy(), dtype)
    tparams = dict(t_mod.named_parameters())
    for name, p in bp_mod.named_parameters():
        assert p.grad.dtype == dtype, name
        close(p.grad.data, tparams[name].grad.numpy(), dtype, err_msg=name)


CONV2D = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=3, out_channels=4, kernel_size=(3, 2), stride=2, padding=1),
    dict(in_channels=4, out_channels=6, kernel_size=3, stride=(2, 3), padding=(1, 2), groups=2),
    dict(in_channels=2, out_channels=3, kernel_size=(2, 3), stride=(3, 2), dilation=(2, 1),
         padding=2, bias=False),
    dict(in_channels=3, out_channels=2, kernel_size=(4, 2), padding="same"),
    dict(in_channels=2, out_channels=4, kernel_size=(2, 3), padding="same", dilation=(3, 2)),
    dict(in_channels=4, out_channels=8, kernel_size=3, groups=4, padding="valid"),
    dict(in_channels=3, out_channels=5, kernel_size=1),
    dict(in_channels=3, out_channels=2, kernel_size=5, stride=4, padding=1),  # 4 does not divide
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("cfg", CONV2D, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_conv2d_parity(cfg, dtype):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((2, cfg["in_channels"], 11, 9))
    _pair(nn.Conv2d(**cfg), torch.nn.Conv2d(**cfg), x, dtype)


CONV1D = [
    dict(in_channels=3, out_channels=4, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=2, stride=3, padding=2, dilation=2, groups=2),
    dict(in_channels=2, out_channels=3, kernel_size=4, padding="same", bias=False),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("cfg", CONV1D, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_conv1d_parity(cfg, dtype):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((3, cfg["in_channels"], 13))
    _pair(nn.Conv1d(**cfg), torch.nn.Conv1d(**cfg), x, dtype)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_modes_parity(mode):
    torch.manual_seed(0)
    for cfg in (
        dict(in_channels=2, out_channels=3, kernel_size=3, padding=2),
        dict(in_channels=2, out_channels=3, kernel_size=(2, 3), padding="same"),
        dict(in_channels=2, out_channels=4, kernel_size=3, padding=(0, 1), stride=2, groups=2),
    ):
        x = np.random.default_rng(0).standard_normal((2, 2, 5, 6))
        _pair(nn.Conv2d(**cfg, padding_mode=mode), torch.nn.Conv2d(**cfg, padding_mode=mode), x,
              np.float64)  # fmt: skip
    x = np.random.default_rng(0).standard_normal((2, 2, 7))
    cfg = dict(in_channels=2, out_channels=3, kernel_size=4, padding=2, padding_mode=mode)
    _pair(nn.Conv1d(**cfg), torch.nn.Conv1d(**cfg), x, np.float64)
    assert repr(nn.Conv1d(**cfg)) == repr(torch.nn.Conv1d(**cfg))


def test_lenet_sized_conv_parity_float32():
    """The benchmark's shape (smaller batch): 20 -> 50 channels, 5x5, padding 2."""
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((4, 20, 14, 14))
    cfg = dict(in_channels=20, out_channels=50, kernel_size=5, padding=2)
    _pair(nn.Conv2d(**cfg), torch.nn.Conv2d(**cfg), x, np.float32)


def test_conv_stack_parity():
    """conv -> relu -> maxpool -> conv: the later ops receive the op's (C, H, W, N) memory layout
    (a transposed view), and the gradients flowing back arrive in it too."""
    torch.manual_seed(0)
    t = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.AvgPool2d(2), torch.nn.Flatten(),
        torch.nn.Linear(16 * 2 * 2, 3),
    ).double()  # fmt: skip
    b = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(16 * 2 * 2, 3),
    )  # fmt: skip
    x = np.random.default_rng(0).standard_normal((5, 1, 16, 16))
    _pair(b, t, x, np.float64)


def test_noncontiguous_input():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, 7, 3, 2)).transpose(3, 2, 0, 1)  # (2, 3, 7, 7), odd strides
    w = rng.standard_normal((4, 3, 3, 3))
    y = nn.functional.conv2d(bp.tensor(x), bp.tensor(w), padding=1)
    ty = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    np.testing.assert_allclose(y.data, ty.numpy(), rtol=1e-10, atol=1e-12)


def test_gradcheck_random_directions():
    rng = np.random.default_rng(0)
    x = bp.tensor(rng.standard_normal((3, 4, 9, 8)), requires_grad=True)
    w = bp.tensor(rng.standard_normal((6, 2, 3, 3)), requires_grad=True)
    b = bp.tensor(rng.standard_normal(6), requires_grad=True)

    def f(x, w, b):
        return nn.functional.conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=2, groups=2)

    assert bp.gradcheck(f, (x, w, b), mode="random", n_directions=6)


def test_input_without_grad_and_no_grad_mode():
    conv = nn.Conv2d(2, 3, 3)
    x = bp.randn(2, 2, 5, 5)
    conv(x).sum().backward()
    assert x.grad is None and conv.weight.grad is not None and conv.bias.grad is not None
    with bp.no_grad():
        y = conv(x)
    assert not y.requires_grad


def test_float32_stays_float32():
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = bp.randn(2, 2, 5, 5, requires_grad=True)
    y = conv(x)
    y.sum().backward()
    assert y.dtype == np.float32
    assert x.grad.dtype == np.float32 and conv.weight.grad.dtype == np.float32


def test_unbatched_input():
    conv = nn.Conv2d(2, 3, 3)
    x = np.random.default_rng(0).standard_normal((2, 6, 5)).astype(np.float32)
    y = conv(bp.tensor(x))
    assert y.shape == (3, 4, 3)
    np.testing.assert_allclose(y.data, conv(bp.tensor(x[None])).data[0], rtol=1e-6)
    assert nn.Conv1d(2, 3, 3)(bp.randn(2, 7)).shape == (3, 5)


def test_default_init_matches_pytorch_bounds():
    bp.manual_seed(0)
    conv = nn.Conv2d(20, 50, 5)
    bound = 1 / math.sqrt(20 * 25)  # kaiming_uniform(a=sqrt(5)) on fan_in = 500
    w, b = conv.weight.data, conv.bias.data
    assert w.shape == (50, 20, 5, 5) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # U(-b, b) has std b / sqrt(3)
    assert np.abs(b).max() <= bound
    g = nn.Conv2d(4, 8, 3, groups=2)
    assert np.abs(g.weight.data).max() <= 1 / math.sqrt(2 * 9)
    assert nn.Conv2d(1, 2, 3, bias=False).bias is None


def test_seeded_init_is_reproducible():
    bp.manual_seed(3)
    a = nn.Conv2d(3, 4, 3).weight.data.copy()
    bp.manual_seed(3)
    np.testing.assert_array_equal(a, nn.Conv2d(3, 4, 3).weight.data)


def test_state_dict_keys_and_repr_match_pytorch():
    for cfg in CONV2D:
        b, t = nn.Conv2d(**cfg), torch.nn.Conv2d(**cfg)
        assert list(b.state_dict()) == list(t.state_dict())
        assert repr(b) == repr(t)
    for cfg in CONV1D:
        assert repr(nn.Conv1d(**cfg)) == repr(torch.nn.Conv1d(**cfg))


@pytest.mark.parametrize(
    "make,x_shape,match",
    [
        (lambda: nn.Conv2d(3, 4, 5), (2, 3, 4, 4), r"Conv2d: kernel of size 5 .* larger than the "
                                                   r"padded input .*\(2, 3, 4, 4\)"),
        (lambda: nn.Conv2d(3, 4, 3, dilation=3), (1, 3, 6, 6), r"dilation 3.*larger"),
        (lambda: nn.Conv2d(3, 4, 3), (2, 5, 8, 8), r"input has 5 channels .*\(4, 3, 3, 3\)"),
        (lambda: nn.Conv2d(3, 4, 3), (3, 8), r"Conv2d: expected a 4-D input .*\(3, 8\)"),
        (lambda: nn.Conv2d(3, 4, 3), (1, 2, 3, 8, 8), r"Conv2d: expected a 4-D input"),
        (lambda: nn.Conv1d(3, 4, 3), (2, 3, 8, 8), r"Conv1d: expected a 3-D input"),
    ],
)  # fmt: skip
def test_invalid_inputs_raise(make, x_shape, match):
    with pytest.raises(ValueError, match=match):
        make()(bp.zeros(*x_shape))


def test_invalid_configurations_raise():
    with pytest.raises(ValueError, match="Conv2d: in_channels 3 is not divisible by groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="Conv2d: out_channels 5 is not divisible by groups=2"):
        nn.Conv2d(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match="not supported for strided"):
        nn.Conv2d(3, 4, 3, padding="same", stride=2)
    with pytest.raises(ValueError, match="padding must be 'valid', 'same'"):
        nn.Conv2d(3, 4, 3, padding="full")
    with pytest.raises(ValueError, match="stride must be >= 1"):
        nn.Conv2d(3, 4, 3, stride=0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        nn.Conv1d(3, 4, 3, padding=-1)
    with pytest.raises(ValueError, match="Conv2d: padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="Conv2d: reflect padding .* smaller than the input size"):
        nn.Conv2d(3, 4, 3, padding=4, padding_mode="reflect")(bp.zeros(1, 3, 4, 9))
    x, w = bp.zeros(2, 4, 6, 6), bp.zeros(6, 2, 3, 3)
    with pytest.raises(ValueError, match=r"conv2d: out_channels 6 .* not divisible by groups=4"):
        nn.functional.conv2d(x, w, groups=4)
    with pytest.raises(ValueError, match="conv2d: bias shape"):
        nn.functional.conv2d(x, w, bp.zeros(5), groups=2)
    with pytest.raises(TypeError, match="dtype"):
        nn.functional.conv2d(x, w.double(), groups=2)
