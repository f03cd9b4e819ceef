"""PyTorch's device vocabulary, inference_mode, t(), contiguous(): the same code in both."""

import numpy as np
import pytest
import torch

import backprop as bp


@pytest.mark.parametrize("lib", [bp, torch], ids=["bp", "torch"])
def test_device_idioms_run_unchanged(lib):
    device = lib.device("cuda" if lib.cuda.is_available() else "cpu")
    assert str(device) == "cpu" and device.type == "cpu" and device == lib.device("cpu")
    x = lib.ones((2, 3)).to(device)
    assert x.device == device and not x.is_cuda
    assert x.to(device, lib.float64).dtype == lib.float64
    assert x.to(lib.ones(1, dtype=lib.float64)).dtype == lib.float64
    model = lib.nn.Linear(3, 2).to(device)
    assert model(x).shape == (2, 2)
    assert str(lib.device("cpu:0")) == "cpu:0"
    assert x.cpu() is x


def test_other_devices_are_refused_clearly():
    with pytest.raises(RuntimeError, match="CPU only"):
        bp.device("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        bp.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        bp.nn.Linear(2, 2).to("cuda:0")
    with pytest.raises(RuntimeError, match="CPU only"):
        bp.ones(2).cuda()
    assert bp.cuda.device_count() == 0


@pytest.mark.parametrize("lib", [bp, torch], ids=["bp", "torch"])
def test_inference_mode(lib):
    w = lib.ones(3, requires_grad=True)
    with lib.inference_mode():
        assert not (w * 2).requires_grad
    with lib.inference_mode(False):
        assert (w * 2).requires_grad

    @lib.inference_mode()
    def f(v):
        return v * 2

    assert not f(w).requires_grad


def test_t_contiguous_against_torch():
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    xb, xt = bp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    for x, lib in ((xb, bp), (xt, torch)):
        y = x.t()
        assert not y.is_contiguous()
        z = y.contiguous()
        assert z.is_contiguous() and z.shape == (3, 2)
        (z * lib.tensor(np.arange(6.0, dtype=np.float32).reshape(3, 2))).sum().backward()
    np.testing.assert_array_equal(xb.grad.numpy(), xt.grad.numpy())
    assert bp.ones(3).t().shape == (3,)
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        bp.ones((2, 2, 2)).t()
