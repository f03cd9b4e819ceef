"""Op-table rows for the core: elementwise, activations, reductions, shape, indexing, linalg."""

from __future__ import annotations

import numpy as np

from optable import Sample, add, away, nnf, one, positive, randn


def _samples(*builders):
    return lambda rng: [b(rng) for b in builders]


# ------------------------------------------------------------ elementwise binary (broadcasting)
_BCAST = [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3))]


def _binary(gen_a, gen_b):
    return lambda rng: [Sample([gen_a(rng, *sa), gen_b(rng, *sb)]) for sa, sb in _BCAST]


add("add", lambda m, a, b: a + b, _binary(randn, randn), ref=np.add)
add("sub", lambda m, a, b: a - b, _binary(randn, randn), ref=np.subtract)
add("mul", lambda m, a, b: a * b, _binary(randn, randn), ref=np.multiply)
add("div", lambda m, a, b: a / b, _binary(randn, away), ref=np.divide)
add("pow", lambda m, a, b: a**b, _binary(positive, randn), ref=np.power)
add("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5), _binary(randn, randn))
add("rsub_scalar", lambda m, a: 2.0 - a, lambda rng: one(randn(rng, 3, 4)), ref=lambda a: 2.0 - a)
add("rdiv_scalar", lambda m, a: 3.0 / a, lambda rng: one(away(rng, 3, 4)), ref=lambda a: 3.0 / a)
add("pow_scalar", lambda m, a: a**3, lambda rng: one(randn(rng, 5)), ref=lambda a: a**3)
add("rpow_scalar", lambda m, a: 2.0**a, lambda rng: one(randn(rng, 5)), ref=lambda a: 2.0**a)
add("square_fanout", lambda m, a: a * a + a, lambda rng: one(randn(rng, 3, 3)))
add("maximum", lambda m, a, b: m.maximum(a, b), _binary(randn, randn), ref=np.maximum)
add("minimum", lambda m, a, b: m.minimum(a, b), _binary(randn, randn), ref=np.minimum)
add(
    "maximum_ties",
    lambda m, a: m.maximum(a, a.detach() * 1.0),
    lambda rng: one(randn(rng, 4)),
    gradcheck=False,  # the tie is a kink: finite differences see one side only
)
add(
    "where",
    lambda m, c, a, b: m.where(c > 0, a, b),
    lambda rng: [
        Sample([randn(rng, 3, 4), randn(rng, 3, 4), randn(rng, 3, 4)], no_grad=(0,)),
        Sample([randn(rng, 3, 1), randn(rng, 4), randn(rng, 3, 4)], no_grad=(0,)),
    ],
    ref=lambda c, a, b: np.where(c > 0, a, b),
)

# ------------------------------------------------------------------ elementwise unary
_UNARY = [
    ("neg", lambda m, x: -x, randn, np.negative),
    ("exp", lambda m, x: m.exp(x), randn, np.exp),
    ("log", lambda m, x: m.log(x), positive, np.log),
    ("log1p", lambda m, x: m.log1p(x), positive, np.log1p),
    ("sqrt", lambda m, x: m.sqrt(x), positive, np.sqrt),
    ("rsqrt", lambda m, x: m.rsqrt(x), positive, lambda x: 1 / np.sqrt(x)),
    ("sin", lambda m, x: m.sin(x), randn, np.sin),
    ("cos", lambda m, x: m.cos(x), randn, np.cos),
    ("abs", lambda m, x: m.abs(x), away, np.abs),
    ("sign", lambda m, x: m.sign(x), away, np.sign),
    ("clamp", lambda m, x: m.clamp(x, -0.5, 0.7), away, lambda x: np.clip(x, -0.5, 0.7)),
    ("clamp_min", lambda m, x: x.clamp(min=0.3), away, lambda x: np.maximum(x, 0.3)),
    ("reciprocal", lambda m, x: m.reciprocal(x), away, np.reciprocal),
    ("clone", lambda m, x: x.clone() * 2, randn, lambda x: x * 2),
]
for _name, _fn, _gen, _ref in _UNARY:
    add(_name, _fn, (lambda g: lambda rng: one(g(rng, 3, 4)))(_gen), ref=_ref)

add(
    "cast",
    lambda m, x: (x.float() * 2).double() if x.dtype == m.float64 else (x.double() * 2).float(),
    lambda rng: one(randn(rng, 3, 4)),
    rtol64=1e-7,
    atol64=1e-7,
    gradcheck_eps=1e-3,
)

# ------------------------------------------------------------------ activations
_ACT = [
    ("sigmoid", lambda m, x: m.sigmoid(x), lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", lambda m, x: m.tanh(x), np.tanh),
    ("relu", lambda m, x: nnf(m).relu(x), lambda x: np.maximum(x, 0)),
    ("leaky_relu", lambda m, x: nnf(m).leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("elu", lambda m, x: nnf(m).elu(x, alpha=1.3), lambda x: np.where(x > 0, x, 1.3 * np.expm1(x))),
    ("gelu", lambda m, x: nnf(m).gelu(x), None),
    ("gelu_tanh", lambda m, x: nnf(m).gelu(x, approximate="tanh"), None),
    ("softplus", lambda m, x: nnf(m).softplus(x, beta=2.0, threshold=3.0), None),
    ("silu", lambda m, x: nnf(m).silu(x), lambda x: x / (1 + np.exp(-x))),
    (
        "threshold",
        lambda m, x: nnf(m).threshold(x, 0.1, -2.0),
        lambda x: np.where(x > 0.1, x, -2.0),
    ),
]
for _name, _fn, _ref in _ACT:
    add(_name, _fn, lambda rng: one(away(rng, 4, 5)), ref=_ref)

add(
    "sigmoid_extreme",
    lambda m, x: m.sigmoid(x),
    lambda rng: one(np.array([-1e4, -50.0, -1.0, 0.5, 50.0, 1e4])),
    gradcheck=False,
)


def _torch_or_step(m, x):
    # torch has no differentiable step unit: compare values with (x > 0) and gradients with zeros.
    if m.__name__ == "torch":
        return (x > 0).to(x.dtype) + 0 * x
    return nnf(m).step(x)


add("step", _torch_or_step, lambda rng: one(away(rng, 3, 4)), ref=lambda x: (x > 0) * 1.0)

_SOFTMAX_SAMPLES = lambda rng: [  # noqa: E731
    Sample([randn(rng, 3, 5)], {"dim": 1}),
    Sample([randn(rng, 2, 3, 4)], {"dim": 0}),
    Sample([np.array([[1e4, 0.0, -1e4], [3.0, 3.0, 3.0]])], {"dim": -1}),
]


def _softmax_ref(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


add("softmax", lambda m, x, dim: nnf(m).softmax(x, dim=dim), _SOFTMAX_SAMPLES, ref=_softmax_ref)
add(
    "log_softmax",
    lambda m, x, dim: nnf(m).log_softmax(x, dim=dim),
    _SOFTMAX_SAMPLES,
    ref=lambda x, dim: np.log(_softmax_ref(x, dim) + 0.0) if np.abs(x).max() < 100 else None,
)

# ------------------------------------------------------------------ reductions
_RED = [
    Sample([None], {}),
    Sample([None], {"dim": 1}),
    Sample([None], {"dim": (0, 2), "keepdim": True}),
    Sample([None], {"dim": -1, "keepdim": False}),
]


def _red(gen=randn):
    def samples(rng):
        return [Sample([gen(rng, 2, 3, 4)], s.kwargs) for s in _RED]

    return samples


def _np_axis(kw):
    d = kw.get("dim")
    return {"axis": d, "keepdims": kw.get("keepdim", False)}


add("sum", lambda m, x, **kw: x.sum(**kw), _red(), ref=lambda x, **kw: np.sum(x, **_np_axis(kw)))
add(
    "mean",
    lambda m, x, **kw: m.mean(x, **kw),
    _red(),
    ref=lambda x, **kw: np.mean(x, **_np_axis(kw)),
)
add(
    "amax",
    lambda m, x, **kw: m.amax(x, **kw),
    _red(),
    ref=lambda x, **kw: np.max(x, **_np_axis(kw)),
)
add(
    "amin",
    lambda m, x, **kw: m.amin(x, **kw),
    _red(),
    ref=lambda x, **kw: np.min(x, **_np_axis(kw)),
)
add(
    "amax_ties",
    lambda m, x: m.amax(x, dim=1),
    lambda rng: one(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])),
    gradcheck=False,
)
add("max_full", lambda m, x: x.max(), lambda rng: one(randn(rng, 3, 4)), ref=np.max)
add(
    "max_dim",
    lambda m, x, **kw: m.max(x, **kw).values,
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 3, 4)], {"dim": 0, "keepdim": True}),
    ],
    ref=lambda x, dim, keepdim=False: np.max(x, axis=dim, keepdims=keepdim),
)
add(
    "min_dim",
    lambda m, x, **kw: m.min(x, **kw).values,
    lambda rng: [Sample([randn(rng, 3, 4)], {"dim": -1})],
    ref=lambda x, dim: np.min(x, axis=dim),
)
add(
    "var",
    lambda m, x, **kw: m.var(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {}),
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 2, 3, 4)], {"dim": (0, 2), "correction": 0, "keepdim": True}),
    ],
)
add(
    "std",
    lambda m, x, **kw: x.std(**kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": 0}),
        Sample([randn(rng, 5)], {"correction": 0}),
    ],
)
add(
    "logsumexp",
    lambda m, x, **kw: m.logsumexp(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 2, 3, 4)], {"dim": (0, 1), "keepdim": True}),
    ],
)
add(
    "prod",
    lambda m, x, **kw: m.prod(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {}),
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample(
            [np.array([[0.0, 2.0, 3.0], [1.5, 0.0, 0.0], [1.0, 2.0, -1.0]])],
            {"dim": 1, "keepdim": True},
        ),
    ],
)
add(
    "norm",
    lambda m, x, **kw: m.norm(x, **kw),
    lambda rng: [
        Sample([away(rng, 3, 4)], {}),
        Sample([away(rng, 3, 4)], {"p": 1, "dim": 1}),
        Sample([away(rng, 3, 4)], {"p": 3, "dim": 0, "keepdim": True}),
        Sample([away(rng, 3, 4)], {"p": float("inf"), "dim": 1}),
    ],
)

# ------------------------------------------------------------------ shape
add("reshape", lambda m, x: x.reshape(4, -1) * 1.0, lambda rng: one(randn(rng, 2, 3, 2)))
add("view_flatten", lambda m, x: x.flatten(1).view(-1), lambda rng: one(randn(rng, 2, 3, 2)))
add(
    "squeeze_unsqueeze",
    lambda m, x: x.unsqueeze(0).squeeze(2).unsqueeze(-1),
    lambda rng: one(randn(rng, 3, 1, 2)),
)
add("permute", lambda m, x: x.permute(2, 0, 1), lambda rng: one(randn(rng, 2, 3, 4)))
add("transpose_T", lambda m, x: x.transpose(0, 1) + x.T, lambda rng: one(randn(rng, 3, 3)))
add("expand", lambda m, x: x.expand(2, 3, 4), lambda rng: one(randn(rng, 3, 1)))
add("repeat", lambda m, x: x.repeat(2, 1, 3), lambda rng: one(randn(rng, 3, 2)))
add("flip", lambda m, x: m.flip(x, (0, 2)), lambda rng: one(randn(rng, 2, 3, 4)))
add(
    "cat",
    lambda m, a, b: m.cat([a, b, a], dim=1),
    lambda rng: one(randn(rng, 2, 3), randn(rng, 2, 1)),
)
add(
    "stack",
    lambda m, a, b: m.stack([a, b], dim=-1),
    lambda rng: one(randn(rng, 2, 3), randn(rng, 2, 3)),
)
add(
    "split",
    lambda m, x: x.split([1, 3], dim=1)[1] * x.split(2, dim=1)[0].sum(),
    lambda rng: one(randn(rng, 2, 4)),
)
add(
    "chunk",
    lambda m, x: m.chunk(x, 3, dim=0)[2] + x.chunk(2)[0][:1],
    lambda rng: one(randn(rng, 5, 2)),
)
add("unbind", lambda m, x: x.unbind(1)[0] * x.unbind(1)[2], lambda rng: one(randn(rng, 4, 3)))
add(
    "pad", lambda m, x: nnf(m).pad(x, (1, 2, 0, 1), value=0.5), lambda rng: one(randn(rng, 2, 3, 4))
)

# ------------------------------------------------------------------ indexing
add("getitem_basic", lambda m, x: x[1:, None, ..., ::2], lambda rng: one(randn(rng, 3, 4, 5)))
add("getitem_int", lambda m, x: x[1, -1], lambda rng: one(randn(rng, 3, 4)))
add("getitem_repeat", lambda m, x: x[m.tensor([0, 2, 2, 0])], lambda rng: one(randn(rng, 3, 4)))
add(
    "getitem_2d_index",
    lambda m, x: x[m.tensor([[0, 1], [1, 1]]), m.tensor([2, 2])],
    lambda rng: one(randn(rng, 3, 4)),
)
add("getitem_mask", lambda m, x: x[x > 0], lambda rng: one(away(rng, 3, 4)))
add(
    "gather",
    lambda m, x: m.gather(x, 1, m.tensor([[0, 0, 2], [1, 0, 1]])),
    lambda rng: one(randn(rng, 2, 3)),
)
add(
    "index_select",
    lambda m, x: m.index_select(x, 0, m.tensor([2, 0, 2])),
    lambda rng: one(randn(rng, 3, 4)),
)
add("masked_fill", lambda m, x: x.masked_fill(x > 0.5, -1.0), lambda rng: one(away(rng, 3, 4)))
add(
    "topk",
    lambda m, x: m.topk(x, 2, dim=1).values,
    lambda rng: one(randn(rng, 3, 5)),
)
add(
    "sort", lambda m, x: m.sort(x, dim=0, descending=True).values, lambda rng: one(randn(rng, 4, 3))
)

# ------------------------------------------------------------------ linalg
add(
    "matmul",
    lambda m, a, b: m.matmul(a, b),
    lambda rng: [
        Sample([randn(rng, 4), randn(rng, 4)]),
        Sample([randn(rng, 3, 4), randn(rng, 4)]),
        Sample([randn(rng, 4), randn(rng, 4, 2)]),
        Sample([randn(rng, 3, 4), randn(rng, 4, 2)]),
        Sample([randn(rng, 2, 3, 4), randn(rng, 4, 5)]),
        Sample([randn(rng, 2, 1, 3, 4), randn(rng, 3, 4, 2)]),
    ],
    ref=np.matmul,
)
add(
    "linear",
    lambda m, x, w, b: nnf(m).linear(x, w, b),
    lambda rng: [
        Sample([randn(rng, 5, 3), randn(rng, 4, 3), randn(rng, 4)]),
        Sample([randn(rng, 2, 5, 3), randn(rng, 4, 3), randn(rng, 4)]),
    ],
    ref=lambda x, w, b: x @ w.T + b,
)
add(
    "linear_nobias",
    lambda m, x, w: nnf(m).linear(x, w),
    lambda rng: one(randn(rng, 5, 3), randn(rng, 2, 3)),
)
