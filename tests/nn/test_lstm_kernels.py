"""The LSTM layer's step functions: numba's serial kernels (backend/numba_kernels.py) against their
NumPy twins (ops/recurrent_steps.py), bit for bit, and the whole layer on both paths against each
other and against torch. The parity tests in test_recurrent.py run on whichever path is the
default; these pin both."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import backprop as bp
from backprop import nn
from backprop.backend import kernels
from backprop.ops import recurrent_steps as steps

pytest.importorskip("numba")

DTYPES = [np.float32, np.float64]


def _arrays(dtype, B=5, H=7, seed=0):
    rng = np.random.default_rng(seed)

    def u(*shape, lo=-2.0, hi=2.0):
        return rng.uniform(lo, hi, shape).astype(dtype)

    return rng, u


@pytest.mark.parametrize("dtype", DTYPES)
def test_pre_and_cell_kernels_equal_their_numpy_twins(dtype):
    from backprop.backend import numba_kernels as nk

    _, u = _arrays(dtype)
    B, H = 5, 7
    z0, ax, sb, c = u(B, 4 * H), u(B, 4 * H), u(4 * H), u(B, H)
    s = steps.gate_scale(H, dtype)
    assert s.dtype == dtype and s[0] == 0.5 and s[2 * H] == 1 and s[3 * H] == 0.5
    results = []
    for pre, cell in ((nk.lstm_pre, nk.lstm_cell), (steps.lstm_pre, steps.lstm_cell)):
        z, c_out = z0.copy(), np.empty_like(c)
        pre(z, ax, s, sb)
        after_pre = z.copy()
        np.tanh(z, out=z)
        cell(z, c, c_out)
        results.append((after_pre, z, c_out))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    after_pre, z, c_out = results[0]
    np.testing.assert_array_equal(after_pre, z0 + (s * ax + sb))
    # every gate from the one tanh: sigmoid(a) for i, f, o, tanh(a) for g, a = pre-activation
    a = after_pre / s
    sig = 1 / (1 + np.exp(-a))
    for k, want in enumerate((sig, sig, np.tanh(a), sig)):
        blk = slice(k * H, (k + 1) * H)
        np.testing.assert_allclose(z[:, blk], want[:, blk], rtol=1e-5, atol=1e-6)
    i, f, g = z[:, :H], z[:, H : 2 * H], z[:, 2 * H : 3 * H]
    np.testing.assert_allclose(c_out, f * c + i * g, rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_dh", [True, False], ids=["dh", "no_dh"])
def test_back_kernel_equals_its_numpy_twin(dtype, with_dh):
    from backprop.backend import numba_kernels as nk

    _, u = _arrays(dtype, seed=1)
    B, H = 5, 7
    gy, c, dc0 = u(B, H), u(B, H), u(B, H)
    s, tc = u(B, 4 * H, lo=0.01, hi=0.99), u(B, H, lo=-0.99, hi=0.99)
    s[:, 2 * H : 3 * H] = u(B, H, lo=-0.99, hi=0.99)  # g is a tanh
    dh = u(B, H) if with_dh else np.empty((0, 0), dtype)
    out = []
    for back in (nk.lstm_back, steps.lstm_back):
        dc, da = dc0.copy(), np.full((B, 4 * H), np.nan, dtype)
        back(gy, dh, dc, s, tc, c, da)
        out.append((dc, da))
    np.testing.assert_array_equal(out[0][0], out[1][0])
    np.testing.assert_array_equal(out[0][1], out[1][1])
    # the closed form, written out once more
    g_h = gy + dh if with_dh else gy
    i, f, g, o = (s[:, k * H : (k + 1) * H] for k in range(4))
    d = dc0 + g_h * o * (1 - tc * tc)
    want = np.concatenate(
        [d * g * i * (1 - i), d * c * f * (1 - f), d * i * (1 - g * g), g_h * tc * o * (1 - o)],
        axis=1,
    )
    np.testing.assert_allclose(out[0][1], want, rtol=1e-5)
    np.testing.assert_allclose(out[0][0], d * f, rtol=1e-5)


def test_step_functions_follow_the_kernel_switch():
    previous = kernels.set_kernels("numpy")
    try:
        assert steps.step_functions() == (steps.lstm_pre, steps.lstm_cell, steps.lstm_back)
        kernels.set_kernels("numba")
        assert [f.py_func.__name__ for f in steps.step_functions()] == [
            "lstm_pre", "lstm_cell", "lstm_back",
        ]  # fmt: skip
    finally:
        kernels.set_kernels(previous)


def _lstm_run(path, cfg, dtype, with_state):
    previous = kernels.set_kernels(path)
    try:
        bp.manual_seed(0)
        m = nn.LSTM(3, 4, **cfg).to(dtype)
        rng = np.random.default_rng(0)
        x = bp.tensor(rng.standard_normal((6, 2, 3)).astype(dtype), requires_grad=True)
        args = [x]
        n = cfg.get("num_layers", 1) * (2 if cfg.get("bidirectional") else 1)
        if with_state:
            h0 = bp.tensor(rng.standard_normal((n, 2, 4)).astype(dtype), requires_grad=True)
            c0 = bp.tensor(rng.standard_normal((n, 2, 4)).astype(dtype), requires_grad=True)
            args.append((h0, c0))
        y, (h, c) = m(*args)
        u = [rng.standard_normal(t.shape).astype(dtype) for t in (y, h, c)]
        loss = sum((t * bp.tensor(w)).sum() for t, w in zip((y, h, c), u))
        loss.backward()
        leaves = [x] + (list(args[1]) if with_state else [])
        grads = [t.grad.numpy() for t in leaves] + [p.grad.numpy() for p in m.parameters()]
        return m, [y.numpy(), h.numpy(), c.numpy()] + grads, args, u
    finally:
        kernels.set_kernels(previous)


CFGS = [dict(), dict(bias=False), dict(num_layers=2, bidirectional=True)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "initial_state"])
@pytest.mark.parametrize("cfg", CFGS, ids=str)
def test_layer_same_bits_on_both_paths_and_matches_torch(cfg, with_state, dtype):
    m, fused, args, u = _lstm_run("numba", cfg, dtype, with_state)
    _, plain, _, _ = _lstm_run("numpy", cfg, dtype, with_state)
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)

    t_mod = torch.nn.LSTM(3, 4, **cfg).to(torch.float64 if dtype == np.float64 else torch.float32)
    with torch.no_grad():
        for name, p in t_mod.named_parameters():
            p.copy_(torch.from_numpy(getattr(m, name).numpy()))
    t_args = [torch.tensor(args[0].numpy(), requires_grad=True)]
    if with_state:
        t_args.append(tuple(torch.tensor(a.numpy(), requires_grad=True) for a in args[1]))
    y, (h, c) = t_mod(*t_args)
    loss = sum((t * torch.from_numpy(w)).sum() for t, w in zip((y, h, c), u))
    loss.backward()
    leaves = [t_args[0]] + (list(t_args[1]) if with_state else [])
    want = [y, h, c] + [t.grad for t in leaves] + [p.grad for _, p in t_mod.named_parameters()]
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    for k, (a, w) in enumerate(zip(fused, want)):
        np.testing.assert_allclose(a, w.detach().numpy(), **tol, err_msg=f"result {k}")
