"""Op-table rows for convolution, pooling and the fused recurrent ops.

Conv and pooling rows go through ``nn.functional`` in both libraries. Recurrent rows call
``torch.lstm_cell`` / ``torch.lstm`` ... (PyTorch's own kernels) against backprop's cell functions
and layer ops; a layer op takes the precomputed input projection ``ax``, which torch reproduces
with an identity ``W_ih`` and a zero ``b_ih``.
"""

from __future__ import annotations

import warnings

import numpy as np

from backprop.nn import recurrent as BR
from backprop.ops import recurrent as R
from optable import Sample, add, edges, inf, nan, nnf, no_edges, randn

A = np.array

# f32 tolerances: sums of tens of products lose ~1e-6 absolute in float32.
_F32 = {"rtol32": 1e-5, "atol32": 1e-5}


def _is_torch(m) -> bool:
    return m.__name__ == "torch"


# ------------------------------------------------------------------ conv
def _conv2d_samples(rng):
    cases = [
        ((2, 3, 7, 6), (4, 3, 3, 3), {}),
        ((2, 3, 7, 6), (4, 3, 3, 2), {"stride": 2, "padding": 1}),
        ((1, 4, 8, 7), (6, 2, 3, 3), {"stride": (2, 3), "padding": (1, 2), "groups": 2}),
        ((2, 2, 9, 8), (3, 2, 2, 3), {"dilation": (2, 1), "padding": 2, "stride": (3, 2)}),
        ((2, 3, 6, 5), (2, 3, 4, 2), {"padding": "same"}),
        ((1, 2, 6, 7), (4, 2, 2, 3), {"padding": "same", "dilation": 2}),
        ((2, 4, 5, 5), (4, 1, 3, 3), {"groups": 4, "padding": "valid"}),
        ((2, 3, 5, 6), (5, 3, 1, 1), {}),
        ((2, 3, 4, 4), (2, 3, 4, 4), {"stride": 3}),
    ]
    return [
        Sample([randn(rng, *xs), randn(rng, *ws), randn(rng, ws[0])], kw) for xs, ws, kw in cases
    ]


def _conv2d_ref(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """Direct loops over output positions (slow, obvious) for a few simple cases."""
    if isinstance(padding, str) or dilation != 1 or groups != 1:
        return None
    s = stride if isinstance(stride, tuple) else (stride, stride)
    p = padding if isinstance(padding, tuple) else (padding, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    O, C, KH, KW = w.shape
    OH = (xp.shape[2] - KH) // s[0] + 1
    OW = (xp.shape[3] - KW) // s[1] + 1
    y = np.zeros((x.shape[0], O, OH, OW))
    for i in range(OH):
        for j in range(OW):
            patch = xp[:, :, i * s[0] : i * s[0] + KH, j * s[1] : j * s[1] + KW]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", patch, w) + b
    return y


def _conv2d(m, x, w, b, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note on 'same' padding with even kernels
        return nnf(m).conv2d(x, w, b, **kw)


add(
    "conv2d",
    _conv2d,
    _conv2d_samples,
    ref=_conv2d_ref,
    **_F32,
)
add(
    "conv2d_nobias_unbatched",
    lambda m, x, w: nnf(m).conv2d(x, w, stride=2, padding=1),
    lambda rng: [Sample([randn(rng, 3, 6, 5), randn(rng, 2, 3, 3, 3)])],
    **_F32,
)
add(
    "conv2d_chain",  # conv -> relu -> conv: the 2nd conv gets the 1st one's (C, H, W, N) layout
    lambda m, x, w1, w2: nnf(m).conv2d(nnf(m).relu(nnf(m).conv2d(x, w1, padding=1)), w2),
    lambda rng: [Sample([randn(rng, 3, 2, 6, 6), randn(rng, 4, 2, 3, 3), randn(rng, 2, 4, 3, 3)])],
    gradcheck=False,  # relu's kink; the parity test covers the gradient
    **_F32,
)
add(
    "conv1d",
    lambda m, x, w, b, **kw: nnf(m).conv1d(x, w, b, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 3, 9), randn(rng, 4, 3, 3), randn(rng, 4)], {}),
        Sample([randn(rng, 2, 4, 10), randn(rng, 6, 2, 2), randn(rng, 6)],
               {"stride": 3, "padding": 2, "dilation": 2, "groups": 2}),
        Sample([randn(rng, 1, 2, 7), randn(rng, 3, 2, 4), randn(rng, 3)], {"padding": "same"}),
    ],
    **_F32,
)  # fmt: skip
no_edges(
    "conv2d",
    "multilinear in x and w: no kink, mask or special point; non-finite values spread by IEEE "
    "arithmetic whose pattern depends on the algorithm (im2col, Winograd), not a contract",
)


# ------------------------------------------------------------------ pooling
def _pool_input(rng, *shape):
    # Distinct values (a permutation) so that finite differences never cross a tie.
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0 - 3.0


add(
    "max_pool2d",
    lambda m, x, **kw: nnf(m).max_pool2d(x, **kw),
    lambda rng: [
        Sample([_pool_input(rng, 2, 3, 6, 8)], {"kernel_size": 2}),
        Sample([_pool_input(rng, 2, 2, 7, 9)], {"kernel_size": 2}),  # odd sizes: last row dropped
        Sample([_pool_input(rng, 1, 2, 7, 8)], {"kernel_size": 3, "stride": 2, "padding": 1}),
        Sample([_pool_input(rng, 2, 1, 8, 7)], {"kernel_size": (2, 3), "stride": (3, 2),
                                                "dilation": (2, 1), "padding": (1, 1)}),
        Sample([_pool_input(rng, 1, 2, 7, 6)], {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
        Sample([_pool_input(rng, 1, 1, 6, 6)], {"kernel_size": 2, "stride": 3, "padding": 1,
                                                "ceil_mode": True}),
        Sample([_pool_input(rng, 2, 5, 5)], {"kernel_size": 2, "stride": 1}),  # unbatched
    ],
    ref=lambda x, **kw: (
        x.reshape(x.shape[0], x.shape[1], x.shape[2] // 2, 2, x.shape[3] // 2, 2).max(axis=(3, 5))
        if kw == {"kernel_size": 2} and x.shape[2] % 2 == 0 else None
    ),
    edges=lambda rng: _max_pool_edges(),
)  # fmt: skip


def _max_pool_edges():
    # Windows of -inf only (with padding: torch's gradient goes to the first cell inside the
    # input, never to the padding), ties and NaN under inf/NaN upstream gradients.
    ninf = np.full((1, 1, 4, 4), -inf)
    ties = A([[[[1.0, 1.0, 0.0, 2.0], [1.0, nan, 2.0, 2.0], [0.0, 0.0, -inf, -inf],
                [0.0, 0.0, -inf, -inf]]]])  # fmt: skip
    return [
        Sample([ninf], {"kernel_size": 2}),
        Sample([ninf], {"kernel_size": 2, "stride": 2, "padding": 1}),
        Sample([ninf], {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
        Sample([ties], {"kernel_size": 2}, grad=A([[[[inf, nan], [1.0, inf]]]])),
        Sample([ties], {"kernel_size": 2, "stride": 1}, grad=np.full((1, 1, 3, 3), inf)),
        Sample([ties], {"kernel_size": 3, "stride": 2, "padding": 1},
               grad=A([[[[inf, 1.0], [nan, inf]]]])),
        Sample([ties[:, :, 1:2]], {"kernel_size": (1, 2), "stride": 1}),  # one row
    ]  # fmt: skip


def _ties(rng):
    # Integer values with many equal entries per window: the gradient must go to the first one.
    return [
        Sample([rng.integers(0, 3, (2, 2, 6, 6)).astype(float)], {"kernel_size": 2}),
        Sample([rng.integers(0, 2, (1, 2, 7, 7)).astype(float)],
               {"kernel_size": 3, "stride": 2, "padding": 1}),
        Sample([np.ones((1, 1, 4, 4))], {"kernel_size": 3, "stride": 1}),
        Sample([rng.integers(0, 2, (1, 2, 9)).astype(float)], {"kernel_size": 3, "stride": 2}),
    ]  # fmt: skip


add(
    "max_pool2d_ties",
    lambda m, x, **kw: (nnf(m).max_pool2d if x.ndim == 4 else nnf(m).max_pool1d)(x, **kw),
    _ties,
    gradcheck=False,  # ties are kinks by design
)
add(
    "max_pool2d_nan",
    lambda m, x: nnf(m).max_pool2d(x, 2, stride=1),
    lambda rng: [Sample([np.array([[[[1.0, np.nan, 2.0], [np.nan, 0.5, 3.0], [1.0, 2.0, 4.0]]]])])],
    gradcheck=False,
)
add(
    "max_pool1d",
    lambda m, x, **kw: nnf(m).max_pool1d(x, **kw),
    lambda rng: [
        Sample([_pool_input(rng, 2, 3, 10)], {"kernel_size": 2}),
        Sample([_pool_input(rng, 2, 3, 11)], {"kernel_size": 3, "stride": 2, "padding": 1,
                                              "dilation": 2, "ceil_mode": True}),
    ],
)  # fmt: skip
add(
    "avg_pool2d",
    lambda m, x, **kw: nnf(m).avg_pool2d(x, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 3, 6, 8)], {"kernel_size": 2}),
        Sample([randn(rng, 2, 2, 7, 8)], {"kernel_size": 3, "stride": 2, "padding": 1}),
        Sample([randn(rng, 2, 2, 7, 8)], {"kernel_size": 3, "stride": 2, "padding": 1,
                                          "count_include_pad": False}),
        Sample([randn(rng, 1, 2, 7, 6)], {"kernel_size": (3, 2), "stride": (2, 3),
                                          "ceil_mode": True}),
        Sample([randn(rng, 1, 2, 6, 6)], {"kernel_size": 2, "stride": 3, "padding": 1,
                                          "ceil_mode": True, "count_include_pad": False}),
        Sample([randn(rng, 1, 2, 6, 6)], {"kernel_size": 2, "stride": 3, "padding": 1,
                                          "ceil_mode": True}),
        Sample([randn(rng, 2, 2, 5, 5)], {"kernel_size": 3, "stride": 1, "padding": 1,
                                          "divisor_override": 5}),
        Sample([randn(rng, 3, 5, 4)], {"kernel_size": 2, "stride": 1}),  # unbatched
    ],
    ref=lambda x, **kw: (
        x.reshape(x.shape[0], x.shape[1], x.shape[2] // 2, 2, x.shape[3] // 2, 2).mean(axis=(3, 5))
        if kw == {"kernel_size": 2} and x.shape[2] % 2 == 0 else None
    ),
)  # fmt: skip
no_edges(
    "avg_pool2d",
    "linear: window sums over a divisor; no kink, mask or special point, non-finite values "
    "spread by arithmetic only into the windows that hold them",
)
add(
    "avg_pool1d",
    lambda m, x, **kw: nnf(m).avg_pool1d(x, **kw),
    lambda rng: [
        Sample([randn(rng, 2, 3, 10)], {"kernel_size": 3}),
        Sample([randn(rng, 2, 3, 11)], {"kernel_size": 4, "stride": 3, "padding": 2,
                                        "ceil_mode": True, "count_include_pad": False}),
    ],
)  # fmt: skip
add(
    "adaptive_avg_pool2d",
    lambda m, x, size: nnf(m).adaptive_avg_pool2d(x, size),
    lambda rng: [
        Sample([randn(rng, 2, 3, 7, 9)], {"size": (3, 4)}),
        Sample([randn(rng, 2, 3, 6, 6)], {"size": 1}),
        Sample([randn(rng, 1, 2, 5, 4)], {"size": (7, None)}),  # upsampling rows: windows overlap
        Sample([randn(rng, 2, 6, 8)], {"size": (2, 3)}),  # unbatched
    ],
    ref=lambda x, size: x.mean(axis=(-2, -1), keepdims=True) if size == 1 else None,
    # inf and NaN stay inside the windows that hold them, in values and in gradients.
    edges=edges(
        Sample(
            [A([[[[1.0, inf, 2.0, 3.0], [0.0, 1.0, nan, 2.0], [1.0, 1.0, 1.0, -inf]]]])],
            {"size": (2, 2)},
        ),
        Sample(
            [A([[[[1.0, 2.0, 2.0, 3.0], [0.0, 1.0, 4.0, 2.0], [1.0, 1.0, 1.0, 0.0]]]])],
            {"size": (2, 3)},
            grad=A([[[[inf, 1.0, 2.0], [1.0, nan, 1.0]]]]),
        ),
        Sample([A([[[1.0, inf, 2.0, 3.0, 4.0]]])], {"size": (1, 2)}),
    ),  # fmt: skip
)
add(
    "adaptive_max_pool2d",
    lambda m, x, size: nnf(m).adaptive_max_pool2d(x, size),
    lambda rng: [
        Sample([randn(rng, 2, 3, 7, 9)], {"size": (3, 4)}),  # overlapping windows
        Sample([randn(rng, 2, 3, 6, 6)], {"size": 1}),
        Sample([randn(rng, 2, 6, 8)], {"size": (2, None)}),  # unbatched, None keeps a size
    ],
    edges=edges(
        # ties (the first maximum takes the gradient), NaN (the last NaN of a window), inf
        Sample([A([[[[1.0, 3.0, 3.0, 0.0], [3.0, 1.0, 2.0, 2.0]]]])], {"size": (1, 2)}),
        Sample([A([[[[1.0, nan, 2.0, nan], [inf, 1.0, -inf, 2.0]]]])], {"size": (1, 1)}),
        Sample(
            [A([[[[1.0, 2.0, 2.0], [2.0, 0.0, 1.0]]]])],
            {"size": (2, 2)},
            grad=A([[[[inf, 1.0], [nan, 2.0]]]]),
        ),
    ),
)
add(
    "adaptive_max_pool1d",
    lambda m, x, size: nnf(m).adaptive_max_pool1d(x, size),
    lambda rng: [
        Sample([randn(rng, 2, 3, 10)], {"size": 4}),
        Sample([randn(rng, 3, 5)], {"size": 2}),
    ],
)
add(
    "adaptive_avg_pool1d",
    lambda m, x, size: nnf(m).adaptive_avg_pool1d(x, size),
    lambda rng: [Sample([randn(rng, 2, 3, 10)], {"size": 4})],
)


# ------------------------------------------------------------------ recurrent cells
def _cell(name):
    def fn(m, x, h, w_ih, w_hh, b_ih, b_hh):
        lib = m if _is_torch(m) else BR
        return getattr(lib, name)(x, h, w_ih, w_hh, b_ih, b_hh)

    return fn


def _cell_samples(gates):
    def samples(rng):
        B, I, H = 3, 4, 5
        return [
            Sample([
                randn(rng, B, I), randn(rng, B, H), randn(rng, gates * H, I) * 0.5,
                randn(rng, gates * H, H) * 0.5, randn(rng, gates * H), randn(rng, gates * H),
            ])
        ]  # fmt: skip

    return samples


def _closed_relu_cell(rng):
    # Units 0 and 2 get a large negative bias: relu's gate is closed there for every sample,
    # and an inf/NaN upstream gradient at those units must give 0, not NaN everywhere.
    B, I, H = 3, 4, 5
    b_ih = randn(rng, H) * 0.1
    b_ih[[0, 2]] = -100.0
    arrays = [randn(rng, B, I), randn(rng, B, H), randn(rng, H, I) * 0.5,
              randn(rng, H, H) * 0.5, b_ih, randn(rng, H) * 0.1]  # fmt: skip
    gy = randn(rng, B, H)
    gy[:, 0], gy[:, 2] = inf, nan
    return [Sample(arrays, grad=gy)]


add("rnn_cell_tanh", _cell("rnn_tanh_cell"), _cell_samples(1))
add(
    "rnn_cell_relu",
    _cell("rnn_relu_cell"),
    _cell_samples(1),
    edges=_closed_relu_cell,
    edge_ops=("rnn_cell",),
)
add("gru_cell", _cell("gru_cell"), _cell_samples(3))
_SMOOTH = "smooth gates (sigmoid, tanh) and products: no kink, mask or special point"
no_edges("gru_cell", f"gru_cell: {_SMOOTH}")


def _lstm_cell(m, x, h, c, w_ih, w_hh, b_ih, b_hh):
    lib = m if _is_torch(m) else BR
    h2, c2 = lib.lstm_cell(x, (h, c), w_ih, w_hh, b_ih, b_hh)
    return m.stack([h2, c2])


def _lstm_cell_samples(rng):
    B, I, H = 3, 4, 5
    return [
        Sample([
            randn(rng, B, I), randn(rng, B, H), randn(rng, B, H), randn(rng, 4 * H, I) * 0.5,
            randn(rng, 4 * H, H) * 0.5, randn(rng, 4 * H), randn(rng, 4 * H),
        ])
    ]  # fmt: skip


add("lstm_cell", _lstm_cell, _lstm_cell_samples)
no_edges("lstm_cell", f"lstm_cell: {_SMOOTH}")


def _lstm_cell_nobias(m, x, h, c, w_ih, w_hh):
    lib = m if _is_torch(m) else BR
    h2, c2 = lib.lstm_cell(x, (h, c), w_ih, w_hh)
    return m.cat([h2, c2], 1)


add(
    "lstm_cell_nobias",
    _lstm_cell_nobias,
    lambda rng: [Sample([s for s in _lstm_cell_samples(rng)[0].arrays[:5]])],
)


# ------------------------------------------------------------------ recurrent layers (sequences)
def _torch_layer(m, kind, ax, h0, c0, w_hh, b_hh, reverse, nonlinearity="tanh"):
    """PyTorch's fused layer on ax, with W_ih = I and b_ih = 0: its input projection is then ax."""
    G = ax.shape[-1]
    eye = m.eye(G, dtype=ax.dtype)
    params = [eye, w_hh, m.zeros(G, dtype=ax.dtype), b_hh]
    x = m.flip(ax, (0,)) if reverse else ax
    if kind == "lstm":
        out, _, c_n = m.lstm(x, (h0[None], c0[None]), params, True, 1, 0.0, False, False, False)
    elif kind == "gru":
        out, _ = m.gru(x, h0[None], params, True, 1, 0.0, False, False, False)
    else:
        fn = m.rnn_tanh if nonlinearity == "tanh" else m.rnn_relu
        out, _ = fn(x, h0[None], params, True, 1, 0.0, False, False, False)
    if reverse:
        out = m.flip(out, (0,))
    return m.cat([out, c_n]) if kind == "lstm" else out


def _layer_samples(gates, lstm=False):
    def samples(rng):
        out = []
        for T, B, H, reverse in [(4, 2, 3, False), (5, 3, 2, True), (1, 2, 3, False)]:
            arrays = [randn(rng, T, B, gates * H), randn(rng, B, H)]
            if lstm:
                arrays.append(randn(rng, B, H))
            arrays += [randn(rng, gates * H, H) * 0.5, randn(rng, gates * H)]
            out.append(Sample(arrays, {"reverse": reverse}))
        return out

    return samples


def _rnn_layer(nonlinearity):
    def fn(m, ax, h0, w_hh, b_hh, reverse):
        if _is_torch(m):
            return _torch_layer(m, "rnn", ax, h0, None, w_hh, b_hh, reverse, nonlinearity)
        return R.RNNLayer.apply(ax, h0, w_hh, b_hh, nonlinearity=nonlinearity, reverse=reverse)

    return fn


def _gru_layer(m, ax, h0, w_hh, b_hh, reverse):
    if _is_torch(m):
        return _torch_layer(m, "gru", ax, h0, None, w_hh, b_hh, reverse)
    return R.GRULayer.apply(ax, h0, w_hh, b_hh, reverse=reverse)


def _lstm_layer(m, ax, h0, c0, w_hh, b_hh, reverse):
    if _is_torch(m):
        return _torch_layer(m, "lstm", ax, h0, c0, w_hh, b_hh, reverse)
    return R.LSTMLayer.apply(ax, h0, c0, w_hh, b_hh, reverse=reverse)


def _closed_relu_layer(rng):
    # Unit 1 has a large negative input part at every step: relu's gate stays closed there.
    T, B, H = 3, 2, 3
    ax = randn(rng, T, B, H)
    ax[..., 1] = -100.0
    gy = randn(rng, T, B, H)
    gy[..., 1] = inf
    gy[0, 0, 1] = nan
    arrays = [ax, randn(rng, B, H), randn(rng, H, H) * 0.5, randn(rng, H) * 0.1]
    return [Sample(arrays, {"reverse": r}, grad=gy) for r in (False, True)]


add("rnn_layer_tanh", _rnn_layer("tanh"), _layer_samples(1))
add(
    "rnn_layer_relu",
    _rnn_layer("relu"),
    _layer_samples(1),
    edges=_closed_relu_layer,
    edge_ops=("rnn_layer",),
)
add("gru_layer", _gru_layer, _layer_samples(3))
add("lstm_layer", _lstm_layer, _layer_samples(4, lstm=True))
no_edges("gru_layer", f"gru_layer: {_SMOOTH}")
no_edges("lstm_layer", f"lstm_layer: {_SMOOTH}")
