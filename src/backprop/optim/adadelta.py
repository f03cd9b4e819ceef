"""Adadelta (Zeiler): step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor
from ._runner import _Job
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

    def _job(self, group, p, g):
        state = self.state[p]
        x = p.data
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros(x.shape, x.dtype)
            state["acc_delta"] = np.zeros(x.shape, x.dtype)
        state["step"] += 1
        wd, maximize, rho = group["weight_decay"], group["maximize"], group["rho"]
        n_grad = 1 if (wd or maximize) else 0
        f = x.dtype.type
        consts = (f(-group["lr"]), f(rho), f(1 - rho), f(group["eps"]), f(wd), maximize, n_grad)
        arrays = (x, g, state["square_avg"], state["acc_delta"])
        return _Job(_adadelta, arrays, 2 + n_grad, consts)


def _adadelta(arrays, tmps, c):
    p, g, v, u = arrays
    neg_lr, rho, one_minus_rho, eps, wd, maximize, n_grad = c
    std, delta = tmps[0], tmps[1]
    if n_grad:
        g = _grad(p, g, tmps[2], wd, maximize)
    v *= rho
    np.multiply(g, one_minus_rho, out=std)
    std *= g
    v += std
    np.add(v, eps, out=std)
    np.sqrt(std, out=std)
    np.add(u, eps, out=delta)
    np.sqrt(delta, out=delta)
    delta /= std
    delta *= g
    u *= rho
    np.multiply(delta, one_minus_rho, out=std)
    std *= delta
    u += std
    delta *= neg_lr
    p += delta
