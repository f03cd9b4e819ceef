"""Adagrad (Duchi et al.): per-coordinate step sizes from the accumulated squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..backend.kernels import Kernel
from ..tensor import Tensor
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
        # PyTorch creates Adagrad's state with the optimiser, not on the first step.
        state = self.state[p]
        state["step"] = 0
        self._buffer(state, "sum", p, fill=group["initial_accumulator_value"])

    def _update(self, group, p, g, state):
        t = self._next_step(state)  # a parameter added by add_param_group starts here
        state_sum = self._buffer(state, "sum", p, fill=group["initial_accumulator_value"])
        ADAGRAD_KERNEL(
            p.data,
            g,
            state_sum,
            scratch=self._scratch,
            clr=group["lr"] / (1 + (t - 1) * group["lr_decay"]),
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            maximize=group["maximize"],
        )


def _adagrad(p, g, s, *, tmp, clr, eps, weight_decay, maximize):
    """The update of :class:`Adagrad`'s docstring, with ``clr`` the decayed learning rate."""
    t0 = tmp[0]
    d = _grad(p, g, tmp[1], weight_decay, maximize)
    np.multiply(d, d, out=t0)  # s = s + g * g
    s += t0
    np.sqrt(s, out=t0)  # p -= clr * g / (sqrt(s) + eps)
    t0 += eps
    np.divide(d, t0, out=t0)
    t0 *= -clr
    p += t0


ADAGRAD_KERNEL = Kernel(_adagrad, n_tmp=2, name="adagrad")
