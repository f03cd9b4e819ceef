"""Op-table rows for the neural-network ops: losses, batch/layer norm, dropout, embedding."""

from __future__ import annotations

import numpy as np

import backprop as bp
from backprop.ops.dropout import dropout_mask
from optable import Sample, add, away, edges, inf, nan, nnf, no_edges, randn

A = np.array

_RED = ("mean", "sum", "none")


def _is_torch(m) -> bool:
    return m.__name__ == "torch"


# ------------------------------------------------------------------ regression losses
def _pair(gen_t):
    def samples(rng):
        out = []
        for red, shape in zip(_RED, [(3, 4), (5,), (2, 3, 2)]):
            x = randn(rng, *shape)
            out.append(Sample([x, gen_t(rng, x)], {"reduction": red}))
        return out

    return samples


def _reduce_ref(l, reduction):
    return l.mean() if reduction == "mean" else l.sum() if reduction == "sum" else l


add(
    "mse_loss",
    lambda m, x, t, reduction: nnf(m).mse_loss(x, t, reduction=reduction),
    _pair(lambda rng, x: randn(rng, *x.shape)),
    ref=lambda x, t, reduction: _reduce_ref((x - t) ** 2, reduction),
)
no_edges("mse_loss", "a smooth polynomial of x - t: no kink, mask or special point")
add(
    "l1_loss",
    lambda m, x, t, reduction: nnf(m).l1_loss(x, t, reduction=reduction),
    _pair(lambda rng, x: x + away(rng, *x.shape)),  # |x - t| >= 0.1: away from the kink
    ref=lambda x, t, reduction: _reduce_ref(np.abs(x - t), reduction),
    # x == t: the kink, gradient 0 (0 * an inf upstream gradient is NaN, as torch's sgn * grad).
    edges=edges(
        Sample(
            [A([1.0, 2.0, 0.0, nan]), A([1.0, 1.0, 0.0, 1.0])],
            {"reduction": "none"},
            grad=[1.0, inf, inf, 1.0],
        ),
        Sample([A([1.0, 2.0, -0.0]), A([1.0, 1.0, 0.0])], {"reduction": "mean"}),
    ),  # fmt: skip
)
add(
    "huber_loss",
    lambda m, x, t, reduction: nnf(m).huber_loss(x, t, reduction=reduction, delta=0.7),
    _pair(lambda rng, x: x + away(rng, *x.shape)),
    ref=lambda x, t, reduction: _reduce_ref(
        np.where(np.abs(x - t) < 0.7, 0.5 * (x - t) ** 2, 0.7 * (np.abs(x - t) - 0.35)), reduction
    ),
    # |x - t| == delta exactly (where the two pieces meet), x == t, NaN, inf.
    edges=edges(
        Sample(
            [A([0.7, -0.7, 0.0, 1.0, nan, inf]), A([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])],
            {"reduction": "none"},
            grad=[1.0, 2.0, inf, 1.0, 1.0, 1.0],
        ),
        Sample([A([0.7, -0.7, 0.0, 1.0]), A([0.0, 0.0, 0.0, 0.0])], {"reduction": "sum"}),
    ),  # fmt: skip
)


# ------------------------------------------------------------------ binary cross-entropy
def _probs(rng, *shape):
    return rng.uniform(0.05, 0.95, shape)


add(
    "binary_cross_entropy",
    lambda m, x, t, reduction: nnf(m).binary_cross_entropy(x, t, reduction=reduction),
    lambda rng: [
        Sample([_probs(rng, 4, 3), rng.uniform(0, 1, (4, 3))], {"reduction": r}) for r in _RED
    ],
    ref=lambda x, t, reduction: _reduce_ref(-(t * np.log(x) + (1 - t) * np.log1p(-x)), reduction),
    # Probabilities of exactly 0 and 1 (clamped logs, gradient (x - t) / max(x (1 - x), 1e-12)).
    edges=edges(
        Sample([A([0.0, 1.0, 0.5, 1.0, 0.0]), A([1.0, 0.0, 0.5, 1.0, 0.0])], {"reduction": "none"}),
        Sample([A([0.0, 1.0, 0.5, 1.0, 0.0]), A([1.0, 0.0, 0.5, 1.0, 0.0])], {"reduction": "mean"}),
    ),
)
add(
    "binary_cross_entropy_weight",
    lambda m, x, t, w: nnf(m).binary_cross_entropy(x, t, weight=w),
    lambda rng: [
        Sample([_probs(rng, 4, 3), rng.uniform(0, 1, (4, 3)), _probs(rng, 3)], no_grad=(2,))
    ],
)
add(
    "binary_cross_entropy_edges",
    # Probabilities of exactly 0 and 1: the logs are clamped at -100 (values only: kinks).
    lambda m, x, t: nnf(m).binary_cross_entropy(x, t, reduction="none"),
    lambda rng: [
        Sample([np.array([0.0, 1.0, 0.5, 1.0]), np.array([1.0, 0.0, 0.5, 1.0])], no_grad=(0, 1))
    ],
    grad=False,
)
add(
    "binary_cross_entropy_with_logits",
    lambda m, x, t, reduction: nnf(m).binary_cross_entropy_with_logits(x, t, reduction=reduction),
    lambda rng: [
        Sample([randn(rng, 4, 3) * 3, rng.uniform(0, 1, (4, 3))], {"reduction": r}) for r in _RED
    ],
    ref=lambda x, t, reduction: _reduce_ref(
        np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))), reduction
    ),
)
add(
    "binary_cross_entropy_with_logits_weights",
    lambda m, x, t, w, pw, reduction: nnf(m).binary_cross_entropy_with_logits(
        x, t, weight=w, pos_weight=pw, reduction=reduction
    ),
    lambda rng: [
        Sample(
            [
                randn(rng, 5, 3) * 3,
                rng.uniform(0, 1, (5, 3)),
                _probs(rng, 5, 1),
                _probs(rng, 3) * 3,
            ],
            {"reduction": r},
            no_grad=(2, 3),
        )
        for r in _RED
    ],
)
add(
    "binary_cross_entropy_with_logits_extreme",
    lambda m, x, t: nnf(m).binary_cross_entropy_with_logits(x, t, reduction="none"),
    lambda rng: [
        Sample([np.array([-1e4, -50.0, 0.0, 50.0, 1e4]), np.array([1.0, 0.0, 0.5, 1.0, 0.0])])
    ],
    gradcheck=False,
    edges=edges(
        Sample([A([-1e4, -50.0, 0.0, 50.0, 1e4, nan]), A([1.0, 0.0, 0.5, 1.0, 0.0, 1.0])]),
        Sample([A([-1e4, 0.0, 1e4]), A([0.0, 0.0, 1.0])], grad=[inf, 1.0, inf]),
    ),
    edge_ops=("binary_cross_entropy_with_logits",),
)


# ------------------------------------------------------------------ cross-entropy and NLL
def _targets(rng, n, C, ignore=None, shape=None):
    t = rng.integers(0, C, shape if shape is not None else (n,))
    if ignore is not None:
        t.reshape(-1)[::3] = ignore
    return t


def _ce_samples(rng):
    return [
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5)], {}),
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5)], {"reduction": "sum"}),
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5)], {"reduction": "none"}),
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5, ignore=-100)], {}),
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5, ignore=2)], {"ignore_index": 2}),
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5)], {"label_smoothing": 0.2}),
        Sample(
            [randn(rng, 6, 5), _targets(rng, 6, 5, ignore=-100)],
            {"label_smoothing": 0.1, "reduction": "none"},
        ),
        Sample([randn(rng, 3, 4, 2, 3), _targets(rng, 3, 4, shape=(3, 2, 3))], {}),
        Sample(
            [randn(rng, 3, 4, 5), _targets(rng, 3, 4, ignore=-100, shape=(3, 5))],
            {"label_smoothing": 0.3, "reduction": "sum"},
        ),
        Sample([randn(rng, 5), np.array(3)], {"reduction": "none"}),
        Sample([np.array([[1e4, 0.0, -1e4], [3.0, 3.0, 3.0]]), np.array([2, 1])], {}),
    ]


def _ce(m, x, t, **kw):
    return nnf(m).cross_entropy(x, t, **kw)


def _ce_ref(x, t, reduction="mean", ignore_index=-100, label_smoothing=0.0):
    if x.ndim != 2 or label_smoothing or np.abs(x).max() > 100:
        return None
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    t = t.astype(np.int64)  # the harness hands references float64 arrays
    valid = t != ignore_index
    l = np.where(valid, -logp[np.arange(len(t)), np.where(valid, t, 0)], 0.0)
    if reduction == "mean":
        return l.sum() / valid.sum()
    return l.sum() if reduction == "sum" else l


def _ce_edges(rng):
    # Masked (-inf) logits, every target ignored (mean: NaN loss, zero gradient), ignored rows
    # under an inf upstream gradient ('none'), smoothing over masked logits.
    x = A([[-inf, 0.0, 1.0], [0.0, 0.0, 0.0], [5.0, -inf, -inf], [1.0, 2.0, 3.0]])
    t = A([1, 2, 0, -100])
    return [
        Sample([x, t], {}),
        Sample([x, A([-100, -100, -100, -100])], {}),
        Sample([x, t], {"reduction": "none"}, grad=[1.0, 2.0, 3.0, inf]),
        Sample([x, t], {"label_smoothing": 0.1}),
        Sample([x, A([-100, -100, -100, -100])], {"label_smoothing": 0.1}),
        Sample([x, t], {"label_smoothing": 0.1, "reduction": "none"}, grad=[1.0, 2.0, 3.0, inf]),
    ]


add("cross_entropy", _ce, _ce_samples, ref=_ce_ref, edges=_ce_edges)


def _ce_weight_samples(rng):
    w = _probs(rng, 5) * 2
    return [
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5), w], {}, no_grad=(2,)),
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5, ignore=-100), w], {}, no_grad=(2,)),
        Sample(
            [randn(rng, 6, 5), _targets(rng, 6, 5, ignore=-100), w],
            {"label_smoothing": 0.25},
            no_grad=(2,),
        ),
        Sample(
            [randn(rng, 6, 5), _targets(rng, 6, 5), w],
            {"label_smoothing": 0.25, "reduction": "none"},
            no_grad=(2,),
        ),
        Sample(
            [randn(rng, 2, 5, 3), _targets(rng, 2, 5, shape=(2, 3)), w],
            {"reduction": "sum"},
            no_grad=(2,),
        ),
    ]


add(
    "cross_entropy_weight",
    lambda m, x, t, w, **kw: nnf(m).cross_entropy(x, t, weight=w, **kw),
    _ce_weight_samples,
)


def _softmax(rng, *shape):
    e = np.exp(randn(rng, *shape))
    return e / e.sum(1, keepdims=True)


add(
    "cross_entropy_probs",
    _ce,
    lambda rng: [
        Sample([randn(rng, 4, 5), _softmax(rng, 4, 5)], {}),
        Sample([randn(rng, 4, 5), _softmax(rng, 4, 5)], {"reduction": "none"}),
        Sample([randn(rng, 2, 5, 3), _softmax(rng, 2, 5, 3)], {"label_smoothing": 0.2}),
        Sample([randn(rng, 5), _softmax(rng, 1, 5)[0]], {"reduction": "sum"}),
    ],
    # A masked logit where the target is 0 (0 * -inf in the loss: NaN, as torch's).
    edges=edges(
        Sample(
            [A([[-inf, 0.0, 1.0], [0.0, 0.0, 0.0]]), A([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])],
            {"reduction": "none"},
        ),
        Sample(
            [A([[1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]), A([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]])],
            {"reduction": "none"},
            grad=[inf, 1.0],
        ),
    ),  # fmt: skip
)
add(
    "cross_entropy_probs_weight",
    lambda m, x, t, w, **kw: nnf(m).cross_entropy(x, t, weight=w, **kw),
    lambda rng: [
        Sample([randn(rng, 4, 5), _softmax(rng, 4, 5), _probs(rng, 5)], {}, no_grad=(2,)),
        Sample(
            [randn(rng, 4, 5), _softmax(rng, 4, 5), _probs(rng, 5)],
            {"label_smoothing": 0.1, "reduction": "sum"},
            no_grad=(2,),
        ),
    ],
)


def _nll_samples(rng):
    w = _probs(rng, 5)
    return [
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5), w], {}, no_grad=(2,)),
        Sample(
            [randn(rng, 6, 5), _targets(rng, 6, 5, ignore=-100), w],
            {"reduction": "none"},
            no_grad=(2,),
        ),
        Sample(
            [randn(rng, 6, 5), _targets(rng, 6, 5, ignore=1), w], {"ignore_index": 1}, no_grad=(2,)
        ),
        Sample(
            [randn(rng, 2, 5, 3), _targets(rng, 2, 5, shape=(2, 3)), w],
            {"reduction": "sum"},
            no_grad=(2,),
        ),
    ]


add(
    "nll_loss",
    lambda m, x, t, w, **kw: nnf(m).nll_loss(x, t, weight=w, **kw),
    _nll_samples,
)
add(
    "nll_loss_plain",
    lambda m, x, t, **kw: nnf(m).nll_loss(x, t, **kw),
    lambda rng: [
        Sample([randn(rng, 6, 5), _targets(rng, 6, 5, ignore=-100)], {}),
        Sample([randn(rng, 5), np.array(4)], {"reduction": "none"}),
    ],
    edges=edges(
        Sample([A([[-inf, 0.0, 1.0], [0.5, 0.0, 0.0]]), A([-100, -100])], {}),
        Sample(
            [A([[-inf, 0.0, 1.0], [0.5, 0.0, 0.0]]), A([0, -100])],
            {"reduction": "none"},
            grad=[1.0, inf],
        ),
        Sample([A([[-inf, 0.0, 1.0], [0.5, nan, 0.0]]), A([1, 2])], {}),
    ),  # fmt: skip
    edge_ops=("nll_loss",),
)


def _mm_samples(rng):
    w = _probs(rng, 4)
    return [
        Sample([randn(rng, 6, 4), _targets(rng, 6, 4), w], {"p": 1}, no_grad=(2,)),
        Sample([randn(rng, 6, 4), _targets(rng, 6, 4), w], {"p": 2, "margin": 0.5}, no_grad=(2,)),
        Sample([randn(rng, 6, 4), _targets(rng, 6, 4), w], {"reduction": "none"}, no_grad=(2,)),
        Sample(
            [randn(rng, 6, 4), _targets(rng, 6, 4), w], {"reduction": "sum", "p": 2}, no_grad=(2,)
        ),
    ]


add(
    "multi_margin_loss",
    lambda m, x, t, w, **kw: nnf(m).multi_margin_loss(x, t, weight=w, **kw),
    _mm_samples,
)
add(
    "multi_margin_loss_plain",
    lambda m, x, t, **kw: nnf(m).multi_margin_loss(x, t, **kw),
    lambda rng: [
        Sample([randn(rng, 5, 3), _targets(rng, 5, 3)], {}),
        Sample([randn(rng, 4), np.array(2)], {"reduction": "none"}),
    ],
    # A margin met exactly (z = 0: inactive), ties with the target's score, inf upstream.
    edges=edges(
        Sample([A([[1.0, 0.0, 1.0], [2.0, 2.0, 1.0]]), A([0, 1])], {}),
        Sample(
            [A([[1.0, 0.0, 1.0], [2.0, 2.0, 1.0]]), A([0, 1])],
            {"reduction": "none"},
            grad=[inf, 1.0],
        ),
        Sample(
            [A([[1.0, 0.0, 1.0], [2.0, 2.0, 1.0]]), A([0, 1])],
            {"p": 2, "reduction": "none"},
            grad=[inf, 1.0],
        ),
    ),  # fmt: skip
    edge_ops=("multi_margin_loss",),
)


# ------------------------------------------------------------------ normalisation
def _bn(m, x, w, b, rm, rv, training):
    return nnf(m).batch_norm(x, rm, rv, w, b, training=training, momentum=0.2, eps=1e-3)


def _bn_samples(rng):
    out = []
    for shape in [(5, 3), (4, 3, 5), (3, 3, 4, 2)]:
        for training in (True, False):
            out.append(
                Sample(
                    [randn(rng, *shape) * 2 + 1, _probs(rng, 3) + 0.5, randn(rng, 3),
                     randn(rng, 3), _probs(rng, 3) + 0.5],
                    {"training": training},
                    no_grad=(3, 4),
                )
            )  # fmt: skip
    return out


def _bn_edges(rng):
    # A constant channel (zero variance: xhat = 0, invstd = 1/sqrt(eps)), a zero running_var.
    x = randn(rng, 4, 3, 2)
    x[:, 1] = 2.5
    w, b = A([1.0, 2.0, 0.5]), A([0.0, 1.0, -1.0])
    return [
        Sample([x, w, b, A([0.0, 2.5, 0.0]), A([1.0, 0.0, 1.0])], {"training": t}, no_grad=(3, 4))
        for t in (True, False)
    ]


add("batch_norm", _bn, _bn_samples, rtol32=1e-4, atol32=1e-5, edges=_bn_edges)
add(
    "batch_norm_noaffine",
    lambda m, x: nnf(m).batch_norm(x, None, None, training=True),
    lambda rng: [Sample([randn(rng, 6, 4, 3)])],
    rtol32=1e-4,
    atol32=1e-5,
)


def _ln_samples(rng):
    return [
        Sample([randn(rng, 4, 5), _probs(rng, 5), randn(rng, 5)], {"normalized_shape": (5,)}),
        Sample(
            [randn(rng, 2, 3, 4) * 3, _probs(rng, 3, 4), randn(rng, 3, 4)],
            {"normalized_shape": (3, 4)},
        ),
    ]


add(
    "layer_norm",
    lambda m, x, w, b, normalized_shape: nnf(m).layer_norm(x, normalized_shape, w, b),
    _ln_samples,
    rtol32=1e-4,
    atol32=1e-5,
)
add(
    "layer_norm_noaffine",
    lambda m, x: nnf(m).layer_norm(x, (x.shape[-1],)),
    lambda rng: [Sample([randn(rng, 3, 6)])],
    rtol32=1e-4,
    atol32=1e-5,
    # A constant row (zero variance).
    edges=edges(Sample([A([[1.5, 1.5, 1.5, 1.5], [0.0, 1.0, 2.0, 3.0]])])),
    edge_ops=("layer_norm",),
)


# ------------------------------------------------------------------ dropout, embedding
def _dropout(m, x, p):
    # Both sides use backprop's mask (reseeded on each call, so gradcheck sees one function):
    # torch computes x * mask with it, which checks our scaling and gradient.
    bp.manual_seed(7)
    if _is_torch(m):
        dtype = np.dtype(str(x.dtype).removeprefix("torch."))
        return x * m.tensor(dropout_mask(np, tuple(x.shape), p, dtype))
    return nnf(m).dropout(x, p)


add(
    "dropout",
    _dropout,
    lambda rng: [Sample([randn(rng, 5, 8)], {"p": p}) for p in (0.3, 0.5, 1.0)],
)
add(
    "dropout_certain",  # p = 0 and p = 1 are deterministic: real torch dropout on both sides
    lambda m, x, p: nnf(m).dropout(x, p),
    lambda rng: [],
    edges=edges(
        *[Sample([A([1.0, nan, inf, 0.0])], {"p": p}, grad=[inf, nan, 1.0, inf]) for p in (0, 1)]
    ),
    edge_ops=("dropout",),
)


def _emb_samples(rng):
    idx = np.array([[0, 2, 2, 5], [1, 0, 5, 5]])
    return [
        Sample([randn(rng, 6, 3), idx], {}),
        Sample([randn(rng, 6, 3), np.array([4, 4, 4, 1])], {}),
    ]


add("embedding", lambda m, w, idx, **kw: nnf(m).embedding(idx, w, **kw), _emb_samples)
add(
    "embedding_padding",
    lambda m, w, idx, **kw: nnf(m).embedding(idx, w, **kw),
    lambda rng: [
        Sample([randn(rng, 6, 3), np.array([[0, 2, 2, 5], [1, 0, 5, 5]])], {"padding_idx": 0}),
        Sample([randn(rng, 6, 3), np.array([4, 4, 4, 1])], {"padding_idx": -2}),
    ],
    gradcheck=False,  # by design the padding row gets no gradient although the output uses it
    # inf/NaN upstream gradients at padding positions: the padding row still gets 0.
    edges=edges(
        Sample(
            [A([[1.0, 2.0], [nan, inf], [0.0, 1.0]]), A([0, 2, 0, 1])],
            {"padding_idx": 0},
            grad=A([[inf, nan], [1.0, 2.0], [inf, 1.0], [1.0, inf]]),
        ),
    ),  # fmt: skip
    edge_ops=("embedding",),
)
