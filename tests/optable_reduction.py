"""Op-table rows for the reductions, scans, order statistics, scatters and layout ops of issue 17
(items 3 and 4): torch's names, signatures and semantics, with edge inputs where an op is special.
"""

from __future__ import annotations

import numpy as np

from optable import Sample, add, edges, inf, nan, no_edges, one, positive, randn

A = np.array


def I(*v):  # noqa: E743
    """An int64 index array: ``I(1, 2)`` or ``I([1, 2])``; ``I([..], [..])`` is 2-D."""
    return np.array(v[0] if len(v) == 1 and isinstance(v[0], list) else v, dtype=np.int64)


def _vi(r, x):
    """values + indices of a (values, indices) pair, as one tensor (checks both)."""
    return r.values + r.indices.to(x.dtype)


# ------------------------------------------------------------------ scans
add(
    "cumsum",
    lambda m, x, **kw: m.cumsum(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 2, 3, 2)], {"dim": 0}),
        Sample([randn(rng, 4)], {"dim": -1}),
        Sample([A(1.5)], {"dim": 0}),
    ],
    ref=lambda x, dim: np.cumsum(x, axis=dim) if x.ndim else x,
)
no_edges("cumsum", "cumsum is linear: gx is a reversed cumulative sum of gy, no x is special")
add("cumsum_method", lambda m, x: m.cumsum(x, dim=0) + m.cumprod(x, 1),
    lambda rng: one(positive(rng, 3, 2)))  # fmt: skip
add("cumsum_int", lambda m, x: m.cumsum(x, 0), lambda rng: one(I(1, 2, 3)), grad=False)
add(
    "cumprod",
    lambda m, x, **kw: m.cumprod(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 3, 2)], {"dim": 0}),
        Sample([A([[0.5, 0.0, 2.0, 3.0], [0.0, 1.5, 0.0, 2.0]])], {"dim": 1}),
    ],
    ref=lambda x, dim: np.cumprod(x, axis=dim),
    # Zeros (none, first, one in the middle, two, all), NaN and inf, inf/NaN upstream gradients.
    edges=edges(
        Sample(
            [
                A(
                    [
                        [0.0, 2.0, 3.0],
                        [1.0, 0.0, 0.0],
                        [2.0, 0.0, 3.0],
                        [1.0, 2.0, 3.0],
                        [0.0, 0.0, 0.0],
                        [nan, 2.0, 0.0],
                        [inf, 0.0, 2.0],
                    ]
                )
            ],
            {"dim": 1},
        ),
        Sample(
            [A([[0.0, 2.0, 3.0], [1.0, 0.0, 4.0], [2.0, 1.0, 3.0]])],
            {"dim": 1},
            grad=A([[inf, 1.0, 2.0], [1.0, nan, inf], [inf, 1.0, 1.0]]),
        ),
        Sample([A([inf])], {"dim": 0}),
    ),  # fmt: skip
)
_CUMMAX_X = A([[1.0, 3.0, 3.0, 2.0, nan, 5.0, nan, 1.0], [2.0, 2.0, -inf, 4.0, 4.0, inf, 0.0, 9.0]])
_CUMMIN_X = A(
    [[1.0, 3.0, 1.0, 0.0, 0.0, nan, -1.0, nan], [2.0, 2.0, inf, -4.0, -4.0, 1.0, 0.0, -inf]]
)
for _op, _x in (("cummax", _CUMMAX_X), ("cummin", _CUMMIN_X)):
    add(
        _op,
        lambda m, x, _op=_op, **kw: _vi(getattr(m, _op)(x, **kw), x),
        lambda rng: [
            Sample([randn(rng, 3, 5)], {"dim": 1}),
            Sample([randn(rng, 4, 2)], {"dim": 0}),
            Sample([A(2.0)], {"dim": -1}),
        ],
        # Ties take the latest index, NaN propagates and each new NaN takes over (as torch).
        edges=edges(
            Sample([_x], {"dim": 1}),
            Sample([_x], {"dim": 1}, grad=A([[1.0, inf, 2.0, 1.0, 1.0, nan, 1.0, 1.0]] * 2)),
        ),
    )
add(
    "logcumsumexp",
    lambda m, x, **kw: m.logcumsumexp(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 2, 3)], {"dim": 0}),
    ],
    ref=lambda x, dim: np.logaddexp.accumulate(x, axis=dim),
    # -inf (leading, all), inf, NaN; gradients of both signs, zero, inf.
    edges=edges(
        Sample(
            [
                A(
                    [
                        [-inf, 0.0, 1.0],
                        [-inf, -inf, -inf],
                        [inf, 0.0, 1.0],
                        [0.0, nan, 1.0],
                        [1.0, inf, inf],
                        [3.0, 3.0, 3.0],
                    ]
                )
            ],
            {"dim": 1},
        ),
        Sample(
            [A([[-inf, 0.0, 1.0], [2.0, 2.0, 2.0]])],
            {"dim": 1},
            grad=A([[1.0, -2.0, 0.0], [inf, -1.0, 0.0]]),
        ),
    ),  # fmt: skip
)

# ------------------------------------------------------------------ reductions: new and forms
_PLAIN = "a composite of ops with their own rows"
add(
    "median",
    lambda m, x: m.median(x),
    lambda rng: [Sample([randn(rng, 3, 4)]), Sample([randn(rng, 5)]), Sample([A(2.0)])],
    ref=lambda x: np.sort(x.reshape(-1))[(x.size - 1) // 2],
    # Ties share the gradient; a NaN makes it NaN and takes the gradient (evenly_distribute).
    edges=edges(
        Sample([A([[1.0, 2.0, 2.0], [2.0, 0.0, 5.0]])]),
        Sample([A([[1.0, 2.0, 2.0], [2.0, 0.0, 5.0]])], grad=inf),
        Sample([A([1.0, nan, 2.0, nan])]),
        Sample([A([inf, inf, -inf])]),
    ),
)
add(
    "nanmedian",
    lambda m, x: m.nanmedian(x),
    lambda rng: [Sample([randn(rng, 3, 4)])],
    edges=edges(
        Sample([A([1.0, nan, 2.0, 3.0, nan])]),
        Sample([A([nan, nan])]),
        Sample([A([2.0, nan, 2.0, 1.0])], grad=inf),
    ),  # fmt: skip
    edge_ops=("median",),
)
add(
    "median_dim",
    lambda m, x, **kw: _vi(m.median(x, **kw), x),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 3, 5)], {"dim": 0, "keepdim": True}),
        Sample([randn(rng, 2, 3)], {"axis": -1, "keepdims": True}),
        Sample([A(1.0)], {"dim": 0}),
    ],
)
add(
    "median_dim_nan",
    lambda m, x, f="median", **kw: _vi(getattr(m, f)(x, **kw), x),
    lambda rng: [
        Sample([A([[1.0, nan, 2.0, nan], [3.0, 1.0, 2.0, 0.0], [1.0, 2.0, 2.0, 2.0]])], {"dim": 1}),
        Sample([A([[1.0, nan, 2.0, nan, 3.0], [nan] * 5])], {"dim": 1, "f": "nanmedian"}),
    ],
    gradcheck=False,
)
add(
    "mode",
    lambda m, x, **kw: _vi(m.mode(x, **kw), x),
    lambda rng: [
        Sample([A([[1.0, 2.0, 2.0, 3.0, 3.0, 1.0, 1.0], [3.0, 3.0, 2.0, 2.0, 0.0, 5.0, 0.0]])]),
        Sample([rng.integers(0, 3, (4, 5)).astype(float)], {"dim": 0, "keepdim": True}),
        Sample([randn(rng, 2, 3)], {"dim": 1}),
    ],
    gradcheck=False,  # a nudge breaks the ties that make the mode
)
add(
    "kthvalue",
    lambda m, x, k, **kw: _vi(m.kthvalue(x, k, **kw), x),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"k": 2, "dim": 1}),
        Sample([randn(rng, 4, 3)], {"k": 4, "dim": 0, "keepdim": True}),
        Sample([randn(rng, 5)], {"k": 1}),
    ],
)


def _q(m, x, q, **kw):
    return (m.nanquantile if kw.pop("nan", False) else m.quantile)(
        x, m.tensor(q, dtype=x.dtype) if isinstance(q, list) else q, **kw
    )


add(
    "quantile",
    _q,
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"q": 0.3}),
        Sample([randn(rng, 3, 4)], {"q": [0.2, 0.5, 0.9], "dim": 1, "keepdim": True}),
        Sample([randn(rng, 2, 5)], {"q": 0.7, "dim": 0}),
        *[
            Sample([randn(rng, 4, 5)], {"q": [0.1, 0.6], "dim": 1, "interpolation": i})
            for i in ("lower", "higher", "midpoint", "nearest")
        ],
        Sample([randn(rng, 3, 4)], {"q": [0.25], "dim": -1, "nan": True}),
        Sample([randn(rng, 2, 3)], {"q": 0.4, "keepdim": True}),
    ],  # fmt: skip
    ref=lambda x, q, dim=None, keepdim=False, interpolation="linear", nan=False: np.quantile(
        x, q, axis=dim, keepdims=keepdim, method=interpolation
    ),
    # A NaN in a slice (its quantile is NaN), exact ranks with an inf gradient (torch's lerp
    # backward sends gy * 0 = NaN to the neighbour above), infinite values, nearest at .5.
    edges=edges(
        Sample([A([[1.0, nan, 3.0], [1.0, 2.0, 3.0]])], {"q": [0.5, 1.0], "dim": 1}),
        Sample([A([[1.0, 2.0, 3.0]])], {"q": [0.0, 0.5, 1.0], "dim": 1}, grad=inf),
        Sample([A([[1.0, inf, 3.0, -inf]])], {"q": [0.25, 0.5, 0.75], "dim": 1}),
        Sample([A([4.0, 1.0, 3.0, 2.0])], {"q": [0.5, 1 / 6], "interpolation": "nearest"}),
        Sample([A([[1.0, nan, 3.0], [nan, nan, nan]])], {"q": [0.5, 1.0], "dim": 1, "nan": True}),
    ),
)
add(
    "aminmax",
    lambda m, x, **kw: (lambda r: r.min + 2 * r.max)(m.aminmax(x, **kw)),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {}),
        Sample([randn(rng, 3, 4)], {"dim": 1}),
        Sample([randn(rng, 3, 4)], {"dim": 0, "keepdim": True}),
    ],
)
add(
    "aminmax_ties",
    lambda m, x, **kw: (lambda r: r.min + 2 * r.max)(m.aminmax(x, **kw)),
    lambda rng: [
        Sample([A([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], {"dim": 1}),
        Sample([A([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])], {}),
    ],  # fmt: skip
    gradcheck=False,
)
for _f in ("var_mean", "std_mean"):
    add(
        _f,
        lambda m, x, _f=_f, **kw: (lambda r: r[0] * 3 + r[1])(getattr(m, _f)(x, **kw)),
        lambda rng: [
            Sample([randn(rng, 3, 4)], {}),
            Sample([randn(rng, 3, 4)], {"dim": 1, "keepdim": True}),
            Sample([randn(rng, 2, 3, 4)], {"dim": (0, 2), "correction": 0}),
        ],
    )
add(
    "reduce_axis_alias",
    lambda m, x: (
        m.sum(x, axis=1) + m.mean(x, axis=1) + m.amax(x, axis=1, keepdims=False)
        + m.std(x, axis=1) + m.logsumexp(x, axis=1) + m.max(x, axis=1).values
        + m.prod(x, axis=1) + m.var(x, axis=(1,)) + m.amin(x, axis=1)
        + m.sum(x, axis=(0, 1), keepdims=True)
    ),
    lambda rng: one(positive(rng, 3, 4)),
)  # fmt: skip
add(
    "reduce_0d",
    lambda m, x: (
        x.sum(0) + m.mean(x, -1, keepdim=True) + m.amax(x, 0) + x.max(0).values + m.prod(x, 0)
        + m.logsumexp(x, 0) + m.norm(x, dim=0) + x.std(0, correction=0) + x.argmax(0)
        + m.median(x, 0).values + m.cumsum(x, 0) + x.sort(0).values + x.topk(1, 0).values
    ),
    lambda rng: one(A(1.5)),
)  # fmt: skip
add(
    "reduce_empty_dims",
    # (not var: torch's var backward reads dim=() as no dims, so its gradient is inf)
    lambda m, x: m.sum(x, dim=()) + m.mean(x, ()) + m.amax(x, dim=()),
    lambda rng: one(randn(rng, 2, 3)),
)
add(
    "count_all_any",
    lambda m, x, **kw: (
        m.count_nonzero(x, **kw) + m.all(x, **kw).long() * 10 + m.any(x > 0.5, **kw).long() * 100
    ),
    lambda rng: [
        Sample([A([[0.0, 1.0, 2.0], [3.0, 4.0, 0.0], [1.0, 1.0, 1.0]])], {"dim": 1}),
        Sample([A([[0.0, 1.0, 2.0], [3.0, 4.0, 0.0], [1.0, 1.0, 1.0]])], {"dim": (0, 1)}),
        Sample([A([[0.0, 1.0, 2.0], [3.0, 4.0, 0.0]])], {}),
        Sample([A(0.0)], {"dim": 0}),
    ],
    grad=False,
)
add(
    "all_any_keepdim",
    lambda m, x: m.cat(
        [x.all(1, keepdim=True), m.any(x, axis=0, keepdims=True).T, m.all(x, -1, True)]
    ),
    lambda rng: one(A([[1, 0, 2], [3, 4, 5], [1, 1, 1]], dtype=np.uint8)),
    grad=False,
)

# ------------------------------------------------------------------ sorting
add(
    "sort_stable",
    lambda m, x, **kw: _vi(m.sort(x, **kw), x),
    lambda rng: [
        Sample(
            [A([[1.0, nan, 2.0, 1.0, nan, 2.0], [0.0, 0.0, -1.0, 3.0, 3.0, 0.0]])],
            {"stable": True, "dim": 1},
        ),
        Sample(
            [A([[1.0, nan, 2.0, 1.0, nan, 2.0], [0.0, 0.0, -1.0, 3.0, 3.0, 0.0]])],
            {"stable": True, "descending": True},
        ),
        Sample([randn(rng, 3, 4)], {"dim": 0, "stable": False}),
    ],  # fmt: skip
    gradcheck=False,
)
add(
    "argsort",
    lambda m, x, **kw: m.argsort(x, **kw),
    lambda rng: [
        Sample([A([[3.0, 1.0, 1.0, 2.0], [0.0, 5.0, 0.0, 0.0]])], {"stable": True}),
        Sample(
            [A([[3.0, 1.0, 1.0, 2.0], [0.0, 5.0, 0.0, 0.0]])], {"descending": True, "stable": True}
        ),
        Sample([A([[3.0, 1.0], [0.0, 5.0]])], {"dim": 0}),
    ],  # fmt: skip
    grad=False,
)
add(
    "topk_forms",
    lambda m, x, k, **kw: _vi(m.topk(x, k, **kw), x),
    lambda rng: [
        Sample([randn(rng, 3, 5)], {"k": 3, "largest": False}),
        Sample([randn(rng, 4, 3)], {"k": 2, "dim": 0}),
        Sample([A([[1.0, nan, 2.0, 1.5]])], {"k": 2}),
    ],
    gradcheck=False,
)

# ------------------------------------------------------------------ scatter family
_IDX0 = I([0, 1, 2, 0], [2, 0, 1, 1])  # distinct per column: scatter along dim 0 is determined
add(
    "scatter",
    lambda m, x, i, *s, **kw: m.scatter(x, kw.pop("dim", 0), i, *s, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4), _IDX0, randn(rng, 2, 4)]),
        # A larger src: its corner is read (torch has no gradient for it then).
        Sample([randn(rng, 3, 5), _IDX0, randn(rng, 3, 5)], no_grad=(2,)),
        Sample([randn(rng, 3, 4), I([1, 3], [0, 2]), randn(rng, 2, 2)], {"dim": 1}),
        Sample([randn(rng, 3, 4), _IDX0], {"value": 2.5}),
    ],
)
add(
    "scatter_add",
    lambda m, x, i, s, **kw: m.scatter_add(x, kw.get("dim", 0), i, s),
    lambda rng: [
        Sample([randn(rng, 3, 4), I([0, 1, 2, 0], [0, 0, 1, 0]), randn(rng, 2, 4)]),
        Sample([randn(rng, 2, 3), I([2, 2], [0, 2]), randn(rng, 2, 2)], {"dim": 1}),
    ],
)
_SRI = I([0, 0, 1, 1, 2, 0])
add(
    "scatter_reduce",
    lambda m, x, i, s, **kw: m.scatter_reduce(x, 0, i, s, **kw),
    lambda rng: (
        [
            Sample([randn(rng, 4), _SRI, randn(rng, 6)], {"reduce": r, "include_self": inc})
            for r in ("sum", "prod", "mean", "amax", "amin")
            for inc in (True, False)
        ]
        + [
            Sample(
                [randn(rng, 3, 2), I([[0, 1], [0, 0], [2, 0]]), randn(rng, 3, 2)],
                {"reduce": "amax"},
            ),
            Sample([I(1, 2, 3), I(0, 0, 2), I(5, 2, 4)], {"reduce": "mean"}),
            Sample([I(1, 2, 3), I(0, 0, 2), I(5, 2, 4)], {"reduce": "amin", "include_self": False}),
        ]
    ),  # fmt: skip
    # prod: one zero and several zeros at a place (in src and in self); amax/amin: ties between
    # self and src and within src (the gradient is shared), NaN; inf upstream gradients.
    edges=edges(
        *[
            Sample(
                [A([1.0, 0.0, 2.0, 3.0]), I(0, 0, 1, 1, 2), A([0.0, 2.0, 0.0, 0.0, 5.0])],
                {"reduce": "prod", "include_self": inc},
                grad=g,
            )
            for inc in (True, False)
            for g in (None, A([inf, 1.0, 2.0, inf]))
        ],
        *[
            Sample(
                [A([1.0, 3.0, 2.0, 0.0]), I(0, 0, 1, 1, 2, 2), A([1.0, 0.0, 3.0, 3.0, nan, 1.0])],
                {"reduce": r, "include_self": inc},
                grad=g,
            )
            for r in ("amax", "amin")
            for inc in (True, False)
            for g in (None, inf)
        ],
        Sample([A([1.0, 3.0, 2.0]), I(0, 0), A([inf, 2.0])], {"reduce": "mean"}, grad=inf),
    ),  # fmt: skip
)
add(
    "index_add",
    lambda m, x, i, s, **kw: m.index_add(x, kw.pop("dim"), i, s, **kw),
    lambda rng: [
        Sample([randn(rng, 4, 3), I(0, 2, 0), randn(rng, 3, 3)], {"dim": 0}),
        Sample([randn(rng, 2, 4), I(3, 1), randn(rng, 2, 2)], {"dim": 1, "alpha": 2.5}),
    ],
)
add(
    "index_copy",
    lambda m, x, i, s, dim: m.index_copy(x, dim, i, s),
    lambda rng: [
        Sample([randn(rng, 4, 3), I(3, 0), randn(rng, 2, 3)], {"dim": 0}),
        Sample([randn(rng, 2, 4), I(1, 2, 0), randn(rng, 2, 3)], {"dim": -1}),
    ],
)
add(
    "index_fill",
    lambda m, x, i, *v, dim, value=None: m.index_fill(x, dim, i, v[0] if v else value),
    lambda rng: [
        Sample([randn(rng, 4, 3), I(3, 0, 3)], {"dim": 0, "value": -1.5}),
        Sample([randn(rng, 2, 4), I(1, 2), A(0.7)], {"dim": 1}),
    ],
)
add(
    "masked_select",
    lambda m, x, mask: m.masked_select(x, mask),
    lambda rng: [
        Sample([randn(rng, 3, 4), rng.random((3, 4)) > 0.5]),
        Sample([randn(rng, 3, 1), rng.random((4,)) > 0.3]),  # broadcast together
    ],
)
add(
    "masked_scatter",
    lambda m, x, mask, s: m.masked_scatter(x, mask, s),
    lambda rng: [
        Sample([randn(rng, 3, 4), rng.random((3, 4)) > 0.5, randn(rng, 4, 4)]),
        Sample([randn(rng, 2, 3), A([True, False, True]), randn(rng, 5)]),
    ],
    # The written places get no gradient, even an inf or NaN one (torch: masked_fill(mask, 0)).
    edges=edges(
        Sample(
            [A([1.0, nan, 0.0]), A([True, True, False]), A([inf, 2.0, 5.0])],
            grad=A([inf, nan, inf]),
        )
    ),  # fmt: skip
)
add(
    "take",
    lambda m, x, i: m.take(x, i),
    lambda rng: [Sample([randn(rng, 3, 4), I([[0, 5, -1], [11, 5, 2]])]), Sample([A(2.0), I(0)])],
)
add(
    "take_along_dim",
    lambda m, x, i, **kw: m.take_along_dim(x, i, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4), I([[0, 3], [1, 1], [2, 0]])], {"dim": 1}),
        Sample([randn(rng, 3, 4), I([[0, 3, 1]])], {"dim": 1}),  # broadcast over dim 0
        Sample([randn(rng, 3, 4), I([[0, 5, 11]])]),
    ],
)
add(
    "nonzero_argwhere",
    lambda m, x: m.cat([m.nonzero(x), m.argwhere(x), m.stack(m.nonzero(x, as_tuple=True), 1)]),
    lambda rng: [Sample([A([[0.0, 1.0], [2.0, 0.0], [3.0, 4.0]])]), Sample([A([0, 0, 5])])],
    grad=False,
)
for _op in ("scatter", "scatter_add", "index_add", "index_copy", "index_fill", "take"):
    no_edges(_op, f"{_op} moves gy back to the written or read places; no value of x is special")
no_edges("masked_select", "masked_select places gy back at the mask; no value of x is special")

# ------------------------------------------------------------------ layout
_TRI_X = A([[1.0, nan, inf], [2.0, 3.0, -inf], [nan, 4.0, 5.0]])
for _op in ("tril", "triu"):
    add(
        _op,
        lambda m, x, _op=_op, **kw: getattr(m, _op)(x, **kw),
        lambda rng: [
            Sample([randn(rng, 3, 4)], {}),
            Sample([randn(rng, 2, 3, 4)], {"diagonal": 1}),
            Sample([randn(rng, 4, 3)], {"diagonal": -2}),
        ],
        ref=lambda x, _op=_op, diagonal=0: getattr(np, _op)(x, diagonal),
        # NaN and inf in the dropped triangle become 0, and so do inf / NaN gradients there.
        edges=edges(Sample([_TRI_X]), Sample([_TRI_X], {"diagonal": 1}, grad=inf)),
    )
add(
    "diagonal",
    lambda m, x, **kw: m.diagonal(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {}),
        Sample([randn(rng, 3, 4)], {"offset": 1}),
        Sample([randn(rng, 2, 3, 4)], {"offset": -1, "dim1": 2, "dim2": 0}),
        Sample([randn(rng, 2, 3)], {"offset": 5}),
    ],
    ref=lambda x, offset=0, dim1=0, dim2=1: np.diagonal(x, offset, dim1, dim2),
)
add(
    "diag_embed",
    lambda m, x, **kw: m.diag_embed(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3)], {}),
        Sample([randn(rng, 2, 3)], {"offset": 1}),
        Sample([randn(rng, 2, 3)], {"offset": -2, "dim1": 0, "dim2": 2}),
        Sample([randn(rng, 2, 2)], {"dim1": -1, "dim2": 0}),
    ],
)
add(
    "diag_trace",
    lambda m, x, v: m.diag(x, 1).sum() * m.diag(v, -1) + m.diag(x).sum() + m.trace(x),
    lambda rng: one(randn(rng, 3, 4), randn(rng, 3)),
)
add("trace_int", lambda m, x: m.trace(x), lambda rng: one(np.arange(6).reshape(2, 3)), grad=False)
add(
    "roll",
    lambda m, x, **kw: m.roll(x, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 4)], {"shifts": 2}),
        Sample([randn(rng, 3, 4)], {"shifts": (1, -1), "dims": (0, 1)}),
        Sample([randn(rng, 2, 3, 2)], {"shifts": 5, "dims": 1}),
    ],
    ref=lambda x, shifts, dims=None: np.roll(x, shifts, dims),
)
add(
    "rot90",
    lambda m, x, **kw: m.rot90(x, **kw),
    lambda rng: [Sample([randn(rng, 2, 3, 4)], {"k": k, "dims": d})
                 for k, d in ((1, (0, 1)), (2, (1, 2)), (3, (2, 0)), (-1, (0, 2)), (4, (0, 1)))],
    ref=lambda x, k=1, dims=(0, 1): np.rot90(x, k, dims),
)  # fmt: skip
add(
    "fliplr_flipud",
    lambda m, x: m.fliplr(x) * 2 + m.flipud(x) + x.flip(-1),
    lambda rng: one(randn(rng, 3, 4)),
)
for _op in ("diagonal", "diag_embed", "roll", "rot90"):
    no_edges(_op, f"{_op} only moves elements: gy moves back, no value of x is special")

# ------------------------------------------------------------------ shape
add(
    "repeat_interleave",
    lambda m, x, r=None, **kw: m.repeat_interleave(x, r if r is not None else kw.pop("n"), **kw),
    lambda rng: [
        Sample([randn(rng, 2, 3)], {"n": 2}),
        Sample([randn(rng, 2, 3), I(1, 0, 3)], {"dim": 1}),
        Sample([randn(rng, 3, 2), I(2)], {"dim": 0}),
        Sample([randn(rng, 2, 2)], {"n": 3, "dim": -1, "output_size": 6}),
    ],
)
add("repeat_interleave_counts", lambda m, r: m.repeat_interleave(r), lambda rng: one(I(2, 0, 3)),
    grad=False)  # fmt: skip
add(
    "tile_movedim",
    lambda m, x: (
        m.tile(x, (2,)).sum() + m.tile(x, (2, 1, 1, 2)).sum()
        + m.movedim(x, (0, 1), (2, 0)).reshape(-1) + m.moveaxis(x, 0, -1).reshape(-1)
        + m.swapaxes(x, 0, 2).reshape(-1) + m.swapdims(x, 1, 2).reshape(-1)
        + m.movedim(x, -1, 0).reshape(-1)
    ),
    lambda rng: one(randn(rng, 2, 3, 4)),
    atol32=1e-5,  # float32 sums of the tiles against small elements
)  # fmt: skip
add(
    "splits",
    lambda m, x: m.cat([p.reshape(-1) * (i + 1) for i, p in enumerate(
        [*m.tensor_split(x, 3, dim=1), *m.tensor_split(x, [1, 4, 9], dim=1),
         *m.tensor_split(x, m.tensor([2, 2]), 1), *m.hsplit(x, [2]), *m.hsplit(x, 5),
         *m.vsplit(x, [1]), *m.split_with_sizes(x, [1, 4], 1), *m.split(x, [3, 2], dim=1),
         x.narrow(1, m.tensor(1), 2), *x.unbind(1)[3:], *m.chunk(x, 2, 1)])]
    ),
    lambda rng: one(randn(rng, 2, 5)),
)  # fmt: skip
