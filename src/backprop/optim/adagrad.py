"""Adagrad (Duchi et al.): per-coordinate step sizes from the accumulated squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor
from ._runner import _Job
from .optimizer import Optimizer, _check_nonneg, _grad

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad, PyTorch's update rule exactly.

    For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

        g = -g if maximize
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)      # optional decay of the learning rate
        s = s + g * g                            # s starts at initial_accumulator_value
        p = p - clr * g / (sqrt(s) + eps)

    Coordinates with large past gradients take small steps; the step sizes only ever shrink,
    which is what Adadelta and RMSprop set out to fix.

    Args:
        params: the tensors to optimise, or parameter groups (dicts).
        lr: learning rate.
        lr_decay: learning-rate decay per step (see ``clr`` above).
        weight_decay: L2 penalty coefficient.
        initial_accumulator_value: the starting value of the sum of squares ``s``.
        eps: added to the denominator for numerical stability.
        maximize: ascend instead of descend.

    State: ``step`` (int) and ``sum``, created at construction as in PyTorch (from each group's
    own ``initial_accumulator_value``).
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            eps=eps,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p)

    def _validate(self, group):
        super()._validate(group)
        _check_nonneg(self, group, "lr_decay")
        _check_nonneg(self, group, "weight_decay")
        _check_nonneg(self, group, "initial_accumulator_value")
        _check_nonneg(self, group, "eps")

    def _init_state(self, group, p):
        state = self.state[p]
        state["step"] = 0
        state["sum"] = np.full(p.data.shape, group["initial_accumulator_value"], p.data.dtype)
        return state

    def _job(self, group, p, g):
        state = self.state[p]
        if not state:  # a parameter added with add_param_group
            self._init_state(group, p)
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        wd, maximize = group["weight_decay"], group["maximize"]
        n_grad = 1 if (wd or maximize) else 0
        f = p.data.dtype.type
        consts = (f(-clr), f(group["eps"]), f(wd), maximize, n_grad)
        return _Job(_adagrad, (p.data, g, state["sum"]), 1 + n_grad, consts)


def _adagrad(arrays, tmps, c):
    p, g, s = arrays
    neg_clr, eps, wd, maximize, n_grad = c
    tmp = tmps[0]
    if n_grad:
        g = _grad(p, g, tmps[1], wd, maximize)
    np.multiply(g, g, out=tmp)
    s += tmp
    np.sqrt(s, out=tmp)
    tmp += eps
    np.divide(g, tmp, out=tmp)
    tmp *= neg_clr
    p += tmp
