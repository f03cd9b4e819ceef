"""Shape functions: reshape, transpose, squeeze, expand, cat, split, pad..."""

from __future__ import annotations

import math

import numpy as np

from ..ops import shape as S
from ..ops.indexing import GetItem, IndexSelect
from ..tensor import Tensor
from ._util import as_tensor, dim_tuple, one_dim, parse_sizes, promote

__all__ = [
    "reshape", "view", "transpose", "swapaxes", "swapdims", "permute", "movedim", "moveaxis",
    "flatten", "unflatten", "squeeze", "unsqueeze", "expand", "broadcast_to", "repeat", "tile",
    "repeat_interleave", "flip", "cat", "concat", "concatenate", "stack", "split",
    "split_with_sizes", "tensor_split", "hsplit", "vsplit", "dsplit", "chunk", "unbind", "narrow",
    "pad",
]  # fmt: skip


def reshape(input: Tensor, *shape) -> Tensor:
    """A tensor with the same elements and shape ``shape`` (one size may be -1, inferred)."""
    shape = parse_sizes(shape, "reshape")
    n = input.data.size
    known = math.prod(s for s in shape if s != -1)
    if (
        shape.count(-1) > 1
        or any(s < -1 for s in shape)
        or (n != known if -1 not in shape else known == 0 or n % known)
    ):
        raise ValueError(f"reshape: cannot reshape a tensor of shape {input.shape} ({n} elements) "
                         f"into shape {shape}")  # fmt: skip
    if shape == input.shape:
        return input
    return S.Reshape.apply(input, shape=shape)


view = reshape


def permute(input: Tensor, *dims) -> Tensor:
    """The dimensions reordered as ``dims`` (a permutation of ``range(ndim)``)."""
    dims = parse_sizes(dims, "permute")
    if len(dims) != input.ndim:
        raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor with {input.ndim}")
    norm = tuple(one_dim(d, input.ndim, "permute") for d in dims)
    if sorted(norm) != list(range(input.ndim)):
        raise ValueError(f"permute: dims {dims} are not a permutation of range({input.ndim})")
    return S.Permute.apply(input, dims=norm)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    d0 = one_dim(dim0, input.ndim, "transpose")
    d1 = one_dim(dim1, input.ndim, "transpose")
    if input.ndim < 2 or d0 == d1:
        return input
    dims = list(range(input.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return S.Permute.apply(input, dims=tuple(dims))


swapaxes = swapdims = transpose


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move dimension(s) ``source`` (an int or a tuple) to position(s) ``destination``; the
    other dimensions keep their order."""
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"movedim: source {source} and destination {destination} differ in "
                         f"length")  # fmt: skip
    src = [one_dim(a, input.ndim, "movedim") for a in src]
    dst = [one_dim(a, input.ndim, "movedim") for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: repeated dims in {source} or {destination}")
    if input.ndim == 0:
        return input
    rest = iter(i for i in range(input.ndim) if i not in src)
    at = dict(zip(dst, src))
    dims = tuple(at[i] if i in at else next(rest) for i in range(input.ndim))
    if dims == tuple(range(input.ndim)):
        return input
    return S.Permute.apply(input, dims=dims)


moveaxis = movedim


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if input.ndim == 0:
        return reshape(input, 1)
    s = one_dim(start_dim, input.ndim, "flatten")
    e = one_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
    shape = input.shape
    return reshape(input, shape[:s] + (math.prod(shape[s : e + 1]),) + shape[e + 1 :])


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split dimension ``dim`` into ``sizes``."""
    d = one_dim(dim, input.ndim, "unflatten")
    sizes = tuple(sizes)
    if math.prod(sizes) != input.shape[d] and -1 not in sizes:
        raise ValueError(
            f"unflatten: sizes {sizes} do not multiply to {input.shape[d]} (dim {dim})"
        )
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1 :])


def squeeze(input: Tensor, dim=None) -> Tensor:
    """Remove dimensions of size 1 (only ``dim`` when given; a dim of other size is left alone)."""
    axes = dim_tuple(dim, input.ndim, "squeeze")
    shape = tuple(
        n for i, n in enumerate(input.shape) if not (n == 1 and (axes is None or i in axes))
    )
    return reshape(input, shape)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (``-1`` appends)."""
    d = one_dim(dim, input.ndim + 1, "unsqueeze")
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


def expand(input: Tensor, *sizes) -> Tensor:
    """Broadcast to ``sizes`` without copying (-1 keeps a size); the gradient sums back."""
    sizes = parse_sizes(sizes, "expand")
    if len(sizes) < input.ndim:
        raise ValueError(f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {input.shape}")
    lead = len(sizes) - input.ndim
    shape = tuple(
        input.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes)
    )
    try:
        if np.broadcast_shapes(input.shape, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"expand: cannot expand shape {input.shape} to {sizes}") from None
    if shape == input.shape:
        return input
    return S.Expand.apply(input, shape=shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


def repeat(input: Tensor, *sizes) -> Tensor:
    """Tile the tensor ``sizes[i]`` times along each dimension (PyTorch's ``repeat``)."""
    reps = parse_sizes(sizes, "repeat")
    if len(reps) < input.ndim or any(r < 0 for r in reps):
        raise ValueError(f"repeat: repeats {reps} do not fit a tensor of shape {input.shape}")
    return S.Repeat.apply(input, reps=reps)


def tile(input: Tensor, dims) -> Tensor:
    """Repeat the tensor ``dims[i]`` times along each dim; fewer ``dims`` than the tensor has
    dims are padded with leading 1s (``torch.tile``)."""
    reps = parse_sizes((dims,) if isinstance(dims, (int, np.integer)) else (tuple(dims),), "tile")
    reps = (1,) * (input.ndim - len(reps)) + reps
    return repeat(input, reps)


def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Repeat each element ``repeats`` times (an int, or one count per element of ``dim``) along
    ``dim`` (None: of the flattened tensor). ``repeat_interleave(counts)`` alone gives the indices
    ``0, 0, ..., 1, ...`` repeated by the counts. The gradient sums the copies."""
    if repeats is None:  # torch.repeat_interleave(repeats_tensor)
        r = np.asarray(input.data if isinstance(input, Tensor) else input)
        if r.ndim > 1 or not np.issubdtype(r.dtype, np.integer) or (r < 0).any():
            raise ValueError("repeat_interleave: repeats must be a 0-d or 1-D tensor of counts")
        return Tensor._make(np.repeat(np.arange(r.size), r.reshape(-1)), False, None)
    input = as_tensor(input, "repeat_interleave")
    if dim is None:
        input, d = flatten(input), 0
    else:
        d = one_dim(dim, input.ndim, "repeat_interleave")
        if input.ndim == 0:
            input = reshape(input, 1)
    n = input.shape[d]
    r = np.asarray(repeats.data if isinstance(repeats, Tensor) else repeats)
    if not np.issubdtype(r.dtype, np.integer) or r.ndim > 1 or (r < 0).any():
        raise ValueError(f"repeat_interleave: repeats must be non-negative ints, got {repeats!r}")
    if r.ndim == 1 and r.size not in (1, n):
        raise ValueError(f"repeat_interleave: {r.size} repeats for dim {dim} of size {n}")
    index = np.repeat(np.arange(n), r.reshape(-1) if r.ndim else int(r))
    if output_size is not None and output_size != index.size:
        raise ValueError(f"repeat_interleave: output_size {output_size} but the repeats give "
                         f"{index.size}")  # fmt: skip
    return IndexSelect.apply(input, index, dim=d)


def flip(input: Tensor, dims) -> Tensor:
    """Reverse the order of elements along ``dims``."""
    return S.Flip.apply(input, dims=dim_tuple(dims, input.ndim, "flip"))


def cat(tensors, dim: int = 0) -> Tensor:
    """Concatenate tensors along an existing dimension; all other sizes must agree."""
    tensors = _seq(tensors, "cat")
    ref = tensors[0]
    d = one_dim(dim, ref.ndim, "cat")
    for t in tensors[1:]:
        if (
            t.ndim != ref.ndim
            or t.shape[:d] + t.shape[d + 1 :] != ref.shape[:d] + ref.shape[d + 1 :]
        ):
            raise ValueError(f"cat: shapes {[x.shape for x in tensors]} differ outside dim {dim}")
    return S.Cat.apply(*_common(tensors), dim=d)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Stack tensors of one shape along a new dimension."""
    tensors = _seq(tensors, "stack")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ValueError(
            f"stack: all tensors must have one shape, got {[t.shape for t in tensors]}"
        )
    d = one_dim(dim, tensors[0].ndim + 1, "stack")
    return S.Stack.apply(*_common(tensors), dim=d)


def _seq(tensors, op):
    if isinstance(tensors, Tensor) or not len(tensors):
        raise ValueError(f"{op}: expected a non-empty sequence of tensors")
    return [as_tensor(t, op) for t in tensors]


def _common(tensors):
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = promote(dt, t.dtype)
    return [t if t.dtype == dt else t.astype(dt) for t in tensors]


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start+length`` along ``dim``."""
    d = one_dim(dim, input.ndim, "narrow")
    if isinstance(start, Tensor):  # PyTorch accepts a 0-d tensor start
        start = int(start.item())
    if start < 0:
        start += input.shape[d]
    if not (0 <= start and length >= 0 and start + length <= input.shape[d]):
        raise ValueError(
            f"narrow: [{start}, {start + length}) is outside dim {dim} of {input.shape}"
        )
    index = (slice(None),) * d + (slice(start, start + length),)
    return GetItem.apply(input, index=index)


def split(input: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into chunks of ``split_size`` (the last may be smaller) or of the listed sizes."""
    d = one_dim(dim, input.ndim, "split")
    n = input.shape[d]
    if isinstance(split_size_or_sections, (int, np.integer)):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(
                f"split: sections {sizes} do not sum to {n} (dim {dim} of {input.shape})"
            )
    out, start = [], 0
    for s in sizes:
        out.append(narrow(input, d, start, s))
        start += s
    return tuple(out)


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """Split into pieces of the listed sizes (they must sum to the size of ``dim``)."""
    return split(input, list(split_sizes), dim)


def tensor_split(input: Tensor, indices_or_sections, dim: int = 0) -> tuple:
    """Split into ``n`` nearly equal pieces (an int or 0-d tensor: the first ``size % n`` get one
    more element) or at the listed indices (a list, tuple or 1-D tensor; as Python slices, so
    they may run past the end), as ``torch.tensor_split``."""
    d = one_dim(dim, input.ndim, "tensor_split")
    n = input.shape[d]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios.data.ndim > 1 or not np.issubdtype(ios.data.dtype, np.integer):
            raise TypeError("tensor_split: a tensor indices_or_sections must be 0-d or 1-D ints")
        ios = int(ios.data) if ios.ndim == 0 else [int(i) for i in ios.data]
    if isinstance(ios, (int, np.integer)):
        k = int(ios)
        if k <= 0:
            raise ValueError(f"tensor_split: sections must be positive, got {k}")
        q, rem = divmod(n, k)
        bounds = [i * q + min(i, rem) for i in range(k + 1)]
    else:
        bounds = [0] + [min(max(int(i) + (n if i < 0 else 0), 0), n) for i in ios] + [n]
    index = (slice(None),) * d
    return tuple(
        GetItem.apply(input, index=index + (slice(a, max(a, b)),))
        for a, b in zip(bounds[:-1], bounds[1:])
    )


def _dir_split(input: Tensor, ios, d: int, need: int, op: str) -> tuple:
    if input.ndim < need:
        raise ValueError(f"{op}: input needs at least {need} dims, got shape {input.shape}")
    if isinstance(ios, (int, np.integer)) and (ios <= 0 or input.shape[d] % ios):
        raise ValueError(f"{op}: dim {d} of size {input.shape[d]} is not divisible into {ios}")
    return tensor_split(input, ios, d)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 1 (dim 0 for a 1-D input); an int must divide evenly."""
    return _dir_split(input, indices_or_sections, 1 if input.ndim > 1 else 0, 1, "hsplit")


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 0 of an input with at least 2 dims; an int divides evenly."""
    return _dir_split(input, indices_or_sections, 0, 2, "vsplit")


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    """``tensor_split`` along dim 2 of an input with at least 3 dims; an int divides evenly."""
    return _dir_split(input, indices_or_sections, 2, 3, "dsplit")


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into ``chunks`` pieces of ceil(size / chunks) elements (fewer if they run out)."""
    if chunks <= 0:
        raise ValueError(f"chunk: chunks must be positive, got {chunks}")
    n = input.shape[one_dim(dim, input.ndim, "chunk")]
    return split(input, max(-(-n // chunks), 1), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along ``dim``, each without that dimension."""
    d = one_dim(dim, input.ndim, "unbind")
    return tuple(
        GetItem.apply(input, index=(slice(None),) * d + (i,)) for i in range(input.shape[d])
    )


def pad(input: Tensor, pad, mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad with a constant. ``pad`` lists (before, after) pairs starting from the LAST dimension,
    as ``torch.nn.functional.pad``: ``(1, 1)`` pads the last dim, ``(1, 1, 2, 2)`` the last two.
    The other modes (reflect, replicate, circular) and negative widths (cropping) are
    :func:`backprop.functional.padding.pad`'s, which this calls for them."""
    pad = tuple(int(p) for p in pad)
    if mode != "constant" or any(p < 0 for p in pad):
        from .padding import pad as pad_any

        return pad_any(input, pad, mode, None if mode != "constant" else value)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: {pad} must hold pairs for at most {input.ndim} dims")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return S.Pad.apply(input, widths=tuple(widths), value=value)
