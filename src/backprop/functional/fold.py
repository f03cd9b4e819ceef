"""``F.unfold`` (im2col) and ``F.fold`` (col2im); re-exported by ``backprop.nn.functional``.

(``Tensor.unfold``, windows along one dim, is :func:`backprop.functional.windows.unfold`.)
"""

from __future__ import annotations

from ..ops.fold import Col2im, Im2col
from ..tensor import Tensor
from ._util import is_float
from .conv import ntuple

__all__ = ["unfold", "fold"]


def _settings(kernel_size, dilation, padding, stride, op: str):
    K = ntuple(kernel_size, 2, "kernel_size", op, 1)
    dil = ntuple(dilation, 2, "dilation", op, 1)
    pad = ntuple(padding, 2, "padding", op, 0)
    st = ntuple(stride, 2, "stride", op, 1)
    return K, dil, tuple((p, p) for p in pad), st


def _blocks(hw, K, dil, pads, st, op: str) -> tuple:
    """The number of windows along each spatial dim, refusing none."""
    O = tuple(
        (n + lo + hi - d * (k - 1) - 1) // s + 1
        for n, (lo, hi), k, d, s in zip(hw, pads, K, dil, st)
    )
    if any(o < 1 for o in O):
        raise ValueError(
            f"{op}: spatial size {tuple(hw)} with kernel_size={K}, dilation={dil}, padding="
            f"{tuple(lo for lo, _ in pads)}, stride={st} gives {O} sliding blocks (too small)"
        )
    return O


def _check_tensor(input, op: str) -> None:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(input).__name__}")
    if not is_float(input.dtype):
        raise TypeError(f"{op}: expected a floating-point tensor, got dtype {input.dtype}")


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every sliding window of a batch of images, as columns (im2col; ``nn.Unfold``).

    Args:
        input: (N, C, H, W), or (C, H, W) unbatched.
        kernel_size, dilation, padding (zeros, on both sides), stride: ints or pairs.

    Shape: (N, C, H, W) -> (N, C * KH * KW, L), L = OH * OW the number of windows; rows in
    (c, kh, kw) order, so that ``weight.view(O, -1) @ unfold(x)`` is a convolution.

    Example:
        >>> unfold(backprop.randn(1, 3, 5, 5), kernel_size=3).shape
        (1, 27, 9)
    """
    op = "unfold"
    _check_tensor(input, op)
    if input.ndim not in (3, 4):
        raise ValueError(
            f"{op}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got shape {input.shape}"
        )
    K, dil, pads, st = _settings(kernel_size, dilation, padding, stride, op)
    x = input.reshape((1,) + input.shape) if input.ndim == 3 else input
    O = _blocks(x.shape[2:], K, dil, pads, st, op)
    y = Im2col.apply(x, kernel=K, dilation=dil, padding=pads, stride=st, out=O)
    return y.reshape(y.shape[1:]) if input.ndim == 3 else y


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns of windows back into images (col2im; ``nn.Fold``): the adjoint of
    :func:`unfold` (overlapping windows add up, so ``fold(unfold(x))`` is ``x`` times the
    number of windows covering each pixel).

    Args:
        input: (N, C * KH * KW, L), or (C * KH * KW, L) unbatched.
        output_size: (H, W) of the images (an int for both).
        kernel_size, dilation, padding, stride: as for :func:`unfold`; L must be the number
            of windows they give on an (H, W) image.

    Shape: (N, C * KH * KW, L) -> (N, C, H, W).
    """
    op = "fold"
    _check_tensor(input, op)
    if input.ndim not in (2, 3):
        raise ValueError(
            f"{op}: expected a 3-D (N, C*KH*KW, L) or 2-D (C*KH*KW, L) input, got shape "
            f"{input.shape}"
        )
    hw = ntuple(output_size, 2, "output_size", op, 1)
    K, dil, pads, st = _settings(kernel_size, dilation, padding, stride, op)
    x = input.reshape((1,) + input.shape) if input.ndim == 2 else input
    if x.shape[1] % (K[0] * K[1]):
        raise ValueError(
            f"{op}: input dim {input.ndim - 2} has size {x.shape[1]}, not divisible by the "
            f"kernel's {K[0]} * {K[1]} = {K[0] * K[1]} elements"
        )
    O = _blocks(hw, K, dil, pads, st, op)
    if x.shape[2] != O[0] * O[1]:
        raise ValueError(
            f"{op}: output_size={hw}, kernel_size={K}, dilation={dil}, padding="
            f"{tuple(lo for lo, _ in pads)}, stride={st} give {O[0]} * {O[1]} = {O[0] * O[1]} "
            f"sliding blocks, but the input (shape {input.shape}) has {x.shape[2]}"
        )
    y = Col2im.apply(x, output_size=hw, kernel=K, dilation=dil, padding=pads, stride=st, out=O)
    return y.reshape(y.shape[1:]) if input.ndim == 2 else y
