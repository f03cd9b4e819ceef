"""Op-table rows for attention: ``nn.functional.scaled_dot_product_attention`` (one fused op).

Samples cover batch and head dims (broadcast ones too), unbatched 2-D inputs, L != S, bool and
float masks (broadcast, differentiable float masks), ``is_causal`` with L < S and L > S, a custom
``scale`` and grouped-query attention. Edges: rows whose every key is masked (torch's math kernel
gives zero weights there, hence zero outputs and gradients, not NaN), huge logits (the softmax
must subtract the row maximum), one key, no keys, and NaN in a query row. Dropout draws from
backprop's generator, not torch's: it is tested in tests/nn/test_transformer.py.
"""

from __future__ import annotations

import numpy as np

from optable import Sample, add, inf, nan, nnf, randn

A = np.array


def _sdpa(m, q, k, v, *mask, **kw):
    return nnf(m).scaled_dot_product_attention(q, k, v, *mask, **kw)


def _ref(q, k, v, mask=None, scale=None, is_causal=False, enable_gqa=False):
    if enable_gqa:
        return None
    s = q @ k.swapaxes(-1, -2) * (1 / np.sqrt(q.shape[-1]) if scale is None else scale)
    L, S = s.shape[-2:]
    if is_causal:
        s = np.where(np.tril(np.ones((L, S), bool)), s, -inf)
    if mask is not None and np.isin(mask, (0.0, 1.0)).all():
        s = np.where(mask > 0, s, -inf)  # a bool mask (the reference gets it as 0.0 / 1.0)
    elif mask is not None:
        s = s + mask
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True) @ v


def _samples(rng):
    bool_mask = rng.random((4, 6)) > 0.4
    bool_mask[:, 0] = True  # no fully masked row here (gradcheck-able; edges have them)
    return [
        Sample([randn(rng, 2, 3, 4, 5), randn(rng, 2, 3, 6, 5), randn(rng, 2, 3, 6, 7)]),
        Sample([randn(rng, 4, 5), randn(rng, 6, 5), randn(rng, 6, 3)]),  # unbatched
        Sample([randn(rng, 2, 3, 4, 5), randn(rng, 1, 3, 6, 5), randn(rng, 2, 1, 6, 4)]),
        Sample([randn(rng, 2, 5, 4), randn(rng, 2, 5, 4), randn(rng, 2, 5, 4)],
               {"is_causal": True}),
        Sample([randn(rng, 1, 2, 3, 4), randn(rng, 1, 2, 5, 4), randn(rng, 1, 2, 5, 2)],
               {"is_causal": True}),  # L < S
        Sample([randn(rng, 2, 5, 3), randn(rng, 2, 3, 3), randn(rng, 2, 3, 3)],
               {"is_causal": True}),  # L > S
        Sample([randn(rng, 2, 4, 3), randn(rng, 2, 5, 3), randn(rng, 2, 5, 3)], {"scale": 0.7}),
        Sample([randn(rng, 2, 3, 4, 5), randn(rng, 2, 3, 6, 5), randn(rng, 2, 3, 6, 5),
                bool_mask]),
        Sample([randn(rng, 2, 3, 4, 5), randn(rng, 2, 3, 6, 5), randn(rng, 2, 3, 6, 5),
                randn(rng, 3, 1, 6)]),  # float mask, broadcast over batch and queries
        Sample([randn(rng, 2, 4, 3), randn(rng, 2, 5, 3), randn(rng, 2, 5, 3),
                randn(rng, 2, 4, 5)]),
        Sample([randn(rng, 2, 4, 3, 5), randn(rng, 2, 2, 4, 5), randn(rng, 2, 2, 4, 3)],
               {"enable_gqa": True}),
        Sample([randn(rng, 1, 6, 3, 4), randn(rng, 1, 2, 3, 4), randn(rng, 1, 2, 3, 4),
                randn(rng, 6, 3, 3)], {"enable_gqa": True}),
        Sample([randn(rng, 1, 4, 4, 2), randn(rng, 1, 1, 4, 2), randn(rng, 1, 1, 4, 2)],
               {"enable_gqa": True, "is_causal": True}),
    ]  # fmt: skip


def _masked_rows():
    m = np.ones((2, 3, 4), bool)
    m[0, 1] = False
    m[1, :, 2:] = False
    m[1, 2] = False
    return m


def _float_masked_rows():
    m = np.zeros((1, 3, 4))
    m[0, 0] = -inf
    m[0, 2, 1:] = -inf
    return m


def _edges(rng):
    q, k, v = randn(rng, 2, 3, 5), randn(rng, 2, 4, 5), randn(rng, 2, 4, 2)
    nan_q = q.copy()
    nan_q[1, 2, 0] = nan
    return [
        Sample([q, k, v, _masked_rows()]),  # fully masked rows (bool): zeros, as torch
        Sample([q, k, v, _float_masked_rows()]),  # fully masked rows (float -inf mask)
        Sample([q * 300, k * 300, v]),  # logits ~ 1e5: exp overflows without the max shift
        Sample([q * 300, k * 300, v, A([[True, False, True, True]])]),
        Sample([q, k[:, :1], v[:, :1]]),  # one key: weights 1, no gradient to q or k
        Sample([q, k[:, :0], v[:, :0]]),  # no keys: zeros
        Sample([nan_q, k, v]),  # NaN stays in its query row
    ]


add(
    "scaled_dot_product_attention",
    _sdpa,
    _samples,
    ref=_ref,
    rtol32=1e-4,
    atol32=1e-5,
    edges=_edges,
)
