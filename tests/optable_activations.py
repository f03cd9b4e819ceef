"""Op-table rows for issue 17's activations: the hard units (hardtanh, relu6, hardsigmoid,
hardswish), SELU and CELU (scaled ELUs), mish, softsign, logsigmoid, tanhshrink, the shrinks,
prelu, glu and normalize, and their in-place forms.

Samples stay 0.1 away from every kink (finite differences must not straddle one); the edge
column puts inputs exactly on the kinks (hardtanh at its bounds, relu6 at 0 and 6, hardsigmoid
and hardswish at +-3, the shrinks at +-lambd, SELU/CELU at 0) with inf and NaN upstream
gradients where a gate is closed.

A NaN *input* sits in a sample of at most 3 elements: PyTorch's vectorised CPU loops give the
hard units and the shrinks another gradient at a NaN (0, or NaN for hardswish) than its scalar
loop (gy), and they run only on whole vectors (4 doubles or 8 floats with AVX2, 8 or 16 with
AVX-512); backprop follows the scalar loop.
"""

from __future__ import annotations

import numpy as np

from optable import Sample, add, edges, inf, nan, nnf, randn

A = np.array


def _avoid(*points, scale=2.0, margin=0.1):
    """Samples of shape ``shape``: normal * scale, moved at least ``margin`` off each point."""

    def gen(rng, *shape):
        x = rng.standard_normal(shape) * scale
        for p in points:
            near = np.abs(x - p) < margin
            x = np.where(near, p + np.where(x >= p, margin, -margin) * 1.5, x)
        return x

    return gen


def _samples(gen):
    return lambda rng: [Sample([gen(rng, 4, 5)]), Sample([gen(rng, 7)]), Sample([gen(rng)])]


def _ref_hardsigmoid(x):
    return np.clip(x + 3, 0, 6) / 6


_SELU_A = 1.6732632423543772848170429916717
_SELU_S = 1.0507009873554804934193349852946
# An inf or NaN upstream gradient on every position (the ones where a gate is closed must give
# 0, the open ones inf or NaN).
_GY_INF = inf
_NAN3 = A([nan, 0.25, -0.25])  # short: torch's scalar loop (see the module docstring)

# name, fn, sample generator, NumPy reference, edge inputs, edge_ops
_ROWS = [
    (
        "hardtanh",
        lambda m, x: nnf(m).hardtanh(x, -1.0, 1.5),
        _avoid(-1.0, 1.5),
        lambda x: np.clip(x, -1.0, 1.5),
        [A([-1.0, 1.5, 0.0, inf, -inf, 2.0, -2.0, 1.49]), _NAN3],
        (),
    ),
    (
        "hardtanh_default",
        lambda m, x: nnf(m).hardtanh(x),
        _avoid(-1.0, 1.0),
        lambda x: np.clip(x, -1.0, 1.0),
        [A([-1.0, 1.0, -0.0, inf, -inf, 0.999, -1.001])],
        ("hardtanh",),
    ),
    (
        "relu6",
        lambda m, x: nnf(m).relu6(x),
        _avoid(0.0, 6.0, scale=4.0),
        lambda x: np.clip(x, 0.0, 6.0),
        [A([0.0, -0.0, 6.0, inf, -inf, 3.0, 7.0, -1.0]), _NAN3],
        ("hardtanh",),
    ),
    (
        "hardsigmoid",
        lambda m, x: nnf(m).hardsigmoid(x),
        _avoid(-3.0, 3.0, scale=3.0),
        _ref_hardsigmoid,
        [A([-3.0, 3.0, 0.0, inf, -inf, nan, -4.0, 4.0]), _NAN3],
        (),
    ),
    (
        "hardswish",
        lambda m, x: nnf(m).hardswish(x),
        _avoid(-3.0, 3.0, scale=3.0),
        lambda x: x * _ref_hardsigmoid(x),
        [A([-3.0, 3.0, 0.0, inf, -inf, -4.0, 4.0, 2.999]), _NAN3],
        (),
    ),
    (
        "selu",
        lambda m, x: nnf(m).selu(x),
        _avoid(0.0),
        lambda x: _SELU_S * np.where(x > 0, x, _SELU_A * np.expm1(x)),
        [A([0.0, -0.0, inf, -inf, -1.0, 2.0, -800.0]), _NAN3],
        ("elu",),
    ),
    (
        "celu",
        lambda m, x: nnf(m).celu(x, alpha=0.7),
        _avoid(0.0),
        lambda x: np.where(x > 0, x, 0.7 * np.expm1(x / 0.7)),
        [A([0.0, -0.0, inf, -inf, -1.0, 2.0, -800.0]), _NAN3],
        ("elu",),
    ),
    (
        "celu_default",
        lambda m, x: nnf(m).celu(x),
        _avoid(0.0),
        lambda x: np.where(x > 0, x, np.expm1(x)),
        [],
        (),
    ),
    (
        "mish",
        lambda m, x: nnf(m).mish(x),
        _avoid(),
        lambda x: x * np.tanh(np.log1p(np.exp(x))),
        [A([0.0, -0.0, inf, -inf, nan, 30.0, -30.0, 800.0, -800.0])],
        (),
    ),
    (
        "softsign",
        lambda m, x: nnf(m).softsign(x),
        _avoid(0.0),
        lambda x: x / (1 + np.abs(x)),
        [A([0.0, -0.0, inf, -inf, nan, 1e300, -1.0])],
        ("abs", "div"),
    ),
    (
        "logsigmoid",
        lambda m, x: nnf(m).logsigmoid(x),
        _avoid(),
        lambda x: -np.logaddexp(0, -x),
        [A([0.0, -0.0, inf, -inf, nan, 800.0, -800.0, 40.0])],
        ("log_sigmoid",),
    ),
    (
        "tanhshrink",
        lambda m, x: nnf(m).tanhshrink(x),
        _avoid(),
        lambda x: x - np.tanh(x),
        [A([0.0, -0.0, inf, -inf, nan, 20.0])],
        ("tanh",),
    ),
    (
        "softshrink",
        lambda m, x: nnf(m).softshrink(x, 0.5),
        _avoid(-0.5, 0.5),
        lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
        [A([0.5, -0.5, 0.0, inf, -inf, 1.0, -1.0, 0.49]), _NAN3],
        (),
    ),
    (
        "softshrink_zero",  # lambd = 0: the identity, with the band shrunk to the point 0
        lambda m, x: nnf(m).softshrink(x, 0.0),
        _avoid(0.0),
        lambda x: x,
        [A([0.0, -0.0, 1e-300, inf, -inf])],
        ("softshrink",),
    ),
    (
        "hardshrink",
        lambda m, x: nnf(m).hardshrink(x, 0.5),
        _avoid(-0.5, 0.5),
        lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
        [A([0.5, -0.5, 0.0, inf, -inf, 1.0, -1.0, 0.51]), _NAN3],
        (),
    ),
    (
        "hardshrink_default",
        lambda m, x: m.hardshrink(x),
        _avoid(-0.5, 0.5),
        lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
        [],
        (),
    ),
]

for _name, _fn, _gen, _ref, _xs, _ops in _ROWS:
    add(
        _name,
        _fn,
        _samples(_gen),
        ref=_ref,
        edges=edges(*(s for x in _xs for s in (Sample([x]), Sample([x], grad=_GY_INF))))
        if _xs
        else None,
        edge_ops=_ops,
    )


# ------------------------------------------------------------------ prelu and glu
def _prelu_ref(x, w):
    wb = w.reshape((1, -1) + (1,) * (x.ndim - 2)) if x.ndim >= 2 else w
    return np.where(x > 0, x, wb * x)


_away0 = _avoid(0.0, scale=1.0)
add(
    "prelu",
    lambda m, x, w: nnf(m).prelu(x, w),
    lambda rng: [
        Sample([_away0(rng, 2, 3, 4), A([0.25, -0.5, 1.5])]),
        Sample([_away0(rng, 5, 3), A([0.1])]),
        Sample([_away0(rng, 6), A([0.3])]),
        Sample([_away0(rng), A([0.2])]),
        Sample([_away0(rng, 2, 3, 2, 2), A(0.4)]),
    ],
    ref=_prelu_ref,
    edges=edges(
        # x at 0 (the slope side), NaN (slope side: w * gy), +-inf; NaN reaches gw.
        Sample([A([[0.0, -0.0, inf, -inf, 2.0], [nan, 1.0, -1.0, 0.0, 3.0]]), A([0.25])]),
        Sample([A([[0.0, -1.0, inf], [-inf, 1.0, -0.0]]), A([0.25])], grad=inf),
    ),
)
add(
    "glu",
    lambda m, x, dim: nnf(m).glu(x, dim),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": -1}),
        Sample([randn(rng, 2, 6, 3)], {"dim": 1}),
        Sample([randn(rng, 2)], {"dim": 0}),
    ],
    ref=lambda x, dim: np.split(x, 2, axis=dim)[0] / (1 + np.exp(-np.split(x, 2, axis=dim)[1])),
    edges=edges(
        Sample([A([[0.0, inf, -inf, nan, 2.0, 1.0, 800.0, -800.0]])], {"dim": -1}),
        Sample([A([[inf, -inf, 0.0, 1.0, 1.0, 2.0]])], {"dim": 1}, grad=inf),
    ),
)


# ------------------------------------------------------------------ normalize
def _normalize_ref(x, p, dim):
    n = (
        np.linalg.norm(x, ord=p, axis=dim, keepdims=True)
        if p != 1
        else np.abs(x).sum(axis=dim, keepdims=True)
    )
    return x / np.maximum(n, 1e-12)


add(
    "normalize",
    lambda m, x, p, dim: nnf(m).normalize(x, p=p, dim=dim),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"p": 2.0, "dim": 1}),
        Sample([randn(rng, 2, 3, 2)], {"p": 1.0, "dim": 0}),
        Sample([randn(rng, 4, 3)], {"p": 3.0, "dim": -1}),
    ],
    ref=_normalize_ref,
    edges=edges(
        # A zero row: 0 out, gradient gy / eps (the clamp's side); a row with an inf.
        Sample([A([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0], [3.0, 4.0, 0.0]])], {"p": 2.0, "dim": 1}),
        Sample([A([[0.0, 0.0], [inf, 1.0]])], {"p": 2.0, "dim": 1}),
        Sample([A([[0.0, 0.0], [1.0, -1.0]])], {"p": 1.0, "dim": 1}),
    ),
    edge_ops=("norm", "clamp"),
)


# ------------------------------------------------------------------ in place
def _inplace(name, **kw):
    def fn(m, x):
        y = x * 1  # a non-leaf, so that the write is allowed in grad mode and recorded
        out = getattr(nnf(m), name)(y, inplace=True, **kw)
        assert out is y, f"{name}(inplace=True) must return its input"
        return y * 1

    return fn


for _name, _kw in [
    ("hardtanh", {"min_val": -0.5, "max_val": 0.8}),
    ("relu6", {}),
    ("hardsigmoid", {}),
    ("hardswish", {}),
    ("selu", {}),
    ("celu", {"alpha": 1.5}),
    ("mish", {}),
    ("relu", {}),
    ("elu", {"alpha": 0.5}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("silu", {}),
]:
    add(
        f"{_name}_inplace",
        _inplace(_name, **_kw),
        lambda rng: [Sample([_avoid(-3.0, -0.5, 0.0, 0.8, 3.0, 6.0, scale=3.0)(rng, 3, 4)])],
    )
add(
    "threshold_inplace",
    lambda m, x: nnf(m).threshold_(x * 1, 0.1, -2.0) * 1,
    lambda rng: [Sample([_avoid(0.1)(rng, 3, 4)])],
)
add(
    "selu_celu_underscore",
    lambda m, x: m.selu_(x * 1) + m.celu_(x * 1, 2.0) + nnf(m).hardtanh_(x * 1, -0.3, 0.3),
    lambda rng: [Sample([_avoid(-0.3, 0.0, 0.3)(rng, 3, 4)])],
)
