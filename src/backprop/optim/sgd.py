"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..backend.kernels import Kernel
from ..tensor import Tensor
from .optimizer import Optimizer, _check_nonneg, _grad

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), PyTorch's update rule exactly.

    For each parameter ``p`` with gradient ``g``, at step ``t``::

        g = -g if maximize
        g = g + weight_decay * p                     # L2 penalty, folded into the gradient
        if momentum != 0:
            v = g                          (t = 1)   # no dampening on the first step
            v = momentum * v + (1 - dampening) * g   (t > 1)
            g = g + momentum * v   if nesterov else   v
        p = p - lr * g

    Relation to the lectures' form. The lectures write momentum as
    ``L_{N+1} = L_N - g*grad(L_N) - m*g*grad(L_{N-1})`` (g the learning rate, m the momentum): the
    new step is the gradient step plus m times the previous one. Unrolling PyTorch's buffer,
    ``v_N = grad(L_N) + m*v_{N-1}``, gives ``L_{N+1} = L_N - g*grad(L_N) - m*g*v_{N-1}
    = L_N - g*grad(L_N) + m*(L_N - L_{N-1})``: the lectures' rule, where the "previous gradient"
    term is the whole previous step ``v_{N-1} = grad(L_{N-1}) + m*grad(L_{N-2}) + ...`` (the two
    agree on the first two steps; keeping only ``grad(L_{N-1})`` would truncate that sum). Sutskever
    et al.'s velocity form ``u = m*u - g*grad; L += u`` is the same path with ``u = -g*v`` while the
    learning rate is constant; when a scheduler changes it, PyTorch's form rescales the whole
    buffer at once, Sutskever's only the new gradient.

    Nesterov. The look-ahead form evaluates the gradient at ``L_N + m*u_N`` (Sutskever et al.).
    Writing ``phi_N = L_N + m*u_N`` for that look-ahead point, the same iteration reads
    ``v_N = m*v_{N-1} + grad(phi_N)``, ``phi_{N+1} = phi_N - g*(grad(phi_N) + m*v_N)``: PyTorch's
    rule, whose parameters are the look-ahead points. The two paths are the same after this change
    of variable; no extra gradient evaluation is needed.

    Args:
        params: the tensors to optimise, or parameter groups (dicts).
        lr: learning rate (default 1e-3, as in PyTorch).
        momentum: momentum factor (0 disables momentum).
        dampening: dampening of the gradient added to the momentum buffer.
        weight_decay: L2 penalty coefficient.
        nesterov: Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: ascend instead of descend.

    State (with momentum): ``momentum_buffer``, an array of the parameter's shape and dtype.

    Example:
        >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        _check_nonneg(self, group, "momentum")
        _check_nonneg(self, group, "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: Nesterov momentum requires momentum > 0 and dampening == 0, got "
                f"momentum={group['momentum']!r} and dampening={group['dampening']!r}"
            )

    def _update(self, group, p, g, state):
        hyper = dict(lr=group["lr"], weight_decay=group["weight_decay"], maximize=group["maximize"])
        if group["momentum"] == 0:
            SGD_KERNEL(p.data, g, scratch=self._scratch, **hyper)
            return
        first_step = "momentum_buffer" not in state
        buf = self._buffer(state, "momentum_buffer", p)
        SGD_MOMENTUM_KERNEL(
            p.data,
            g,
            buf,
            scratch=self._scratch,
            momentum=group["momentum"],
            dampening=group["dampening"],
            nesterov=group["nesterov"],
            first_step=first_step,
            **hyper,
        )


def _sgd(p, g, *, tmp, lr, weight_decay, maximize):
    """``p -= lr * (g + weight_decay * p)`` (``-g`` if maximize)."""
    d = _grad(p, g, tmp[0], weight_decay, maximize)
    np.multiply(d, -lr, out=tmp[0])
    p += tmp[0]


def _sgd_momentum(
    p, g, buf, *, tmp, lr, weight_decay, momentum, dampening, nesterov, maximize, first_step
):
    """The momentum update of :class:`SGD`'s docstring, on ``buf`` (the momentum buffer)."""
    step = tmp[0]
    d = _grad(p, g, tmp[1], weight_decay, maximize)
    if first_step:
        np.copyto(buf, d)  # v = g
    else:
        buf *= momentum  # v = momentum * v + (1 - dampening) * g
        if dampening == 0:
            buf += d
        else:
            np.multiply(d, 1 - dampening, out=step)
            buf += step
    if nesterov:
        np.multiply(buf, momentum, out=step)  # g + momentum * v
        step += d
        step *= -lr
    else:
        np.multiply(buf, -lr, out=step)
    p += step


SGD_KERNEL = Kernel(_sgd, n_tmp=1, name="sgd")
SGD_MOMENTUM_KERNEL = Kernel(_sgd_momentum, n_tmp=2, name="sgd_momentum")
