"""The optimisers' updates as fused numba loops: one pass over memory, split over the cores.

Each function here is the compiled twin of a NumPy kernel in ``backprop.optim`` (the one whose
:class:`~backprop.backend.kernels.Kernel` names it), with the same arguments in the same order: the
arrays (flat, C-contiguous, the parameter's dtype; an absent state array is an empty array), then
the scalars as Python numbers. Nothing imports this module but :mod:`backprop.backend.kernels`, on
the first kernel call with the numba kernels switched on: importing it imports numba.

The arithmetic follows PyTorch's single-tensor code step by step, in the array's dtype: a scalar is
rounded to that dtype first (as PyTorch converts a Python number for a float32 op), and derived
scalars such as ``1 - beta1`` are computed in double precision before that rounding, as PyTorch
computes them in Python. ``fastmath=False``: no reassociation, so a loop gives the same bits on any
thread count. Compiled once per dtype, cached on disk (``cache=True``).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

__all__ = [
    "MAX_THREADS",
    "launched",
    "sgd",
    "sgd_momentum",
    "adam",
    "rmsprop",
    "adagrad",
    "adadelta",
]

# numba starts this many worker threads at most (NUMBA_NUM_THREADS, default: the CPU count).
MAX_THREADS: int = numba.config.NUMBA_NUM_THREADS

_launched = False


def launched() -> bool:
    """Whether a kernel of this module has run in this process (numba's threads have started)."""
    return _launched


def mark_launched() -> None:
    global _launched
    _launched = True


_jit = njit(parallel=True, cache=True, fastmath=False, nogil=True)


@_jit
def sgd(p, g, lr, weight_decay, maximize):  # pragma: no cover - compiled
    neg_lr = p.dtype.type(-lr)
    wd = p.dtype.type(weight_decay)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        p[i] = p[i] + neg_lr * d


@_jit
def sgd_momentum(
    p, g, buf, lr, weight_decay, momentum, dampening, nesterov, maximize, first_step
):  # pragma: no cover - compiled
    neg_lr = p.dtype.type(-lr)
    wd = p.dtype.type(weight_decay)
    mom = p.dtype.type(momentum)
    one_minus_dampening = p.dtype.type(1.0 - dampening)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        if first_step:
            b = d
        else:
            b = buf[i] * mom + one_minus_dampening * d
        buf[i] = b
        if nesterov:
            d = d + mom * b
        else:
            d = b
        p[i] = p[i] + neg_lr * d


@_jit
def adam(
    p,
    g,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    decoupled,
    amsgrad,
    maximize,
    bias_correction1,
    bias_correction2,
):  # pragma: no cover - compiled
    f = p.dtype.type
    decay = f(1.0 - lr * weight_decay)
    wd = f(weight_decay)
    w1 = f(1.0 - beta1)  # exp_avg.lerp_(grad, 1 - beta1)
    lerp_low = abs(w1) < 0.5
    w1_complement = f(1.0) - w1
    b2 = f(beta2)
    w2 = f(1.0 - beta2)
    neg_step_size = f(-(lr / bias_correction1))
    bc2_sqrt = f(bias_correction2**0.5)
    eps_ = f(eps)
    for i in prange(p.size):
        x = p[i]
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            if decoupled:
                x = x * decay
            else:
                d = d + wd * x
        m = exp_avg[i]
        if lerp_low:  # PyTorch's lerp: start + w * (end - start) for w < 0.5
            m = m + w1 * (d - m)
        else:
            m = d - (d - m) * w1_complement
        exp_avg[i] = m
        v = exp_avg_sq[i] * b2 + w2 * d * d
        exp_avg_sq[i] = v
        if amsgrad:
            if max_exp_avg_sq[i] > v or np.isnan(max_exp_avg_sq[i]):
                v = max_exp_avg_sq[i]
            else:
                max_exp_avg_sq[i] = v
        denom = np.sqrt(v) / bc2_sqrt + eps_
        p[i] = x + neg_step_size * m / denom


@_jit
def rmsprop(
    p, g, square_avg, momentum_buffer, grad_avg, lr, alpha, eps, weight_decay, momentum, centered,
    maximize,
):  # pragma: no cover - compiled  # fmt: skip
    f = p.dtype.type
    neg_lr = f(-lr)
    a = f(alpha)
    w = f(1.0 - alpha)
    lerp_low = abs(w) < 0.5
    w_complement = f(1.0) - w
    wd = f(weight_decay)
    mom = f(momentum)
    eps_ = f(eps)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        v = square_avg[i] * a + w * d * d
        square_avg[i] = v
        if centered:
            m = grad_avg[i]
            if lerp_low:
                m = m + w * (d - m)
            else:
                m = d - (d - m) * w_complement
            grad_avg[i] = m
            avg = np.sqrt(v - m * m) + eps_
        else:
            avg = np.sqrt(v) + eps_
        if momentum > 0:
            b = momentum_buffer[i] * mom + d / avg
            momentum_buffer[i] = b
            p[i] = p[i] + neg_lr * b
        else:
            p[i] = p[i] + neg_lr * d / avg


@_jit
def adagrad(p, g, state_sum, clr, eps, weight_decay, maximize):  # pragma: no cover - compiled
    f = p.dtype.type
    neg_clr = f(-clr)
    wd = f(weight_decay)
    eps_ = f(eps)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        s = state_sum[i] + d * d
        state_sum[i] = s
        p[i] = p[i] + neg_clr * d / (np.sqrt(s) + eps_)


@_jit
def adadelta(
    p, g, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize
):  # pragma: no cover - compiled
    f = p.dtype.type
    neg_lr = f(-lr)
    r = f(rho)
    w = f(1.0 - rho)
    wd = f(weight_decay)
    eps_ = f(eps)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        v = square_avg[i] * r + w * d * d
        square_avg[i] = v
        std = np.sqrt(v + eps_)
        delta = np.sqrt(acc_delta[i] + eps_) / std * d
        acc_delta[i] = acc_delta[i] * r + w * delta * delta
        p[i] = p[i] + neg_lr * delta
