"""``pad`` with all of PyTorch's modes (``torch.nn.functional.pad``); re-exported by
``backprop.nn.functional``."""

from __future__ import annotations

from ..ops import padding as P
from ..ops.shape import Pad
from ..tensor import Tensor
from ._util import UnsupportedDtypeError

__all__ = ["pad"]

_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative widths, crop) the trailing dimensions, as ``torch.nn.functional.pad``.

    ``pad`` lists (before, after) pairs starting from the LAST dimension: ``(1, 1)`` pads the last
    dim, ``(1, 1, 2, 2)`` the last two, and so on.

    Args:
        input: any tensor; the non-constant modes take a 2-D or 3-D input for one padded dim,
            3-D or 4-D for two, 4-D or 5-D for three (a batch-less or batched (N, C, ...) input).
        pad: an even number of ints, at most two per dimension; negative ones remove cells.
        mode: ``'constant'`` (fill with ``value``), ``'reflect'`` (mirror without repeating the
            edge: ``[2, 1 | 0, 1, 2]``; each width below the dim's size), ``'replicate'`` (repeat
            the edge cell) or ``'circular'`` (wrap around; each width at most the dim's size
            after cropping).
        value: the fill of constant mode (0 by default); other modes refuse a non-zero value.

    Negative widths: reflect and replicate pad the whole dim and then crop, circular crops first
    and then wraps, as PyTorch does.

    Example:
        >>> pad(backprop.arange(4.0).reshape(1, 1, 4), (2, 1), mode="reflect")
        tensor([[[2., 1., 0., 1., 2., 3., 2.]]])
    """
    op = "pad"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"{op}: unrecognised padding mode {mode!r} (one of {_MODES})")
    try:
        widths = tuple(int(p) for p in pad)
    except TypeError:
        raise TypeError(f"{op}: pad must be a sequence of ints, got {pad!r}") from None
    if len(widths) % 2:
        raise ValueError(f"{op}: padding length must be divisible by 2, got {widths}")
    nd, ndim = len(widths) // 2, input.ndim
    if nd > ndim:
        raise ValueError(
            f"{op}: padding {widths} pads {nd} dims but the input has {ndim} (shape {input.shape})"
        )
    if mode in ("reflect", "replicate") and input.dtype.kind == "b":
        raise UnsupportedDtypeError(f"{op}: {mode} padding is not implemented for bool tensors")
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f"{op}: padding mode {mode!r} doesn't take a value argument")
        if nd and not (nd + 1 <= ndim <= nd + 2) or nd > 3:
            raise ValueError(
                f"{op}: {mode} padding of {nd} dims needs a {nd + 1}-D or {nd + 2}-D input "
                f"(1 to 3 padded dims), got shape {input.shape}"
            )
    value = 0.0 if value is None else value
    pairs = [(widths[2 * k], widths[2 * k + 1]) for k in range(nd)]  # last dim first
    if mode == "constant" and all(lo >= 0 and hi >= 0 for lo, hi in pairs):
        full = [(0, 0)] * ndim
        for k, p in enumerate(pairs):
            full[ndim - 1 - k] = p
        return Pad.apply(input, widths=tuple(full), value=value)
    plan = []
    for k, (lo, hi) in enumerate(pairs):
        axis = ndim - 1 - k
        n = input.shape[axis]
        m = n + lo + hi
        cropped = n + min(lo, 0) + min(hi, 0)
        if mode == "constant" and (m < 0 or cropped < 0) or mode != "constant" and m < 1:
            raise ValueError(
                f"{op}: padding ({lo}, {hi}) leaves an input dim of size {n} (shape "
                f"{input.shape}) with {m} cells"
            )
        if mode == "reflect" and (lo >= n or hi >= n):
            raise ValueError(
                f"{op}: reflect padding ({lo}, {hi}) must be smaller than the input dim of size "
                f"{n} (shape {input.shape})"
            )
        if mode == "circular":
            kept = n - max(-lo, 0) - max(-hi, 0)
            # PyTorch bounds the widths by the uncropped size, but past the kept size its values
            # or gradients go wrong (it wraps through overlapping in-place copies): refused here.
            if kept < 1 or lo > kept or hi > kept:
                raise ValueError(
                    f"{op}: circular padding ({lo}, {hi}) wraps around more than once an input "
                    f"dim of size {n} (shape {input.shape})"
                )
        if lo == hi == 0:
            continue
        src = P.source_index(n, lo, hi, mode)
        plan.append((axis, P.runs(src), m))
    return P.PadMode.apply(input, plan=tuple(plan), value=value)
