"""Activation functions and softmax; re-exported by ``backprop.nn.functional``."""

from __future__ import annotations

import numpy as np

from ..ops import activation as A
from ..tensor import Tensor
from ._util import FLOAT_DEFAULT, cast, check_float, one_dim, write_out
from .elementwise import clone
from .reduction import norm

__all__ = [
    "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "silu", "threshold",
    "step", "heaviside_step", "softmax", "log_softmax", "linear_activation",
    "relu_", "leaky_relu_", "elu_", "threshold_",
    "hardtanh", "hardtanh_", "relu6", "hardsigmoid", "hardswish", "selu", "selu_", "celu",
    "celu_", "mish", "softsign", "logsigmoid", "tanhshrink", "softshrink", "hardshrink", "prelu",
    "glu", "normalize",
]  # fmt: skip

# SELU's constants (Klambauer et al. 2017), to PyTorch's digits.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _float(x: Tensor, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    check_float(x, op)
    return x


def _apply(input: Tensor, inplace: bool, op: str, fn) -> Tensor:
    """``fn(input)``, or, with ``inplace``, its values written into ``input`` through the
    in-place machinery (PyTorch's rules: a leaf that requires grad is refused in grad mode; the
    graph records the write; ``input`` is returned)."""
    if not isinstance(inplace, bool):
        raise TypeError(f"{op}: inplace must be a bool, got {type(inplace).__name__}")
    if not inplace:
        return fn(input)
    from .. import inplace as _inplace  # (imports Tensor's module: late, as tensor.py does)

    return _inplace.write(input, op + "_", fn)


def _number(v, op: str, name: str) -> float:
    """A real-number setting (bools and strings refused: they would be a silent misuse)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) and not hasattr(v, "__float__"):
        raise TypeError(f"{op}: {name} must be a number, got {type(v).__name__} {v!r}")
    return float(v)


def _to_float(x, op: str) -> Tensor:
    """``x``, an integer or bool tensor as float32 (PyTorch computes ``sigmoid`` and ``tanh`` of
    integers in the default float dtype)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")
    return x if x.data.dtype.kind == "f" else cast(x, FLOAT_DEFAULT)


def sigmoid(input: Tensor) -> Tensor:
    """``1 / (1 + exp(-x))``, computed without overflow; integer and bool inputs give float32."""
    return A.Sigmoid.apply(_to_float(input, "sigmoid"))


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent; integer and bool inputs give float32."""
    return A.Tanh.apply(_to_float(input, "tanh"))


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """``max(x, 0)``; the gradient at 0 is 0, as in PyTorch. ``inplace``: write into ``input``.
    Integer tensors keep their dtype (no gradient); bool ones are refused, as in PyTorch."""
    return _apply(_real(input, "relu"), inplace, "relu", A.ReLU.apply)


def relu_(input: Tensor) -> Tensor:
    """In-place :func:`relu`."""
    return relu(input, inplace=True)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x`` (PyTorch's default slope, 0.01)."""
    slope = _number(negative_slope, "leaky_relu", "negative_slope")
    fn = lambda x: A.LeakyReLU.apply(x, negative_slope=slope)  # noqa: E731
    return _apply(_float(input, "leaky_relu"), inplace, "leaky_relu", fn)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place :func:`leaky_relu`."""
    return leaky_relu(input, negative_slope, inplace=True)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    alpha = _number(alpha, "elu", "alpha")
    return _apply(_float(input, "elu"), inplace, "elu", lambda x: A.ELU.apply(x, alpha=alpha))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`elu`."""
    return elu(input, alpha, inplace=True)


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


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (also called swish)."""
    return _apply(_float(input, "silu"), inplace, "silu", A.SiLU.apply)


def _threshold(input: Tensor, th, value, inplace: bool) -> Tensor:
    th = _number(th, "threshold", "threshold")
    value = _number(value, "threshold", "value")
    fn = lambda x: A.Threshold.apply(x, threshold=th, value=value)  # noqa: E731
    return _apply(_float(input, "threshold"), inplace, "threshold", fn)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """PyTorch's ``F.threshold``: ``x`` where ``x > threshold``, else ``value``."""
    return _threshold(input, threshold, value, inplace)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place :func:`threshold`."""
    return _threshold(input, threshold, value, True)


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


# ------------------------------------------------------------------ hard units, SELU/CELU, shrinks
def _real(input, op: str) -> Tensor:
    """A tensor of real numbers (float, or integer where PyTorch's kernel takes integers)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if input.dtype.kind not in "fiu":
        raise TypeError(f"{op}: expected a float or integer tensor, got dtype {input.dtype}")
    return input


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """``clamp(x, min_val, max_val)``; the gradient is 0 at and beyond the bounds (PyTorch's).

    Shape: any -> same. Integer tensors are clamped too (no gradient).

    Example:
        >>> hardtanh(backprop.tensor([-2.0, 0.5, 1.0]))
        tensor([-1.0000,  0.5000,  1.0000])
    """
    lo = _number(min_val, "hardtanh", "min_val")
    hi = _number(max_val, "hardtanh", "max_val")
    if lo > hi:
        raise ValueError(f"hardtanh: min_val ({lo}) cannot be greater than max_val ({hi})")
    x = _real(input, "hardtanh")
    if x.dtype.kind == "u" and lo < 0:
        raise TypeError(
            f"hardtanh: an unsigned tensor ({x.dtype}) cannot take the negative limit {lo}"
        )
    fn = lambda x: A.Hardtanh.apply(x, min_val=lo, max_val=hi)  # noqa: E731
    return _apply(x, inplace, "hardtanh", fn)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place :func:`hardtanh`."""
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """``min(max(x, 0), 6)``: :func:`hardtanh` on (0, 6), as PyTorch computes it (gradient 0 at
    0 and at 6)."""
    fn = lambda x: A.Hardtanh.apply(x, min_val=0.0, max_val=6.0)  # noqa: E731
    return _apply(_real(input, "relu6"), inplace, "relu6", fn)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """``clamp(x + 3, 0, 6) / 6``, the piecewise-linear sigmoid (MobileNetV3); gradient 1/6
    strictly inside (-3, 3), else 0."""
    return _apply(_float(input, "hardsigmoid"), inplace, "hardsigmoid", A.Hardsigmoid.apply)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * hardsigmoid(x)`` (MobileNetV3); its gradient is 0 up to -3 and 1 from 3 on."""
    return _apply(_float(input, "hardswish"), inplace, "hardswish", A.Hardswish.apply)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """``scale * elu(x, alpha)`` with SELU's fixed constants (alpha ~ 1.6733, scale ~ 1.0507),
    which keep unit-variance activations at unit variance."""

    def fn(x):
        return A.ELU.apply(x, alpha=SELU_ALPHA, scale=SELU_SCALE)

    return _apply(_float(input, "selu"), inplace, "selu", fn)


def selu_(input: Tensor) -> Tensor:
    """In-place :func:`selu`."""
    return selu(input, inplace=True)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``: an ELU that is C1 for any alpha."""
    a = _number(alpha, "celu", "alpha")
    if a == 0:
        raise ValueError("celu: alpha cannot be 0 (it divides x)")
    # The backward's 1/alpha from alpha rounded to float32: PyTorch's, see ops.activation.ELU.
    grad_scale = 1.0 / float(np.float32(a))

    def fn(x):
        return A.ELU.apply(x, alpha=a, input_scale=1.0 / a, grad_scale=grad_scale)

    return _apply(_float(input, "celu"), inplace, "celu", fn)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place :func:`celu`."""
    return celu(input, alpha, inplace=True)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * tanh(softplus(x))`` (Misra 2019)."""
    return _apply(_float(input, "mish"), inplace, "mish", A.Mish.apply)


def softsign(input: Tensor) -> Tensor:
    """``x / (1 + |x|)``, composed as PyTorch composes it (so ``+-inf`` give NaN, as there)."""
    x = _real(input, "softsign")
    return x / (x.abs() + 1)


def logsigmoid(input: Tensor) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, computed without overflow (-800 gives -800)."""
    return A.LogSigmoid.apply(_float(input, "logsigmoid"))


def tanhshrink(input: Tensor) -> Tensor:
    """``x - tanh(x)``, composed as in PyTorch."""
    x = _float(input, "tanhshrink")
    return x - tanh(x)


def _lambd(lambd, op: str) -> float:
    v = _number(lambd, op, "lambd")
    if not v >= 0:
        raise ValueError(f"{op}: lambd must be >= 0, got {v}")
    return v


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0 (lambd >= 0); the
    gradient is 0 on the closed band ``[-lambd, lambd]``."""
    lam = _lambd(lambd, "softshrink")
    return A.Softshrink.apply(_float(input, "softshrink"), lambd=lam)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """``x`` where ``|x| > lambd``, else 0; the gradient is 0 on ``[-lambd, lambd]``. (A
    negative lambd keeps every x, as in PyTorch.)"""
    lam = _number(lambd, "hardshrink", "lambd")
    return A.Hardshrink.apply(_float(input, "hardshrink"), lambd=lam)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """``x`` where ``x > 0``, else ``weight * x``, with a learned slope per channel.

    Shape: input (N, C, *) with weight (C,) or (1,) (or a 0-d weight); an input of fewer than
    2 dims has one channel. Returns input's shape.
    """
    x = _float(input, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu: weight must be a Tensor, got {type(weight).__name__}")
    if weight.ndim > 1:
        raise ValueError(f"prelu: weight must be 0-D or 1-D, got shape {weight.shape}")
    if weight.dtype != x.dtype:
        raise TypeError(f"prelu: input dtype {x.dtype} and weight dtype {weight.dtype} differ")
    n = weight.data.size
    channels = x.shape[1] if x.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise ValueError(
            f"prelu: weight has {n} parameters but the input (shape {x.shape}) has {channels} "
            f"channel(s) (dim 1)"
        )
    w_shape = (1,) * x.ndim
    if x.ndim >= 2:
        w_shape = (1, n) + (1,) * (x.ndim - 2)
    return A.PReLU.apply(x, weight, w_shape=w_shape)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """The gated linear unit: ``a * sigmoid(b)`` where ``a, b`` are the halves of ``input`` along
    ``dim``. Shape: (*, 2n, *) -> (*, n, *)."""
    x = _float(input, "glu")
    if x.ndim == 0:
        raise ValueError("glu: a 0-d tensor cannot be halved")
    d = one_dim(dim, x.ndim, "glu")
    if x.shape[d] % 2:
        raise ValueError(
            f"glu: the halved dimension must be even, but dim {dim} has size {x.shape[d]}"
        )
    return A.GLU.apply(x, dim=d)


def normalize(
    input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Tensor | None = None
) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim`` (unit-norm rows by default), composed as PyTorch
    composes it (so a zero vector stays 0, its gradient ``gy / eps``).

    Shape: any -> same. ``out``: a tensor of the result's shape to write into.
    """
    if out is not None:
        return write_out("normalize", normalize(input, p, dim, eps), out)
    x = _float(input, "normalize")
    eps = _number(eps, "normalize", "eps")
    d = one_dim(dim, x.ndim, "normalize")
    denom = norm(x, p, d, keepdim=True).clamp(min=eps)
    return x / denom.expand(x.shape)
