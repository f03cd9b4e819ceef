"""Op-table rows for the elementwise math of functional/math.py and functional/bitwise.py:
trigonometric and hyperbolic functions and their inverses, erf/erfc/erfinv, exp2/expm1/log2/
log10, atan2, logaddexp(2), copysign, hypot, lerp, nan_to_num, clamp with tensor bounds, where
with two numbers, and the predicates and bitwise ops (no gradient; their special values are in
the samples, since they run no registered op for an edge row to stand for)."""

from __future__ import annotations

import operator

import numpy as np

from optable import Sample, add, away, edges, inf, nan, positive, randn

A = np.array
# An upstream gradient with inf and NaN, to be broadcast against 7-element edge inputs.
_GY7 = [1.0, inf, nan, -2.0, inf, 1.0, 0.5]


def _uniform(lo, hi):
    return lambda rng, *shape: rng.uniform(lo, hi, size=shape)


def _unary_samples(gen):
    return lambda rng: [Sample([gen(rng, 3, 4)]), Sample([gen(rng, 5)]), Sample([gen(rng)])]


def _unary(name, gen, ref, special, **kw):
    """A row for the unary op ``name`` (m.<name>(x)), its samples from ``gen``, its edges the
    values ``special`` (with a plain and an inf/NaN upstream gradient)."""
    special = A(special, dtype=np.float64)
    gy = np.resize(A(_GY7), special.shape)
    add(
        name,
        lambda m, x: getattr(m, name)(x),
        _unary_samples(gen),
        ref=ref,
        edges=edges(Sample([special]), Sample([special], grad=gy)),
        **kw,
    )


# ------------------------------------------------------------------ unary
_unary("tan", _uniform(-1.2, 1.2), np.tan, [0.0, -0.0, inf, -inf, nan, 1.0, -1.5, 3.0])
_unary("asin", _uniform(-0.9, 0.9), np.arcsin, [1.0, -1.0, 0.0, 1.5, -1.5, nan, inf])
_unary("acos", _uniform(-0.9, 0.9), np.arccos, [1.0, -1.0, 0.0, 1.5, -1.5, nan, inf])
_unary("atan", lambda rng, *s: 2 * randn(rng, *s), np.arctan, [0.0, inf, -inf, nan, 1e10, -1.0])
_unary("sinh", randn, np.sinh, [0.0, -0.0, inf, -inf, nan, 100.0, 800.0])
_unary("cosh", randn, np.cosh, [0.0, -0.0, inf, -inf, nan, 100.0, -800.0])
_unary("asinh", lambda rng, *s: 3 * randn(rng, *s), np.arcsinh, [0.0, inf, -inf, nan, 1e200, -2.0])
_unary(
    "acosh",
    lambda rng, *s: 1.2 + positive(rng, *s),
    np.arccosh,
    [1.0, 0.5, inf, nan, -1.0, 2.0, 1e200],
)
_unary("atanh", _uniform(-0.9, 0.9), np.arctanh, [1.0, -1.0, 0.0, 2.0, -2.0, nan, inf])
_ERF_SPECIAL = [0.0, -0.0, inf, -inf, nan, 0.46875, -0.46875, 4.0, -4.0, 5.0, 10.0, 27.0, 30.0]
_unary("erf", lambda rng, *s: 1.5 * randn(rng, *s), None, _ERF_SPECIAL)
_unary("erfc", lambda rng, *s: 1.5 * randn(rng, *s), None, _ERF_SPECIAL)
_unary("erfinv", _uniform(-0.9, 0.9), None, [1.0, -1.0, 0.0, 1.5, -1.5, nan, 0.999, -0.999999, 0.5])
_unary(
    "exp2",
    lambda rng, *s: 3 * randn(rng, *s),
    np.exp2,
    [-inf, inf, nan, 0.0, 1024.0, 128.0, -1080.0],
)
_unary("expm1", randn, np.expm1, [0.0, -0.0, inf, -inf, nan, 1e-10, 710.0])
_unary("log2", positive, np.log2, [0.0, -0.0, -1.0, inf, nan, 1.0, -inf])
_unary("log10", positive, np.log10, [0.0, -0.0, -1.0, inf, nan, 1.0, -inf])
for _alias, _ref in (("arcsin", np.arcsin), ("arctanh", np.arctanh)):
    add(
        _alias,
        lambda m, x, _alias=_alias: getattr(m, _alias)(x),
        lambda rng: [Sample([rng.uniform(-0.9, 0.9, size=(2, 3))])],
        ref=_ref,
    )
add(
    "tan_int",
    lambda m, x: m.tan(x),
    lambda rng: [Sample([A([[0, 1, -2], [3, 4, 5]])]), Sample([A([True, False])])],
    ref=np.tan,
    grad=False,
    rtol64=1e-6,  # float32 results (computed from integers) in both runs
)
add(
    "erf_method",
    lambda m, x: x.erf() + x.erfinv() * x.expm1(),
    lambda rng: [Sample([rng.uniform(-0.9, 0.9, size=(3, 2))])],
)

# ------------------------------------------------------------------ binary
_BCAST = [((3, 4), (3, 4)), ((3, 1), (4,)), ((2, 1, 3), (3,)), ((), (2, 2))]


def _binary_samples(gen_a, gen_b):
    return lambda rng: [Sample([gen_a(rng, *sa), gen_b(rng, *sb)]) for sa, sb in _BCAST]


add(
    "atan2",
    lambda m, a, b: m.atan2(a, b),
    _binary_samples(away, away),
    ref=np.arctan2,
    edges=edges(
        Sample([A([0.0, 0.0, -0.0, 1.0, inf, inf, nan]), A([0.0, -0.0, -1.0, 0.0, inf, 1.0, 1.0])]),
        Sample([A([0.0, 0.0, 2.0]), A([0.0, 3.0, 0.0])], grad=[inf, inf, nan]),
    ),
)
add(
    "atan2_int",
    lambda m, a, b: m.atan2(a, b) + m.arctan2(a.int(), b.int()),
    lambda rng: [Sample([away(rng, 2, 3) * 3, away(rng, 2, 3)])],
)
_LAE = (
    A([-inf, inf, inf, 0.0, -inf, nan, 1e308, -1e308]),
    A([-inf, inf, -inf, 0.0, 1.0, 0.0, 1e308, 5.0]),
)
for _name, _ref in (("logaddexp", np.logaddexp), ("logaddexp2", np.logaddexp2)):
    add(
        _name,
        lambda m, a, b, _name=_name: getattr(m, _name)(a, b),
        _binary_samples(lambda rng, *s: 3 * randn(rng, *s), lambda rng, *s: 3 * randn(rng, *s)),
        ref=_ref,
        edges=edges(Sample(list(_LAE)), Sample(list(_LAE), grad=[inf, 1, nan, inf, inf, 1, 1, 1])),
    )
add(
    "copysign",
    lambda m, a, b: m.copysign(a, b),
    _binary_samples(away, away),
    ref=np.copysign,
    edges=edges(
        Sample(
            [A([0.0, -0.0, 1.0, 2.0, nan, inf, -3.0]), A([-1.0, 1.0, -0.0, 5.0, -1.0, -2.0, inf])]
        ),
        Sample([A([0.0, 2.0, -inf]), A([-1.0, -1.0, 1.0])], grad=[inf, nan, inf]),
    ),
)
add(
    "copysign_scalar",
    lambda m, a: m.copysign(a, -1.0) + a.copysign(0.0),
    lambda rng: [Sample([away(rng, 3, 2)])],
)
add(
    "copysign_int",
    lambda m, a, b: m.copysign(a, b),
    lambda rng: [Sample([A([1, -2, 0, 3]), A([-1, 2, -5, 0])])],
    grad=False,
)
add(
    "hypot",
    lambda m, a, b: m.hypot(a, b),
    _binary_samples(away, away),
    ref=np.hypot,
    edges=edges(
        Sample(
            [A([0.0, inf, 3.0, nan, inf, 1e300, -0.0]), A([0.0, 1.0, 4.0, inf, nan, 1e300, 2.0])]
        ),
        Sample([A([0.0, 0.0]), A([0.0, 1.0])], grad=[inf, inf]),
    ),
)


# ------------------------------------------------------------------ lerp
def _lerp_ref(a, b, w):
    return a + w * (b - a)


for _w in (0.3, 0.7, -1.5):
    add(
        f"lerp_scalar_{_w}",
        lambda m, a, b, _w=_w: m.lerp(a, b, _w),
        lambda rng: [
            Sample([randn(rng, 3, 4), randn(rng, 3, 4)]),
            Sample([randn(rng, 3, 1), randn(rng, 4)]),
        ],
        ref=lambda a, b, _w=_w: a + _w * (b - a),
        edge_ops=("lerp",),
        edges=edges(
            Sample([A([0.0, inf, 1.0, -inf, nan, 2.0]), A([inf, 1.0, inf, inf, 1.0, 2.0])]),
        ),
    )
add(
    "lerp",
    lambda m, a, b, w: m.lerp(a, b, w),
    lambda rng: [
        Sample([randn(rng, 3, 4), randn(rng, 3, 4), rng.uniform(-0.5, 1.5, size=(3, 4))]),
        Sample([randn(rng, 2, 1), randn(rng, 3), rng.uniform(-0.5, 1.5, size=(2, 3))]),
        Sample([randn(rng, 4), randn(rng, 4), A(0.4)]),
    ],
    ref=_lerp_ref,
    edges=edges(
        Sample(
            [
                A([0.0, inf, 1.0, 1.0, 0.0, -inf, 2.0]),
                A([inf, 1.0, 2.0, 2.0, 1.0, inf, nan]),
                A([0.3, 0.7, -0.7, 1.5, 0.5, 0.0, 1.0]),
            ],
            grad=_GY7,
        ),
        Sample([A([1.0, 2.0]), A([3.0, 5.0]), A([0.0, 1.0])]),
    ),
)
add(
    "lerp_method",
    lambda m, a, b: a.lerp(b, 0.25) + a.lerp(b, b),
    lambda rng: [Sample([randn(rng, 2, 3), rng.uniform(0, 1, size=(2, 3))])],
)


# ------------------------------------------------------------------ nan_to_num, clamp, where
def _with_specials(rng, *shape):
    x = randn(rng, *shape)
    x.flat[:3] = [nan, inf, -inf]
    return x


add(
    "nan_to_num",
    lambda m, x, **kw: m.nan_to_num(x, **kw),
    # (The default +-inf replacements, the dtype's extremes, are in the edges only: the parity
    # test's weighted sum of them would overflow.)
    lambda rng: [
        Sample([randn(rng, 3, 4)]),
        Sample([_with_specials(rng, 5)], {"nan": 1.5, "posinf": 2.0, "neginf": -3.0}),
    ],
    ref=np.nan_to_num,
    edges=edges(
        Sample([A([nan, inf, -inf, 1.0, -0.0, 0.0, -2.0])], grad=_GY7),
        Sample([A([nan, inf, -inf, 1.0])], {"nan": -1.0, "posinf": 10.0}),
    ),
)
add(
    "nan_to_num_int",
    lambda m, x: m.nan_to_num(x) + x.nan_to_num(),
    lambda rng: [Sample([A([1, -2, 3])])],
    grad=False,
)


def _clamp_sample(rng, shape_x, shape_lo, shape_hi):
    """x, lo, hi with lo < hi and x at least 0.05 away from either bound (no kink in reach)."""
    while True:
        x = rng.uniform(-1.5, 1.5, size=shape_x)
        lo = rng.uniform(-1.0, -0.2, size=shape_lo)
        hi = rng.uniform(0.2, 1.0, size=shape_hi)
        if np.abs(x - lo).min() > 0.05 and np.abs(x - hi).min() > 0.05:
            return Sample([x, lo, hi])


_CLAMP_EDGE = (
    A([1.0, 2.0, nan, 1.0, 1.0, 5.0, 2.0, 0.0, -inf, inf]),
    A([1.0, 0.0, 0.0, nan, 0.0, 3.0, 2.0, 1.0, 0.0, 0.0]),
    A([3.0, 2.0, 2.0, 2.0, nan, 1.0, 2.0, -1.0, 1.0, 1.0]),
)
add(
    "clamp_tensor",
    lambda m, x, lo, hi: m.clamp(x, lo, hi),
    lambda rng: [
        _clamp_sample(rng, (3, 4), (3, 4), (3, 4)),
        _clamp_sample(rng, (3, 4), (4,), (3, 1)),
        _clamp_sample(rng, (2, 4), (4,), (2, 1)),
    ],
    ref=lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
    edges=edges(Sample(list(_CLAMP_EDGE)), Sample(list(_CLAMP_EDGE), grad=[inf] * 10)),
)
add(
    "clamp_tensor_min_only",
    lambda m, x, lo: m.clamp(x, min=lo) + x.clamp_min(lo) + m.clamp_max(x, lo),
    lambda rng: [Sample([A([-1.0, 0.5, 2.0, -3.0]), A([0.0, 0.0, 1.0, 1.0])])],
    edge_ops=("clamp_tensor",),
    edges=edges(Sample([A([1.0, nan, 1.0, 2.0]), A([1.0, 0.0, nan, 1.0])])),
)
add(
    "clamp_tensor_min_over_max",
    lambda m, x, lo, hi: m.clamp(x, lo, hi),
    lambda rng: [
        Sample([randn(rng, 5), A([1.0, 2.0, 0.5, 3.0, 1.5]), A([0.0, -1.0, 0.2, 1.0, 0.0])])
    ],
)
add(
    "clamp_tensor_int",
    lambda m, x, lo, hi: m.clamp(x, lo, hi) + m.clamp(x.float(), lo.double(), hi.double()),
    lambda rng: [Sample([A([-3, 0, 2, 5]), A([-1, -1, 3, 0]), A([1, 1, 4, 2])])],
    grad=False,
)
add(
    "where_scalars",
    lambda m, c: m.where(c > 0, 1.0, 0) + m.where(c > 0.5, 2, -1) + m.where(c < 0, True, 0.5),
    lambda rng: [Sample([randn(rng, 3, 4)]), Sample([randn(rng)])],
    grad=False,
)
add(
    "where_scalars_int_bool",
    lambda m, c: m.where(c > 0, 1, 0) * 10 + m.where(c < 0, True, False),
    lambda rng: [Sample([randn(rng, 6)])],
    grad=False,
)

# ------------------------------------------------------------------ predicates (no gradient)
_PRED = A([0.0, -0.0, 1.0, -2.5, inf, -inf, nan, -nan, 1e-30])
add(
    "sgn",
    lambda m, x: m.sgn(x) + x.sgn(),
    lambda rng: [Sample([away(rng, 3, 4)])],
    grad=False,  # (torch's zero gradient of sgn is a ZeroTensor; the sign row checks it)
    edge_ops=("sign",),
    edges=edges(Sample([_PRED], grad=np.resize(A(_GY7), _PRED.shape))),
)
for _name, _ref in (
    ("signbit", np.signbit),
    ("isinf", np.isinf),
    ("isposinf", np.isposinf),
    ("isneginf", np.isneginf),
):
    add(
        _name,
        lambda m, x, _name=_name: getattr(m, _name)(x) & getattr(x, _name)(),
        lambda rng: [Sample([_PRED]), Sample([A([[-1, 0], [3, -5]])]), Sample([A([True, False])])],
        ref=_ref,
        grad=False,
    )


def _isclose_ref(a, b, **kw):
    return np.isclose(a, b, **kw)


_CLOSE_A = A([1.0, 1.0, inf, inf, nan, nan, -inf, 0.0, 1e-9, 100.0])
_CLOSE_B = A([1.0, 1.00001, inf, -inf, nan, 1.0, -inf, 1e-9, 0.0, 100.5])
add(
    "isclose",
    lambda m, a, b, **kw: m.isclose(a, b, **kw),
    lambda rng: [
        Sample([_CLOSE_A, _CLOSE_B]),
        Sample([_CLOSE_A, _CLOSE_B], {"equal_nan": True}),
        Sample([_CLOSE_A, _CLOSE_B], {"rtol": 1e-2, "atol": 0.0}),
        Sample([_CLOSE_A.reshape(2, 5), _CLOSE_B[:5]], {"atol": 1e-8, "rtol": 0.0}),
    ],
    ref=_isclose_ref,
    grad=False,
)
add(
    "isclose_int_bool",
    lambda m, a, b: m.isclose(a, b, rtol=0.01, atol=0) & a.isclose(b, rtol=0.5),
    lambda rng: [Sample([A([1, 2, 100, -7]), A([1, 3, 101, -7])])],
    grad=False,
)
add(
    "isclose_bool",
    lambda m, a, b: m.isclose(a, b),
    lambda rng: [Sample([A([True, False, True]), A([True, True, False])])],
    grad=False,
)


# ------------------------------------------------------------------ bitwise (no gradient)
_I8 = A([-128, -1, 0, 1, 5, 127, -77], dtype=np.int8)
_U8 = A([0, 1, 255, 128, 7, 3, 200], dtype=np.uint8)
_I16 = A([-300, 7, 1000, -1, 0, 12, 32767], dtype=np.int16)
_B = A([True, False, True, False, True, True, False])
for _name, _op in (
    ("bitwise_and", operator.and_),
    ("bitwise_or", operator.or_),
    ("bitwise_xor", operator.xor),
):
    add(
        _name,
        lambda m, a, b, _name=_name: getattr(m, _name)(a, b),
        lambda rng: [
            Sample([rng.integers(-1000, 1000, size=(3, 4)), rng.integers(-1000, 1000, size=(4,))]),
            Sample([_I8, _I8[::-1].copy()]),
            Sample([_I8, _U8]),  # int8 with uint8: int16, as PyTorch
            Sample([_U8, _I16]),
            Sample([_B, _B[::-1].copy()]),
            Sample([_B, _I8]),
            Sample([_I16.astype(np.int32), _I8]),
        ],
        grad=False,
    )
    add(
        f"{_name}_operator",
        lambda m, a, b, _op=_op: _op(a, b) + _op(a, 3) + _op(300, a),  # (300 wraps to int8)
        lambda rng: [Sample([_I8, _U8]), Sample([_I16, _I16[::-1].copy()])],
        grad=False,
    )
add(
    "bitwise_bool_scalars",
    lambda m, a: (a & True) ^ (a | False) ^ ~a,
    lambda rng: [Sample([_B]), Sample([A(True)])],
    grad=False,
)
add(
    "bitwise_not",
    lambda m, a: m.bitwise_not(a) + ~a + a.bitwise_not(),
    lambda rng: [Sample([_I8]), Sample([_U8]), Sample([_I16]), Sample([A([[1, -5], [0, 9]])])],
    grad=False,
)
_SHIFT_BY = A([0, 1, 7, 8, 63, 64, -1], dtype=np.int64)
for _name, _op in (
    ("bitwise_left_shift", operator.lshift),
    ("bitwise_right_shift", operator.rshift),
):
    add(
        _name,
        lambda m, a, b, _name=_name: getattr(m, _name)(a, b),
        lambda rng: [
            Sample([rng.integers(-1000, 1000, size=(7,)), _SHIFT_BY]),
            Sample([_I8, A([0, 1, 7, 8, 9, -1, 3], dtype=np.int8)]),
            Sample([_U8, A([0, 1, 7, 8, 200, 255, 3], dtype=np.uint8)]),
            Sample([_I16, A([1, 2, 15, 16, -3, 40, 0], dtype=np.int16)]),
            Sample([_I8.reshape(7, 1), A([0, 3, 7, 8], dtype=np.int8)]),
            Sample([_B, A([1, 2, 0, 1, 3, 0, 1])]),
        ],
        grad=False,
    )
    add(
        f"{_name}_operator",
        lambda m, a, b, _op=_op: _op(a, b) + _op(a, 2) + _op(3, b),
        lambda rng: [Sample([_I8, A([0, 1, 7, 8, 9, -1, 3], dtype=np.int8)])],
        grad=False,
    )
