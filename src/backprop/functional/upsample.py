"""Resizing: ``interpolate`` (PyTorch's modes and size rules) and the older ``upsample*`` names;
re-exported by ``backprop.nn.functional``."""

from __future__ import annotations

import warnings

import numpy as np

from ..backend import backend_of
from ..ops import upsample as U
from ..tensor import Tensor
from ._util import check_float

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _per_dim(value, nd, name, op, kind):
    if isinstance(value, (tuple, list)):
        if len(value) != nd:
            raise ValueError(
                f"{op}: {name} {tuple(value)} must have {nd} entries for a {nd}-D spatial input"
            )
        vals = tuple(value)
    else:
        vals = (value,) * nd
    what = "ints" if kind is int else "numbers"
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, kind):
            raise TypeError(f"{op}: {name} must be {what} or a tuple of them, got {value!r}")
    return vals


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of (N, C, L), (N, C, H, W) or (N, C, D, H, W), as
    ``torch.nn.functional.interpolate``.

    Args:
        input: a float tensor with 1 to 3 spatial dims after (N, C).
        size: the output size (an int or one per spatial dim); give it or ``scale_factor``.
        scale_factor: a multiplier (or one per dim): output size ``floor(n * scale)``.
        mode: ``'nearest'`` (source ``floor(j * n / out)``), ``'nearest-exact'`` (source
            ``floor((j + 0.5) * n / out)``, the centre-aligned rule), ``'linear'`` (3-D input),
            ``'bilinear'`` / ``'bicubic'`` (4-D), ``'trilinear'`` (5-D), or ``'area'``
            (adaptive average pooling; 3-D and 4-D inputs).
        align_corners: linear modes only. True: the corner cells of input and output align
            (source ``j * (n - 1) / (out - 1)``); False (default): their edges do (source
            ``(j + 0.5) * n / out - 0.5``, clamped at 0 for linear).
        recompute_scale_factor: with ``scale_factor``, recompute the scale from the output size
            (``n / out``) instead of using ``1 / scale_factor`` in the index formula.
        antialias: not supported (raises NotImplementedError when True).

    With a ``scale_factor`` the kernel reads ``1 / scale_factor`` (unless recomputed), as PyTorch
    does: e.g. 5 cells at scale 1.5 give 7 cells whose sources are ``floor(j / 1.5)``.

    Example:
        >>> interpolate(backprop.randn(1, 3, 4, 4), scale_factor=2, mode="bilinear").shape
        (1, 3, 8, 8)
    """
    op = "interpolate"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if not (input.dtype == np.uint8 and mode in ("nearest", "nearest-exact")):
        check_float(input, op)  # (PyTorch's nearest modes also take uint8 images)
    if mode not in _MODES:
        raise ValueError(f"{op}: mode must be one of {_MODES}, got {mode!r}")
    if antialias:
        raise NotImplementedError(f"{op}: antialias=True is not supported")
    nd = input.ndim - 2
    if nd not in (1, 2, 3):
        raise ValueError(
            f"{op}: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got shape {input.shape}"
        )
    if mode in _LINEAR and _LINEAR[mode] != nd:
        raise NotImplementedError(
            f"{op}: got a {input.ndim}-D input, but {mode} mode needs a {_LINEAR[mode] + 2}-D one"
        )
    if mode == "area" and nd == 3:
        raise NotImplementedError(f"{op}: area mode supports 3-D and 4-D inputs only")
    if align_corners is not None and mode not in _LINEAR:
        raise ValueError(
            f"{op}: align_corners can only be set with the interpolating modes linear, bilinear, "
            f"bicubic and trilinear (got mode {mode!r})"
        )
    align = bool(align_corners)
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor")
    spatial = input.shape[2:]
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{op}: recompute_scale_factor is meaningless with an explicit size")
        sizes = _per_dim(size, nd, "size", op, int)
        scales = (None,) * nd
    else:
        scales = _per_dim(scale_factor, nd, "scale_factor", op, (int, float))
        scales = tuple(float(s) for s in scales)
        sizes = tuple(U.output_size(n, s) for n, s in zip(spatial, scales))
        if recompute_scale_factor:
            scales = (None,) * nd
    if any(s < 1 for s in sizes) or any(n < 1 for n in spatial):
        raise ValueError(
            f"{op}: input of shape {input.shape} resized to {sizes}: sizes must be positive"
        )
    if mode == "area":
        from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d

        return (adaptive_avg_pool1d if nd == 1 else adaptive_avg_pool2d)(input, sizes)
    xp = backend_of([input.data]).xp
    dt = input.data.dtype
    plans = []
    for k, (n, m, s) in enumerate(zip(spatial, sizes, scales)):
        axis = 2 + k
        if mode in ("nearest", "nearest-exact"):
            idx, rep = U.nearest_plan(xp, n, m, s, mode == "nearest-exact")
            w = None
        elif mode == "bicubic":
            (idx, w), rep = U.cubic_plan(xp, n, m, s, align, dt), 0
        else:
            (idx, w), rep = U.linear_plan(xp, n, m, s, align, dt), 0
        if rep == 1:
            continue  # this axis keeps its size and its cells
        plans.append((axis, idx, w, rep))
    return U.Interpolate.apply(input, plans=tuple(reversed(plans)))


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate` (PyTorch warns too)."""
    warnings.warn("upsample is deprecated; use interpolate", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``."""
    warnings.warn("upsample_nearest is deprecated; use interpolate", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear',
    align_corners=True)`` (the old default, as in PyTorch)."""
    warnings.warn("upsample_bilinear is deprecated; use interpolate", UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
