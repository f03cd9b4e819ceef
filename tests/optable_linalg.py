"""Op-table rows for issue 17's products and windows: einsum (ellipsis, repeated labels,
broadcast labels, sublists), addmm/addmv/baddbmm (beta, alpha), outer, kron, cross, cdist (p = 0,
1, 2 direct and through matrix products, 0.5, 3, inf), Tensor.unfold and F.unfold / F.fold."""

from __future__ import annotations

import warnings

import numpy as np

from optable import Sample, add, edges, inf, nan, nnf, no_edges, randn

A = np.array


# ------------------------------------------------------------------ einsum
def _ein(eq, *shapes):
    return eq, shapes


_EINSUM = [
    _ein("ij,jk->ik", (2, 3), (3, 4)),
    _ein("ii->i", (3, 3)),
    _ein("ii", (3, 3)),
    _ein("iij->ji", (2, 2, 3)),
    _ein("...ij,...jk", (2, 1, 2, 3), (5, 3, 4)),
    _ein("ij,ij->ij", (1, 3), (2, 3)),
    _ein("ij,jk", (2, 1), (3, 2)),
    _ein("ij->i", (2, 3)),
    _ein("i,j->ij", (3,), (4,)),
    _ein("bij,bjk,bkl->bil", (2, 3, 4), (2, 4, 5), (2, 5, 2)),
    _ein("b...i,b...i->b...", (2, 1, 3, 4), (2, 5, 1, 4)),
    _ein("ba", (2, 3)),
    _ein("", ()),
]
add(
    "einsum",
    lambda m, *xs, eq: m.einsum(eq, *xs),
    lambda rng: [Sample([randn(rng, *s) for s in shapes], {"eq": eq}) for eq, shapes in _EINSUM],
    ref=lambda *xs, eq: np.einsum(eq, *xs),
    edges=edges(
        # Off the diagonal a NaN is never read: value and gradient stay finite.
        Sample([A([[1.0, nan], [inf, 2.0]])], {"eq": "ii->i"}),
        Sample([A([[inf, 1.0], [0.0, 2.0]]), A([[0.0, 1.0], [1.0, nan]])], {"eq": "ij,jk->ik"}),
    ),
)
add(
    "einsum_sublist",
    lambda m, a, b: m.einsum(a, [0, 1], b, [1, 2], [0, 2]) + m.einsum("ij,jk->ik", [a, b]),
    lambda rng: [Sample([randn(rng, 2, 3), randn(rng, 3, 4)])],
)


# ------------------------------------------------------------------ fused multiply-adds
add(
    "addmm",
    lambda m, c, a, b, **kw: m.addmm(c, a, b, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 3), randn(rng, 2, 4), randn(rng, 4, 3)]),
        Sample([randn(rng, 3), randn(rng, 2, 4), randn(rng, 4, 3)], {"beta": 0.5, "alpha": 2.0}),
        Sample([randn(rng, 2, 1), randn(rng, 2, 4), randn(rng, 4, 3)], {"beta": 0.0}),
    ],
    ref=lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b),
    edges=edges(
        # beta = 0: input's NaN and inf are not read; its gradient is gy * 0 (NaN for inf gy).
        Sample(
            [
                A([[nan, inf], [1.0, -inf]]),
                A([[1.0, 2.0], [3.0, 4.0]]),
                A([[1.0, 0.0], [0.0, 1.0]]),
            ],
            {"beta": 0.0},
            grad=[[1.0, inf], [2.0, 3.0]],
        ),
        Sample([A([[1.0, 2.0]]), A([[inf, 0.0], [1.0, 1.0]]), A([[0.0, 1.0], [2.0, 3.0]])]),
    ),  # fmt: skip
)
add(
    "addmv",
    lambda m, c, a, v, **kw: m.addmv(c, a, v, **kw),
    lambda rng: [
        Sample([randn(rng, 2), randn(rng, 2, 4), randn(rng, 4)]),
        Sample([randn(rng), randn(rng, 3, 2), randn(rng, 2)], {"beta": -1.5, "alpha": 0.5}),
    ],
    ref=lambda c, a, v, beta=1, alpha=1: beta * c + alpha * (a @ v),
    edge_ops=("addmm",),
    edges=edges(Sample([A([nan, 1.0]), A([[1.0, 2.0], [3.0, 4.0]]), A([1.0, -1.0])],
                       {"beta": 0.0})),
)  # fmt: skip
add(
    "baddbmm",
    lambda m, c, a, b, **kw: m.baddbmm(c, a, b, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 2, 3), randn(rng, 2, 2, 4), randn(rng, 2, 4, 3)]),
        Sample([randn(rng, 3), randn(rng, 2, 2, 4), randn(rng, 2, 4, 3)], {"alpha": -2.0}),
    ],
    ref=lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b),
)
add(
    "addmm_methods",
    lambda m, c, a, b, v: (
        c.addmm(a, b, beta=2.0).sum()
        + (c[:, 0] * 1).addmv_(a, v).sum()
        + a[None].bmm(b[None]).sum()
        + (c[None] * 1).baddbmm_(a[None], b[None], alpha=0.5).sum()
    ),
    lambda rng: [Sample([randn(rng, 2, 3), randn(rng, 2, 4), randn(rng, 4, 3), randn(rng, 4)])],
)


# ------------------------------------------------------------------ outer, kron, cross
add(
    "outer",
    lambda m, a, b: m.outer(a, b) + a.ger(b),
    lambda rng: [Sample([randn(rng, 3), randn(rng, 4)])],
    ref=lambda a, b: 2 * np.outer(a, b),
)
add(
    "kron",
    lambda m, a, b: m.kron(a, b),
    lambda rng: [
        Sample([randn(rng, 2, 3), randn(rng, 3, 2)]),
        Sample([randn(rng, 2, 3), randn(rng, 4)]),
        Sample([randn(rng), randn(rng, 2, 2)]),
    ],
    ref=np.kron,
)
add(
    "cross",
    lambda m, a, b, dim: m.cross(a, b, dim=dim),
    lambda rng: [
        Sample([randn(rng, 4, 3), randn(rng, 4, 3)], {"dim": 1}),
        Sample([randn(rng, 3, 2), randn(rng, 3, 1)], {"dim": 0}),
        Sample([randn(rng, 2, 3, 2), randn(rng, 1, 3, 2)], {"dim": -2}),
    ],
    ref=lambda a, b, dim: np.cross(a, b, axis=dim),
)
no_edges("cross", "bilinear: ga = b x gy, gb = gy x a; no value of a or b is special")


def _warns_on_default_dim(m, a, b):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = m.cross(a, b)
    # (torch warns once per process, backprop every time)
    if m.__name__ != "torch":
        assert any("dim" in str(w.message) for w in caught), "cross without dim must warn"
    return y


add(
    "cross_default_dim",  # torch.cross's deprecated default: the first dim of size 3
    lambda m, a, b: _warns_on_default_dim(m, a, b),
    lambda rng: [Sample([randn(rng, 2, 3, 3), randn(rng, 2, 3, 3)])],
)
add(
    "linalg_cross_method",
    lambda m, a, b: a.cross(b, dim=-1),
    lambda rng: [Sample([randn(rng, 5, 3), randn(rng, 5, 3)])],
)


# ------------------------------------------------------------------ cdist
def _cdist_ref(a, b, p, **kw):
    d = np.abs(a[..., :, None, :] - b[..., None, :, :])
    if p == 0:
        return (d != 0).sum(-1) * 1.0
    if p == inf:
        return d.max(-1)
    return (d**p).sum(-1) ** (1 / p)


add(
    "cdist",
    lambda m, a, b, **kw: m.cdist(a, b, **kw),
    lambda rng: [
        Sample([randn(rng, 3, 2), randn(rng, 4, 2)], {"p": 2.0}),
        Sample([randn(rng, 2, 3, 2), randn(rng, 1, 4, 2)], {"p": 1.0}),
        Sample([randn(rng, 3, 3), randn(rng, 2, 3)], {"p": 3.0}),
        Sample([randn(rng, 3, 2), randn(rng, 4, 2)], {"p": 0.5}),
        Sample([randn(rng, 3, 2), randn(rng, 4, 2)], {"p": inf}),
        Sample([randn(rng, 3, 2), randn(rng, 4, 2)], {"p": 0.0}),
        # more than 25 rows: p = 2 through matrix products, as torch
        Sample([randn(rng, 27, 3), randn(rng, 5, 3)], {"p": 2.0}),
        Sample(
            [randn(rng, 4, 3), randn(rng, 3, 3)],
            {"p": 2.0, "compute_mode": "use_mm_for_euclid_dist"},
        ),
    ],  # fmt: skip
    ref=_cdist_ref,
    rtol64=1e-9,
    atol64=1e-10,
    edges=edges(
        # Zero distances (gradient 0 there, even for an inf gy), equal coordinates for p < 1,
        # ties for p = inf.
        *(
            Sample(
                [A([[0.0, 0.0], [1.0, 2.0]]), A([[0.0, 0.0], [1.0, 3.0], [2.0, 2.0]])],
                {"p": p},
                grad=g,
            )
            for p in (2.0, 1.0, 0.5, 3.0, 1.5, inf)
            for g in (None, [[inf, 1.0, 1.0], [1.0, inf, 2.0]])
        ),
        Sample(
            [A([[0.0, 0.0], [1.0, 2.0]]), A([[0.0, 0.0], [1.0, 2.0]])],
            {"p": 2.0, "compute_mode": "use_mm_for_euclid_dist"},
        ),
    ),  # fmt: skip
)


# ------------------------------------------------------------------ sliding windows
add(
    "unfold",  # Tensor.unfold: a view; overlapping windows add their gradients
    lambda m, x, dim, size, step: x.unfold(dim, size, step) * 1,
    lambda rng: [
        Sample([randn(rng, 7, 3)], {"dim": 0, "size": 3, "step": 1}),
        Sample([randn(rng, 2, 9)], {"dim": -1, "size": 2, "step": 3}),
        Sample([randn(rng, 2, 5, 2)], {"dim": 1, "size": 4, "step": 1}),
        Sample([randn(rng, 5)], {"dim": 0, "size": 5, "step": 2}),
        Sample([randn(rng)], {"dim": 0, "size": 1, "step": 1}),
    ],
)
no_edges("unfold", "a view: gx adds each window's gy back; no value of x is special")
add(
    "im2col",
    lambda m, x, **kw: nnf(m).unfold(x, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 2, 4, 5)], {"kernel_size": 2}),
        Sample(
            [randn(rng, 1, 3, 5, 5)],
            {"kernel_size": (2, 3), "dilation": (2, 1), "padding": 1, "stride": (2, 1)},
        ),
        Sample([randn(rng, 2, 4, 3)], {"kernel_size": 1}),
        Sample([randn(rng, 1, 2, 3, 3)], {"kernel_size": 1}),
    ],  # fmt: skip
)
no_edges("im2col", "a copy of windows: gx sums gy back (col2im); no value of x is special")
add(
    "col2im",
    lambda m, x, **kw: nnf(m).fold(x, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 8, 12)], {"output_size": (4, 5), "kernel_size": 2}),
        Sample(
            [randn(rng, 1, 12, 9)],
            {
                "output_size": 5,
                "kernel_size": (2, 3),
                "dilation": (2, 1),
                "padding": 1,
                "stride": (2, 2),
            },
        ),
        Sample([randn(rng, 4, 4)], {"output_size": 3, "kernel_size": 2, "padding": 1, "stride": 2}),
    ],  # fmt: skip
)
no_edges("col2im", "sums columns into images: gx = unfold(gy); no value of x is special")
