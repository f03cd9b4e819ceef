"""Helpers for layer tests: copy a backprop layer's weights into the torch layer, run both, compare
the output and the gradients of the input and of every parameter; gradcheck a layer's input and
parameters together."""

from __future__ import annotations

import numpy as np
import torch

import backprop as bp

TOL = {np.float64: (1e-8, 1e-10), np.float32: (1e-4, 1e-5)}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def copy_into_torch(b_mod, t_mod) -> None:
    """Copy every parameter and buffer of ``b_mod`` into the same-named one of ``t_mod``."""
    t_state = t_mod.state_dict(keep_vars=True)
    for k, v in b_mod.state_dict().items():
        assert k in t_state, f"torch layer has no {k!r}"
        with torch.no_grad():
            t_state[k].copy_(torch.from_numpy(np.array(v.data)))


def compare_layer(b_mod, t_mod, x, dtype=np.float64, *, seed=0, extra_inputs=()):
    """Run both layers on ``x`` (a float array, cast to ``dtype``) and compare output, input
    gradient and every parameter gradient; returns (b_out, t_out)."""
    rtol, atol = TOL[dtype]
    b_mod.to(dtype)
    t_mod.to(TORCH_DTYPE[dtype])
    copy_into_torch(b_mod, t_mod)
    xa = np.asarray(x)
    floating = np.issubdtype(xa.dtype, np.floating)
    if floating:
        xa = xa.astype(dtype)
    xb = bp.tensor(xa, requires_grad=floating)
    xt = torch.tensor(xa, requires_grad=floating)
    yb = b_mod(xb, *extra_inputs)
    yt = t_mod(xt, *extra_inputs)
    assert yb.shape == tuple(yt.shape), f"shape {yb.shape} vs torch {tuple(yt.shape)}"
    assert str(yb.dtype) == str(yt.dtype).removeprefix("torch.")
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=rtol, atol=atol, err_msg="out")
    u = np.random.default_rng(seed).standard_normal(yb.shape).astype(dtype)
    (yb * bp.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()
    if floating:
        np.testing.assert_allclose(
            xb.grad.data, xt.grad.numpy(), rtol=rtol, atol=atol, err_msg="input grad"
        )
    t_params = dict(t_mod.named_parameters())
    for name, p in b_mod.named_parameters():
        tp = t_params[name]
        if tp.grad is None:
            assert p.grad is None or not p.grad.data.any(), name
            continue
        assert p.grad is not None, f"no gradient for {name}"
        assert p.grad.dtype == p.dtype
        np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=rtol, atol=atol, err_msg=name)
    t_buffers = dict(t_mod.named_buffers())
    for name, buf in b_mod.named_buffers():
        np.testing.assert_allclose(
            buf.data, t_buffers[name].numpy(), rtol=rtol, atol=atol, err_msg=name
        )
    return yb, yt


def module_gradcheck(mod, x, *, reseed=None, **kw) -> bool:
    """float64 gradcheck of ``mod(x)`` with respect to ``x`` and every parameter of ``mod``."""
    mod.double()
    slots = []
    for name, p in mod.named_parameters():
        owner, _, leaf = name.rpartition(".")
        slots.append((mod.get_submodule(owner), leaf, p))

    def fn(xx, *ps):
        if reseed is not None:
            bp.manual_seed(reseed)
        try:
            for (owner, leaf, _), q in zip(slots, ps):
                owner._parameters[leaf] = q  # the gradcheck's leaves stand in for the params
            return mod(xx)
        finally:
            for owner, leaf, p in slots:
                owner._parameters[leaf] = p

    xb = bp.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    return bp.gradcheck(fn, [xb, *[p for *_, p in slots]], **kw)
