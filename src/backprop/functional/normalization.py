"""Batch and layer normalisation (exposed as ``backprop.nn.functional``), PyTorch's semantics."""

from __future__ import annotations

import numpy as np

from ..ops import normalization as N
from ..tensor import Tensor
from ._util import is_float

__all__ = ["batch_norm", "layer_norm", "group_norm", "rms_norm"]


def _param(p, shape, x: Tensor, op: str, what: str):
    if p is None:
        return None
    if not isinstance(p, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor or None, got {type(p).__name__}")
    if p.shape != tuple(shape):
        raise ValueError(f"{op}: {what} of shape {p.shape} does not fit; expected {tuple(shape)}")
    if p.dtype != x.dtype:
        raise TypeError(f"{op}: {what} dtype {p.dtype} differs from input dtype {x.dtype}")
    return p


def _stat(s, C: int, op: str, what: str):
    if s is None:
        return None
    if not isinstance(s, Tensor):
        raise TypeError(f"{op}: {what} must be a Tensor or None, got {type(s).__name__}")
    if s.shape != (C,) or not is_float(s.dtype):
        raise ValueError(f"{op}: {what} must be a float tensor of shape ({C},), got {s.shape}")
    return s.data


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over every axis but the channel axis 1, in one fused op.

    In training, normalise with the batch mean and the biased batch variance, and update the
    running statistics in place: ``running = (1 - momentum) * running + momentum * batch``, with
    the unbiased variance (n / (n - 1)) for ``running_var`` (PyTorch's convention; Keras writes
    its momentum as 1 - ours, 0.99). In eval, normalise with the running statistics.

    Args:
        input: (N, C) or (N, C, *).
        running_mean, running_var: (C,) buffers or None (then training must be True).
        weight, bias: the affine gamma and beta, (C,) or None.
        training: use batch statistics (and update the running ones).
        momentum: the running statistics' update factor.
        eps: added to the variance before the square root.

    Shape: output as input.
    """
    op = "batch_norm"
    if not isinstance(input, Tensor) or not is_float(input.dtype):
        raise TypeError(f"{op}: input must be a floating-point Tensor")
    x = input
    if x.ndim < 2:
        raise ValueError(f"{op}: expected input of shape (N, C) or (N, C, *), got {x.shape}")
    C = x.shape[1]
    rm = _stat(running_mean, C, op, "running_mean")
    rv = _stat(running_var, C, op, "running_var")
    w = _param(weight, (C,), x, op, "weight")
    b = _param(bias, (C,), x, op, "bias")
    if training:
        if x.numel() // max(C, 1) <= 1:
            raise ValueError(
                f"{op}: expected more than 1 value per channel when training, got input of "
                f"shape {x.shape}"
            )
    elif rm is None or rv is None:
        raise ValueError(f"{op}: running_mean and running_var are required when not training")
    if not eps > 0:
        raise ValueError(f"{op}: eps must be positive, got {eps}")
    if training:  # the op updates the running statistics in place
        for s in (running_mean, running_var):
            if s is not None:
                s._bump_version()
    return N.BatchNorm.apply(
        x,
        w,
        b,
        running_mean=rm,
        running_var=rv,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Layer normalisation over the last ``len(normalized_shape)`` axes (biased variance).

    Each sample is normalised by its own statistics, so there are no running statistics and
    training and eval behave the same.

    Args:
        input: (*, *normalized_shape).
        normalized_shape: an int or a tuple: the trailing shape to normalise over.
        weight, bias: the elementwise affine parameters, of shape ``normalized_shape`` or None.
        eps: added to the variance before the square root.

    Shape: output as input.
    """
    op = "layer_norm"
    if not isinstance(input, Tensor) or not is_float(input.dtype):
        raise TypeError(f"{op}: input must be a floating-point Tensor")
    ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(
        normalized_shape
    )  # fmt: skip
    k = len(ns)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k :] != ns:
        raise ValueError(
            f"{op}: input of shape {input.shape} does not end with normalized_shape {ns}"
        )
    w = _param(weight, ns, input, op, "weight")
    b = _param(bias, ns, input, op, "bias")
    if not eps > 0:
        raise ValueError(f"{op}: eps must be positive, got {eps}")
    return N.LayerNorm.apply(input, w, b, normalized_ndim=k, eps=float(eps))


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Group normalisation (Wu & He): the channels are split into ``num_groups`` groups and each
    sample is normalised by the mean and (biased) variance of its group; then a per-channel
    affine ``weight * xhat + bias``. Built from the differentiable ops.

    Shape: input (N, C, *), C divisible by ``num_groups``; weight, bias (C,); output as input.
    """
    op = "group_norm"
    if not isinstance(input, Tensor) or not is_float(input.dtype) or input.ndim < 2:
        raise TypeError(f"{op}: input must be a floating-point Tensor of shape (N, C, *)")
    N, C = input.shape[:2]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)):
        raise TypeError(f"{op}: num_groups must be an int, got {num_groups!r}")
    if num_groups < 1 or C % num_groups:
        raise ValueError(
            f"{op}: expected number of channels in input ({C}) to be divisible by num_groups "
            f"({num_groups})"
        )
    if not eps > 0:
        raise ValueError(f"{op}: eps must be positive, got {eps}")
    _param(weight, (C,), input, op, "weight")
    _param(bias, (C,), input, op, "bias")
    g = input.reshape(N, num_groups, -1)
    mean = g.mean(dim=2, keepdim=True)
    centred = g - mean
    var = (centred * centred).mean(dim=2, keepdim=True)
    y = (centred * (var + eps).rsqrt()).reshape(input.shape)
    affine = (1, C) + (1,) * (input.ndim - 2)
    if weight is not None:
        y = y * weight.reshape(affine)
    if bias is not None:
        y = y + bias.reshape(affine)
    return y


def rms_norm(
    input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """Root-mean-square normalisation (Zhang & Sennrich) over the trailing ``normalized_shape``:
    ``x / sqrt(mean(x ** 2) + eps) * weight``; ``eps`` defaults to the dtype's machine epsilon,
    as in PyTorch. Built from the differentiable ops."""
    op = "rms_norm"
    if not isinstance(input, Tensor) or not is_float(input.dtype):
        raise TypeError(f"{op}: input must be a floating-point Tensor")
    ns = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(
        normalized_shape
    )  # fmt: skip
    k = len(ns)
    if k == 0 or input.ndim < k or input.shape[input.ndim - k :] != ns:
        raise ValueError(
            f"{op}: input of shape {input.shape} does not end with normalized_shape {ns}"
        )
    _param(weight, ns, input, op, "weight")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    elif not eps >= 0:
        raise ValueError(f"{op}: eps must be non-negative, got {eps}")
    dims = tuple(range(input.ndim - k, input.ndim))
    y = input * ((input * input).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return y if weight is None else y * weight
