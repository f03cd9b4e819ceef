"""RNN / LSTM / GRU and their cells: parity with PyTorch with weights copied from torch (output,
final states, input and initial-state gradients, every parameter gradient), parameter names,
initialisation, dropout between layers, long unrolls, and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import backprop as bp
from backprop import nn

torch.set_num_threads(1)

TOL = {np.float64: (1e-8, 1e-10), np.float32: (1e-4, 1e-5)}


def close(actual, desired, dtype, err_msg=""):
    rtol, atol = TOL[dtype]
    desired = np.asarray(desired)
    scale = max(1.0, float(np.abs(desired).max(initial=0.0)))
    np.testing.assert_allclose(actual, desired, rtol=rtol, atol=atol * scale, err_msg=err_msg)


def _copy(b_mod, t_mod, dtype):
    t_mod = t_mod.double() if dtype == np.float64 else t_mod.float()
    b_mod.to(dtype)
    b_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    return t_mod


def _flat(out):
    """Every tensor in a (nested) output tuple."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _compare(b_mod, t_mod, inputs, dtype):
    """inputs: arrays, or (h, c) tuples of arrays; every one becomes a leaf requiring grad."""

    def leaves(lib):
        def make(a):
            if isinstance(a, tuple):
                return tuple(make(e) for e in a)
            return lib.tensor(a.astype(dtype), requires_grad=True)

        return [make(a) for a in inputs]

    b_in, t_in = leaves(bp), leaves(torch)
    b_out, t_out = _flat(b_mod(*b_in)), _flat(t_mod(*t_in))
    assert len(b_out) == len(t_out)
    rng = np.random.default_rng(7)
    b_loss = t_loss = 0
    for k, (bo, to) in enumerate(zip(b_out, t_out)):
        assert bo.shape == tuple(to.shape), k
        assert bo.dtype == dtype
        close(bo.data, to.detach().numpy(), dtype, err_msg=f"output {k}")
        u = rng.standard_normal(bo.shape).astype(dtype)
        b_loss = b_loss + (bo * bp.tensor(u)).sum()
        t_loss = t_loss + (to * torch.tensor(u)).sum()
    b_loss.backward()
    t_loss.backward()
    for k, (bi, ti) in enumerate(zip(_flat(b_in), _flat(t_in))):
        close(bi.grad.data, ti.grad.numpy(), dtype, err_msg=f"input {k}")
    tparams = dict(t_mod.named_parameters())
    for name, p in b_mod.named_parameters():
        assert p.grad is not None, name
        assert p.grad.dtype == dtype
        close(p.grad.data, tparams[name].grad.numpy(), dtype, err_msg=name)


LAYERS = [
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, batch_first=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, bias=False)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=3, batch_first=True, bidirectional=True)),
    ("RNN", dict(num_layers=2)),
    ("RNN", dict(nonlinearity="relu", bidirectional=True, batch_first=True)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "initial_state"])
@pytest.mark.parametrize("kind,cfg", LAYERS, ids=lambda v: str(v))
def test_layer_parity(kind, cfg, with_state, dtype):
    torch.manual_seed(0)
    I, H, T, B = 4, 5, 6, 3
    t_mod = getattr(torch.nn, kind)(I, H, **cfg)
    b_mod = getattr(nn, kind)(I, H, **cfg)
    t_mod = _copy(b_mod, t_mod, dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I) if cfg.get("batch_first") else (T, B, I))
    inputs = [x]
    if with_state:
        n = cfg.get("num_layers", 1) * (2 if cfg.get("bidirectional") else 1)
        h0 = rng.standard_normal((n, B, H))
        inputs.append((h0, rng.standard_normal((n, B, H))) if kind == "LSTM" else h0)
    _compare(b_mod, t_mod, inputs, dtype)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(kind):
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, kind)(3, 4, num_layers=2)
    b_mod = getattr(nn, kind)(3, 4, num_layers=2)
    t_mod = _copy(b_mod, t_mod, np.float64)
    rng = np.random.default_rng(0)
    h0 = rng.standard_normal((2, 4))
    state = (h0, rng.standard_normal((2, 4))) if kind == "LSTM" else h0
    _compare(b_mod, t_mod, [rng.standard_normal((5, 3)), state], np.float64)


CELLS = [
    ("RNNCell", dict()),
    ("RNNCell", dict(nonlinearity="relu", bias=False)),
    ("LSTMCell", dict()),
    ("LSTMCell", dict(bias=False)),
    ("GRUCell", dict()),
    ("GRUCell", dict(bias=False)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("kind,cfg", CELLS, ids=lambda v: str(v))
def test_cell_parity(kind, cfg, dtype):
    torch.manual_seed(0)
    t_mod = getattr(torch.nn, kind)(4, 5, **cfg)
    b_mod = getattr(nn, kind)(4, 5, **cfg)
    t_mod = _copy(b_mod, t_mod, dtype)
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal((3, 4)), rng.standard_normal((3, 5))
    state = (h, rng.standard_normal((3, 5))) if kind == "LSTMCell" else h
    _compare(b_mod, t_mod, [x, state], dtype)
    _compare(b_mod, t_mod, [x[0], state[0][0] if kind == "LSTMCell" else h[0]][:1], dtype)


def test_cell_unrolled_matches_layer():
    """An LSTMCell stepped by hand equals the LSTM layer with the same weights."""
    bp.manual_seed(0)
    layer = nn.LSTM(3, 4)
    cell = nn.LSTMCell(3, 4)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data[...] = getattr(layer, name + "_l0").data
    x = bp.randn(7, 2, 3)
    out, (h_n, c_n) = layer(x)
    h = c = None
    for t in range(7):
        h, c = cell(x[t], None if h is None else (h, c))
        np.testing.assert_allclose(h.data, out.data[t], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.data, c_n.data[0], rtol=1e-5, atol=1e-6)


def test_parameter_names_shapes_and_init_match_pytorch():
    for kind, cfg in LAYERS:
        t_mod = getattr(torch.nn, kind)(4, 6, **cfg)
        b_mod = getattr(nn, kind)(4, 6, **cfg)
        t_sd, b_sd = t_mod.state_dict(), b_mod.state_dict()
        assert list(b_sd) == list(t_sd)
        assert [tuple(v.shape) for v in t_sd.values()] == [v.shape for v in b_sd.values()]
        assert repr(b_mod) == repr(t_mod)
        bound = 1 / math.sqrt(6)
        for v in b_sd.values():
            assert v.dtype == np.float32 and np.abs(v.data).max() <= bound
    for kind, cfg in CELLS:
        t_mod = getattr(torch.nn, kind)(4, 6, **cfg)
        b_mod = getattr(nn, kind)(4, 6, **cfg)
        assert list(b_mod.state_dict()) == list(t_mod.state_dict())
        assert repr(b_mod) == repr(t_mod)


def test_dropout_between_layers():
    rng = np.random.default_rng(0)
    x = bp.tensor(rng.standard_normal((5, 2, 3)).astype(np.float32))
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    bp.manual_seed(1)
    a, _ = lstm(x)
    bp.manual_seed(1)
    b, _ = lstm(x)
    np.testing.assert_array_equal(a.data, b.data)  # reproducible with a seed
    c, _ = lstm(x)
    assert not np.array_equal(a.data, c.data)  # a fresh mask
    lstm.eval()
    d, _ = lstm(x)
    e, _ = lstm(x)
    np.testing.assert_array_equal(d.data, e.data)  # identity in eval
    # One layer: PyTorch ignores dropout (there is no "between"), so do we.
    with pytest.warns(UserWarning, match="does nothing with num_layers=1"):
        single = nn.GRU(3, 4, dropout=0.5)
    np.testing.assert_array_equal(single(x)[0].data, single(x)[0].data)


def test_dropout_matches_pytorch_in_eval():
    torch.manual_seed(0)
    t_mod = torch.nn.LSTM(3, 4, num_layers=2, dropout=0.3).eval()
    b_mod = nn.LSTM(3, 4, num_layers=2, dropout=0.3).eval()
    t_mod = _copy(b_mod, t_mod, np.float64)
    _compare(b_mod, t_mod, [np.random.default_rng(0).standard_normal((4, 2, 3))], np.float64)


def test_long_unroll_backpropagates():
    """1,000 steps: the fused layer (one graph node) and a hand-stepped cell (a deep graph)."""
    bp.manual_seed(0)
    lstm = nn.LSTM(2, 3)
    x = bp.randn(1000, 2, 2, requires_grad=True)
    out, (h, c) = lstm(x)
    (out.sum() + c.sum()).backward()
    assert np.isfinite(x.grad.data).all() and np.abs(x.grad.data[0]).sum() > 0
    cell = nn.GRUCell(2, 3)
    h = None
    for t in range(1000):
        h = cell(x[t], h)
    h.sum().backward()
    assert np.isfinite(cell.weight_hh.grad.data).all()


def test_gradcheck_lstm_random_directions():
    bp.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    x = bp.randn(5, 2, 3, dtype=bp.float64, requires_grad=True)
    h0 = bp.randn(4, 2, 4, dtype=bp.float64, requires_grad=True)
    c0 = bp.randn(4, 2, 4, dtype=bp.float64, requires_grad=True)
    w = lstm.weight_hh_l1_reverse

    def f(x, h0, c0, w):
        out, (h, c) = lstm(x, (h0, c0))
        return out, h, c

    assert bp.gradcheck(f, (x, h0, c0, w), mode="random", n_directions=4)


def test_gradcheck_gru_full():
    bp.manual_seed(0)
    gru = nn.GRU(2, 3, batch_first=True).double()
    x = bp.randn(2, 4, 2, dtype=bp.float64, requires_grad=True)
    assert bp.gradcheck(lambda t: gru(t)[0], x)
    assert bp.gradcheck(lambda w: gru(x)[1], gru.bias_hh_l0)


def test_float32_stays_float32():
    lstm = nn.LSTM(3, 4, num_layers=2)
    x = bp.randn(5, 2, 3, requires_grad=True)
    out, (h, c) = lstm(x)
    (out.sum() + h.sum() + c.sum()).backward()
    assert out.dtype == h.dtype == c.dtype == x.grad.dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in lstm.parameters())


def test_invalid_arguments_raise():
    lstm = nn.LSTM(3, 4, num_layers=2)
    with pytest.raises(
        ValueError, match=r"LSTM: expected input of shape .* 3 features .*\(5, 2, 7\)"
    ):
        lstm(bp.zeros(5, 2, 7))
    with pytest.raises(ValueError, match=r"LSTM: expected input"):
        lstm(bp.zeros(3))
    with pytest.raises(
        ValueError, match=r"LSTM: h_0 should have shape \(2, 2, 4\), got \(1, 2, 4\)"
    ):
        lstm(bp.zeros(5, 2, 3), (bp.zeros(1, 2, 4), bp.zeros(2, 2, 4)))
    with pytest.raises(TypeError, match="LSTM: hx must be a tuple"):
        lstm(bp.zeros(5, 2, 3), bp.zeros(2, 2, 4))
    with pytest.raises(ValueError, match=r"GRU: h_0 should have shape \(1, 2, 4\)"):
        nn.GRU(3, 4)(bp.zeros(5, 2, 3), bp.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="sequence is empty"):
        nn.RNN(3, 4)(bp.zeros(0, 2, 3))
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="dropout must be in"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be a positive int"):
        nn.GRU(3, 0)
    with pytest.raises(ValueError, match=r"LSTMCell: expected input of shape \(batch, 3\)"):
        nn.LSTMCell(3, 4)(bp.zeros(2, 5))
    with pytest.raises(ValueError, match=r"GRUCell: hx should have shape \(2, 4\)"):
        nn.GRUCell(3, 4)(bp.zeros(2, 3), bp.zeros(3, 4))
    with pytest.raises(TypeError, match="dtype"):
        lstm(bp.zeros(5, 2, 3, dtype=bp.float64))
