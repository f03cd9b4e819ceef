"""Layout functions: triangles (tril, triu), diagonals (diag, diagonal, diag_embed, trace), and
moves (roll, rot90, fliplr, flipud)."""

from __future__ import annotations

import numpy as np

from ..ops import layout as L
from ..tensor import Tensor
from ._util import as_tensor, no_bool, one_dim

__all__ = [
    "tril", "triu", "diag", "diagonal", "diag_embed", "trace", "roll", "rot90", "fliplr", "flipud",
]  # fmt: skip


def _int(v, name: str, op: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {v!r}")
    return int(v)


def _matrix(input, op: str) -> Tensor:
    input = as_tensor(input, op)
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dims, got shape {input.shape}")
    return input


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below ``diagonal``) of the last two dims; zeros above."""
    input = _matrix(input, "tril")
    return L.Tril.apply(input, diagonal=_int(diagonal, "diagonal", "tril"))


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above ``diagonal``) of the last two dims; zeros below."""
    input = _matrix(input, "triu")
    return L.Triu.apply(input, diagonal=_int(diagonal, "diagonal", "triu"))


def _two_dims(dim1, dim2, ndim: int, op: str):
    d1, d2 = one_dim(dim1, ndim, op), one_dim(dim2, ndim, op)
    if d1 == d2:
        raise ValueError(f"{op}: dim1 and dim2 are the same dim ({dim1}, {dim2})")
    return d1, d2


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal ``offset`` (> 0 above the main one) of the (dim1, dim2) planes, as the last
    dim of the result (a copy, not a view as in PyTorch)."""
    input = _matrix(input, "diagonal")
    d1, d2 = _two_dims(dim1, dim2, input.ndim, "diagonal")
    return L.Diagonal.apply(input, offset=_int(offset, "offset", "diagonal"), dim1=d1, dim2=d2)


_diagonal = diagonal  # (diag's argument named `diagonal` shadows the function)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """A tensor whose (dim1, dim2) planes hold ``input``'s last dim on diagonal ``offset``, zeros
    elsewhere (the inverse of :func:`diagonal`)."""
    input = as_tensor(input, "diag_embed")
    if input.ndim == 0:
        raise ValueError("diag_embed: input must have at least 1 dim")
    offset = _int(offset, "offset", "diag_embed")
    d1, d2 = _two_dims(dim1, dim2, input.ndim + 1, "diag_embed")
    n = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if a in (d1, d2) else next(rest) for a in range(input.ndim + 1))
    return L.DiagEmbed.apply(input, offset=offset, dim1=d1, dim2=d2, shape=shape)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input: the square matrix with it on diagonal ``diagonal``; a 2-D input: that
    diagonal of it, as a 1-D tensor."""
    input = as_tensor(input, "diag")
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return _diagonal(input, diagonal, 0, 1)
    raise ValueError(f"diag: input must be 1-D or 2-D, got shape {input.shape}")


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a 2-D tensor (integers sum to int64)."""
    from .reduction import sum

    input = as_tensor(input, "trace")
    if input.ndim != 2:
        raise ValueError(f"trace: input must be 2-D, got shape {input.shape}")
    no_bool(input, "trace")
    return sum(diagonal(input))


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift elements along ``dims`` by ``shifts`` (ints or matching tuples), wrapping around;
    ``dims=None`` rolls the flattened tensor and restores the shape."""
    input = as_tensor(input, "roll")
    many = isinstance(shifts, (tuple, list))
    s = tuple(_int(v, "shifts", "roll") for v in shifts) if many else (_int(shifts, "shifts",
                                                                              "roll"),)  # fmt: skip
    if dims is None:
        if len(s) != 1:
            raise ValueError(f"roll: {len(s)} shifts need as many dims, got dims=None")
        return L.Roll.apply(input, shifts=s[0], dims=None)
    d = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    if len(d) != len(s):
        raise ValueError(f"roll: shifts {shifts} and dims {dims} differ in length")
    d = tuple(one_dim(a, input.ndim, "roll") for a in d)
    if input.ndim == 0:
        return input
    return L.Roll.apply(input, shifts=s, dims=d)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane ``dims``, from the first towards the second
    dim (as ``torch.rot90`` and ``numpy.rot90``)."""
    input = as_tensor(input, "rot90")
    dims = tuple(dims)
    if len(dims) != 2 or input.ndim < 2:
        raise ValueError(f"rot90: need 2 dims of a tensor with at least 2, got {dims} for "
                         f"{input.shape}")  # fmt: skip
    d = _two_dims(dims[0], dims[1], input.ndim, "rot90")
    return L.Rot90.apply(input, k=_int(k, "k", "rot90") % 4, dims=d)


def fliplr(input: Tensor) -> Tensor:
    """Reverse dim 1 (left/right); the input needs at least 2 dims."""
    from .shape import flip

    return flip(_matrix(input, "fliplr"), 1)


def flipud(input: Tensor) -> Tensor:
    """Reverse dim 0 (up/down); the input needs at least 1 dim."""
    from .shape import flip

    input = as_tensor(input, "flipud")
    if input.ndim < 1:
        raise ValueError("flipud: input must have at least 1 dim")
    return flip(input, 0)
