"""Op-table rows for issue 17's neural-network ops: pad modes, interpolate, transposed and 3-D
convolution, 3-D pooling (float and integer), max unpooling and embedding bags.

Every row goes through ``nn.functional`` in both libraries.
"""

from __future__ import annotations

import warnings

import numpy as np

from optable import Sample, add, edges, inf, nan, nnf, no_edges, randn

A = np.array
_F32 = {"rtol32": 1e-5, "atol32": 1e-5}


def _distinct(rng, *shape):
    # A permutation: no ties, so finite differences never cross a max pool's switch.
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3.0


# ------------------------------------------------------------------ pad
add(
    "pad_mode",
    lambda m, x, **kw: nnf(m).pad(x, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 3, 5)], {"pad": (2, 3), "mode": "reflect"}),
        Sample([randn(rng, 1, 2, 4, 5)], {"pad": (1, 2, 3, 0), "mode": "reflect"}),
        Sample([randn(rng, 2, 2, 3, 4)], {"pad": (-1, 2, 2, -1), "mode": "reflect"}),
        Sample([randn(rng, 1, 1, 3, 3, 4)], {"pad": (1, 1, 2, 0, 0, 2), "mode": "reflect"}),
        Sample([randn(rng, 2, 3, 4)], {"pad": (3, 5), "mode": "replicate"}),
        Sample([randn(rng, 2, 3, 4, 3)], {"pad": (2, -1, -1, 3), "mode": "replicate"}),
        Sample([randn(rng, 1, 2, 2, 3, 3)], {"pad": (1, 2, 0, 1, 2, 1), "mode": "replicate"}),
        Sample([randn(rng, 2, 5)], {"pad": (2, 4), "mode": "circular"}),
        Sample([randn(rng, 1, 2, 4, 5)], {"pad": (-2, 3, 1, -1), "mode": "circular"}),
        Sample([randn(rng, 1, 1, 2, 3, 4)], {"pad": (1, 1, 1, 1, 1, 1), "mode": "circular"}),
        Sample([randn(rng, 2, 3, 5)], {"pad": (-1, 2, 1, -2)}),  # constant: crop and pad
        Sample([randn(rng, 2, 3, 5)], {"pad": (-2, -1), "value": 1.5}),
    ],
    ref=lambda x, pad, mode="constant", value=None: (
        np.pad(x, [(0, 0)] * (x.ndim - len(pad) // 2)
               + [(pad[2 * k], pad[2 * k + 1]) for k in reversed(range(len(pad) // 2))],
               mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])
        if mode != "constant" and min(pad) >= 0 else None
    ),
)  # fmt: skip
no_edges(
    "pad_mode",
    "a pure copy through index maps: every output is one input cell or the fill value, so "
    "inf and NaN travel unchanged and there is no kink or special point",
)


# ------------------------------------------------------------------ interpolate
add(
    "interpolate",
    lambda m, x, **kw: nnf(m).interpolate(x, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 2, 5)], {"size": 8}),
        Sample([randn(rng, 1, 2, 3, 4)], {"scale_factor": 2}),
        Sample([randn(rng, 1, 2, 4, 5)], {"size": (7, 3)}),
        Sample([randn(rng, 1, 2, 5, 4)], {"scale_factor": (1.5, 0.5), "mode": "nearest-exact"}),
        Sample([randn(rng, 1, 1, 2, 3, 4)], {"size": (3, 5, 2)}),
        Sample([randn(rng, 2, 2, 5)], {"size": 9, "mode": "linear"}),
        Sample([randn(rng, 2, 2, 5)], {"size": 3, "mode": "linear", "align_corners": True}),
        Sample([randn(rng, 1, 2, 4, 3)], {"scale_factor": 2.5, "mode": "bilinear"}),
        Sample([randn(rng, 1, 2, 4, 3)], {"scale_factor": 1.7, "mode": "bilinear",
                                          "recompute_scale_factor": True}),
        Sample([randn(rng, 1, 2, 4, 5)], {"size": (6, 3), "mode": "bilinear",
                                          "align_corners": True}),
        Sample([randn(rng, 1, 2, 4, 5)], {"size": (7, 6), "mode": "bicubic"}),
        Sample([randn(rng, 1, 1, 3, 2, 4)], {"size": (4, 5, 3), "mode": "trilinear"}),
        Sample([randn(rng, 1, 1, 3, 2, 3)], {"scale_factor": 2, "mode": "trilinear",
                                             "align_corners": True}),
    ],
    ref=lambda x, **kw: (
        x.repeat(2, axis=2).repeat(2, axis=3) if kw == {"scale_factor": 2} else None
    ),
    **_F32,
    edges=edges(
        # Nearest is a gather: NaN and inf stay in the cells that copy them.
        Sample([A([[[1.0, nan, inf, -inf]]])], {"size": 7}),
        Sample([A([[[[nan, 1.0], [inf, 2.0]]]])], {"scale_factor": 2},
               grad=A([[[[inf, 1.0, nan, 0.0]] * 4]])),
        Sample([A([[[0.0, 1.0, 2.0]]])], {"size": 3, "mode": "linear"}),  # the identity map
        Sample([A([[[0.0, 1.0]]])], {"size": 1, "mode": "linear", "align_corners": True}),
    ),
)  # fmt: skip


# ------------------------------------------------------------------ transposed and 3-D conv
def _ct_samples(rng):
    cases = [
        ((2, 3, 5), (3, 2, 3), {}),
        ((1, 4, 6), (4, 1, 2), {"stride": 3, "padding": 1, "output_padding": 2, "groups": 2}),
        ((2, 3, 4, 3), (3, 2, 3, 2), {"stride": 2, "padding": 1}),
        ((1, 4, 3, 4), (4, 3, 2, 3), {"stride": (2, 1), "padding": (0, 1), "groups": 2,
                                      "output_padding": (1, 0), "dilation": (1, 2)}),
        ((2, 2, 3, 3), (2, 2, 3, 3), {"dilation": 2, "output_padding": 1}),
        ((1, 2, 2, 3, 2), (2, 2, 2, 2, 3), {"stride": (1, 2, 2), "padding": (0, 1, 1)}),
    ]  # fmt: skip
    return [
        Sample([randn(rng, *xs), randn(rng, *ws), randn(rng, ws[1] * kw.get("groups", 1))], kw)
        for xs, ws, kw in cases
    ]


def _conv_transpose(m, x, w, b, **kw):
    f = {3: nnf(m).conv_transpose1d, 4: nnf(m).conv_transpose2d, 5: nnf(m).conv_transpose3d}
    return f[x.ndim](x, w, b, **kw)


add("conv_transpose", _conv_transpose, _ct_samples, **_F32)
add(
    "conv_transpose2d_unbatched_nobias",
    lambda m, x, w: nnf(m).conv_transpose2d(x, w, stride=2),
    lambda rng: [Sample([randn(rng, 3, 3, 2), randn(rng, 3, 2, 2, 2)])],
    **_F32,
)
no_edges(
    "conv_transpose",
    "multilinear in x and w (conv's input gradient): no kink, mask or special point; "
    "non-finite values spread by IEEE arithmetic whose pattern depends on the algorithm",
)


def _conv3d(m, x, w, b, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on 'same' padding with even kernels
        return nnf(m).conv3d(x, w, b, **kw)


add(
    "conv3d",
    _conv3d,
    lambda rng: [
        Sample([randn(rng, 2, 2, 4, 4, 3), randn(rng, 3, 2, 2, 3, 2), randn(rng, 3)], {}),
        Sample([randn(rng, 1, 4, 5, 4, 5), randn(rng, 4, 2, 3, 2, 3), randn(rng, 4)],
               {"stride": (2, 1, 2), "padding": 1, "dilation": (1, 2, 1), "groups": 2}),
        Sample([randn(rng, 1, 2, 3, 4, 4), randn(rng, 2, 2, 2, 3, 3), randn(rng, 2)],
               {"padding": "same"}),
    ],
    **_F32,
)  # fmt: skip
no_edges(
    "conv3d",
    "multilinear in x and w: no kink, mask or special point; non-finite values spread by "
    "IEEE arithmetic whose pattern depends on the algorithm (im2col), not a contract",
)


# ------------------------------------------------------------------ 3-D pooling, unpooling
add(
    "max_pool3d",
    lambda m, x, **kw: nnf(m).max_pool3d(x, **kw),
    lambda rng: [
        Sample([_distinct(rng, 2, 2, 4, 4, 4)], {"kernel_size": 2}),
        Sample([_distinct(rng, 1, 2, 5, 4, 5)], {"kernel_size": 3, "stride": 2, "padding": 1}),
        Sample([_distinct(rng, 1, 1, 5, 6, 5)], {"kernel_size": (2, 3, 2), "stride": (2, 1, 3),
                                                 "dilation": (2, 1, 1), "ceil_mode": True}),
        Sample([_distinct(rng, 2, 3, 4, 3)], {"kernel_size": 2, "stride": 1}),  # unbatched
    ],
    edges=edges(
        Sample([np.full((1, 1, 2, 4, 4), -inf)], {"kernel_size": 2, "padding": 1}),
        Sample([A([[[[[1.0, 1.0], [nan, 1.0]], [[1.0, nan], [0.0, 1.0]]]]])], {"kernel_size": 2},
               grad=A([[[[[inf]]]]])),
        Sample([np.ones((1, 1, 3, 3, 3))], {"kernel_size": 2, "stride": 1}),  # ties: first wins
    ),
)  # fmt: skip
add(
    "avg_pool3d",
    lambda m, x, **kw: nnf(m).avg_pool3d(x, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 2, 4, 4, 4)], {"kernel_size": 2}),
        Sample([randn(rng, 1, 2, 5, 4, 5)], {"kernel_size": 3, "stride": 2, "padding": 1}),
        Sample([randn(rng, 1, 2, 5, 4, 5)], {"kernel_size": 3, "stride": 2, "padding": 1,
                                             "count_include_pad": False, "ceil_mode": True}),
        Sample([randn(rng, 1, 1, 4, 5, 4)], {"kernel_size": (2, 3, 2), "stride": 1,
                                             "divisor_override": 5}),
    ],
    ref=lambda x, **kw: (
        x.reshape(x.shape[:2] + (x.shape[2] // 2, 2, x.shape[3] // 2, 2, x.shape[4] // 2, 2))
        .mean(axis=(3, 5, 7)) if kw == {"kernel_size": 2} else None
    ),
)  # fmt: skip
no_edges(
    "avg_pool3d",
    "linear: window sums over a divisor; no kink, mask or special point, non-finite values "
    "spread by arithmetic only into the windows that hold them",
)


def _ints(rng, dtype, *shape, low=-50):
    return rng.integers(low, 50, shape).astype(dtype)


add(
    "pool_int",  # integer pooling, as torch allows it: max for every int dtype, avg for int64
    lambda m, x, f, **kw: getattr(nnf(m), f)(x, **kw),
    lambda rng: [
        Sample([_ints(rng, np.int64, 2, 2, 4, 4, 4)], {"f": "max_pool3d", "kernel_size": 2,
                                                       "padding": 1}),
        Sample([_ints(rng, np.int32, 1, 2, 5, 4, 5)], {"f": "max_pool3d", "kernel_size": 3,
                                                       "stride": 2, "ceil_mode": True}),
        Sample([_ints(rng, np.uint8, 1, 2, 4, 4, 4, low=0)], {"f": "max_pool3d",
                                                              "kernel_size": 2, "padding": 1}),
        Sample([_ints(rng, np.int8, 1, 1, 3, 4, 4)], {"f": "max_pool3d", "kernel_size": 2,
                                                      "stride": 1}),
        Sample([_ints(rng, np.int64, 1, 2, 5, 4, 5)], {"f": "avg_pool3d", "kernel_size": 3,
                                                       "stride": 2, "padding": 1}),
        Sample([_ints(rng, np.int64, 1, 2, 5, 4, 5)], {"f": "avg_pool3d", "kernel_size": 3,
                                                       "padding": 1, "count_include_pad": False}),
        Sample([_ints(rng, np.int64, 1, 2, 4, 4, 4)], {"f": "avg_pool3d", "kernel_size": 2,
                                                       "divisor_override": 3}),
    ],
    grad=False,
)  # fmt: skip


def _unpool(m, x, nd, **kw):
    F = nnf(m)
    y, i = getattr(F, f"max_pool{nd}d")(x, 2, return_indices=True)
    return getattr(F, f"max_unpool{nd}d")(y * 2, i, 2, **kw)


add(
    "max_unpool",
    _unpool,
    lambda rng: [
        Sample([_distinct(rng, 2, 2, 6)], {"nd": 1}),
        Sample([_distinct(rng, 2, 2, 4, 6)], {"nd": 2}),
        Sample([_distinct(rng, 1, 2, 5, 5)], {"nd": 2, "output_size": (5, 5)}),
        Sample([_distinct(rng, 1, 2, 4, 4, 2)], {"nd": 3}),
    ],
)
add(
    "max_pool3d_indices",
    lambda m, x: nnf(m).max_pool3d(x, 2, stride=1, return_indices=True)[1],
    lambda rng: [Sample([A([[[[[1.0, 1.0, 0.0], [1.0, nan, 2.0]], [[2.0, 2.0, 1.0],
                                                                  [0.0, 1.0, 2.0]]]]])])],
    grad=False,
)  # fmt: skip
no_edges(
    "max_unpool",
    "a pure scatter of values to their saved indices and a gather back: inf and NaN travel "
    "unchanged, no arithmetic, no kink",
)


# ------------------------------------------------------------------ embedding bags
def _bag(m, w, idx, *rest, **kw):
    F = nnf(m)
    off = rest[0] if rest and rest[0].ndim == 1 and not rest[0].is_floating_point() else None
    psw = rest[-1] if rest and rest[-1].is_floating_point() else None
    return F.embedding_bag(idx, w, off, per_sample_weights=psw, **kw)


add(
    "embedding_bag",
    _bag,
    lambda rng: [
        Sample([randn(rng, 7, 3), rng.integers(0, 7, (4, 3))], {"mode": "sum"}),
        Sample([randn(rng, 7, 3), rng.integers(0, 7, (4, 3))], {"mode": "mean"}),
        Sample([_distinct(rng, 7, 3), rng.integers(0, 7, (4, 3))], {"mode": "max"}),
        Sample([randn(rng, 6, 2), A([1, 2, 4, 5, 4, 3, 2]), A([0, 2, 2, 5])], {"mode": "mean"}),
        Sample([randn(rng, 6, 2), A([1, 2, 4, 5, 4, 3, 2]), A([0, 3, 3, 7])],
               {"mode": "max", "include_last_offset": True}),
        Sample([randn(rng, 6, 2), A([1, 2, 4, 5, 4, 3, 2]), A([0, 3]), randn(rng, 7)],
               {"mode": "sum"}),
        Sample([randn(rng, 6, 2), A([[1, 0, 4], [0, 0, 0], [5, 2, 0]])],
               {"mode": "mean", "padding_idx": 0}),
        Sample([randn(rng, 6, 2), A([[1, 0, 4], [0, 0, 0], [5, 2, 0]]), randn(rng, 3, 3)],
               {"mode": "sum", "padding_idx": 0}),
    ],
    edges=edges(
        # max mode: ties go to the first maximal row per dim; an all-padding bag gives 0.
        Sample([A([[1.0, 2.0], [1.0, 2.0], [0.0, 2.0]]), A([[0, 1, 2], [2, 1, 1]])],
               {"mode": "max"}),
        Sample([A([[1.0, 2.0], [-inf, inf], [0.0, nan]]), A([[0, 1, 2], [1, 1, 1]])],
               {"mode": "max", "padding_idx": 1}),
        Sample([A([[1.0, 2.0], [3.0, 4.0]]), A([0, 1]), A([0, 0, 2, 2])], {"mode": "mean"}),
    ),
)  # fmt: skip
