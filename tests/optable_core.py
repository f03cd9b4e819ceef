"""Op-table rows for the core: elementwise, activations, reductions, shape, indexing, linalg."""

from __future__ import annotations

import numpy as np

from backprop.ops import reduction as R
from optable import Sample, add, away, edges, inf, nan, nnf, no_edges, one, positive, randn

A = np.array
# Special values for unary ops, and an upstream gradient with inf and NaN where they bite.
_SPECIAL = [0.0, -0.0, inf, -inf, nan, 1.0, -1.0]
_SPECIAL_GY = [inf, nan, inf, -inf, 1.0, inf, nan]


def _samples(*builders):
    return lambda rng: [b(rng) for b in builders]


# ------------------------------------------------------------ elementwise binary (broadcasting)
_BCAST = [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3))]


def _binary(gen_a, gen_b):
    return lambda rng: [Sample([gen_a(rng, *sa), gen_b(rng, *sb)]) for sa, sb in _BCAST]


add("add", lambda m, a, b: a + b, _binary(randn, randn), ref=np.add)
no_edges("add", "ga = gb = gy (summed over broadcast axes): no value of a or b is special")
add("sub", lambda m, a, b: a - b, _binary(randn, randn), ref=np.subtract)
no_edges("sub", "ga = gy, gb = -gy (summed over broadcast axes): no value of a or b is special")
add(
    "mul",
    lambda m, a, b: a * b,
    _binary(randn, randn),
    ref=np.multiply,
    edges=edges(
        Sample([A([0.0, inf, -0.0, 1.0, nan, -inf]), A([inf, 0.0, 2.0, nan, 1.0, -inf])]),
        Sample([A([0.0, 2.0, 0.0]), A([3.0, 0.0, 0.0])], grad=[inf, nan, inf]),
    ),
)
add(
    "div",
    lambda m, a, b: a / b,
    _binary(randn, away),
    ref=np.divide,
    edges=edges(
        Sample([A([1.0, -1.0, 0.0, inf, 1.0, 0.0, nan]), A([0.0, 0.0, 0.0, inf, inf, 2.0, 1.0])]),
        Sample([A([1.0, 0.0, 2.0]), A([2.0, 3.0, inf])], grad=[inf, inf, nan]),
    ),
)
add(
    "pow",
    lambda m, a, b: a**b,
    _binary(positive, randn),
    ref=np.power,
    edges=edges(
        # 0**0 (torch: both gradients 0), 0**b for b > 0, < 0, fractional; negative bases.
        Sample([
            A([0.0, 0.0, 0.0, 0.0, 0.0, -2.0, -2.0, 1.0, 0.0, 2.0]),
            A([0.0, 1.0, 2.0, -1.0, 0.5, 2.0, 0.5, 0.0, 3.0, inf]),
        ]),
        Sample([A([0.0, 0.0, 1.0, 2.0]), A([0.0, 1.0, 0.0, -inf])], grad=[inf, inf, inf, nan]),
    ),
)  # fmt: skip
add(
    "pow_self",  # x ** x: both gradient paths meet at 0**0
    lambda m, x: x**x,
    lambda rng: one(positive(rng, 3, 4)),
    edges=edges(Sample([A([0.0, 1.0, 2.0, 0.5, -1.0])])),
    edge_ops=("pow",),
)
add(
    "pow_scalar_edges",  # x ** e with a number e, at x = 0
    lambda m, x, e: x**e,
    lambda rng: [],
    edges=edges(
        *[
            Sample([A([0.0, 1.0, 4.0, -2.0, inf])], {"e": e})
            for e in (0.0, 0.5, 1.0, 2.0, 3.0, -1.0, -0.5)
        ],
        Sample([A([0.0, 2.0])], {"e": 0.0}, grad=[inf, nan]),
    ),
    edge_ops=("pow",),
)
add(
    "rpow_scalar_edges",  # base ** x with a number base: 0 ** x, 1 ** x
    lambda m, x, base: base**x,
    lambda rng: [],
    edges=edges(
        Sample([A([0.0, 1.0, -1.0, 2.0, 0.5, inf])], {"base": 0.0}),
        Sample([A([0.0, inf, -inf, nan, 3.0])], {"base": 1.0}),
        Sample([A([-inf, inf, 0.0, nan])], {"base": 2.0}),
    ),
    edge_ops=("pow",),
)
add("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5), _binary(randn, randn))
add("rsub_scalar", lambda m, a: 2.0 - a, lambda rng: one(randn(rng, 3, 4)), ref=lambda a: 2.0 - a)
add("rdiv_scalar", lambda m, a: 3.0 / a, lambda rng: one(away(rng, 3, 4)), ref=lambda a: 3.0 / a)
add("pow_scalar", lambda m, a: a**3, lambda rng: one(randn(rng, 5)), ref=lambda a: a**3)
add("rpow_scalar", lambda m, a: 2.0**a, lambda rng: one(randn(rng, 5)), ref=lambda a: 2.0**a)
add("square_fanout", lambda m, a: a * a + a, lambda rng: one(randn(rng, 3, 3)))
# Ties share the gradient; a NaN on either side sends the whole gradient to both (torch).
_MINMAX_EDGES = edges(
    Sample([A([nan, 1.0, 2.0, nan, 1.0, 3.0, 0.0]), A([1.0, nan, 2.0, nan, 1.0, 0.0, 3.0])]),
    Sample(
        [A([nan, 1.0, 2.0, nan, 1.0, 3.0, 0.0]), A([1.0, nan, 2.0, nan, 1.0, 0.0, 3.0])],
        grad=[inf, 1.0, inf, nan, nan, inf, nan],
    ),
)
add(
    "maximum",
    lambda m, a, b: m.maximum(a, b),
    _binary(randn, randn),
    ref=np.maximum,
    edges=_MINMAX_EDGES,
)
add(
    "minimum",
    lambda m, a, b: m.minimum(a, b),
    _binary(randn, randn),
    ref=np.minimum,
    edges=_MINMAX_EDGES,
)
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
    edges=edges(
        # inf/NaN upstream gradients and values on the side not taken: that side gets 0.
        Sample(
            [A([1.0, -1.0, 1.0, -1.0]), A([nan, 2.0, inf, 1.0]), A([3.0, inf, nan, -inf])],
            no_grad=(0,),
            grad=[inf, nan, -inf, 1.0],
        ),
    ),
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
_UNARY_EDGES = edges(Sample([A(_SPECIAL)]), Sample([A(_SPECIAL)], grad=_SPECIAL_GY))
# Rows named after composite functions say which op their edges stand for.
_UNARY_EDGE_OPS = {"rsqrt": ("pow", "sqrt"), "reciprocal": ("div",), "clamp_min": ("clamp",)}
for _name, _fn, _gen, _ref in _UNARY:
    if _name in ("neg", "clone"):
        continue
    add(
        _name,
        _fn,
        (lambda g: lambda rng: one(g(rng, 3, 4)))(_gen),
        ref=_ref,
        edges=_UNARY_EDGES,
        edge_ops=_UNARY_EDGE_OPS.get(_name, ()),
    )
add("neg", lambda m, x: -x, lambda rng: one(randn(rng, 3, 4)), ref=np.negative)
no_edges("neg", "gx = -gy: no value of x is special")
add("clone", lambda m, x: x.clone() * 2, lambda rng: one(randn(rng, 3, 4)), ref=lambda x: x * 2)
no_edges("clone", "gx = gy: a copy, no value of x is special")
add(
    "clamp_bounds",  # exactly at the bounds the gradient passes (torch: lo <= x <= hi)
    lambda m, x, **kw: m.clamp(x, **kw),
    lambda rng: [],
    edges=edges(
        Sample([A([-0.5, 0.75, nan, -inf, inf, 0.0, -0.6, 0.8])], {"min": -0.5, "max": 0.75},
               grad=[1.0, 2.0, 1.0, inf, nan, 3.0, inf, nan]),
        Sample([A([-0.5, 0.75, 0.0, nan])], {"min": -0.5}, grad=[1.0, 2.0, 3.0, inf]),
        Sample([A([-0.5, 0.75, 1.0, nan])], {"max": 0.75}, grad=[1.0, 2.0, inf, inf]),
        Sample([A([-0.5, 0.0, 0.5, 1.0, 2.0])], {"min": 1.0, "max": 0.0}),  # crossed: all max
    ),
    edge_ops=("clamp",),
)  # fmt: skip
add(
    "relu_sqrt",  # sqrt's infinite slope at 0 must not leak through relu's closed gate
    lambda m, x: nnf(m).relu(x).sqrt(),
    lambda rng: [],
    edges=edges(Sample([A([0.0, -1.0, 4.0, -0.0, 0.25])])),
    edge_ops=("relu", "sqrt"),
)

add(
    "cast",
    lambda m, x: (x.float() * 2).double() if x.dtype == m.float64 else (x.double() * 2).float(),
    lambda rng: one(randn(rng, 3, 4)),
    rtol64=1e-7,
    atol64=1e-7,
    gradcheck_eps=1e-3,
    edges=edges(Sample([A([1e39, -1e39, nan, inf, 0.0])])),
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
# Each activation at the specials, at its kink or threshold exactly (0; 0.1 for threshold;
# beta x = threshold for softplus), with inf/NaN upstream gradients where a gate is closed.
_ACT_EDGES = {
    "relu": [A([0.0, -0.0, nan, inf, -inf, -1.0, 2.0])],
    "leaky_relu": [A([0.0, -0.0, nan, inf, -inf, -1.0, 2.0])],
    "elu": [A([0.0, -0.0, nan, inf, -inf, -1.0, 2.0])],
    "threshold": [A([0.1, nan, inf, -inf, 0.0, 1.0, -0.0])],
    "softplus": [A([1.5, inf, -inf, nan, 0.0, 1.25, 100.0])],
    # (not +inf: torch's float32 erf kernel makes gelu(inf) NaN, its float64 one inf)
    "gelu": [A([0.0, 1e30, -inf, nan, 10.0, -10.0, -40.0])],
    "gelu_tanh": [A([0.0, 1e30, -inf, nan, 10.0, -10.0, -40.0])],
    "sigmoid": [A(_SPECIAL)],
    "tanh": [A(_SPECIAL)],
    "silu": [A(_SPECIAL)],
}
_ACT_GY = [inf, nan, 1.0, inf, inf, nan, 1.0]
for _name, _fn, _ref in _ACT:
    _x = _ACT_EDGES[_name][0]
    add(
        _name,
        _fn,
        lambda rng: one(away(rng, 4, 5)),
        ref=_ref,
        edges=edges(Sample([_x]), Sample([_x], grad=_ACT_GY)),
        edge_ops=("gelu",) if _name == "gelu_tanh" else (),
    )

add(
    "sigmoid_extreme",
    lambda m, x: m.sigmoid(x),
    lambda rng: one(np.array([-1e4, -50.0, -1.0, 0.5, 50.0, 1e4])),
    gradcheck=False,
)


def _torch_or_step(m, x):
    # torch's step is heaviside(x, 0) (0 at 0 and at NaN), which has no gradient: compare the
    # values with it and the gradients with zeros (a where() that never picks x: 0 even for inf).
    if m.__name__ == "torch":
        step = m.heaviside(x.detach(), m.zeros((), dtype=x.dtype))
        return m.where(m.zeros_like(x, dtype=m.bool), x, step)
    return nnf(m).step(x)


add(
    "step",
    _torch_or_step,
    lambda rng: one(away(rng, 3, 4)),
    ref=lambda x: (x > 0) * 1.0,
    edges=edges(Sample([A([0.0, -0.0, nan, inf, -inf, -1.0, 2.0])], grad=_ACT_GY)),
)

_SOFTMAX_SAMPLES = lambda rng: [  # noqa: E731
    Sample([randn(rng, 3, 5)], {"dim": 1}),
    Sample([randn(rng, 2, 3, 4)], {"dim": 0}),
    Sample([np.array([[1e4, 0.0, -1e4], [3.0, 3.0, 3.0]])], {"dim": -1}),
]


def _softmax_ref(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


# Masked logits (-inf), all masked, +inf, NaN, ties; then an inf upstream gradient.
_SOFTMAX_X = A([[-inf, 0.0, 1.0], [-inf, -inf, 0.0], [-inf, -inf, -inf], [inf, 0.0, 1.0],
                [nan, 0.0, 1.0], [2.0, 2.0, 2.0]])  # fmt: skip
_SOFTMAX_EDGES = edges(
    Sample([_SOFTMAX_X], {"dim": 1}),
    Sample([_SOFTMAX_X[:2]], {"dim": 1}, grad=A([[inf, 1.0, 2.0], [1.0, 2.0, inf]])),
)
add(
    "softmax",
    lambda m, x, dim: nnf(m).softmax(x, dim=dim),
    _SOFTMAX_SAMPLES,
    ref=_softmax_ref,
    edges=_SOFTMAX_EDGES,
)
add(
    "log_softmax",
    lambda m, x, dim: nnf(m).log_softmax(x, dim=dim),
    _SOFTMAX_SAMPLES,
    ref=lambda x, dim: np.log(_softmax_ref(x, dim) + 0.0) if np.abs(x).max() < 100 else None,
    edges=_SOFTMAX_EDGES,
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
no_edges("sum", "gx = gy broadcast back: no value of x is special")
add(
    "mean",
    lambda m, x, **kw: m.mean(x, **kw),
    _red(),
    ref=lambda x, **kw: np.mean(x, **_np_axis(kw)),
)
no_edges("mean", "gx = gy / n broadcast back: no value of x is special")
# Ties, NaN, all -inf, then an inf upstream gradient over a slice with non-maxima: torch's amax
# multiplies by the tie mask (gy / count * mask), so those get inf * 0 = NaN.
_AMAX_X = A(
    [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [nan, 1.0, 0.0], [-inf, -inf, -inf], [0.0, 1.0, 2.0]]
)
_AMIN_X = A([[1.0, 1.0, 3.0], [2.0, 2.0, 2.0], [0.0, nan, 1.0], [inf, inf, inf], [2.0, 1.0, 0.0]])


def _extreme_edges(x):
    return edges(
        Sample([x], {"dim": 1}),
        Sample([x], {"dim": 1}, grad=[inf, 1.0, 2.0, 1.0, inf]),
        Sample([x[[0, 1, 4]]], {}),
        Sample([x[[0, 2]]], {"dim": 0, "keepdim": True}),
        Sample([x[[0, 1, 4]]], {}, grad=inf),
    )


add(
    "amax",
    lambda m, x, **kw: m.amax(x, **kw),
    _red(),
    ref=lambda x, **kw: np.max(x, **_np_axis(kw)),
    edges=_extreme_edges(_AMAX_X),
)
add(
    "amin",
    lambda m, x, **kw: m.amin(x, **kw),
    _red(),
    ref=lambda x, **kw: np.min(x, **_np_axis(kw)),
    edges=_extreme_edges(_AMIN_X),
)


def _full_extreme(op):
    # torch's x.max() / x.min() of every element: evenly_distribute_backward, which selects
    # (0 elsewhere even for an inf gradient) and, when the result is NaN, splits among the NaNs.
    # backprop's op for it is amax/amin with full=True.
    def fn(m, x):
        if m.__name__ == "torch":
            return getattr(x, op)()
        return (R.Amax if op == "max" else R.Amin).apply(x, axis=None, full=True)

    return fn


def _full_edges(x):
    return edges(
        Sample([x[[0, 1, 4]]]), Sample([x[[0, 2]]]), Sample([x[[0, 2, 3]]], grad=inf),
        Sample([x[[0, 1, 4]]], grad=inf), Sample([A([[nan, 1.0, nan]])], grad=inf),
    )  # fmt: skip


add("max_all", _full_extreme("max"), lambda rng: [], edges=_full_edges(_AMAX_X),
    edge_ops=("amax",))  # fmt: skip
add("min_all", _full_extreme("min"), lambda rng: [], edges=_full_edges(_AMIN_X),
    edge_ops=("amin",))  # fmt: skip
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
    # max(dim) sends the gradient to the one index it returns: the first maximum, or first NaN.
    edges=edges(
        Sample([_AMAX_X], {"dim": 1}, grad=[1.0, 2.0, 3.0, 4.0, inf]),
        Sample([_AMAX_X[[0, 1, 2]]], {"dim": 0, "keepdim": True}, grad=A([[inf, nan, 1.0]])),
    ),
)
add(
    "min_dim",
    lambda m, x, **kw: m.min(x, **kw).values,
    lambda rng: [Sample([randn(rng, 3, 4)], {"dim": -1})],
    ref=lambda x, dim: np.min(x, axis=dim),
    edges=edges(Sample([_AMIN_X], {"dim": 1}, grad=[1.0, 2.0, 3.0, 4.0, inf])),
)
add(
    "var",
    lambda m, x, **kw: m.var(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {}),
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 2, 3, 4)], {"dim": (0, 2), "correction": 0, "keepdim": True}),
    ],
    # Constant slices (zero variance), one element with correction 1 (0 / 0), NaN, inf.
    edges=edges(
        Sample(
            [A([[1.0, 1.0, 1.0], [2.0, 3.0, 4.0], [nan, 1.0, 2.0], [inf, 1.0, 2.0]])], {"dim": 1}
        ),
        Sample([A([[5.0], [1.0]])], {"dim": 1}),
        Sample([A([[5.0], [1.0]])], {"dim": 1, "correction": 0}),
    ),  # fmt: skip
)
add(
    "std",
    lambda m, x, **kw: x.std(**kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": 0}),
        Sample([randn(rng, 5)], {"correction": 0}),
    ],
    # std at 0 has an infinite slope: 0 / 0 gradients, as torch's.
    edges=edges(
        Sample(
            [A([[1.0, 1.0, 1.0], [2.0, 3.0, 4.0], [nan, 1.0, 2.0], [inf, 1.0, 2.0]])], {"dim": 1}
        ),
        Sample([A([[5.0], [1.0]])], {"dim": 1}),
        Sample([A([[5.0], [1.0]])], {"dim": 1, "correction": 0}),
    ),  # fmt: skip
)
add(
    "logsumexp",
    lambda m, x, **kw: m.logsumexp(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 2, 3, 4)], {"dim": (0, 1), "keepdim": True}),
    ],
    edges=edges(
        Sample(
            [
                A(
                    [
                        [-inf, -inf, -inf],
                        [inf, 0.0, 1.0],
                        [nan, 0.0, 1.0],
                        [-inf, 0.0, 1.0],
                        [inf, inf, 0.0],
                        [3.0, 3.0, 3.0],
                    ]
                )
            ],
            {"dim": 1},
        ),
        Sample([A([[-inf, 0.0, 1.0], [2.0, 2.0, 2.0]])], {"dim": 1}, grad=[inf, nan]),
    ),  # fmt: skip
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
    # Zeros (one, two, all in a slice), and an inf upstream gradient over them.
    edges=edges(
        Sample(
            [A([[0.0, 2.0, 3.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])], {"dim": 1}
        ),
        Sample([A([[0.0, 2.0, 3.0], [1.5, -1.0, 2.0]])], {}),
        Sample([A([[0.0, 0.0, 3.0], [1.5, -1.0, 2.0]])], {}),
        Sample(
            [A([[0.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])],
            {"dim": 1},
            grad=[inf, inf, nan],
        ),
    ),  # fmt: skip
)


def _norm_edges():
    zeros = A([[0.0, 0.0, 0.0], [0.0, 1.0, -0.0], [2.0, -2.0, 1.0], [nan, 1.0, 0.0]])
    return edges(
        *[Sample([zeros], {"p": p, "dim": 1}) for p in (2, 1, 3, 1.5, inf)],
        Sample([zeros[:3]], {}),
        *[Sample([zeros[:3]], {"p": p, "dim": 1}, grad=[inf, nan, 1.0]) for p in (2, 1, 3, inf)],
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
    edges=_norm_edges(),
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

_MOVES = "moves elements: the gradient is gy moved (or summed) back, no value of x is special"
for _op in ("reshape", "permute", "expand", "repeat", "flip", "cat", "stack", "pad"):
    no_edges(_op, f"{_op} {_MOVES}")

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
add(
    "masked_fill",
    lambda m, x: x.masked_fill(x > 0.5, -1.0),
    lambda rng: one(away(rng, 3, 4)),
    # Filled places get no gradient, even an inf or NaN one (torch: grad.masked_fill(mask, 0)).
    edges=edges(Sample([A([1.0, nan, 0.6, 0.0, inf])], grad=[inf, nan, nan, inf, 1.0])),
)
for _op in ("getitem", "gather", "index_select"):
    no_edges(_op, f"{_op} scatter-adds gy back to the picked places; no value of x is special")
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
_BLAS = (
    "is multilinear: no kink, mask or special point; non-finite values spread by IEEE "
    "arithmetic inside BLAS, whose summation order is not a contract"
)
no_edges("matmul", f"matmul {_BLAS}")
no_edges("linear", f"linear {_BLAS}")
