"""`RBF`: a layer of Gaussian radial basis units with learnable centres and widths (the lectures'
RBF network hidden layer)."""

from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import no_grad
from ..functional.elementwise import exp
from ..functional.linalg import matmul
from ..tensor import Tensor
from . import init
from ._util import check_size, factory_dtype
from .module import Module
from .parameter import Parameter

__all__ = ["RBF"]


class RBF(Module):
    """Gaussian radial basis units: ``y_j = exp(-||x - c_j||^2 / (2 sigma_j^2))``.

    Each output unit j has a learnable centre ``c_j`` (a row of ``centres``) and width
    ``sigma_j = exp(log_sigma_j)``: learning the log keeps the width positive without a
    constraint. The squared distances for a whole batch come from one matrix product,
    ``||x||^2 - 2 x c^T + ||c||^2`` (clamped at 0 against rounding), so the layer is as fast as a
    Linear layer. Follow it with ``nn.Linear(out_features, k)`` for an RBF network.

    Centres start N(0, 1) and widths at ``sigma_init`` (1). To start from data, copy samples (or
    k-means centres) into ``centres`` under ``backprop.no_grad()``.

    Args:
        in_features: the input size D.
        out_features: the number of units K.
        sigma_init: the initial width of every unit (> 0).
        dtype: parameter dtype (float32 by default).

    Shape:
        input (*, D) -> output (*, K), values in (0, 1].

    Attributes:
        centres: (K, D); log_sigma: (K,).

    Example:
        >>> net = nn.Sequential(nn.RBF(2, 20), nn.Linear(20, 1))
    """

    def __init__(self, in_features: int, out_features: int, sigma_init: float = 1.0, dtype=None):
        super().__init__()
        self.in_features = check_size(in_features, "in_features", "RBF", 1)
        self.out_features = check_size(out_features, "out_features", "RBF", 1)
        if not sigma_init > 0:
            raise ValueError(f"RBF: sigma_init must be positive, got {sigma_init}")
        self.sigma_init = float(sigma_init)
        dt = factory_dtype(dtype, "RBF")
        self.centres = Parameter(np.empty((self.out_features, self.in_features), dtype=dt))
        self.log_sigma = Parameter(np.empty((self.out_features,), dtype=dt))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.centres)
        with no_grad():
            self.log_sigma.fill_(float(np.log(self.sigma_init)))

    @property
    def sigma(self) -> Tensor:
        """The widths ``exp(log_sigma)`` (K,)."""
        return exp(self.log_sigma)

    def forward(self, input: Tensor) -> Tensor:
        if not isinstance(input, Tensor) or input.ndim < 1 or input.shape[-1] != self.in_features:
            got = input.shape if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(
                f"RBF(in_features={self.in_features}, out_features={self.out_features}): "
                f"expected input of shape (*, {self.in_features}), got {got}"
            )
        c = self.centres
        x2 = (input * input).sum(-1, keepdim=True)  # (*, 1)
        c2 = (c * c).sum(-1)  # (K,)
        d2 = (x2 - 2.0 * matmul(input, c.T) + c2).clamp(min=0.0)  # (*, K)
        # 1 / (2 sigma^2) = exp(-2 log_sigma) / 2
        return exp(d2 * (exp(self.log_sigma * -2.0) * -0.5))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"
