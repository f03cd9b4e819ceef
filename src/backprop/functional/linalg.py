"""Matrix products."""

from __future__ import annotations

import numpy as np

from ..ops.linalg import Linear, MatMul
from ..tensor import Tensor
from ._util import cast, is_float, promote, write_out

__all__ = ["matmul", "mm", "bmm", "dot", "linear"]


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with NumPy's and PyTorch's rules: 1-D operands are vectors, leading dims
    broadcast as batch dims. Shapes: (n,)@(n,) -> (); (m,k)@(k,n) -> (m,n); (*,m,k)@(*,k,n).
    ``out``: a tensor of the result's shape to write into (in place, as ``out.copy_``)."""
    if out is not None:
        return write_out("matmul", matmul(input, other), out)
    _tensors(input, other, "matmul")
    a, b = input, other
    if a.dtype != b.dtype:
        dt = promote(a.dtype, b.dtype)
        a, b = cast(a, dt), cast(b, dt)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got {a.shape} and {b.shape}")
    k1 = a.shape[-1]
    k2 = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k1 != k2:
        raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align ({k1} != {k2})")
    try:
        if a.ndim > 2 or b.ndim > 2:
            np.broadcast_shapes(a.shape[:-2], b.shape[:-2] if b.ndim > 1 else ())
    except ValueError:
        raise ValueError(
            f"matmul: batch dims of {a.shape} and {b.shape} do not broadcast"
        ) from None
    return MatMul.apply(a, b)


def _tensors(a, b, op: str) -> None:
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise TypeError(f"{op}: expected Tensors, got {type(a).__name__} and {type(b).__name__}")


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """2-D matrix product."""
    _tensors(input, mat2, "mm")
    if input.ndim != 2 or mat2.ndim != 2:
        raise ValueError(f"mm: expected 2-D matrices, got {input.shape} and {mat2.shape}")
    return matmul(input, mat2)


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of (b, n, m) and (b, m, p)."""
    _tensors(input, mat2, "bmm")
    if input.ndim != 3 or mat2.ndim != 3 or input.shape[0] != mat2.shape[0]:
        raise ValueError(
            f"bmm: expected (b, n, m) and (b, m, p), got {input.shape} and {mat2.shape}"
        )
    return matmul(input, mat2)


def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    _tensors(input, other, "dot")
    if input.ndim != 1 or other.ndim != 1:
        raise ValueError(f"dot: expected 1-D tensors, got {input.shape} and {other.shape}")
    return matmul(input, other)


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias`` in one fused op.

    Shape: input (*, in_features), weight (out_features, in_features), bias (out_features,)
    -> (*, out_features).
    """
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"linear: bias must be a Tensor or None, got {type(bias).__name__}")
    _tensors(input, weight, "linear")
    if input.ndim < 1 or weight.ndim != 2 or input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input of shape {input.shape} does not fit weight of shape {weight.shape} "
            f"(expected (*, {weight.shape[1] if weight.ndim == 2 else '?'}))"
        )
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"linear: bias of shape {bias.shape} does not fit weight {weight.shape}")
    if input.dtype != weight.dtype:
        hint = " (cast the input with .float())" if not is_float(input.dtype) else ""
        raise TypeError(
            f"linear: input dtype {input.dtype} differs from weight dtype {weight.dtype}{hint}"
        )
    return Linear.apply(input, weight, bias)
