"""Adam (Kingma & Ba) with bias correction, AMSGrad, L2 or decoupled weight decay; and AdamW."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor
from ._runner import _Job
from .optimizer import Optimizer, _check_nonneg, _check_range, _grad

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam, PyTorch's update rule exactly.

    For each parameter ``p`` with gradient ``g``, at step ``t = 1, 2, ...``::

        g = -g if maximize
        p = p * (1 - lr * weight_decay)          if decoupled_weight_decay   (AdamW)
        g = g + weight_decay * p                 otherwise                   (L2 penalty)
        m = beta1 * m + (1 - beta1) * g          # first moment  (exp_avg)
        v = beta2 * v + (1 - beta2) * g * g      # second moment (exp_avg_sq)
        v_max = max(v_max, v)                    if amsgrad
        m_hat = m / (1 - beta1**t)               # bias corrections: m and v start at 0
        v_hat = (v_max if amsgrad else v) / (1 - beta2**t)
        p = p - lr * m_hat / (sqrt(v_hat) + eps)

    Evaluated as ``p -= lr*sqrt(1 - beta2**t)/(1 - beta1**t) * m / (sqrt(v) + eps*sqrt(1 -
    beta2**t))``, the same number in fewer passes over memory.

    Args:
        params: the tensors to optimise, or parameter groups (dicts).
        lr: learning rate.
        betas: the decay rates (beta1, beta2) of the moment estimates, each in [0, 1).
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty (or decoupled decay, see below).
        amsgrad: normalise by the running maximum of the second moment (Reddi et al.).
        maximize: ascend instead of descend.
        decoupled_weight_decay: shrink the weights directly (``p *= 1 - lr*weight_decay``) instead
            of adding ``weight_decay * p`` to the gradient: that is AdamW.

    State: ``step`` (int), ``exp_avg``, ``exp_avg_sq`` and, with amsgrad, ``max_exp_avg_sq``.

    Example:
        >>> opt = Adam(model.parameters(), lr=1e-3)
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _validate(self, group):
        super()._validate(group)
        _check_nonneg(self, group, "eps")
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"{type(self).__name__}: betas must be a pair, got betas={betas!r}")
        _check_range(self, "betas[0]", betas[0], 0.0, 1.0)
        _check_range(self, "betas[1]", betas[1], 0.0, 1.0)
        _check_nonneg(self, group, "weight_decay")

    def _job(self, group, p, g):
        state = self.state[p]
        x = p.data
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros(x.shape, x.dtype)
            state["exp_avg_sq"] = np.zeros(x.shape, x.dtype)
        if group["amsgrad"] and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = np.zeros(x.shape, x.dtype)
        state["step"] += 1
        t = state["step"]
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
        bias_correction1 = 1 - beta1**t
        bias_correction2_sqrt = (1 - beta2**t) ** 0.5
        f = x.dtype.type
        l2 = 0.0 if decoupled else wd
        n_grad = 1 if (l2 or maximize) else 0
        consts = (
            f(beta1),
            f(1 - beta1),
            f(beta2),
            f(1 - beta2),
            f(group["eps"] * bias_correction2_sqrt),
            f(-lr / bias_correction1 * bias_correction2_sqrt),
            f(1 - lr * wd) if decoupled and wd else None,
            f(l2),
            maximize,
            n_grad,
        )
        vmax = state["max_exp_avg_sq"] if group["amsgrad"] else None
        arrays = (x, g, state["exp_avg"], state["exp_avg_sq"], vmax)
        return _Job(_adam, arrays, 1 + n_grad, consts)


def _adam(arrays, tmps, c):
    p, g, m, v, vmax = arrays
    beta1, one_minus_beta1, beta2, one_minus_beta2, eps_scaled, neg_step = c[:6]
    decay, l2, maximize, n_grad = c[6:]
    tmp = tmps[0]
    if decay is not None:
        p *= decay
    if n_grad:
        g = _grad(p, g, tmps[1], l2, maximize)
    m *= beta1
    np.multiply(g, one_minus_beta1, out=tmp)
    m += tmp
    v *= beta2
    np.multiply(g, one_minus_beta2, out=tmp)
    tmp *= g
    v += tmp
    if vmax is not None:
        np.maximum(vmax, v, out=vmax)
        np.sqrt(vmax, out=tmp)
    else:
        np.sqrt(v, out=tmp)
    tmp += eps_scaled
    np.divide(m, tmp, out=tmp)
    tmp *= neg_step
    p += tmp


class AdamW(Adam):
    r"""Adam with decoupled weight decay (Loshchilov & Hutter): ``Adam(...,
    decoupled_weight_decay=True)``, with PyTorch's default ``weight_decay=1e-2``.

    Each step first shrinks the weights, ``p = p * (1 - lr * weight_decay)``, then applies the Adam
    update computed from the raw gradient (see :class:`Adam` for the rule). Unlike an L2 term in the
    gradient, this decay is not rescaled by Adam's per-coordinate step sizes.

    Args:
        params: the tensors to optimise, or parameter groups (dicts).
        lr: learning rate.
        betas: the decay rates (beta1, beta2) of the moment estimates, each in [0, 1).
        eps: added to the denominator for numerical stability.
        weight_decay: decoupled weight-decay coefficient.
        amsgrad: normalise by the running maximum of the second moment.
        maximize: ascend instead of descend.
    """

    def __init__(
        self,
        params: Iterable[Tensor] | Iterable[dict],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )
