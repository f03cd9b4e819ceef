"""RMSprop (Hinton's lecture 6e): divide the gradient by a running RMS of recent gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..backend.kernels import Kernel
from ..tensor import Tensor
from .optimizer import Optimizer, _check_nonneg, _grad, _lerp

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

    def _update(self, group, p, g, state):
        self._next_step(state)
        square_avg = self._buffer(state, "square_avg", p)
        # Each created on first use, also when a group turns momentum or centering on later.
        momentum, centered = group["momentum"], group["centered"]
        buf = self._buffer(state, "momentum_buffer", p) if momentum > 0 else None
        grad_avg = self._buffer(state, "grad_avg", p) if centered else None
        RMSPROP_KERNEL(
            p.data,
            g,
            square_avg,
            buf,
            grad_avg,
            scratch=self._scratch,
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=momentum,
            centered=centered,
            maximize=group["maximize"],
        )


def _rmsprop(p, g, v, b, a, *, tmp, lr, alpha, eps, weight_decay, momentum, centered, maximize):
    """The update of :class:`RMSprop`'s docstring; ``b`` (momentum) and ``a`` (centered) may be
    None."""
    t0 = tmp[0]
    d = _grad(p, g, tmp[1], weight_decay, maximize)
    v *= alpha  # v = alpha * v + (1 - alpha) * g * g
    np.multiply(d, 1 - alpha, out=t0)
    t0 *= d
    v += t0
    if centered:
        _lerp(a, d, 1 - alpha, out=t0)  # a = alpha * a + (1 - alpha) * g
        np.multiply(a, a, out=t0)  # d = sqrt(v - a * a) + eps
        np.subtract(v, t0, out=t0)
        np.sqrt(t0, out=t0)
    else:
        np.sqrt(v, out=t0)  # d = sqrt(v) + eps
    t0 += eps
    if momentum > 0:
        np.divide(d, t0, out=t0)  # b = momentum * b + g / d;  p -= lr * b
        b *= momentum
        b += t0
        np.multiply(b, -lr, out=t0)
    else:
        np.divide(d, t0, out=t0)  # p -= lr * g / d
        t0 *= -lr
    p += t0


RMSPROP_KERNEL = Kernel(_rmsprop, n_tmp=2, name="rmsprop")
