"""Hypothesis throws random configurations at the layers and losses that
tests/nn/test_fuzz_layers.py does not fuzz: Conv1d (every padding mode), average and adaptive
average pooling, RNN/LSTM/GRU (layers, directions, batch_first, unbatched, initial states),
Embedding, LayerNorm, Dropout, and the losses with random shapes, reductions, weights and targets.

The contract of every example: backprop and PyTorch (float64, weights copied over) agree on the
output and on the gradients of the input and of every parameter, or, where PyTorch refuses the
configuration or the input, backprop raises a clear ValueError/TypeError (IndexError for an
index out of range) naming the layer or function. Never a wrong shape, never an internal error.

Examples per test: 60 in ``make test``, 2000 with ``BACKPROP_HYPOTHESIS=thorough``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import backprop as bp
from backprop.nn import functional as F

RTOL, ATOL = 1e-7, 1e-9
_TORCH_REFUSES = (RuntimeError, ValueError, TypeError, IndexError)


def _flat(out):
    """The tensors of a layer's output: a tensor, (out, h) or (out, (h, c))."""
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    return [out]


def _copy_weights(b_mod, t_mod) -> None:
    t_state = t_mod.state_dict(keep_vars=True)
    for k, v in b_mod.state_dict().items():
        with torch.no_grad():
            t_state[k].copy_(torch.from_numpy(np.array(v.data)))


def _refused_by_us(call, names):
    """``call`` must raise a clear, documented error naming one of ``names``."""
    with pytest.raises((ValueError, TypeError, IndexError)) as info:
        call()
    assert type(info.value).__module__ in ("builtins", "backprop.functional._util"), info.value
    assert any(n in str(info.value) for n in names), str(info.value)


def _both_layers(build, inputs, names, *, seed=0, float_input=True):
    """Build the layer in both libraries (float64) and compare everything, or check both refuse.

    ``inputs``: NumPy arrays (the first is the input; later ones are e.g. initial states, or a
    nested tuple of arrays for LSTM's (h_0, c_0))."""

    def as_lib(lib, a, grad):
        if isinstance(a, tuple):
            return tuple(as_lib(lib, b, grad) for b in a)
        return lib.tensor(a, requires_grad=grad and np.issubdtype(a.dtype, np.floating))

    try:
        torch.manual_seed(0)
        t_mod = build(torch.nn).double()
    except _TORCH_REFUSES:  # a configuration torch refuses when the layer is built
        _refused_by_us(lambda: build(bp.nn)(*[as_lib(bp, a, True) for a in inputs]), names)
        return
    b_mod = build(bp.nn)
    b_mod.to(np.float64)
    _copy_weights(b_mod, t_mod)
    t_in = [as_lib(torch, a, True) for a in inputs]
    b_in = [as_lib(bp, a, True) for a in inputs]
    try:
        t_out = _flat(t_mod(*t_in))
    except _TORCH_REFUSES:  # an input torch refuses
        _refused_by_us(lambda: b_mod(*b_in), names)
        return
    b_out = _flat(b_mod(*b_in))
    assert len(b_out) == len(t_out)
    rng = np.random.default_rng(seed)
    b_loss, t_loss = 0, 0
    for yb, yt in zip(b_out, t_out):
        assert yb.shape == tuple(yt.shape), (yb.shape, tuple(yt.shape))
        assert yb.dtype == np.float64
        np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
        u = rng.standard_normal(yb.shape)
        b_loss = b_loss + (yb * bp.tensor(u)).sum()
        t_loss = t_loss + (yt * torch.tensor(u)).sum()
    b_loss.backward()
    t_loss.backward()
    for tb, tt in zip(_flat(b_in), _flat(t_in)):
        if tt.requires_grad:
            np.testing.assert_allclose(tb.grad.data, tt.grad.numpy(), rtol=RTOL, atol=ATOL)
    t_params = dict(t_mod.named_parameters())
    for name, p in b_mod.named_parameters():
        tg = t_params[name].grad
        if tg is None:
            assert p.grad is None or not p.grad.data.any(), name
        else:
            np.testing.assert_allclose(p.grad.data, tg.numpy(), rtol=RTOL, atol=ATOL, err_msg=name)


# ------------------------------------------------------------------------------ convolution
@pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")  # torch's, not ours
@given(
    n=st.integers(0, 2),
    cin=st.integers(1, 4),
    cout=st.integers(1, 4),
    groups=st.sampled_from([1, 2]),
    length=st.integers(1, 10),
    k=st.integers(1, 4),
    stride=st.integers(1, 3),
    padding=st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid"])),
    dilation=st.integers(1, 2),
    bias=st.booleans(),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    unbatched=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_conv1d_configs(
    n, cin, cout, groups, length, k, stride, padding, dilation, bias, mode, unbatched, seed
):
    if padding == "same":
        stride = 1  # torch refuses 'same' with a stride when built; a unit test covers that
    shape = (cin, length) if unbatched else (n, cin, length)
    x = np.random.default_rng(seed).standard_normal(shape)

    def build(nn):
        return nn.Conv1d(cin, cout, k, stride=stride, padding=padding, dilation=dilation,
                         groups=groups, bias=bias, padding_mode=mode)  # fmt: skip

    _both_layers(build, [x], ["Conv1d"], seed=seed)


# ------------------------------------------------------------------------------ pooling
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    size=st.tuples(st.integers(1, 9), st.integers(1, 9)),
    k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    stride=st.one_of(st.none(), st.integers(1, 3)),
    padding=st.integers(0, 2),
    ceil_mode=st.booleans(),
    count_include_pad=st.booleans(),
    divisor=st.one_of(st.none(), st.integers(-3, 5)),
    nd=st.sampled_from([1, 2]),
    seed=st.integers(0, 99),
)
def test_random_avg_pool_configs(
    n, c, size, k, stride, padding, ceil_mode, count_include_pad, divisor, nd, seed
):
    shape = (n, c, *size[:nd])
    x = np.random.default_rng(seed).standard_normal(shape)
    kernel = k[:nd] if nd == 2 else k[0]
    extra = {"divisor_override": divisor} if nd == 2 else {}

    def build(nn):
        cls = nn.AvgPool2d if nd == 2 else nn.AvgPool1d
        return cls(kernel, stride=stride, padding=padding, ceil_mode=ceil_mode,
                   count_include_pad=count_include_pad, **extra)  # fmt: skip

    _both_layers(build, [x], [f"AvgPool{nd}d"], seed=seed)


@given(
    n=st.integers(0, 2),
    c=st.integers(1, 3),
    size=st.tuples(st.integers(1, 11), st.integers(1, 11)),
    out=st.tuples(*[st.one_of(st.none(), st.integers(1, 12))] * 2),
    nd=st.sampled_from([1, 2]),
    unbatched=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_adaptive_avg_pool_configs(n, c, size, out, nd, unbatched, seed):
    assume(nd == 2 or out[0] is not None)  # torch's AdaptiveAvgPool1d takes no None
    assume(n > 0 or not unbatched)
    shape = (c, *size[:nd]) if unbatched else (n, c, *size[:nd])
    x = np.random.default_rng(seed).standard_normal(shape)
    output_size = out if nd == 2 else out[0]

    def build(nn):
        return (nn.AdaptiveAvgPool2d if nd == 2 else nn.AdaptiveAvgPool1d)(output_size)

    _both_layers(build, [x], [f"AdaptiveAvgPool{nd}d"], seed=seed)


# ------------------------------------------------------------------------------ recurrent
@given(
    kind=st.sampled_from(["RNN", "RNN_relu", "LSTM", "GRU"]),
    input_size=st.integers(1, 4),
    hidden=st.integers(1, 4),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    bias=st.booleans(),
    seq=st.integers(1, 4),
    batch=st.one_of(st.none(), st.integers(1, 3)),  # None: an unbatched (seq, features) input
    given_features=st.integers(1, 4),
    with_state=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_recurrent_configs(
    kind, input_size, hidden, layers, bidirectional, batch_first, bias, seq, batch,
    given_features, with_state, seed,
):  # fmt: skip
    rng = np.random.default_rng(seed)
    if batch is None:
        x = rng.standard_normal((seq, given_features))
    else:
        x = rng.standard_normal(
            (batch, seq, given_features) if batch_first else (seq, batch, given_features)
        )
    D = 2 if bidirectional else 1
    inputs = [x]
    if with_state:
        state_shape = (layers * D, hidden) if batch is None else (layers * D, batch, hidden)
        h0 = rng.standard_normal(state_shape)
        inputs.append((h0, rng.standard_normal(state_shape)) if kind == "LSTM" else h0)
    name = "RNN" if kind.startswith("RNN") else kind
    extra = {"nonlinearity": "relu"} if kind == "RNN_relu" else {}

    def build(nn):
        cls = getattr(nn, name)
        return cls(input_size, hidden, num_layers=layers, bias=bias, batch_first=batch_first,
                   bidirectional=bidirectional, **extra)  # fmt: skip

    _both_layers(build, inputs, [name], seed=seed)


# ------------------------------------------------------------------------------ Embedding
@given(
    V=st.integers(1, 6),
    D=st.integers(1, 4),
    padding_idx=st.one_of(st.none(), st.integers(-6, 5)),
    idx_shape=st.lists(st.integers(0, 3), min_size=0, max_size=3).map(tuple),
    high=st.integers(1, 8),
    seed=st.integers(0, 99),
)
def test_random_embedding_lookups(V, D, padding_idx, idx_shape, high, seed):
    assume(padding_idx is None or -V <= padding_idx < V)  # the constructor check: a unit test
    rng = np.random.default_rng(seed)
    idx = rng.integers(-1 if high > 6 else 0, high, idx_shape).astype(np.int64)  # may be out
    w = rng.standard_normal((V, D))
    b = bp.nn.Embedding(V, D, padding_idx=padding_idx, dtype=np.float64)
    t = torch.nn.Embedding(V, D, padding_idx=padding_idx, dtype=torch.float64)
    with torch.no_grad():
        t.weight.copy_(torch.from_numpy(w))
    b.weight.data[...] = w
    try:
        yt = t(torch.from_numpy(idx))
    except _TORCH_REFUSES:
        _refused_by_us(lambda: b(bp.tensor(idx)), ["embedding"])
        return
    yb = b(bp.tensor(idx))
    assert yb.shape == tuple(yt.shape)
    np.testing.assert_array_equal(yb.data, yt.detach().numpy())
    u = rng.standard_normal(yb.shape)
    (yb * bp.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(b.weight.grad.data, t.weight.grad.numpy(), rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------------------ LayerNorm
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple),
    k=st.integers(1, 3),
    mismatch=st.booleans(),
    affine=st.booleans(),
    bias=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_layer_norm_configs(shape, k, mismatch, affine, bias, seed):
    k = min(k, len(shape))
    normalized = shape[len(shape) - k :]
    if mismatch:
        normalized = (normalized[0] + 1,) + normalized[1:]  # does not fit: both refuse
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3 + 1

    def build(nn):
        m = nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
        for p in m.parameters():  # random affine parameters, so that their gradients matter
            p.data[...] = rng.standard_normal(p.shape) if isinstance(p.data, np.ndarray) else 0
        return m

    _both_layers(build, [x], ["LayerNorm"], seed=seed)


# ------------------------------------------------------------------------------ Dropout
@given(
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=3).map(tuple),
    p=st.one_of(st.floats(0, 1), st.sampled_from([0.0, 1.0, -0.1, 1.5, float("nan")])),
    training=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_dropout_calls(shape, p, training, seed):
    """The mask is random (another generator than torch's), so the contract is checked as
    properties, and against torch where it is deterministic: eval mode, p = 0 and p = 1."""
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32) + 5  # no zeros
    try:
        torch.nn.functional.dropout(torch.tensor(x), p, training)
    except _TORCH_REFUSES:
        _refused_by_us(lambda: F.dropout(bp.tensor(x), p, training), ["dropout"])
        _refused_by_us(lambda: bp.nn.Dropout(p), ["Dropout"])
        return
    bp.manual_seed(seed)
    xb = bp.tensor(x, requires_grad=True)
    layer = bp.nn.Dropout(p).train(training)
    y = layer(xb)
    assert y.shape == x.shape and y.dtype == np.float32
    y.sum().backward()
    if not training or p == 0:
        np.testing.assert_array_equal(y.data, x)
        np.testing.assert_array_equal(xb.grad.data, np.ones_like(x))
        return
    if p == 1:
        assert not y.data.any() and not xb.grad.data.any()  # as torch: all zeros
        return
    kept = y.data != 0
    scale = np.float32(1) / np.float32(1 - p)
    np.testing.assert_allclose(y.data[kept], x[kept] * scale, rtol=1e-6)
    np.testing.assert_allclose(xb.grad.data, kept * scale, rtol=1e-6)  # the same mask


# ------------------------------------------------------------------------------ losses
_REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
_NAMES = {
    "mse": "mse_loss", "l1": "l1_loss", "huber": "huber_loss", "bce": "binary_cross_entropy",
    "bce_logits": "binary_cross_entropy_with_logits",
}  # fmt: skip


def _both_losses(b_call, t_call, arrays, grads, names, seed, may_refuse=False):
    """Compare a loss (value and gradient of each array in ``grads``) or check both refuse.

    ``may_refuse``: a documented divergence where backprop refuses what torch accepts: a mean
    over an empty batch (torch: NaN, or for multi_margin_loss uninitialised memory, e.g.
    1.9e25), and an unbatched (C,) input with a (1,) target."""

    def lib_args(lib):
        return [
            lib.tensor(a, requires_grad=g and np.issubdtype(a.dtype, np.floating))
            if isinstance(a, np.ndarray)
            else a
            for a, g in zip(arrays, grads)
        ]

    t_args = lib_args(torch)
    try:
        yt = t_call(*t_args)
    except _TORCH_REFUSES:
        _refused_by_us(lambda: b_call(*lib_args(bp)), names)
        return
    b_args = lib_args(bp)
    if may_refuse:
        try:
            yb = b_call(*b_args)
        except (ValueError, TypeError) as e:
            assert any(n in str(e) for n in names), str(e)
            return
    else:
        yb = b_call(*b_args)
    assert yb.shape == tuple(yt.shape)
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
    u = np.random.default_rng(seed).standard_normal(yb.shape)
    (yb * bp.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()
    for b, t in zip(b_args, t_args):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            np.testing.assert_allclose(b.grad.data, t.grad.numpy(), rtol=RTOL, atol=ATOL)


@given(
    n=st.integers(0, 4),
    c=st.integers(1, 5),
    extra=st.lists(st.integers(1, 3), min_size=0, max_size=2).map(tuple),
    unbatched=st.booleans(),
    reduction=_REDUCTIONS,
    weighted=st.booleans(),
    ignore=st.booleans(),
    smoothing=st.sampled_from([0.0, 0.1, 0.5]),
    probs=st.booleans(),
    bad_target=st.sampled_from([None, "range", "float", "shape"]),
    nll=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_cross_entropy_and_nll(
    n, c, extra, unbatched, reduction, weighted, ignore, smoothing, probs, bad_target, nll, seed
):
    rng = np.random.default_rng(seed)
    shape = (c,) if unbatched else (n, c, *extra)
    per_sample = () if unbatched else (n, *extra)
    x = rng.standard_normal(shape) * 3
    if probs and not nll:
        t = rng.dirichlet(np.ones(c), per_sample)  # (*, C) rows summing to 1
        t = np.moveaxis(t, -1, 0 if unbatched else 1)
    else:
        t = rng.integers(0, c, per_sample).astype(np.int64)
        if ignore and t.size:
            t.reshape(-1)[0] = 1 if c > 1 else 0
    if bad_target == "range":
        t = np.full(per_sample, c, dtype=np.int64)  # one past the last class
    elif bad_target == "float" and not probs:
        t = t.astype(np.float64)  # float class indices: read as probabilities, wrong shape
    elif bad_target == "shape":
        t = t[..., None]
    w = rng.uniform(0.5, 2, c) if weighted else None
    ignore_index = 1 if ignore else -100
    if nll:
        x = x - np.log(np.exp(x).sum(axis=0 if unbatched else 1, keepdims=True))
        kw = dict(ignore_index=ignore_index, reduction=reduction)
        b_call = lambda x, t, w: F.nll_loss(x, t, weight=w, **kw)  # noqa: E731
        t_call = lambda x, t, w: torch.nn.functional.nll_loss(x, t, weight=w, **kw)  # noqa: E731
        names = ["nll_loss"]
    else:
        kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
        b_call = lambda x, t, w: F.cross_entropy(x, t, weight=w, **kw)  # noqa: E731
        t_call = lambda x, t, w: torch.nn.functional.cross_entropy(x, t, weight=w, **kw)  # noqa: E731
        names = ["cross_entropy"]
    empty_mean = reduction == "mean" and x.size == 0
    odd_unbatched = unbatched and bad_target == "shape"
    arrays = [x, t, w]
    _both_losses(
        b_call, t_call, arrays, [True, False, False], names, seed, empty_mean or odd_unbatched
    )


@given(
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple),
    target_shape=st.sampled_from(["same", "extra1", "drop"]),
    loss=st.sampled_from(["mse", "l1", "huber", "bce", "bce_logits"]),
    reduction=_REDUCTIONS,
    weighted=st.booleans(),
    pos_weight=st.booleans(),
    delta=st.sampled_from([0.5, 1.0, 2.0]),
    seed=st.integers(0, 99),
)
def test_random_elementwise_losses(
    shape, target_shape, loss, reduction, weighted, pos_weight, delta, seed
):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2
    t = rng.uniform(0, 1, shape)
    if target_shape == "extra1":
        t = t[..., None]  # the (N, 1) vs (N,) mistake: backprop refuses (torch broadcasts)
    elif target_shape == "drop" and len(shape) and shape[-1]:
        t = t[..., 0]
    if target_shape != "same" and t.shape != x.shape:
        fn = getattr(F, _NAMES[loss])
        xx = 1 / (1 + np.exp(-x)) if loss == "bce" else x
        _refused_by_us(lambda: fn(bp.tensor(xx), bp.tensor(t)), ["differs from input shape"])
        return
    w = rng.uniform(0.5, 2, shape[-1:]) if weighted and loss in ("bce", "bce_logits") else None
    pw = rng.uniform(0.5, 3, shape[-1:]) if pos_weight and loss == "bce_logits" else None
    T = torch.nn.functional
    if loss == "bce":
        x = np.clip(1 / (1 + np.exp(-x)), 1e-6, 1 - 1e-6)
    calls = {
        "mse": (lambda x, t, w, pw: F.mse_loss(x, t, reduction),
                lambda x, t, w, pw: T.mse_loss(x, t, reduction=reduction)),
        "l1": (lambda x, t, w, pw: F.l1_loss(x, t, reduction),
               lambda x, t, w, pw: T.l1_loss(x, t, reduction=reduction)),
        "huber": (lambda x, t, w, pw: F.huber_loss(x, t, reduction, delta),
                  lambda x, t, w, pw: T.huber_loss(x, t, reduction=reduction, delta=delta)),
        "bce": (lambda x, t, w, pw: F.binary_cross_entropy(x, t, w, reduction),
                lambda x, t, w, pw: T.binary_cross_entropy(x, t, w, reduction=reduction)),
        "bce_logits": (
            lambda x, t, w, pw: F.binary_cross_entropy_with_logits(x, t, w, reduction, pw),
            lambda x, t, w, pw: T.binary_cross_entropy_with_logits(
                x, t, w, reduction=reduction, pos_weight=pw),
        ),
    }  # fmt: skip
    name = _NAMES[loss]
    b_call, t_call = calls[loss]
    empty_mean = reduction == "mean" and x.size == 0
    _both_losses(
        b_call, t_call, [x, t, w, pw], [True, True, False, False], [name], seed, empty_mean
    )


@given(
    n=st.integers(0, 4),
    c=st.integers(1, 5),
    unbatched=st.booleans(),
    p=st.sampled_from([1, 2]),
    margin=st.sampled_from([0.5, 1.0, 2.0]),
    weighted=st.booleans(),
    reduction=_REDUCTIONS,
    out_of_range=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_multi_margin_losses(
    n, c, unbatched, p, margin, weighted, reduction, out_of_range, seed
):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c,) if unbatched else (n, c))
    t = rng.integers(0, c, () if unbatched else (n,)).astype(np.int64)
    if out_of_range:
        t = np.full_like(t, c)
    w = rng.uniform(0.5, 2, c) if weighted else None
    kw = dict(p=p, margin=margin, reduction=reduction)
    _both_losses(
        lambda x, t, w: F.multi_margin_loss(x, t, weight=w, **kw),
        lambda x, t, w: torch.nn.functional.multi_margin_loss(x, t, weight=w, **kw),
        [x, t, w],
        [True, False, False],
        ["multi_margin_loss"],
        seed,
        may_refuse=reduction == "mean" and x.size == 0,
    )


# ------------------------------------------------------------------------------ empty tensors
# tests/core/test_properties.py fuzzes the reductions on non-empty shapes; here sizes may be 0.
_EMPTY_OK = {"sum", "prod", "norm"}  # reductions with an identity: 0, 1, 0, as in torch


@pytest.mark.filterwarnings("ignore:(var|std).*degrees of freedom:UserWarning")  # torch's
@given(
    shape=st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple),
    op=st.sampled_from(["sum", "mean", "amax", "amin", "var", "std", "logsumexp", "norm", "prod"]),
    dim=st.integers(-3, 2),
    all_dims=st.booleans(),
    keepdim=st.booleans(),
    seed=st.integers(0, 99),
)
def test_random_reductions_with_empty_dims(shape, op, dim, all_dims, keepdim, seed):
    assume(-len(shape) <= dim < len(shape))
    x = np.random.default_rng(seed).standard_normal(shape) + 0.1
    reduced = shape if all_dims else (shape[dim],)
    n = int(np.prod(reduced))
    assume(op not in ("var", "std") or n != 1)  # one element: nan in both (covered elsewhere)
    bx, tx = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    kw = {} if op == "prod" else {"keepdim": keepdim}
    if op == "norm":
        kw["p"] = 2
    if all_dims and op != "logsumexp":
        b_call, t_call = (lambda: getattr(bp, op)(bx)), (lambda: getattr(torch, op)(tx))
    else:
        d = tuple(range(len(shape))) if all_dims else dim
        b_call = lambda: getattr(bp, op)(bx, dim=d, **kw)  # noqa: E731
        t_call = lambda: getattr(torch, op)(tx, dim=d, **kw)  # noqa: E731
    if n == 0 and op not in _EMPTY_OK:
        # torch: an error (amax), NaN (mean, var, std) or -inf (logsumexp); backprop refuses
        # the reduction of nothing, naming the op and the shape.
        _refused_by_us(b_call, [op if op not in ("max", "min") else "amax"])
        assert str(shape) in str(pytest.raises(ValueError, b_call).value)
        return
    yb, yt = b_call(), t_call()
    assert yb.shape == tuple(yt.shape)
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
    u = np.random.default_rng(seed).standard_normal(yb.shape)
    (yb * bp.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=RTOL, atol=ATOL)


@given(
    shape=st.lists(st.integers(0, 3), min_size=1, max_size=3).map(tuple),
    fn=st.sampled_from(["softmax", "log_softmax"]),
    dim=st.integers(-3, 2),
    scale=st.sampled_from([1.0, 1e4]),
    seed=st.integers(0, 99),
)
def test_random_softmax_shapes_including_empty(shape, fn, dim, scale, seed):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    bx, tx = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    if not -len(shape) <= dim < len(shape):
        _refused_by_us(lambda: getattr(F, fn)(bx, dim), [fn])
        return
    yb, yt = getattr(F, fn)(bx, dim), getattr(torch.nn.functional, fn)(tx, dim)
    assert yb.shape == tuple(yt.shape)
    np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=RTOL, atol=ATOL)
    u = np.random.default_rng(seed).standard_normal(yb.shape)
    (yb * bp.tensor(u)).sum().backward()
    (yt * torch.tensor(u)).sum().backward()
    np.testing.assert_allclose(bx.grad.data, tx.grad.numpy(), rtol=RTOL, atol=ATOL)
