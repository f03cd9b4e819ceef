"""Layers vs PyTorch with the same weights (output, input gradient, every parameter gradient;
float64 to 1e-8 relative, float32 to 1e-4), float64 gradchecks, layer statistics and validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from _nn_parity import TOL, compare_layer, copy_into_torch, module_gradcheck

import backprop as bp
from backprop import nn

DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])


def _x(*shape, seed=0, margin=0.0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return np.sign(x) * (np.abs(x) + margin) if margin else x


# ------------------------------------------------------------------ Linear, Identity, Flatten
@DTYPES
@pytest.mark.parametrize("shape,bias", [((5, 4), True), ((2, 3, 4), True), ((6, 4), False)])
def test_linear_parity(shape, bias, dtype):
    compare_layer(nn.Linear(4, 3, bias=bias), torch.nn.Linear(4, 3, bias=bias), _x(*shape), dtype)


def test_linear_gradcheck_and_init():
    assert module_gradcheck(nn.Linear(4, 3), _x(5, 4))
    bp.manual_seed(0)
    fc = nn.Linear(400, 50)
    bound = 1 / math.sqrt(400)
    assert np.abs(fc.weight.data).max() <= bound and np.abs(fc.bias.data).max() <= bound
    # U(-b, b) has std b / sqrt(3): torch's default init, not something narrower or wider
    assert abs(fc.weight.data.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert fc.weight.dtype == np.float32 and fc.weight.shape == (50, 400)
    assert nn.Linear(2, 3, dtype=bp.float64).weight.dtype == np.float64
    bp.manual_seed(3)
    w1 = nn.Linear(3, 3).weight.data.copy()
    bp.manual_seed(3)
    np.testing.assert_array_equal(nn.Linear(3, 3).weight.data, w1)  # seeded
    before = fc.weight.data.copy()
    fc.reset_parameters()
    assert not np.array_equal(before, fc.weight.data)
    assert nn.Linear(3, 2, bias=False).bias is None


def test_linear_errors_name_the_layer():
    with pytest.raises(ValueError, match="Linear: in_features"):
        nn.Linear(-1, 3)
    with pytest.raises(ValueError, match="Linear: out_features"):
        nn.Linear(3, 2.5)
    with pytest.raises(TypeError, match="Linear: dtype"):
        nn.Linear(3, 2, dtype=bp.int64)
    with pytest.raises(ValueError, match=r"Linear\(in_features=4.*\(\*, 4\).*\(5, 3\)"):
        nn.Linear(4, 2)(bp.randn(5, 3))


@DTYPES
def test_identity_flatten_unflatten(dtype):
    x = _x(2, 3, 4, 5)
    compare_layer(nn.Identity(54, foo=1), torch.nn.Identity(54, foo=1), x, dtype)
    compare_layer(nn.Flatten(), torch.nn.Flatten(), x, dtype)
    compare_layer(nn.Flatten(0, 2), torch.nn.Flatten(0, 2), x, dtype)
    compare_layer(nn.Unflatten(1, (3, 1)), torch.nn.Unflatten(1, (3, 1)), x, dtype)
    with pytest.raises(ValueError, match="Unflatten"):
        nn.Unflatten(1, (2, "a"))


# ------------------------------------------------------------------ activations
ACTIVATIONS = [
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.ELU(0.7), lambda: torch.nn.ELU(0.7)),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU("tanh"), lambda: torch.nn.GELU("tanh")),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.LogSoftmax(dim=-1), lambda: torch.nn.LogSoftmax(dim=-1)),
    (lambda: nn.Softplus(2.0, 1.5), lambda: torch.nn.Softplus(2.0, 1.5)),
    (lambda: nn.Threshold(0.3, -1.5), lambda: torch.nn.Threshold(0.3, -1.5)),
]


@DTYPES
@pytest.mark.parametrize("i", range(len(ACTIVATIONS)))
def test_activation_parity(i, dtype):
    b, t = ACTIVATIONS[i]
    x = _x(4, 5, 3, margin=0.05)
    x[np.abs(x - 0.3) < 0.05] += 0.1  # keep away from the Threshold's kink
    compare_layer(b(), t(), x, dtype)


@pytest.mark.parametrize("i", range(len(ACTIVATIONS)))
def test_activation_gradcheck(i):
    x = _x(3, 4, margin=0.05)
    x[np.abs(x - 0.3) < 0.05] += 0.1
    assert module_gradcheck(ACTIVATIONS[i][0](), x)


def test_softmax_implicit_dim_warns_like_torch():
    x = _x(2, 3, 4)
    with pytest.warns(UserWarning, match="implicit dimension"):
        y = nn.Softmax()(bp.tensor(x))
    np.testing.assert_allclose(y.data.sum(0), 1.0)  # 3-D input: torch's legacy dim 0
    with pytest.warns(UserWarning):
        assert nn.LogSoftmax()(bp.tensor(_x(2, 3))).shape == (2, 3)
    with pytest.raises(ValueError, match="GELU"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="Softplus"):
        nn.Softplus(beta=0)


def test_step_unit_has_zero_gradient():
    step = nn.Step()
    x = bp.tensor([-2.0, -0.1, 0.0, 0.5, 3.0], requires_grad=True)
    y = step(x)
    np.testing.assert_array_equal(y.data, [0, 0, 0, 1, 1])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, 0)
    np.testing.assert_array_equal(nn.Step(1.0)(bp.tensor([0.5, 1.5])).data, [0, 1])
    # torch's Threshold stays torch's: x above the threshold, value elsewhere (not a step)
    np.testing.assert_allclose(nn.Threshold(0.0, 0.0)(bp.tensor([-1.0, 2.0])).data, [0, 2])


# ------------------------------------------------------------------ Embedding
@DTYPES
@pytest.mark.parametrize("padding_idx", [None, 0, -1])
def test_embedding_parity(padding_idx, dtype):
    idx = np.array([[0, 3, 3, 9], [9, 1, 0, 3], [2, 2, 2, 2]])
    b = nn.Embedding(10, 4, padding_idx=padding_idx)
    t = torch.nn.Embedding(10, 4, padding_idx=padding_idx)
    compare_layer(b, t, idx, dtype)
    if padding_idx is not None:
        assert not nn.Embedding(10, 4, padding_idx=padding_idx).weight.data[padding_idx].any()


def test_embedding_gradcheck_and_errors():
    emb = nn.Embedding(6, 3).double()
    idx = bp.tensor(np.array([[1, 5, 1], [0, 0, 2]]))

    def fn(w):
        emb._parameters["weight"] = w
        return emb(idx)

    w0 = emb.weight
    assert bp.gradcheck(fn, [bp.tensor(w0.data.copy(), requires_grad=True)])
    emb._parameters["weight"] = w0
    with pytest.raises(IndexError, match="index 6 is out of range for 6"):
        emb(bp.tensor([1, 6]))
    with pytest.raises(ValueError, match="out of range"):
        emb(bp.tensor([-1]))
    with pytest.raises(TypeError, match="integers"):
        emb(bp.tensor([1.0]))
    with pytest.raises(ValueError, match="Embedding: padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)
    with pytest.raises(ValueError, match="Embedding: num_embeddings"):
        nn.Embedding(0, 2)
    assert emb(bp.tensor(np.zeros((2, 0), dtype=np.int64))).shape == (2, 0, 3)


@pytest.mark.parametrize("scipy", [True, False], ids=["csr", "reduceat"])
def test_embedding_large_backward_is_exact(scipy, monkeypatch):
    # Many repeated indices: both backward paths (a CSR product with SciPy, a sort-and-reduceat
    # without) equal a dense one-hot matmul.
    if not scipy:
        import backprop.ops.embedding as E

        monkeypatch.setattr(E, "_scipy_sparse", lambda: None)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 50, (64, 30))
    emb = nn.Embedding(50, 8, dtype=bp.float64)
    g = rng.standard_normal((64, 30, 8))
    emb(bp.tensor(idx)).backward(bp.tensor(g))
    onehot = np.eye(50)[idx.reshape(-1)]
    np.testing.assert_allclose(emb.weight.grad.data, onehot.T @ g.reshape(-1, 8), rtol=1e-12)


def test_embedding_from_pretrained_and_max_norm():
    w = bp.tensor(np.arange(12.0).reshape(4, 3))
    e = nn.Embedding.from_pretrained(w)
    assert not e.weight.requires_grad and e.weight.data is not w.data
    np.testing.assert_array_equal(e(bp.tensor([2])).data, [[6.0, 7.0, 8.0]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad
    idx = np.array([0, 2, 2])
    b = nn.Embedding(4, 3, max_norm=1.5).double()
    t = torch.nn.Embedding(4, 3, max_norm=1.5).double()
    with bp.no_grad():
        b.weight.data[...] = np.arange(12.0).reshape(4, 3) / 4
    compare_layer(b, t, idx)
    norms = np.linalg.norm(b.weight.data, axis=1)
    assert norms[2] <= 1.5 + 1e-6 and norms[3] > 1.5  # only looked-up rows are renormalised
    np.testing.assert_allclose(b.weight.data, t.weight.detach().numpy(), rtol=1e-12)


# ------------------------------------------------------------------ Dropout
def test_dropout_statistics():
    bp.manual_seed(0)
    drop = nn.Dropout(0.3)
    x = bp.ones(200, 500)
    y = drop(x).data
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.005  # 100,000 draws: std of the rate ~0.0015
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)  # survivors scaled by 1/(1-p)
    assert abs(y.mean() - 1.0) < 0.01  # unbiased in expectation
    assert y.dtype == np.float32
    drop.eval()
    assert drop(x) is x  # eval: the identity
    assert nn.Dropout(0.0)(x) is x
    np.testing.assert_array_equal(nn.Dropout(1.0)(x).data, 0)


def test_dropout_gradient_and_reproducibility():
    x = bp.randn(50, 40, requires_grad=True)
    bp.manual_seed(5)
    y1 = nn.Dropout(0.5)(x)
    bp.manual_seed(5)
    y2 = nn.Dropout(0.5)(x)
    np.testing.assert_array_equal(y1.data, y2.data)
    y3 = nn.Dropout(0.5)(x)
    assert not np.array_equal(y1.data, y3.data)  # a new mask on the next call
    y1.sum().backward()
    mask = np.where(y1.data != 0, 2.0, 0.0)
    np.testing.assert_allclose(x.grad.data, mask)  # the gradient goes through the same mask
    assert module_gradcheck(nn.Dropout(0.4), _x(4, 5), reseed=3)
    xd = bp.randn(3, 3, dtype=bp.float64)
    assert nn.Dropout(0.5)(xd).dtype == np.float64


def test_dropout_errors():
    for p in (-0.1, 1.5, "a"):
        with pytest.raises(ValueError, match="Dropout: probability"):
            nn.Dropout(p)
    with pytest.raises(ValueError, match="dropout"):
        nn.functional.dropout(bp.ones(2), 2.0)


# ------------------------------------------------------------------ BatchNorm
BN_CASES = [
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 5)),
    (nn.BatchNorm1d, torch.nn.BatchNorm1d, (6, 5, 7)),
    (nn.BatchNorm2d, torch.nn.BatchNorm2d, (4, 5, 3, 6)),
]
BN_OPTIONS = [
    {},
    {"momentum": None},
    {"affine": False},
    {"track_running_stats": False},
    {"momentum": 0.3, "eps": 1e-3, "bias": False},
]


@DTYPES
@pytest.mark.parametrize("case", range(len(BN_CASES)))
@pytest.mark.parametrize("opt", range(len(BN_OPTIONS)))
def test_batchnorm_training_steps_then_eval(case, opt, dtype):
    B, T, shape = BN_CASES[case]
    kw = BN_OPTIONS[opt]
    C = shape[1]
    b, t = B(C, **kw), T(C, **kw)
    rtol, atol = TOL[dtype]
    rng = np.random.default_rng(case)
    if b.affine:
        with bp.no_grad():
            b.weight.data[...] = rng.uniform(0.5, 1.5, C)
            if b.bias is not None:
                b.bias.data[...] = rng.standard_normal(C)
    b.to(dtype)
    t.to({np.float64: torch.float64, np.float32: torch.float32}[dtype])
    copy_into_torch(b, t)
    for step in range(4):  # running statistics after several steps
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(dtype)
        xb, xt = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        yb, yt = b(xb), t(xt)
        np.testing.assert_allclose(yb.data, yt.detach().numpy(), rtol=rtol, atol=atol)
        u = rng.standard_normal(shape).astype(dtype)
        (yb * bp.tensor(u)).sum().backward()
        (yt * torch.tensor(u)).sum().backward()
        np.testing.assert_allclose(xb.grad.data, xt.grad.numpy(), rtol=rtol, atol=atol)
        for name, p in b.named_parameters():
            tp = dict(t.named_parameters())[name]
            np.testing.assert_allclose(p.grad.data, tp.grad.numpy(), rtol=rtol, atol=atol)
            p.grad, tp.grad = None, None
        for name, buf in b.named_buffers():
            tb = dict(t.named_buffers())[name]
            np.testing.assert_allclose(buf.data, tb.numpy(), rtol=rtol, atol=atol, err_msg=name)
    if b.track_running_stats:
        assert int(b.num_batches_tracked.item()) == 4
    b.eval(), t.eval()
    x = rng.standard_normal(shape)
    compare_layer(b, t, x, dtype)  # eval: normalised with the running statistics
    if b.track_running_stats:
        assert int(b.num_batches_tracked.item()) == 4  # eval does not count batches


def test_batchnorm_conventions():
    bn = nn.BatchNorm1d(3, momentum=0.1)
    x = np.random.default_rng(0).standard_normal((10, 3)) * 2 + 5
    y = bn(bp.tensor(x, dtype=bp.float32)).data
    # training: batch mean 0 and biased variance 1 per channel
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(0), 1, rtol=1e-3)
    # running stats: momentum 0.1 of the batch mean and of the *unbiased* variance
    np.testing.assert_allclose(bn.running_mean.data, 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.data, 0.9 + 0.1 * x.var(0, ddof=1), rtol=1e-5)
    assert bn.running_mean.dtype == np.float32 and bn.eps == 1e-5
    # momentum=None: the cumulative average of the batch statistics
    cum = nn.BatchNorm1d(3, momentum=None)
    batches = [np.random.default_rng(i).standard_normal((6, 3)) + i for i in range(3)]
    for xb in batches:
        cum(bp.tensor(xb.astype(np.float32)))
    np.testing.assert_allclose(
        cum.running_mean.data, np.mean([b.mean(0) for b in batches], 0), rtol=1e-5
    )
    bn.reset_running_stats()
    assert not bn.running_mean.data.any() and (bn.running_var.data == 1).all()
    assert int(bn.num_batches_tracked.item()) == 0


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("case", range(len(BN_CASES)))
def test_batchnorm_gradcheck(case, training):
    B, _, shape = BN_CASES[case]
    bn = B(shape[1])
    with bp.no_grad():
        bn.weight.data[...] = np.linspace(0.5, 1.5, shape[1])
        bn.running_var.data[...] = np.linspace(0.5, 2.0, shape[1])
    bn.train(training)
    assert module_gradcheck(bn, _x(*shape) * 2 + 1)


def test_batchnorm_errors_name_the_layer():
    with pytest.raises(
        ValueError, match=r"BatchNorm1d: expected 2D \(N, C\) or 3D.*\(2, 3, 4, 5\)"
    ):
        nn.BatchNorm1d(3)(bp.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D.*\(2, 3\)"):
        nn.BatchNorm2d(3)(bp.randn(2, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\).*4 channels"):
        nn.BatchNorm2d(3)(bp.randn(2, 4, 5, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(bp.randn(1, 3))
    nn.BatchNorm1d(3).eval()(bp.randn(1, 3))  # fine in eval
    with pytest.raises(ValueError, match="BatchNorm1d: momentum"):
        nn.BatchNorm1d(3, momentum=1.5)
    with pytest.raises(ValueError, match="BatchNorm2d: eps"):
        nn.BatchNorm2d(3, eps=0)
    with pytest.raises(ValueError, match="BatchNorm2d: num_features"):
        nn.BatchNorm2d(0)
    with pytest.raises(TypeError, match="dtype"):
        nn.BatchNorm1d(3)(bp.randn(4, 3, dtype=bp.float64))


# ------------------------------------------------------------------ LayerNorm
LN_CASES = [
    ((5,), {}, (4, 5)),
    ((3, 4), {}, (2, 3, 4)),
    (6, {"elementwise_affine": False}, (2, 3, 6)),
    ((4,), {"bias": False, "eps": 1e-3}, (3, 4)),
]


@DTYPES
@pytest.mark.parametrize("case", range(len(LN_CASES)))
def test_layernorm_parity(case, dtype):
    ns, kw, shape = LN_CASES[case]
    b, t = nn.LayerNorm(ns, **kw), torch.nn.LayerNorm(ns, **kw)
    if b.weight is not None:
        with bp.no_grad():
            b.weight.data[...] = np.random.default_rng(1).uniform(0.5, 1.5, b.weight.shape)
    if b.bias is not None:
        with bp.no_grad():
            b.bias.data[...] = np.random.default_rng(2).standard_normal(b.bias.shape)
    compare_layer(b, t, _x(*shape) * 3 + 1, dtype)


@pytest.mark.parametrize("case", range(len(LN_CASES)))
def test_layernorm_gradcheck(case):
    ns, kw, shape = LN_CASES[case]
    ln = nn.LayerNorm(ns, **kw)
    if ln.weight is not None:
        with bp.no_grad():
            ln.weight.data[...] = np.random.default_rng(1).uniform(0.5, 1.5, ln.weight.shape)
    assert module_gradcheck(ln, _x(*shape))


def test_layernorm_errors():
    with pytest.raises(ValueError, match=r"LayerNorm\(\(5,\)\).*\(\*, 5\).*\(3, 4\)"):
        nn.LayerNorm(5)(bp.randn(3, 4))
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape"):
        nn.LayerNorm((0,))
    with pytest.raises(ValueError, match="LayerNorm: eps"):
        nn.LayerNorm(3, eps=-1)


# ------------------------------------------------------------------ RBF
def _rbf_reference(x, c, log_sigma):
    d2 = ((x[:, None, :] - c[None]) ** 2).sum(-1)
    return np.exp(-d2 / (2 * np.exp(log_sigma) ** 2))


@DTYPES
def test_rbf_matches_direct_formula_and_torch(dtype):
    rbf = nn.RBF(3, 5, sigma_init=0.8)
    with bp.no_grad():
        rbf.log_sigma.data[...] = np.linspace(-0.5, 0.5, 5)
    x = _x(7, 3)

    class TorchRBF(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.centres = torch.nn.Parameter(torch.zeros(5, 3))
            self.log_sigma = torch.nn.Parameter(torch.zeros(5))

        def forward(self, x):
            d2 = ((x[:, None, :] - self.centres[None]) ** 2).sum(-1)
            return torch.exp(-d2 / (2 * torch.exp(self.log_sigma) ** 2))

    yb, _ = compare_layer(rbf, TorchRBF(), x, dtype)
    ref = _rbf_reference(
        x, rbf.centres.data.astype(np.float64), rbf.log_sigma.data.astype(np.float64)
    )
    np.testing.assert_allclose(yb.data, ref, rtol=TOL[dtype][0], atol=TOL[dtype][1])
    assert ((yb.data > 0) & (yb.data <= 1)).all()


def test_rbf_gradcheck_and_behaviour():
    rbf = nn.RBF(2, 4)
    assert module_gradcheck(rbf, _x(6, 2))
    np.testing.assert_allclose(nn.RBF(2, 3, sigma_init=0.5).sigma.data, 0.5, rtol=1e-6)
    # a unit centred on the input outputs 1; far away it outputs ~0
    r = nn.RBF(2, 2)
    with bp.no_grad():
        r.centres.data[...] = [[1.0, 2.0], [100.0, 100.0]]
    y = r(bp.tensor([[1.0, 2.0]])).data
    np.testing.assert_allclose(y, [[1.0, 0.0]], atol=1e-6)
    assert r(bp.randn(2, 3, 2)).shape == (2, 3, 2)  # leading batch dims
    with pytest.raises(ValueError, match=r"RBF\(in_features=2.*\(\*, 2\)"):
        r(bp.randn(3, 4))
    with pytest.raises(ValueError, match="RBF: sigma_init"):
        nn.RBF(2, 2, sigma_init=0)
    with pytest.raises(ValueError, match="RBF: out_features"):
        nn.RBF(2, 0)


def test_rbf_network_learns_xor():
    # The lectures' RBF network: Gaussian hidden units, a linear output layer.
    bp.manual_seed(0)
    net = nn.Sequential(nn.RBF(2, 4), nn.Linear(4, 1))
    with bp.no_grad():
        net[0].centres.data[...] = [[0, 0], [0, 1], [1, 0], [1, 1]]
    x = bp.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = bp.tensor([[0.0], [1.0], [1.0], [0.0]])
    lossf = nn.MSELoss()
    for _ in range(300):
        net.zero_grad()
        loss = lossf(net(x), y)
        loss.backward()
        with bp.no_grad():
            for p in net.parameters():
                p.data -= 0.5 * p.grad.data
    assert loss.item() < 1e-3
