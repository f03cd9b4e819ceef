"""Adadelta (Zeiler): step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..backend.kernels import Kernel
from ..tensor import Tensor
from .optimizer import Optimizer, _check_nonneg, _check_range, _grad

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta, PyTorch's update rule exactly.

    For each parameter ``p`` with gradient ``g``::

        g = -g if maximize
        g = g + weight_decay * p
        v = rho * v + (1 - rho) * g * g                   # running mean of g^2  (square_avg)
        delta = sqrt(u + eps) / sqrt(v + eps) * g         # units of p: RMS(update) / RMS(grad)
        u = rho * u + (1 - rho) * delta * delta           # running mean of delta^2  (acc_delta)
        p = p - lr * delta

    Zeiler's method has no learning rate (``lr=1``, PyTorch's default); ``lr`` scales the update.

    Args:
        params: the tensors to optimise, or parameter groups (dicts).
        lr: scale of the update (default 1.0).
        rho: decay rate of the running averages, in [0, 1].
        eps: added inside both square roots (it also sets the size of the first steps).
        weight_decay: L2 penalty coefficient.
        maximize: ascend instead of descend.

    State: ``step`` (int), ``square_avg`` and ``acc_delta``.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        _check_range(self, "rho", group["rho"], 0.0, 1.0, hi_open=False)
        _check_nonneg(self, group, "eps")
        _check_nonneg(self, group, "weight_decay")

    def _update(self, group, p, g, state):
        self._next_step(state)
        ADADELTA_KERNEL(
            p.data,
            g,
            self._buffer(state, "square_avg", p),
            self._buffer(state, "acc_delta", p),
            scratch=self._scratch,
            lr=group["lr"],
            rho=group["rho"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            maximize=group["maximize"],
        )


def _adadelta(p, g, v, u, *, tmp, lr, rho, eps, weight_decay, maximize):
    """The update of :class:`Adadelta`'s docstring."""
    std, delta = tmp[0], tmp[1]
    d = _grad(p, g, tmp[2], weight_decay, maximize)
    v *= rho  # v = rho * v + (1 - rho) * g * g
    np.multiply(d, 1 - rho, out=std)
    std *= d
    v += std
    np.add(v, eps, out=std)  # delta = sqrt(u + eps) / sqrt(v + eps) * g
    np.sqrt(std, out=std)
    np.add(u, eps, out=delta)
    np.sqrt(delta, out=delta)
    delta /= std
    delta *= d
    u *= rho  # u = rho * u + (1 - rho) * delta * delta
    np.multiply(delta, 1 - rho, out=std)
    std *= delta
    u += std
    delta *= -lr  # p -= lr * delta
    p += delta


ADADELTA_KERNEL = Kernel(_adadelta, n_tmp=3, name="adadelta")
