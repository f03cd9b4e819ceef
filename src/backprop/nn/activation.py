"""Activation modules: thin wrappers over ``backprop.nn.functional`` with PyTorch's names and reprs.

``inplace`` is accepted where PyTorch has it, for compatibility: backprop always returns a new
tensor (the values are the same; the graph needs the input intact).
"""

from __future__ import annotations

import warnings

from ..functional import activation as A
from ..tensor import Tensor
from .module import Module

__all__ = [
    "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "Softplus", "Threshold", "Step",
]  # fmt: skip


class _Inplace(Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """``max(x, 0)`` elementwise. Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.relu(input)


class LeakyReLU(_Inplace):
    """``x`` for x > 0, else ``negative_slope * x`` (PyTorch's default slope 0.01; Keras' is 0.3).

    Shape: any -> same.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return A.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(_Inplace):
    """``x`` for x > 0, else ``alpha * (exp(x) - 1)``. Shape: any -> same."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return A.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    """``x * Phi(x)`` (Phi: the standard normal CDF); ``approximate='tanh'`` for the tanh form.

    Shape: any -> same.
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return A.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_Inplace):
    """``x * sigmoid(x)`` (swish). Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.silu(input)


class Sigmoid(Module):
    """The logistic unit ``1 / (1 + exp(-x))``. Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.sigmoid(input)


class Tanh(Module):
    """Hyperbolic tangent. Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.tanh(input)


def _legacy_softmax_dim(ndim: int, name: str) -> int:
    warnings.warn(
        f"{name}: implicit dimension choice is deprecated; pass dim explicitly",
        UserWarning,
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """``exp(x) / sum(exp(x))`` along ``dim``. Shape: any -> same.

    Args:
        dim: the axis that sums to 1. None picks PyTorch's legacy default (0 for 0-, 1- and 3-D
            inputs, else 1) with a warning.
    """

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim(input.ndim, "Softmax")
        return A.softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``log(softmax(x))`` along ``dim``, stably (pair with ``NLLLoss``). Shape: any -> same."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim if self.dim is not None else _legacy_softmax_dim(input.ndim, "LogSoftmax")
        return A.log_softmax(input, dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softplus(Module):
    """``log(1 + exp(beta x)) / beta``, linear where ``beta x > threshold``. Shape: any -> same."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        if beta <= 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta}")
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return A.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Threshold(_Inplace):
    """PyTorch's ``Threshold``: ``x`` where ``x > threshold``, else ``value``.

    With ``value=0`` and ``threshold=0`` this is ReLU. The lectures' threshold *unit* (output 1
    or 0) is :class:`Step`.

    Shape: any -> same.
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__(inplace)
        self.threshold, self.value = threshold, value

    def forward(self, input: Tensor) -> Tensor:
        return A.threshold(input, self.threshold, self.value)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else ""
        )


class Step(Module):
    """The lectures' threshold (step) unit: 1 where ``x > threshold``, else 0.

    The perceptron's activation. Its derivative is zero wherever it exists, so no gradient flows
    through it: a network of step units cannot be trained by backprop (the perceptron has its own
    learning rule; MLPs use smooth units such as sigmoid). Not in PyTorch.

    Shape: any -> same.
    """

    def __init__(self, threshold: float = 0.0):
        super().__init__()
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        return A.step(input, self.threshold)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}"
