"""Matrix products."""

from __future__ import annotations

import string
import warnings

import numpy as np

from ..ops.linalg import AddMM, Cdist, Cross, Einsum, Linear, MatMul
from ..tensor import Tensor
from ._util import UnsupportedDtypeError, is_float, one_dim, write_out

__all__ = [
    "matmul", "mm", "bmm", "dot", "linear", "einsum", "addmm", "addmv", "baddbmm", "outer", "ger",
    "kron", "cross", "cdist",
]  # fmt: skip


def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with NumPy's and PyTorch's rules: 1-D operands are vectors, leading dims
    broadcast as batch dims. Shapes: (n,)@(n,) -> (); (m,k)@(k,n) -> (m,n); (*,m,k)@(*,k,n).
    ``out``: a tensor of the result's shape to write into (in place, as ``out.copy_``)."""
    if out is not None:
        return write_out("matmul", matmul(input, other), out)
    _tensors(input, other, "matmul")
    a, b = input, other
    if a.dtype != b.dtype:  # (PyTorch refuses a product of two dtypes)
        raise TypeError(f"matmul: expected operands of one dtype, got {a.dtype} and {b.dtype}")
    if a.data.dtype.kind == "b":
        raise UnsupportedDtypeError("matmul: not implemented for bool tensors")
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


# ------------------------------------------------------------------ einsum
_LETTERS = string.ascii_uppercase + string.ascii_lowercase  # PyTorch's sublist numbering


def _sublist_equation(args, op: str):
    """einsum(x, [0, 1], y, [1, 2], [0, 2]) -> ("Ab,bc->ac"-style equation, operands)."""

    def letters(sub):
        out = []
        for v in sub:
            if v is Ellipsis:
                out.append("...")
            elif isinstance(v, (int, np.integer)) and not isinstance(v, bool) and 0 <= v < 52:
                out.append(_LETTERS[v])
            else:
                raise ValueError(f"{op}: sublist entries must be ints in [0, 52) or ..., got {v!r}")
        return "".join(out)

    n = len(args) // 2
    ops = list(args[0 : 2 * n : 2])
    eq = ",".join(letters(s) for s in args[1 : 2 * n : 2])
    if len(args) % 2:  # the output's sublist
        eq += "->" + letters(args[-1])
    return eq, ops


def _parse_einsum(eq: str, shapes, op: str):
    """(subs, out, sizes): the equation with every ellipsis spelt out as letters."""
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"{op}: the equation {eq!r} names {len(terms)} operand(s) but {len(shapes)} were given"
        )
    for term in terms + ([rhs] if arrow else []):
        bad = set(term.replace("...", "")) - set(_LETTERS)
        if bad or term.count("...") > 1 or "." in term.replace("...", ""):
            raise ValueError(f"{op}: invalid subscripts {term!r} in {eq!r} (letters and one ...)")
    n_ell = 0
    for term, shape in zip(terms, shapes):
        n_named = len(term.replace("...", ""))
        if "..." in term:
            if len(shape) < n_named:
                raise ValueError(f"{op}: operand of shape {shape} has fewer dims than {term!r}")
            n_ell = max(n_ell, len(shape) - n_named)
        elif len(shape) != n_named:
            raise ValueError(
                f"{op}: subscripts {term!r} name {n_named} dims but the operand has shape {shape}"
            )
    free = [c for c in _LETTERS if c not in eq]
    if n_ell > len(free):
        raise ValueError(f"{op}: too many dims for the ellipsis in {eq!r}")
    ell = "".join(free[:n_ell])
    subs = []
    for term, shape in zip(terms, shapes):
        k = len(shape) - len(term.replace("...", ""))
        subs.append(term.replace("...", ell[n_ell - k :]) if "..." in term else term)
    if arrow:
        if len(set(rhs.replace("...", ""))) != len(rhs.replace("...", "")):
            raise ValueError(f"{op}: output subscripts {rhs!r} repeat a label")
        out = rhs.replace("...", ell)
        missing = set(out) - set("".join(subs))
        if missing:
            raise ValueError(f"{op}: output label(s) {sorted(missing)} appear in no operand")
    else:
        counts = {}
        for c in "".join(t.replace("...", "") for t in terms):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    sizes = {}
    for sub, shape in zip(subs, shapes):
        mine = {}
        for c, n in zip(sub, shape):
            if mine.setdefault(c, n) != n:
                raise ValueError(
                    f"{op}: label {c!r} is repeated in one operand with sizes {mine[c]} and {n}"
                )
        for c, n in mine.items():
            had = sizes.get(c, 1)
            if n != had and 1 not in (n, had):
                raise ValueError(
                    f"{op}: label {c!r} has size {n} in an operand of shape {shape}, which does "
                    f"not broadcast with size {had}"
                )
            sizes[c] = max(had, n) if 0 not in (n, had) else 0
    return subs, out, sizes


def einsum(equation, *operands) -> Tensor:
    """Einstein summation, PyTorch's ``torch.einsum``: ``einsum("ij,jk->ik", a, b)``.

    Labels are letters; ``...`` stands for the dims not named (broadcast across operands, right
    aligned); without ``->`` the output is the ellipsis dims then the labels seen once, in
    alphabetical order (upper case first). A label repeated in one operand takes its diagonal
    (``'ii->i'``, ``'ii'`` the trace); labels of size 1 broadcast. Operands may also come as one
    list, or in sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.

    Shape: given by the equation. All operands must share one dtype (as in PyTorch).

    Example:
        >>> einsum("bij,bjk->bik", backprop.randn(2, 3, 4), backprop.randn(2, 4, 5)).shape
        (2, 3, 5)
    """
    op = "einsum"
    if isinstance(equation, Tensor):
        equation, operands = _sublist_equation((equation,) + operands, op)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"{op}: the equation must be a string, got {type(equation).__name__}")
    for t in operands:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: operands must be Tensors, got {type(t).__name__}")
    if not operands:
        raise ValueError(f"{op}: at least one operand is needed")
    dtypes = {t.dtype for t in operands}
    if len(dtypes) > 1:
        raise TypeError(f"{op}: operands must share one dtype, got {sorted(map(str, dtypes))}")
    if operands and operands[0].dtype.kind == "b":
        raise UnsupportedDtypeError(f"{op}: not implemented for bool tensors")
    subs, out, sizes = _parse_einsum(equation, [t.shape for t in operands], op)
    return Einsum.apply(*operands, subs=tuple(subs), out=out, sizes=sizes)


# ------------------------------------------------------------------ fused multiply-adds
def _coef(v, dtype, name: str, op: str):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: {name} must be a number, got {type(v).__name__} {v!r}")
    if not is_float(dtype) and float(v) != int(v):
        raise TypeError(f"{op}: {name}={v} is not an integer, and the tensors are {dtype}")
    return v


def _addmm(op, input, a, b, beta, alpha, check) -> Tensor:
    for name, t in (("input", input), ("mat1", a), ("mat2", b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name} must be a Tensor, got {type(t).__name__}")
    if len({input.dtype, a.dtype, b.dtype}) > 1:
        raise TypeError(
            f"{op}: input, and the two factors must share one dtype, got {input.dtype}, "
            f"{a.dtype} and {b.dtype}"
        )
    out_shape = check(a.shape, b.shape)
    try:
        ok = np.broadcast_shapes(input.shape, out_shape) == out_shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"{op}: input of shape {input.shape} does not broadcast to the product's shape "
            f"{out_shape}"
        )
    beta = _coef(beta, a.dtype, "beta", op)
    alpha = _coef(alpha, a.dtype, "alpha", op)
    return AddMM.apply(input, a, b, beta=beta, alpha=alpha)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)``; ``beta=0`` ignores ``input`` (even its NaNs).

    Shape: mat1 (n, m), mat2 (m, p), input broadcastable to (n, p) -> (n, p).
    """
    if out is not None:
        return write_out("addmm", addmm(input, mat1, mat2, beta=beta, alpha=alpha), out)

    def check(sa, sb):
        if len(sa) != 2 or len(sb) != 2 or sa[1] != sb[0]:
            raise ValueError(f"addmm: expected (n, m) and (m, p) matrices, got {sa} and {sb}")
        return (sa[0], sb[1])

    return _addmm("addmm", input, mat1, mat2, beta, alpha, check)


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * (mat @ vec)``. Shape: mat (n, m), vec (m,), input
    broadcastable to (n,) -> (n,)."""
    if out is not None:
        return write_out("addmv", addmv(input, mat, vec, beta=beta, alpha=alpha), out)

    def check(sa, sb):
        if len(sa) != 2 or len(sb) != 1 or sa[1] != sb[0]:
            raise ValueError(f"addmv: expected an (n, m) matrix and an (m,) vector, got {sa}, {sb}")
        return (sa[0],)

    return _addmm("addmv", input, mat, vec, beta, alpha, check)


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta=1, alpha=1, out=None) -> Tensor:
    """``beta * input + alpha * bmm(batch1, batch2)``. Shape: batch1 (b, n, m), batch2
    (b, m, p) (same b), input broadcastable to (b, n, p) -> (b, n, p)."""
    if out is not None:
        return write_out("baddbmm", baddbmm(input, batch1, batch2, beta=beta, alpha=alpha), out)

    def check(sa, sb):
        if len(sa) != 3 or len(sb) != 3 or sa[0] != sb[0] or sa[2] != sb[1]:
            raise ValueError(f"baddbmm: expected (b, n, m) and (b, m, p), got {sa} and {sb}")
        return (sa[0], sa[1], sb[2])

    return _addmm("baddbmm", input, batch1, batch2, beta, alpha, check)


# ------------------------------------------------------------------ products built from others
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product ``input[i] * vec2[j]`` of two 1-D tensors (dtypes promoted).
    Shape: (n,), (m,) -> (n, m)."""
    _tensors(input, vec2, "outer")
    if input.ndim != 1 or vec2.ndim != 1:
        raise ValueError(f"outer: expected 1-D tensors, got shapes {input.shape} and {vec2.shape}")
    return input.reshape(-1, 1) * vec2


ger = outer


def kron(input: Tensor, other: Tensor) -> Tensor:
    """The Kronecker product: block (i, j, ...) is ``input[i, j, ...] * other``.

    Shape: the shorter shape is padded with leading 1s; (a0, a1, ...), (b0, b1, ...) ->
    (a0 * b0, a1 * b1, ...). Dtypes promoted.
    """
    _tensors(input, other, "kron")
    n = max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + input.shape
    sb = (1,) * (n - other.ndim) + other.shape
    # a as (a0, 1, a1, 1, ...) times b as (1, b0, 1, b1, ...), then the pairs merged.
    a = input.reshape(tuple(v for d in sa for v in (d, 1)))
    b = other.reshape(tuple(v for d in sb for v in (1, d)))
    return (a * b).reshape(tuple(x * y for x, y in zip(sa, sb)))


def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """The cross product of 3-vectors along ``dim``, broadcasting the other dims.

    ``dim=None`` is PyTorch's deprecated default for ``torch.cross``: the first dim of size 3
    of ``input``, with the same warning (``torch.linalg.cross`` uses -1). Both operands must
    share one dtype.
    """
    _tensors(input, other, "cross")
    if input.dtype != other.dtype:
        raise TypeError(f"cross: dtypes differ: {input.dtype} and {other.dtype}")
    if input.ndim != other.ndim:
        raise ValueError(
            f"cross: inputs must have the same number of dims, got {input.shape} and {other.shape}"
        )
    if dim is None:
        warnings.warn(
            "cross: using cross without specifying dim is deprecated (PyTorch's default: the "
            "first dim of size 3); pass dim, or dim=-1 as torch.linalg.cross does",
            UserWarning,
            stacklevel=2,
        )
        sizes3 = [i for i, n in enumerate(input.shape) if n == 3]
        if not sizes3:
            raise ValueError(f"cross: no dimension of size 3 in input of shape {input.shape}")
        dim = sizes3[0]
    d = one_dim(dim, input.ndim, "cross")
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise ValueError(
            f"cross: dimension {dim} must have length 3 in both, got {input.shape[d]} and "
            f"{other.shape[d]} (shapes {input.shape} and {other.shape})"
        )
    try:
        np.broadcast_shapes(input.shape, other.shape)
    except ValueError:
        raise ValueError(
            f"cross: shapes {input.shape} and {other.shape} do not broadcast"
        ) from None
    return Cross.apply(input, other, dim=d)


_CDIST_MODES = (
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = _CDIST_MODES[0]) -> Tensor:
    """The p-norm distance between every row of ``x1`` and every row of ``x2``.

    Args:
        x1: (*, P, M); x2: (*, R, M), batch dims broadcast.
        p: >= 0; 0 counts the differing coordinates, ``inf`` takes the largest difference.
        compute_mode: for p = 2, PyTorch's choice between the direct differences and the
            matrix-product form ``sqrt(|a|^2 + |b|^2 - 2 a.b)`` (faster and O(P R) memory, but
            less accurate for close points): by default the product form when P or R exceeds
            25, as PyTorch.

    Returns (*, P, R). The gradient at a zero distance is 0 (PyTorch's).
    """
    _tensors(x1, x2, "cdist")
    if x1.dtype.kind != "f" or x1.dtype != x2.dtype or x1.dtype == np.float16:
        raise TypeError(
            f"cdist: expected two float tensors of one dtype, got {x1.dtype}, {x2.dtype}"
        )
    if x1.ndim < 2 or x2.ndim < 2:
        raise ValueError(f"cdist: expected at least 2-D tensors, got {x1.shape} and {x2.shape}")
    if x1.shape[-1] != x2.shape[-1]:
        raise ValueError(
            f"cdist: x1 and x2 must have the same number of columns, got {x1.shape} and {x2.shape}"
        )
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not p >= 0:
        raise ValueError(f"cdist: p must be a non-negative number, got {p!r}")
    if compute_mode not in _CDIST_MODES:
        raise ValueError(f"cdist: compute_mode must be one of {_CDIST_MODES}, got {compute_mode!r}")
    try:
        batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    except ValueError:
        raise ValueError(
            f"cdist: batch dims of {x1.shape} and {x2.shape} do not broadcast"
        ) from None
    if x1.shape[:-2] != batch:
        x1 = x1.expand(batch + x1.shape[-2:])
    if x2.shape[:-2] != batch:
        x2 = x2.expand(batch + x2.shape[-2:])
    P, R = x1.shape[-2], x2.shape[-2]
    mm = p == 2 and (
        compute_mode == "use_mm_for_euclid_dist"
        or (compute_mode == _CDIST_MODES[0] and (P > 25 or R > 25))
    )
    return Cdist.apply(x1, x2, p=float(p), mm=mm)
