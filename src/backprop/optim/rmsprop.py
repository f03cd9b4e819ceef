"""RMSprop (Hinton's lecture 6e): divide the gradient by a running RMS of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor
from ._runner import _Job
from .optimizer import Optimizer, _check_nonneg, _grad

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop, PyTorch's update rule exactly.

    For each parameter ``p`` with gradient ``g``::

        g = -g if maximize
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g          # running mean of g^2  (square_avg)
        if centered:                                 # divide by a running std instead of RMS
            a = alpha * a + (1 - alpha) * g          # running mean of g     (grad_avg)
            d = sqrt(v - a * a) + eps
        else:
            d = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / d                 # (momentum_buffer)
            p = p - lr * b
        else:
            p = p - lr * g / d

    ``eps`` is added outside the square root (as in PyTorch; TensorFlow adds it inside).

    Args:
        params: the tensors to optimise, or parameter groups (dicts).
        lr: learning rate (default 1e-2).
        alpha: smoothing constant of the running averages.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty coefficient.
        momentum: momentum factor (0 disables it).
        centered: normalise by an estimate of the gradient's variance rather than its second moment.
        maximize: ascend instead of descend.

    State: ``step`` (int), ``square_avg``, ``momentum_buffer`` (momentum > 0) and ``grad_avg``
    (centered).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            alpha=alpha,
            eps=eps,
            centered=centered,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        _check_nonneg(self, group, "eps")
        _check_nonneg(self, group, "momentum")
        _check_nonneg(self, group, "weight_decay")
        _check_nonneg(self, group, "alpha")

    def _job(self, group, p, g):
        state = self.state[p]
        x = p.data
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros(x.shape, x.dtype)
        # Created on first use, also when a group turns momentum or centering on mid-training.
        if group["momentum"] > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros(x.shape, x.dtype)
        if group["centered"] and "grad_avg" not in state:
            state["grad_avg"] = np.zeros(x.shape, x.dtype)
        state["step"] += 1
        wd, maximize, alpha = group["weight_decay"], group["maximize"], group["alpha"]
        n_grad = 1 if (wd or maximize) else 0
        f = x.dtype.type
        consts = (
            f(-group["lr"]),
            f(alpha),
            f(1 - alpha),
            f(group["eps"]),
            f(group["momentum"]),
            f(wd),
            maximize,
            n_grad,
        )
        buf = state["momentum_buffer"] if group["momentum"] > 0 else None
        avg = state["grad_avg"] if group["centered"] else None
        arrays = (x, g, state["square_avg"], buf, avg)
        return _Job(_rmsprop, arrays, 1 + n_grad, consts)


def _rmsprop(arrays, tmps, c):
    p, g, v, buf, avg = arrays
    neg_lr, alpha, one_minus_alpha, eps, momentum, wd, maximize, n_grad = c
    tmp = tmps[0]
    if n_grad:
        g = _grad(p, g, tmps[1], wd, maximize)
    v *= alpha
    np.multiply(g, one_minus_alpha, out=tmp)
    tmp *= g
    v += tmp
    if avg is not None:
        avg *= alpha
        np.multiply(g, one_minus_alpha, out=tmp)
        avg += tmp
        np.multiply(avg, avg, out=tmp)
        np.subtract(v, tmp, out=tmp)
        np.sqrt(tmp, out=tmp)
    else:
        np.sqrt(v, out=tmp)
    tmp += eps
    np.divide(g, tmp, out=tmp)
    if buf is not None:
        buf *= momentum
        buf += tmp
        np.multiply(buf, neg_lr, out=tmp)
    else:
        tmp *= neg_lr
    p += tmp
