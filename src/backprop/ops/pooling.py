"""Pooling: max, average and adaptive average over (N, C, H, W); 1-D pooling is the H = 1 case.

Max and average pooling loop over the KH*KW kernel taps only, each tap a strided slice of the
(padded) input that covers every window at once: for the common 2x2 stride-2 pool that is four
slices and three ``maximum`` calls, no im2col copy and no padding buffer. Their backward passes
slice-assign (windows that tile the input) or slice-add (overlapping windows) per tap, never
``np.add.at``. Max pooling keeps no index array: its backward finds, per tap, where the input equals
the saved maximum and routes the gradient to the FIRST such tap in window order (row-major), as
PyTorch's CPU kernel does for ties; a NaN maximum goes to the LAST NaN in the window, PyTorch's
rule too. Adaptive average pooling is separable, ``y = Ph x Pw^T`` with fixed averaging matrices
built from PyTorch's start/end index formula: forward and backward are two matrix products each.

When max-pool windows tile the input (stride = kernel, no padding: LeNet's 2x2), the output and
the input gradient are pooled arrays in the input's memory order and the backward writes each
tap's share straight into its slice of the gradient (``_tiled_backward``); for 2x2 windows over
a conv output's (C, H, W, N) memory, with the numba kernels on, forward and backward are one
compiled kernel each (``numba_kernels.max_pool2x2``, ``max_pool2x2_backward``).

First-order gradients only.
"""

from __future__ import annotations

from math import prod

from ..autograd.function import Function
from ..backend import kernels
from . import register_op


def _taps(xin, KH, KW, OH, OW, sh, sw, dh, dw):
    """The KH*KW strided slices of ``xin`` (N, C, Hp, Wp), each (N, C, OH, OW), in window order."""
    he, we = sh * (OH - 1) + 1, sw * (OW - 1) + 1
    return [
        (i * dh, j * dw, xin[:, :, i * dh : i * dh + he : sh, j * dw : j * dw + we : sw])
        for i in range(KH)
        for j in range(KW)
    ]


def _padded(xp, x, pt, pb, pl, pr, value):
    """x padded on its last two axes with ``value``, keeping x's memory order (or x itself)."""
    if not (pt or pb or pl or pr):
        return x
    N, C, H, W = x.shape
    buf = xp.full_like(x, value, shape=(N, C, H + pt + pb, W + pl + pr))
    buf[:, :, pt : pt + H, pl : pl + W] = x
    return buf


def _scatter_taps(xp, gs, like, shape, geom, tiles):
    """Sum per-tap gradients ``gs`` (each (N, C, OH, OW)) into a zero array of the padded input's
    ``shape`` in ``like``'s memory order; ``tiles``: windows do not overlap (assign, not add)."""
    KH, KW, OH, OW, sh, sw, dh, dw = geom
    he, we = sh * (OH - 1) + 1, sw * (OW - 1) + 1
    gpad = xp.zeros_like(like, shape=shape)
    k = 0
    for i in range(KH):
        for j in range(KW):
            sl = (
                slice(None),
                slice(None),
                slice(i * dh, i * dh + he, sh),
                slice(j * dw, j * dw + we, sw),
            )
            if tiles:
                gpad[sl] = gs[k]
            else:
                gpad[sl] += gs[k]
            k += 1
    return gpad


def inside_taps(xp, geom, padding, H, W):
    """Per tap, an (OH, OW) mask of the windows where that tap lies inside the input (not in
    the padding or ceil_mode's extra cells)."""
    KH, KW, OH, OW, sh, sw, dh, dw = geom
    ph, pw = padding
    out = []
    for i in range(KH):
        r = xp.arange(OH) * sh + i * dh - ph
        rows = (r >= 0) & (r < H)
        for j in range(KW):
            c = xp.arange(OW) * sw + j * dw - pw
            out.append(rows[:, None] & ((c >= 0) & (c < W))[None, :])
    return out


def max_masks(xp, taps, y, inside=None):
    """One boolean mask per tap: where that tap is the window's chosen maximum (PyTorch's rule).

    ``inside`` (from :func:`inside_taps`) keeps the -inf padding from ever being chosen: PyTorch
    only visits cells of the input, so a window of -inf inputs sends its gradient to the first one.
    """
    masks = []
    free = None  # windows not yet assigned to an earlier tap
    for k, t in enumerate(taps):
        m = t == y
        if inside is not None:
            m &= inside[k]
        if free is not None:
            m &= free
        if k < len(taps) - 1:
            free = ~m if free is None else free & ~m
        masks.append(m)
    nan = xp.isnan(y)
    if nan.any():
        # PyTorch updates on every NaN it meets, so the last NaN in window order wins.
        free = nan
        for k in range(len(taps) - 1, -1, -1):
            m = xp.isnan(taps[k]) & free
            masks[k] = masks[k] & ~nan | m
            free = free & ~m
    return masks


def _geometry(x, kernel_size, stride, padding, dilation, extra):
    KH, KW = kernel_size
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    eh, ew = extra
    N, C, H, W = x.shape
    OH = (H + 2 * ph + eh - dh * (KH - 1) - 1) // sh + 1
    OW = (W + 2 * pw + ew - dw * (KW - 1) - 1) // sw + 1
    return KH, KW, OH, OW, sh, sw, dh, dw


def _tiled_forward(xp, x, y, geom) -> None:
    """y = the maximum of each window of ``x``, for windows that tile it (no padding)."""
    if geom[:2] == (2, 2) and _chwn_fused(xp, (x, y)):
        # Compiled (numba_kernels.max_pool2x2): one pass instead of three maximum calls.
        kernels.launch("max_pool2x2", x.transpose(1, 2, 3, 0), y.transpose(1, 2, 3, 0))
        return
    taps = [t for _, _, t in _taps(x, *geom)]
    if len(taps) == 1:
        xp.copyto(y, taps[0])
        return
    xp.maximum(taps[0], taps[1], out=y)
    for t in taps[2:]:
        xp.maximum(y, t, out=y)


@register_op("max_pool2d")
class MaxPool2d(Function):
    """y = max over each window of x padded with -inf;  gx = gy routed to the window's argmax.

    ``extra`` (h, w) pads the bottom/right further so that ceil_mode's last windows fit.
    A 3-D input (N, C, L) is max_pool1d.
    """

    @staticmethod
    def forward(ctx, x, *, kernel_size, stride, padding, dilation, extra=(0, 0)):
        xp = ctx.xp
        ctx.one_d = x.ndim == 3
        if ctx.one_d:
            x = x[:, :, None, :]
        geom = _geometry(x, kernel_size, stride, padding, dilation, extra)
        ph, pw = padding
        ctx.geom = geom
        ctx.crop = (ph, pw, x.shape[2], x.shape[3])
        # Non-overlapping windows with nothing to pad (LeNet's 2x2 stride 2): the tiled path.
        ctx.tiled = (
            tuple(stride) == tuple(kernel_size)
            and not (ph or pw or extra[0] or extra[1])
            and tuple(dilation) == (1, 1)
        )
        if ctx.tiled:
            y = ctx.empty_like(x, x.shape[:2] + (geom[2], geom[3]))  # x's memory order
            _tiled_forward(xp, x, y, geom)
            ctx.save_for_backward(x, y)
            return y[:, :, 0, :] if ctx.one_d else y
        xin = _padded(xp, x, ph, ph + extra[0], pw, pw + extra[1], -xp.inf)
        taps = [t for _, _, t in _taps(xin, *geom)]
        y = taps[0].copy(order="K")  # keep the input's memory order (a conv's CHWN)
        for t in taps[1:]:
            xp.maximum(y, t, out=y)
        ctx.save_for_backward(xin, y)
        return y[:, :, 0, :] if ctx.one_d else y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        xin, y = ctx.saved_tensors
        KH, KW, OH, OW, sh, sw, dh, dw = geom = ctx.geom
        if ctx.one_d:
            gy = gy[:, :, None, :]
        taps = [t for _, _, t in _taps(xin, *geom)]
        if ctx.tiled:
            gx = _tiled_backward(ctx, xin, y, ctx.match_layout(gy, y), taps, geom)
            return gx[:, :, 0, :] if ctx.one_d else gx
        ph, pw, H, W = ctx.crop
        inside = None
        if xp.isneginf(y).any() and xin.shape[2:] != (H, W):  # -inf windows may tie the padding
            inside = inside_taps(xp, geom, (ph, pw), H, W)
        masks = max_masks(xp, taps, y, inside)
        if xp.isfinite(gy).all():
            # gy * mask keeps gy's memory order and runs ~8x faster than where(), which is only
            # needed when gy holds inf/NaN (inf * 0 would put NaN where no gradient belongs).
            gs = [gy * m for m in masks]
        else:
            zero = gy.dtype.type(0)
            gs = [xp.where(m, gy, zero) for m in masks]
        tiles = sh >= dh * (KH - 1) + 1 and sw >= dw * (KW - 1) + 1
        gpad = _scatter_taps(xp, gs, xin, xin.shape, geom, tiles)
        gx = gpad[:, :, ph : ph + H, pw : pw + W]
        return gx[:, :, 0, :] if ctx.one_d else gx


def _tiled_backward(ctx, x, y, gy, taps, geom):
    """MaxPool2d's backward when the windows tile the input (stride = kernel, no padding).

    Every input element lies in at most one window, so each tap's gradient is written straight
    into its strided slice of gx (laid out like x) with no zero fill, no temporaries and no
    slice-adds. The masks are made one at a time: tap k takes the windows where it equals the
    maximum and no earlier tap did (``m > taken`` is ``m & ~taken`` in one pass on booleans), and
    the last tap takes whatever is left, as PyTorch's first-maximum rule routes it. Windows whose
    maximum is NaN follow :func:`max_masks`.
    """
    xp = ctx.xp
    KH, KW, OH, OW = geom[:4]
    N, C, H, W = x.shape
    gx = ctx.empty_like(x)
    if OH * KH < H:  # rows past the last window (floor mode) get no gradient
        gx[:, :, OH * KH :] = 0
    if OW * KW < W:
        gx[:, :, :, OW * KW :] = 0
    if KH == KW == 2 and _chwn_fused(xp, (x, y, gy, gx)):
        # Compiled (numba_kernels.max_pool2x2_backward): on LeNet-5's first pool at batch 64,
        # (64, 20, 28, 28) float32, this backward takes 0.38 ms against 0.81 ms for the ufuncs
        # below (CPU time, 1 thread, 300 calls); the op's forward + backward 1.53-1.58 ms against
        # 1.77-2.01 (three alternating process pairs, a loaded machine).
        xt, yt, gyt, gxt = (a.transpose(1, 2, 3, 0) for a in (x, y, gy, gx))
        kernels.launch("max_pool2x2_backward", xt, yt, gyt, gxt)
        return gx
    slices = [s for _, _, s in _taps(gx, *geom)]
    finite = bool(xp.isfinite(gy).all())
    zero = gy.dtype.type(0)

    def put(k, m):
        if finite:
            xp.multiply(gy, m, out=slices[k])
        else:  # inf * 0 would put NaN where no gradient belongs
            xp.copyto(slices[k], xp.where(m, gy, zero))

    if xp.isnan(y).any():
        for k, m in enumerate(max_masks(xp, taps, y)):
            put(k, m)
        return gx
    last = len(taps) - 1
    taken = None
    for k, t in enumerate(taps):
        if k == 0:
            m = xp.equal(t, y)
            put(0, m)
            taken = m
        elif k < last:
            m = xp.equal(t, y)
            xp.greater(m, taken, out=m)  # equal to the maximum, and no earlier tap was
            put(k, m)
            xp.logical_or(taken, m, out=taken)
        else:
            put(k, xp.logical_not(taken, out=taken))
    return gx


def _chwn_fused(xp, arrays) -> bool:
    """Whether the compiled 2x2 tiled backward takes these (N, C, H, W) arrays: NumPy
    float32/float64 views of (C, H, W, N) memory (a conv output's layout) while the numba
    kernels are in use; else the NumPy code, which routes the same values."""
    return kernels.fused_kernels_enabled() and all(
        type(a) is xp.ndarray
        and a.dtype.name in ("float32", "float64")
        and a.transpose(1, 2, 3, 0).flags.c_contiguous
        for a in arrays
    )


def max_indices(xp, x, *, kernel_size, stride, padding, dilation, extra=(0, 0)):
    """For ``return_indices``: the flat index into each input plane (H*W, or L for a 3-D x) of
    every window's chosen maximum, as int64 (N, C, OH, OW); the same choice as the backward."""
    if x.ndim == 3:
        x = x[:, :, None, :]
    KH, KW, OH, OW, sh, sw, dh, dw = geom = _geometry(
        x, kernel_size, stride, padding, dilation, extra
    )
    ph, pw = padding
    xin = _padded(xp, x, ph, ph + extra[0], pw, pw + extra[1], -xp.inf)
    taps = _taps(xin, *geom)
    y = taps[0][2].copy()
    for _, _, t in taps[1:]:
        xp.maximum(y, t, out=y)
    H, W = x.shape[2:]
    rows = xp.arange(OH)[:, None] * sh - ph
    cols = xp.arange(OW)[None, :] * sw - pw
    idx = xp.zeros(y.shape, dtype=xp.int64)
    inside = inside_taps(xp, geom, padding, H, W) if xin is not x else None
    for (i, j, _), m in zip(taps, max_masks(xp, [t for _, _, t in taps], y, inside)):
        flat = xp.broadcast_to((rows + i) * W + (cols + j), y.shape)
        idx[m] = flat[m]
    return idx


def avg_divisor(xp, dtype, H, W, geom, padding, count_include_pad, divisor_override):
    """PyTorch's divisor: a scalar when every window has the same one, else an (OH, OW) array.

    A window's full size counts the padding but not the cells past it that ceil_mode adds; without
    ``count_include_pad`` only the cells inside the input count.
    """
    KH, KW, OH, OW, sh, sw, _, _ = geom
    if divisor_override:
        return dtype.type(divisor_override)
    ph, pw = padding

    def sizes(O, s, k, p, n):
        start = xp.arange(O) * s - p
        end = xp.minimum(start + k, n + p)
        full = end - start
        clipped = xp.minimum(end, n) - xp.maximum(start, 0)
        return full, clipped

    fh, ch = sizes(OH, sh, KH, ph, H)
    fw, cw = sizes(OW, sw, KW, pw, W)
    hs, ws = (fh, fw) if count_include_pad else (ch, cw)
    div = (hs[:, None] * ws[None, :]).astype(dtype)
    if bool((div == div[0, 0]).all()):
        return dtype.type(div[0, 0])
    return div


@register_op("avg_pool2d")
class AvgPool2d(Function):
    """y = sum over each window of x padded with 0, / divisor;  gx = gy / divisor spread over the
    window. The divisor follows PyTorch (see ``avg_divisor``). A 3-D input (N, C, L) is 1-D."""

    @staticmethod
    def forward(
        ctx,
        x,
        *,
        kernel_size,
        stride,
        padding,
        extra=(0, 0),
        count_include_pad=True,
        divisor_override=None,
    ):
        xp = ctx.xp
        ctx.one_d = x.ndim == 3
        if ctx.one_d:
            x = x[:, :, None, :]
        geom = _geometry(x, kernel_size, stride, padding, (1, 1), extra)
        ph, pw = padding
        xin = _padded(xp, x, ph, ph + extra[0], pw, pw + extra[1], 0)
        taps = [t for _, _, t in _taps(xin, *geom)]
        y = taps[0].copy(order="K")
        for t in taps[1:]:
            y += t
        divisor = avg_divisor(
            xp, x.dtype, x.shape[2], x.shape[3], geom, padding, count_include_pad, divisor_override
        )
        y /= divisor
        ctx.geom = geom
        ctx.divisor = divisor
        ctx.crop = (ph, pw, x.shape[2], x.shape[3])
        ctx.pshape = xin.shape
        ctx.save_for_backward(x)  # only its dtype and memory order are used (torch saves it too)
        return y[:, :, 0, :] if ctx.one_d else y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        KH, KW, OH, OW, sh, sw, dh, dw = geom = ctx.geom
        if ctx.one_d:
            gy = gy[:, :, None, :]
        g = gy / ctx.divisor
        tiles = sh >= KH and sw >= KW
        (like,) = ctx.saved_tensors
        gpad = _scatter_taps(xp, [g] * (KH * KW), like, ctx.pshape, geom, tiles)
        ph, pw, H, W = ctx.crop
        gx = gpad[:, :, ph : ph + H, pw : pw + W]
        return gx[:, :, 0, :] if ctx.one_d else gx


def adaptive_matrix(xp, n, out, dtype):
    """(out, n) averaging matrix: row i averages x[floor(i*n/out) : ceil((i+1)*n/out)]."""
    i = xp.arange(out)
    start = (i * n) // out
    end = -((-(i + 1) * n) // out)
    cols = xp.arange(n)
    inside = (cols[None, :] >= start[:, None]) & (cols[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


def _windows(n, out):
    """PyTorch's adaptive windows [start, end) over n cells for ``out`` outputs."""
    return [((i * n) // out, -((-(i + 1) * n) // out)) for i in range(out)]


def _adaptive_loops(xp, x, OH, OW):
    """Ph @ x @ Pw^T as window means along W, then along H: used when x holds inf or NaN, which
    the matrix products would spread through their zeros (inf * 0) to every output."""
    H, W = x.shape[2:]
    z = xp.empty(x.shape[:3] + (OW,), x.dtype)
    for j, (s, e) in enumerate(_windows(W, OW)):
        z[..., j] = x[..., s:e].sum(axis=-1) / x.dtype.type(e - s)
    y = xp.empty(x.shape[:2] + (OH, OW), x.dtype)
    for i, (s, e) in enumerate(_windows(H, OH)):
        y[:, :, i] = z[:, :, s:e].sum(axis=2) / x.dtype.type(e - s)
    return y


def _adaptive_loops_back(xp, gy, H, W):
    """Ph^T @ gy @ Pw by window, for a gy that holds inf or NaN (see :func:`_adaptive_loops`)."""
    OH, OW = gy.shape[2:]
    gz = xp.zeros(gy.shape[:2] + (H, OW), gy.dtype)
    for i, (s, e) in enumerate(_windows(H, OH)):
        gz[:, :, s:e] += (gy[:, :, i] / gy.dtype.type(e - s))[:, :, None]
    gx = xp.zeros(gy.shape[:2] + (H, W), gy.dtype)
    for j, (s, e) in enumerate(_windows(W, OW)):
        gx[..., s:e] += (gz[..., j] / gy.dtype.type(e - s))[..., None]
    return gx


@register_op("adaptive_avg_pool2d")
class AdaptiveAvgPool2d(Function):
    """y = Ph @ x @ Pw^T (Ph, Pw: PyTorch's adaptive windows as averaging matrices);
    gx = Ph^T @ gy @ Pw. A 3-D input (N, C, L) is adaptive_avg_pool1d. Non-finite values take
    window loops instead, so that inf and NaN stay in the windows that hold them."""

    @staticmethod
    def forward(ctx, x, *, output_size):
        xp = ctx.xp
        ctx.one_d = x.ndim == 3
        if ctx.one_d:
            x = x[:, :, None, :]
        OH, OW = output_size
        H, W = x.shape[2:]
        ph = adaptive_matrix(xp, H, OH, x.dtype)
        pw = adaptive_matrix(xp, W, OW, x.dtype)
        ctx.mats = (ph, pw)
        if xp.isfinite(x).all():
            y = ph @ (x @ pw.T)
        else:
            y = _adaptive_loops(xp, x, OH, OW)
        return y[:, :, 0, :] if ctx.one_d else y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        ph, pw = ctx.mats
        if ctx.one_d:
            gy = gy[:, :, None, :]
        if xp.isfinite(gy).all():
            gx = (ph.T @ gy) @ pw
        else:
            gx = _adaptive_loops_back(xp, gy, ph.shape[1], pw.shape[1])
        return gx[:, :, 0, :] if ctx.one_d else gx


def adaptive_max_indices(xp, x, OH, OW):
    """The flat (H * W) index of each output's maximum over PyTorch's adaptive windows: the
    first maximum of a window, or its last NaN (PyTorch's CPU kernel takes ``v > max or
    isnan(v)``). Returns (N, C, OH, OW) int64."""
    H, W = x.shape[2:]
    idx = xp.empty(x.shape[:2] + (OH, OW), dtype=xp.int64)
    for i, (h0, h1) in enumerate(_windows(H, OH)):
        for j, (w0, w1) in enumerate(_windows(W, OW)):
            win = x[:, :, h0:h1, w0:w1].reshape(x.shape[:2] + (-1,))
            k = win.argmax(axis=-1)
            nan = xp.isnan(win)
            if nan.any():
                last_nan = win.shape[-1] - 1 - nan[..., ::-1].argmax(axis=-1)
                k = xp.where(nan.any(axis=-1), last_nan, k)
            ww = w1 - w0
            idx[:, :, i, j] = (h0 + k // ww) * W + (w0 + k % ww)
    return idx


@register_op("adaptive_max_pool2d")
class AdaptiveMaxPool2d(Function):
    """y = the maximum of each adaptive window (PyTorch's windows; a 3-D (N, C, L) input is the
    1-D case);  gx = gy sent to each window's chosen maximum (added where windows overlap)."""

    @staticmethod
    def forward(ctx, x, *, output_size):
        xp = ctx.xp
        one_d = x.ndim == 3
        x4 = x[:, :, None, :] if one_d else x
        OH, OW = output_size
        idx = adaptive_max_indices(xp, x4, OH, OW)
        flat = x4.reshape(x4.shape[:2] + (-1,))
        y = xp.take_along_axis(flat, idx.reshape(idx.shape[:2] + (-1,)), axis=-1).reshape(idx.shape)
        ctx.meta = (x.shape, one_d, idx)
        return y[:, :, 0, :] if one_d else y

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        shape, one_d, idx = ctx.meta
        g4 = gy[:, :, None, :] if one_d else gy
        N, C = idx.shape[:2]
        gx = xp.zeros((N, C, prod(shape[2:])), dtype=gy.dtype)
        n_idx = xp.arange(N)[:, None, None]
        c_idx = xp.arange(C)[None, :, None]
        xp.add.at(gx, (n_idx, c_idx, idx.reshape(N, C, -1)), g4.reshape(N, C, -1))
        return gx.reshape(shape)
