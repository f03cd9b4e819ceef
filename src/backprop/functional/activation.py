"""Activation functions and softmax; re-exported by ``backprop.nn.functional``."""

from __future__ import annotations

from ..ops import activation as A
from ..tensor import Tensor
from ._util import check_float, one_dim
from .elementwise import clone

__all__ = [
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "silu", "threshold",
    "step", "heaviside_step", "softmax", "log_softmax", "linear_activation",
]  # fmt: skip


def _float(x: Tensor, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    check_float(x, op)
    return x


def _number(v, op: str, name: str) -> float:
    """A real-number setting (bools and strings refused: they would be a silent misuse)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
        raise TypeError(f"{op}: {name} must be a number, got {type(v).__name__} {v!r}")
    return float(v)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, computed without overflow."""
    return A.Sigmoid.apply(_float(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return A.Tanh.apply(_float(input, "tanh"))


def relu(input: Tensor) -> Tensor:
    """``max(x, 0)``; the gradient at 0 is 0, as in PyTorch."""
    return A.ReLU.apply(_float(input, "relu"))


def leaky_relu(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x`` (PyTorch's default slope, 0.01)."""
    slope = _number(negative_slope, "leaky_relu", "negative_slope")
    return A.LeakyReLU.apply(_float(input, "leaky_relu"), negative_slope=slope)


def elu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return A.ELU.apply(_float(input, "elu"), alpha=_number(alpha, "elu", "alpha"))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """``x * Phi(x)`` with Phi the standard normal CDF; ``approximate='tanh'`` for the tanh form."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return A.GELU.apply(_float(input, "gelu"), approximate=approximate)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta x)) / beta``; linear where ``beta x > threshold`` (for stability)."""
    beta = _number(beta, "softplus", "beta")
    threshold = _number(threshold, "softplus", "threshold")
    if not beta > 0:
        raise ValueError(f"softplus: beta must be positive, got {beta}")
    return A.Softplus.apply(_float(input, "softplus"), beta=beta, threshold=threshold)


def silu(input: Tensor) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return A.SiLU.apply(_float(input, "silu"))


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """PyTorch's ``F.threshold``: ``x`` where ``x > threshold``, else ``value``."""
    threshold = _number(threshold, "threshold", "threshold")
    value = _number(value, "threshold", "value")
    return A.Threshold.apply(_float(input, "threshold"), threshold=threshold, value=value)


def step(input: Tensor, threshold: float = 0.0) -> Tensor:
    """The lectures' threshold (step) unit: 1 where ``x > threshold``, else 0.

    Its derivative is zero wherever it exists, so no gradient flows through it (the lectures'
    "no gradient"): the reason the perceptron has its own learning rule and MLPs use smooth units.
    """
    threshold = _number(threshold, "step", "threshold")
    return A.Step.apply(_float(input, "step"), threshold=threshold)


heaviside_step = step


def linear_activation(input: Tensor) -> Tensor:
    """The identity (the lectures' linear unit)."""
    return input


def softmax(input: Tensor, dim: int) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, shifted by the max so that 1e4 is fine."""
    x = _float(input, "softmax")
    d = one_dim(dim, x.ndim, "softmax")
    if x.data.size == 0:  # nothing to normalise: an empty result, as in PyTorch
        return clone(x)
    return A.Softmax.apply(x, dim=d)


def log_softmax(input: Tensor, dim: int) -> Tensor:
    """``log(softmax(x))`` along ``dim``, computed stably in one fused op."""
    x = _float(input, "log_softmax")
    d = one_dim(dim, x.ndim, "log_softmax")
    if x.data.size == 0:
        return clone(x)
    return A.LogSoftmax.apply(x, dim=d)
