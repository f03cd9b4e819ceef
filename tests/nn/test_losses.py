"""Loss modules vs torch.nn losses (value and input gradient; float64 1e-8, float32 1e-4),
stability, PyTorch's weighted-mean semantics, validation messages, and the L2 penalty helper.

Functional parity over many configurations (reductions, weights, ignore_index, label smoothing,
spatial targets, probability targets) and float64 gradchecks live in the op table
(tests/optable_nn.py, run by tests/test_ops.py).
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest
import torch

import backprop as bp
from backprop import nn
from backprop.nn import functional as F

TOL = {np.float64: (1e-8, 1e-10), np.float32: (1e-4, 1e-5)}
TDT = {np.float64: torch.float64, np.float32: torch.float32}
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
rng0 = np.random.default_rng(0)
W5 = rng0.uniform(0.2, 2.0, 5)


def _loss_case(name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = rng.standard_normal((6, 5))
    y = rng.integers(0, 5, 6)
    y[::4] = -100
    p = rng.uniform(0.05, 0.95, (6, 5))
    t01 = rng.uniform(0, 1, (6, 5))
    return {
        "MSELoss": (lambda m: m.MSELoss(), x, rng.standard_normal((6, 5))),
        "L1Loss": (lambda m: m.L1Loss(reduction="sum"), x, x + 0.5),
        "HuberLoss": (lambda m: m.HuberLoss(delta=0.5, reduction="none"), x, 0.3 * x),
        "BCELoss": (lambda m: m.BCELoss(weight=_w(m, W5)), p, t01),
        "BCEWithLogitsLoss": (
            lambda m: m.BCEWithLogitsLoss(weight=_w(m, W5), pos_weight=_w(m, W5[::-1].copy())),
            x * 3,
            t01,
        ),
        "CrossEntropyLoss": (
            lambda m: m.CrossEntropyLoss(weight=_w(m, W5), label_smoothing=0.1),
            x,
            y,
        ),
        "CrossEntropyLoss_probs": (
            lambda m: m.CrossEntropyLoss(reduction="sum"),
            x,
            p / p.sum(1, keepdims=True),
        ),
        "NLLLoss": (lambda m: m.NLLLoss(weight=_w(m, W5), reduction="mean"), x, y),
        "MultiMarginLoss": (
            lambda m: m.MultiMarginLoss(p=2, margin=0.7, weight=_w(m, W5)),
            x,
            y % 5,
        ),
    }[name]


def _w(m, a):
    return torch.tensor(a) if m is torch.nn else bp.tensor(a)


LOSSES = [
    "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "CrossEntropyLoss_probs", "NLLLoss", "MultiMarginLoss",
]  # fmt: skip


@DTYPES
@pytest.mark.parametrize("name", LOSSES)
def test_loss_module_parity(name, dtype):
    make, x, t = _loss_case(name)
    rtol, atol = TOL[dtype]
    bl, tl = make(nn).to(dtype), make(torch.nn).to(TDT[dtype])
    x = x.astype(dtype)
    t = t.astype(dtype) if np.issubdtype(t.dtype, np.floating) else t
    xb, xt = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lb, lt = bl(xb, bp.tensor(t)), tl(xt, torch.tensor(t))
    assert lb.shape == tuple(lt.shape) and str(lb.dtype) == str(lt.dtype).removeprefix("torch.")
    np.testing.assert_allclose(lb.data, lt.detach().numpy(), rtol=rtol, atol=atol)
    u = np.random.default_rng(1).standard_normal(lb.shape).astype(dtype)
    (lb * bp.tensor(u)).sum().backward()
    (lt * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(xb.grad.data, xt.grad.numpy(), rtol=rtol, atol=atol)


def test_loss_weights_are_buffers():
    ce = nn.CrossEntropyLoss(weight=bp.tensor(W5.astype(np.float32)))
    assert list(ce.state_dict()) == ["weight"]
    assert ce.double().weight.dtype == np.float64
    assert list(nn.BCEWithLogitsLoss(pos_weight=bp.ones(3)).state_dict()) == ["pos_weight"]
    assert repr(nn.MSELoss()) == "MSELoss()" and repr(ce) == "CrossEntropyLoss()"


def test_cross_entropy_is_stable_and_matches_textbook():
    x = bp.tensor([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, bp.tensor([1, 2]))
    assert np.isfinite(loss.item())
    loss.backward()
    assert np.isfinite(x.grad.data).all()
    # the lectures' form: softmax, then -log of the true class's probability, averaged
    z = np.random.default_rng(0).standard_normal((4, 3))
    y = np.array([0, 2, 1, 1])
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    expected = -np.log(p[np.arange(4), y]).mean()
    np.testing.assert_allclose(F.cross_entropy(bp.tensor(z), bp.tensor(y)).item(), expected)
    # equals nll_loss(log_softmax)
    lsm = F.log_softmax(bp.tensor(z), 1)
    np.testing.assert_allclose(F.nll_loss(lsm, bp.tensor(y)).item(), expected)


def test_bce_with_logits_is_stable():
    x = bp.tensor([-1e4, -100.0, 100.0, 1e4], requires_grad=True)
    t = bp.tensor([1.0, 0.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    np.testing.assert_allclose(loss.data, [1e4, 0.0, 0.0, 1e4], rtol=1e-6, atol=1e-30)
    loss.sum().backward()
    np.testing.assert_allclose(x.grad.data, [-1.0, 0.0, 0.0, 1.0], atol=1e-30)
    # BCE of probabilities 0 and 1 clamps each log at -100, like torch
    lb = F.binary_cross_entropy(bp.tensor([0.0, 1.0]), bp.tensor([1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(lb.data, [100.0, 100.0])


def test_weighted_mean_and_all_ignored_like_torch():
    x = np.random.default_rng(3).standard_normal((4, 3))
    y = np.array([0, 2, 2, 1])
    w = np.array([1.0, 2.0, 3.0])
    got = F.cross_entropy(bp.tensor(x), bp.tensor(y), weight=bp.tensor(w)).item()
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    expected = -(w[y] * logp[np.arange(4), y]).sum() / w[y].sum()  # not a plain mean
    np.testing.assert_allclose(got, expected)
    all_ignored = bp.tensor(np.full(4, -100))
    got = F.cross_entropy(bp.tensor(x), all_ignored)
    exp = torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(np.full(4, -100)))
    assert np.isnan(got.item()) and np.isnan(exp.item())
    assert F.cross_entropy(bp.tensor(x), all_ignored, reduction="sum").item() == 0.0


def test_multi_margin_is_cs231n_svm_over_C():
    s = np.random.default_rng(4).standard_normal((5, 4))
    y = np.array([0, 3, 1, 1, 2])
    margins = np.maximum(0, s - s[np.arange(5), y][:, None] + 1)
    margins[np.arange(5), y] = 0
    cs231n = margins.sum(1).mean()
    ours = nn.MultiMarginLoss()(bp.tensor(s), bp.tensor(y)).item()
    np.testing.assert_allclose(ours * 4, cs231n)


def test_loss_errors_name_the_loss_and_shapes():
    x = bp.randn(4, 3)
    with pytest.raises(TypeError, match=r"cross_entropy.*\(4, 3\).*\(4,\)"):
        F.cross_entropy(x, bp.tensor([0.0, 1.0, 2.0, 1.0]))  # float class indices
    with pytest.raises(ValueError, match="cross_entropy: target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, bp.tensor([0, 1, 3, 1]))
    with pytest.raises(ValueError, match=r"cross_entropy: target -2"):
        nn.CrossEntropyLoss()(x, bp.tensor([0, 1, -2, 1]))
    with pytest.raises(
        ValueError, match=r"cross_entropy: expected target of shape \(4,\).*\(4, 1\)"
    ):
        F.cross_entropy(x, bp.tensor([[0], [1], [2], [1]]))
    with pytest.raises(ValueError, match="label_smoothing"):
        nn.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.cross_entropy(x, bp.tensor([0, 1, 2, 1]), weight=bp.ones(4))
    with pytest.raises(ValueError, match="ignore_index is not supported"):
        F.cross_entropy(x, bp.tensor(np.full((4, 3), 1 / 3)), ignore_index=1)
    with pytest.raises(TypeError, match="nll_loss: target must hold class indices"):
        F.nll_loss(x, bp.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(
        ValueError, match=r"mse_loss: target shape \(4, 1\) differs from input shape \(4,\)"
    ):
        F.mse_loss(bp.randn(4), bp.randn(4, 1))
    with pytest.raises(ValueError, match="l1_loss"):
        nn.L1Loss()(bp.randn(4), bp.randn(3))
    with pytest.raises(
        ValueError, match=r"binary_cross_entropy: input values must lie in \[0, 1\]"
    ):
        nn.BCELoss()(bp.tensor([0.5, 1.5]), bp.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits: pos_weight"):
        F.binary_cross_entropy_with_logits(x, bp.ones(4, 3), pos_weight=bp.ones(4))
    with pytest.raises(ValueError, match="MultiMarginLoss: only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match=r"multi_margin_loss: expected input of shape \(N, C\)"):
        F.multi_margin_loss(bp.randn(2, 3, 4), bp.tensor([0, 1]))
    with pytest.raises(ValueError, match="HuberLoss: delta"):
        nn.HuberLoss(delta=0)
    with pytest.raises(ValueError, match="MSELoss: reduction"):
        nn.MSELoss(reduction="avg")
    with pytest.raises(ValueError, match="cross_entropy: reduction"):
        F.cross_entropy(x, bp.tensor([0, 1, 2, 1]), reduction="batchmean")
    with pytest.raises(TypeError, match="cross_entropy: input must be floating point"):
        F.cross_entropy(bp.tensor([[1, 2]]), bp.tensor([0]))
    with pytest.raises(ValueError, match="0-d"):
        F.cross_entropy(bp.randn(3), bp.tensor([1]))


def test_targets_accept_numpy_and_unbatched_inputs():
    x = bp.randn(3, 4)
    a = F.cross_entropy(x, np.array([0, 1, 3]))
    b = F.cross_entropy(x, bp.tensor([0, 1, 3]))
    assert a.item() == b.item()
    one = F.cross_entropy(bp.randn(4), bp.tensor(2), reduction="none")
    assert one.shape == ()


def test_l2_penalty():
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    with bp.no_grad():
        net[1].weight.data[...] = 2.0
    expected = (net[0].weight.data ** 2).sum() + (net[3].weight.data ** 2).sum()
    pen = nn.l2_penalty(net)
    np.testing.assert_allclose(pen.item(), expected, rtol=1e-6)
    everything = sum((p.data.astype(np.float64) ** 2).sum() for p in net.parameters())
    np.testing.assert_allclose(
        nn.l2_penalty(net, exclude_bias_and_norm=False).item(), everything, rtol=1e-6
    )
    # from an iterable: 1-D tensors (biases, norm scales) are left out
    np.testing.assert_allclose(nn.l2_penalty(net.parameters()).item(), expected, rtol=1e-6)
    assert nn.l2_penalty([]).item() == 0.0
    # lam * Omega adds 2 * lam * w to the gradient: SGD's weight_decay = 2 * lam
    lam = 0.05
    x, y = bp.randn(8, 3), bp.tensor(np.arange(8) % 2)
    net.eval()
    loss_fn = nn.CrossEntropyLoss()
    loss_fn(net(x), y).backward()
    g_plain = net[0].weight.grad.data.copy()
    net.zero_grad()
    (loss_fn(net(x), y) + lam * nn.l2_penalty(net)).backward()
    np.testing.assert_allclose(
        net[0].weight.grad.data, g_plain + 2 * lam * net[0].weight.data, rtol=1e-5, atol=1e-7
    )
    assert net[0].bias.grad is not None
    with pytest.raises(TypeError, match="l2_penalty"):
        nn.l2_penalty([1.0])


@pytest.mark.parametrize(
    "target, shown",
    [
        ([1.5, 0.0], "min 0 and max 1.5"),
        ([-0.1, 1.0], "min -0.1 and max 1"),
        ([np.nan, 1.0], "NaN"),
    ],
)
def test_bce_refuses_targets_outside_unit_interval_as_torch_does(target, shown):
    import torch

    p = [0.3, 0.6]
    with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(target))
    for call in (F.binary_cross_entropy, nn.BCELoss()):
        with pytest.raises(
            ValueError, match=r"binary_cross_entropy: target values must lie in \[0, 1\]"
        ) as e:
            call(bp.tensor(p), bp.tensor(target))
        assert shown in str(e.value)
    # the bounds themselves are fine, and the logits form takes any target (as torch's)
    F.binary_cross_entropy(bp.tensor(p), bp.tensor([0.0, 1.0]))
    got = F.binary_cross_entropy_with_logits(bp.tensor(p), bp.tensor([1.5, -1.0]))
    want = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(p), torch.tensor([1.5, -1.0])
    )
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-6)
