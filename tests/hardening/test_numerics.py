"""Numerical faults: the stable kernels at extreme logits (+-1e4) and tiny probabilities, and
gradient clipping with infinite and NaN gradients, against PyTorch.

Every check runs with warnings as errors (an overflow inside a kernel would warn) and inside
``detect_anomaly()`` where the result must be finite: a stable kernel never makes an Inf or NaN,
forward or backward, from finite input.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import backprop as bp
from backprop.autograd import detect_anomaly
from backprop.nn import functional as F
from backprop.nn.utils import clip_grad_norm_, clip_grad_value_

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=1e-5, atol=1e-6), np.float64: dict(rtol=1e-12, atol=1e-12)}

# Logit rows with huge magnitudes and huge gaps: softmax saturates to one-hot, log-softmax to
# 0 and -2e4; any exp(x) without the max shift overflows.
EXTREME = np.array(
    [
        [1e4, -1e4, 0.0, 3.0],
        [-1e4, -1e4, -1e4, -1e4],
        [1e4, 1e4, 1e4, 1e4],
        [1e4, 1e4 - 1.0, -1e4, 5e3],
        [-1e4, 0.0, 1e4, -3.0],
    ]
)
TARGETS = np.array([0, 3, 2, 1, 1])


@pytest.fixture(autouse=True)
def _strict():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _pair(a, dtype):
    a = np.asarray(a, dtype=dtype)
    return bp.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _check(yb, yt, xb, xt, dtype, u=None):
    """Value and gradient (of sum(u * y)) equal to torch's, and finite."""
    assert np.all(np.isfinite(yb.data)), yb
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), **TOL[dtype])
    u = np.ones(yb.shape, dtype) if u is None else u.astype(dtype)
    with detect_anomaly():
        (yb * bp.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()
    assert np.all(np.isfinite(xb.grad.data))
    np.testing.assert_allclose(xb.grad.data, xt.grad.numpy(), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_at_extreme_logits(dtype, reduction, smoothing):
    xb, xt = _pair(EXTREME, dtype)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    with detect_anomaly():
        yb = F.cross_entropy(xb, bp.tensor(TARGETS), **kw)
    yt = torch.nn.functional.cross_entropy(xt, torch.tensor(TARGETS), **kw)
    _check(yb, yt, xb, xt, dtype, np.arange(1, yb.data.size + 1).reshape(yb.shape))


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_with_probability_targets_at_extreme_logits(dtype):
    probs = np.array([[1, 0, 0, 0], [0.25] * 4, [0, 0, 1, 0], [0.5, 0.5, 0, 0], [0, 0, 0, 1.0]])
    xb, xt = _pair(EXTREME, dtype)
    with detect_anomaly():
        yb = F.cross_entropy(xb, bp.tensor(probs.astype(dtype)))
    yt = torch.nn.functional.cross_entropy(xt, torch.tensor(probs.astype(dtype)))
    _check(yb, yt, xb, xt, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_and_log_softmax_at_extreme_logits(dtype, fn):
    for dim in (0, 1):
        xb, xt = _pair(EXTREME, dtype)
        with detect_anomaly():
            yb = getattr(F, fn)(xb, dim)
        yt = getattr(torch.nn.functional, fn)(xt, dim)
        u = np.random.default_rng(dim).standard_normal(EXTREME.shape)
        _check(yb, yt, xb, xt, dtype, u)
        if fn == "softmax":
            np.testing.assert_allclose(yb.data.sum(dim), 1, rtol=1e-6)
        else:
            assert yb.data.max() <= 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_then_nll_equals_the_fused_cross_entropy(dtype):
    xb = bp.tensor(EXTREME.astype(dtype))
    fused = F.cross_entropy(xb, bp.tensor(TARGETS))
    composed = F.nll_loss(F.log_softmax(xb, 1), bp.tensor(TARGETS))
    np.testing.assert_allclose(fused.data, composed.data, **TOL[dtype])
    shifted = EXTREME - EXTREME.max(1, keepdims=True)  # the float64 reference
    logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    expected = -logp[np.arange(5), TARGETS].mean()  # ~ (0 + log 4 + log 4 + 1.31 + 1e4) / 5
    assert fused.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_saturates_without_overflow(dtype):
    x = np.array([-1e4, -745.0, -104.0, -88.8, -30.0, 0.0, 30.0, 88.8, 104.0, 745.0, 1e4])
    xb, xt = _pair(x, dtype)
    with detect_anomaly():
        yb = F.sigmoid(xb)
    yt = torch.sigmoid(xt)
    _check(yb, yt, xb, xt, dtype)
    assert yb.data[0] == 0 and yb.data[-1] == 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_at_extreme_values(dtype):
    for dim in (0, 1):
        xb, xt = _pair(EXTREME, dtype)
        with detect_anomaly():
            yb = bp.logsumexp(xb, dim)
        yt = torch.logsumexp(xt, dim)
        _check(yb, yt, xb, xt, dtype)
    # -inf entries are ignored; an all -inf row gives -inf and a NaN gradient, as in torch
    x = np.array([[-np.inf, 0.0, -np.inf], [-np.inf, -np.inf, -np.inf]], dtype)
    xb, xt = _pair(x, dtype)
    yb, yt = bp.logsumexp(xb, 1), torch.logsumexp(xt, 1)
    np.testing.assert_array_equal(yb.data, yt.detach().numpy())
    yb.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(xb.grad.data, xt.grad.numpy())  # NaN where torch has NaN


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_bce_with_logits_at_extreme_logits(dtype, reduction):
    x = np.array([[-1e4, 1e4, 0.0], [1e4, -1e4, 50.0], [-50.0, 800.0, -800.0]])
    t = np.array([[0.0, 1.0, 0.5], [0.0, 1.0, 1.0], [1.0, 0.0, 0.3]], dtype)
    pos_weight = np.array([0.5, 1.0, 3.0], dtype)
    for pw in (None, pos_weight):
        xb, xt = _pair(x, dtype)
        kw = dict(reduction=reduction)
        with detect_anomaly():
            yb = F.binary_cross_entropy_with_logits(
                xb, bp.tensor(t), pos_weight=None if pw is None else bp.tensor(pw), **kw
            )
        yt = torch.nn.functional.binary_cross_entropy_with_logits(
            xt, torch.tensor(t), pos_weight=None if pw is None else torch.tensor(pw), **kw
        )
        _check(yb, yt, xb, xt, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_tiny_and_saturated_probabilities(dtype):
    """log(0) is clamped at -100 (as torch), so p = 0 or 1 gives a finite loss; the gradient
    uses torch's 1e-12 floor on p (1 - p)."""
    tiny = np.finfo(dtype).tiny
    p = np.array([0.0, tiny, 1e-30, 1e-7, 0.5, 1 - 1e-7, 1.0, 1.0, 0.0])
    t = np.array([0.0, 0.0, 1.0, 1.0, 0.5, 0.0, 1.0, 0.0, 1.0])
    xb, xt = _pair(p, dtype)
    yb = F.binary_cross_entropy(xb, bp.tensor(t.astype(dtype)), reduction="none")
    yt = torch.nn.functional.binary_cross_entropy(
        xt, torch.tensor(t.astype(dtype)), reduction="none"
    )
    assert np.all(np.isfinite(yb.data)) and yb.data.max() <= 100
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), **TOL[dtype])
    yb.sum().backward()
    yt.sum().backward()
    assert np.all(np.isfinite(xb.grad.data))
    np.testing.assert_allclose(xb.grad.data, xt.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tiny_probabilities_through_log_and_nll(dtype):
    """Class probabilities down to the smallest normal float: their log-likelihood is finite."""
    probs = np.array([[1 - 1e-7, 1e-7, 0], [np.finfo(dtype).tiny, 0.5, 0.5]], dtype) + 0
    logp = bp.log(bp.tensor(probs).clamp(min=float(np.finfo(dtype).tiny)))
    loss = F.nll_loss(logp, bp.tensor([1, 0]), reduction="none")
    assert np.all(np.isfinite(loss.data))
    expected = -np.log(np.maximum(probs[[0, 1], [1, 0]], np.finfo(dtype).tiny))
    np.testing.assert_allclose(loss.data, expected, rtol=1e-6)


# ------------------------------------------------------------------ clipping non-finite gradients
def _grads(values, dtype=np.float32):
    ours, theirs = [], []
    for v in values:
        a = np.asarray(v, dtype)
        p = bp.zeros(*a.shape, dtype=dtype, requires_grad=True)
        t = torch.zeros(a.shape, dtype=getattr(torch, np.dtype(dtype).name), requires_grad=True)
        p.grad, t.grad = bp.tensor(a), torch.tensor(a)
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_with_a_non_finite_gradient_behaves_as_torch(bad, norm_type):
    values = [[1.0, bad, 3.0], [[0.5, -2.0]]]
    ours, theirs = _grads(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own nan * 0
        nt = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type)
    nb = clip_grad_norm_(ours, 1.0, norm_type=norm_type)
    assert not math.isfinite(nb.item())
    assert (math.isnan(nb.item()), math.isinf(nb.item())) == (math.isnan(nt), math.isinf(nt))
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.data, t.grad.numpy())  # NaN where torch has NaN


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_clip_grad_norm_can_refuse_non_finite_gradients_and_keep_them(bad):
    ours, _ = _grads([[1.0, bad], [2.0]])
    before = [p.grad.data.copy() for p in ours]
    with pytest.raises(RuntimeError, match=r"clip_grad_norm_: the total norm .* is (inf|nan)"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    for p, b in zip(ours, before):
        np.testing.assert_array_equal(p.grad.data, b)  # untouched when refused


def test_clip_grad_norm_at_extreme_finite_gradients():
    """1e30 squared overflows float32 in a naive norm; the BLAS dot too, so the norm is inf and
    the gradients become what torch makes of them; 1e18 does not overflow and clips exactly."""
    ours, theirs = _grads([[1e18, -1e18], [3e17]])
    nb = clip_grad_norm_(ours, 1.0)
    nt = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_allclose(nb.item(), nt.item(), rtol=1e-6)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.data, t.grad.numpy(), rtol=1e-5)
    total = np.sqrt(sum(float((p.grad.data.astype(np.float64) ** 2).sum()) for p in ours))
    assert total == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_value_with_non_finite_gradients_behaves_as_torch():
    ours, theirs = _grads([[np.inf, -np.inf, np.nan, 0.3, -7.0]])
    clip_grad_value_(ours, 0.5)
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    np.testing.assert_array_equal(ours[0].grad.data, theirs[0].grad.numpy())


def test_the_nan_guard_explains_an_overflow_in_training():
    """A model whose forward overflows (exp of a huge activation) stops at the first bad batch
    with the op and the line named, instead of training on NaN."""
    from backprop import nn, optim
    from backprop.data import DataLoader, TensorDataset
    from backprop.train import NonFiniteLossError, Trainer

    class Exploding(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

        def forward(self, x):
            return bp.exp(self.fc(x) * 1e4)  # overflows float32

    model = Exploding()
    model.fc.weight.data[...] = 1.0  # fc(10, 10) = 20: exp(2e5) overflows
    data = DataLoader(TensorDataset(bp.ones(4, 2) * 10, bp.tensor([0, 1, 0, 1])), batch_size=2)
    trainer = Trainer(
        model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), verbose=0
    )
    before = [p.data.copy() for p in model.parameters()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the overflow itself
        with pytest.raises(NonFiniteLossError) as info:
            trainer.fit(data, epochs=1)
    assert "exp" in str(info.value) and "test_numerics.py" in str(info.value)
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.data, b)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_a_batch_of_only_ignored_targets_has_a_zero_gradient_as_in_torch(smoothing):
    """The loss is NaN (a mean over no target), as in PyTorch; the gradient was NaN too, so one
    all-padding batch spread NaN into every weight. PyTorch's (and now backprop's) is 0."""
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.array([2, 2, 2])
    xb, xt = _pair(x, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yb = F.cross_entropy(xb, bp.tensor(t), ignore_index=2, label_smoothing=smoothing)
        yt = torch.nn.functional.cross_entropy(
            xt, torch.tensor(t), ignore_index=2, label_smoothing=smoothing
        )
    assert np.isnan(yb.item()) and torch.isnan(yt)
    yb.backward()
    yt.backward()
    np.testing.assert_array_equal(xb.grad.data, xt.grad.numpy())
    assert not xb.grad.data.any()
