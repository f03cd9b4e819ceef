"""Adam (Kingma & Ba) with bias correction, AMSGrad, L2 or decoupled weight decay; and AdamW."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..backend.kernels import Kernel
from ..tensor import Tensor
from .optimizer import Optimizer, _check_nonneg, _check_range, _grad, _lerp

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

    ``m`` is updated as PyTorch does, ``m = m + (1 - beta1) * (g - m)`` (its ``lerp``). The NumPy
    kernel evaluates the last line as ``p -= lr*sqrt(1 - beta2**t)/(1 - beta1**t) * m / (sqrt(v) +
    eps*sqrt(1 - beta2**t))``, the same number in fewer passes over memory; the fused one in
    PyTorch's order.

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

    def _update(self, group, p, g, state):
        t = self._next_step(state)
        exp_avg = self._buffer(state, "exp_avg", p)
        exp_avg_sq = self._buffer(state, "exp_avg_sq", p)
        amsgrad = group["amsgrad"]
        max_exp_avg_sq = self._buffer(state, "max_exp_avg_sq", p) if amsgrad else None
        beta1, beta2 = group["betas"]
        ADAM_KERNEL(
            p.data,
            g,
            exp_avg,
            exp_avg_sq,
            max_exp_avg_sq,
            scratch=self._scratch,
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled=group["decoupled_weight_decay"],
            amsgrad=amsgrad,
            maximize=group["maximize"],
            bias_correction1=1 - beta1**t,
            bias_correction2=1 - beta2**t,
        )


def _adam(
    p,
    g,
    m,
    v,
    v_max,
    *,
    tmp,
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
):
    """The update of :class:`Adam`'s docstring; ``v_max`` is None without amsgrad."""
    t0 = tmp[0]
    if decoupled and weight_decay:
        p *= 1 - lr * weight_decay
    d = _grad(p, g, tmp[1], 0.0 if decoupled else weight_decay, maximize)
    _lerp(m, d, 1 - beta1, out=t0)  # m = beta1 * m + (1 - beta1) * g
    v *= beta2  # v = beta2 * v + (1 - beta2) * g * g
    np.multiply(d, 1 - beta2, out=t0)
    t0 *= d
    v += t0
    if amsgrad:
        np.maximum(v_max, v, out=v_max)
        v = v_max
    bias_correction2_sqrt = bias_correction2**0.5
    np.sqrt(v, out=t0)  # p -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps), in fewer passes
    t0 += eps * bias_correction2_sqrt
    np.divide(m, t0, out=t0)
    t0 *= -lr / bias_correction1 * bias_correction2_sqrt
    p += t0


ADAM_KERNEL = Kernel(_adam, n_tmp=2, name="adam")


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
