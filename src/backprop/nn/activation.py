"""Activation modules: thin wrappers over ``backprop.nn.functional`` with PyTorch's names and reprs.

``inplace=True`` writes the result into the input, as in PyTorch (through ``backprop.inplace``:
a leaf that requires grad is refused in grad mode, and an op that saved the input raises at
backward, PyTorch's rules).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..functional import activation as A
from ..tensor import Tensor
from . import init
from ._util import check_size, factory_dtype
from .module import Module
from .parameter import Parameter

__all__ = [
    "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "Softplus", "Threshold", "Step", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "SELU",
    "CELU", "Mish", "Softsign", "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink", "PReLU",
    "GLU",
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
        return A.relu(input, self.inplace)


class LeakyReLU(_Inplace):
    """``x`` for x > 0, else ``negative_slope * x`` (PyTorch's default slope 0.01; Keras' is 0.3).

    Shape: any -> same.
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__(inplace)
        self.negative_slope = negative_slope

    def forward(self, input: Tensor) -> Tensor:
        return A.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(_Inplace):
    """``x`` for x > 0, else ``alpha * (exp(x) - 1)``. Shape: any -> same."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return A.elu(input, self.alpha, self.inplace)

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
        return A.silu(input, self.inplace)


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
        return A.threshold(input, self.threshold, self.value, self.inplace)

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


class Hardtanh(_Inplace):
    """``clamp(x, min_val, max_val)`` (gradient 0 at and beyond the bounds). Shape: any -> same."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        if min_val > max_val:
            raise ValueError(
                f"Hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})"
            )
        self.min_val, self.max_val = min_val, max_val

    def forward(self, input: Tensor) -> Tensor:
        return A.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        s = f"min_val={self.min_val}, max_val={self.max_val}"
        return s + (", inplace=True" if self.inplace else "")


class ReLU6(_Inplace):
    """``min(max(x, 0), 6)``. Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.relu6(input, self.inplace)


class Hardsigmoid(_Inplace):
    """``clamp(x + 3, 0, 6) / 6``. Shape: any -> same. (Its repr omits ``inplace``, as
    PyTorch's.)"""

    def forward(self, input: Tensor) -> Tensor:
        return A.hardsigmoid(input, self.inplace)

    def extra_repr(self) -> str:
        return ""


class Hardswish(_Inplace):
    """``x * clamp(x + 3, 0, 6) / 6``. Shape: any -> same. (Its repr omits ``inplace``, as
    PyTorch's.)"""

    def forward(self, input: Tensor) -> Tensor:
        return A.hardswish(input, self.inplace)

    def extra_repr(self) -> str:
        return ""


class SELU(_Inplace):
    """``scale * elu(x, alpha)`` with SELU's constants (self-normalising networks; initialise
    with ``nn.init.kaiming_normal_(w, nonlinearity='linear')``). Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.selu(input, self.inplace)


class CELU(_Inplace):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``. Shape: any -> same."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__(inplace)
        if alpha == 0:
            raise ValueError("CELU: alpha cannot be 0")
        self.alpha = alpha

    def forward(self, input: Tensor) -> Tensor:
        return A.celu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Mish(_Inplace):
    """``x * tanh(softplus(x))``. Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.mish(input, self.inplace)


class Softsign(Module):
    """``x / (1 + |x|)``. Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.softsign(input)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, stably. Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.logsigmoid(input)


class Tanhshrink(Module):
    """``x - tanh(x)``. Shape: any -> same."""

    def forward(self, input: Tensor) -> Tensor:
        return A.tanhshrink(input)


class Softshrink(Module):
    """Soft thresholding: ``x -+ lambd`` outside ``[-lambd, lambd]``, else 0 (lambd >= 0).

    Shape: any -> same.
    """

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        if not lambd >= 0:
            raise ValueError(f"Softshrink: lambd must be >= 0, got {lambd}")
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return A.softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Module):
    """Hard thresholding: ``x`` where ``|x| > lambd``, else 0. Shape: any -> same."""

    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return A.hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class PReLU(Module):
    """``x`` where ``x > 0``, else ``weight * x``, with the slope learned (He et al. 2015).

    Args:
        num_parameters: 1 (one slope shared by every channel) or the number of channels (dim 1
            of the input).
        init: the slopes' initial value (0.25, as PyTorch).
        dtype: the weight's dtype (float32 by default).

    Shape: (N, C, *) -> same; an input of fewer than 2 dims has one channel.

    Attributes:
        weight: (num_parameters,).

    Example:
        >>> act = nn.PReLU(3)
        >>> act(backprop.randn(2, 3, 4)).shape
        (2, 3, 4)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        if device is not None:
            from ..device import as_device

            as_device(device, "PReLU")
        self.num_parameters = check_size(num_parameters, "num_parameters", "PReLU", 1)
        if isinstance(init, bool) or not isinstance(init, (int, float)):
            raise TypeError(f"PReLU: init must be a number, got {type(init).__name__} {init!r}")
        self.init = init
        dt = factory_dtype(dtype, "PReLU")
        self.weight = Parameter(np.empty((self.num_parameters,), dtype=dt))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return A.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    """The gated linear unit ``a * sigmoid(b)`` over the two halves of ``dim``.

    Shape: (*, 2n, *) -> (*, n, *) along ``dim``.
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return A.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
