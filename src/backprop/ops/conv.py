"""Convolution: conv2d (and conv1d, as conv2d over a unit height) by im2col and one matrix multiply.

The API is NCHW (PyTorch's), but inside the op the batch axis goes last: the padded input is held as
(C, H, W, N) and the im2col matrix as (C*KH*KW, OH*OW*N). Why:

1. the copy that builds the im2col matrix then moves runs of OW*N contiguous numbers (not OW), so it
   runs near memory speed;
2. ``w (O, C*KH*KW) @ cols`` is one plain 2-D matrix multiply whose result (O, OH, OW, N) is
   returned as a transposed *view* (N, O, OH, OW): no copy. Elementwise ops downstream keep that
   memory order, so the next conv layer and this op's backward find their operands already laid out
   and their transposes cost nothing;
3. the weight gradient ``(cols @ gy^T)^T`` is again one 2-D multiply, with BLAS reading ``gy``
   transposed in place.

The input gradient, at stride 1 when the input is at most 1.25x wider than the output (padded
convolutions: every conv of LeNet-5, VGG, most ResNet layers), is a correlation split by kernel
rows (``_input_grad_rows``): ``gy`` is unfolded along the width only, into B (O*KW, OH*W*N),
five times smaller than a full unfold for a 5x5 kernel; one multiply
``(KH*C, O*KW) @ B`` gives every kernel row's contribution, and KH row-shifted slab-adds (each a
contiguous block) sum them into gx. It does the same arithmetic as ``w^T @ gy`` but replaces
col2im's KH*KW strided slice-adds over a C*KH*KW-row matrix (25 passes for 5x5) by one unfold
and KH contiguous adds: on LeNet-5's second conv at batch 64, 1 thread, 13 ms -> 9 ms. When the
graph is not retained, both of its buffers live in the (now spent) im2col buffer.

Other convolutions (strided, dilated, grouped, unpadded with large kernels) use col2im of
``w^T @ gy`` (``_input_grad_col2im``): one multiply, then one strided slice-add per kernel tap
(KH*KW of them, each vectorised over channels, positions and batch) into a zeroed padded buffer,
with no ``np.add.at``. The alternative, a full correlation of the zero-stuffed, padded ``gy``
with the flipped kernel through the same im2col path, builds a matrix O*KH*KW rows tall instead
of C*KH*KW; on the benchmark shape (64, 20, 14, 14) -> 50 filters 5x5 it measured 2.3x slower
(17.9 ms against 7.9 ms for multiply + slice-adds).

Large buffers (the padded input, cols, the output, the gradients) come from ``ctx.empty``, in
the memory order the next op reads.

Where the time goes (CPU time, 1 thread, medians, NumPy 2.4's OpenBLAS, a loaded 2-core machine):
``Conv2d(20, 50, 5, padding=2)`` forward + backward on (64, 20, 14, 14) float32 takes ~27-29 ms,
of which the three products take ~22-24 ms (forward ``w @ cols`` 7.7-8.5 ms, ~80 GFLOP/s against
~107 for a 1024^3 product; weight gradient 7.4-8.5; input gradient 6.0-7.0) and the copies ~3.3
ms, each already near memory speed: im2col 1.0-1.3 ms (25 MB written), the input gradient's width
unfold 0.3-0.4 and kernel-row sum 0.1, the padding 0.13, ``_gy_rows`` 0.26 (only when gy arrives
NCHW-contiguous), the bias gradient 0.13. In a LeNet-5 step (~39 ms) the products are ~27 ms.
Tried and dropped, as they did not pay: numba ``parallel=True`` twins of im2col, the width
unfold and the kernel-row sum (at 1 thread 1.21 ms against NumPy's 1.02 for im2col, the others
even; the whole layer 1.8-4 ms slower over 4 alternating process pairs); splitting the forward by
kernel rows like the input gradient (its ``(250, 100) @ (100, 16128)`` product takes 9.5-9.8 ms
against 7.4-8.2 for ``w @ cols``); chunking ``cols`` along its columns, or a Fortran-ordered ``w``
(within 1%). What is left is the products themselves.

First-order gradients only.
"""

from __future__ import annotations

from typing import NamedTuple

from ..autograd.function import Function
from . import register_op


def windows(xp, a, shape, strides):
    """A read-only-by-convention strided view of ``a`` (strides in elements, not bytes)."""
    item = a.itemsize
    return xp.lib.stride_tricks.as_strided(a, shape, tuple(s * item for s in strides))


def _elem_strides(a):
    item = a.itemsize
    return tuple(s // item for s in a.strides)


def padded_chwn(xp, x, pt, pb, pl, pr, empty=None):
    """x (N, C, H, W) -> zero-padded (C, H+pt+pb, W+pl+pr, N) (x's transposed view if unpadded).

    ``empty(shape, dtype)`` allocates the padded buffer (an op's ``ctx.empty``);
    only its border is zeroed, the interior is overwritten.
    """
    xt = x.transpose(1, 2, 3, 0)
    if not (pt or pb or pl or pr):
        return xt
    C, H, W, N = xt.shape
    shape = (C, H + pt + pb, W + pl + pr, N)
    if empty is None:
        buf = xp.zeros(shape, dtype=x.dtype)
    else:
        buf = empty(shape, x.dtype)
        zero = x.dtype.type(0)
        buf[:, :pt] = zero
        buf[:, pt + H :] = zero
        buf[:, pt : pt + H, :pl] = zero
        buf[:, pt : pt + H, pl + W :] = zero
    buf[:, pt : pt + H, pl : pl + W] = xt
    return buf


def im2col(xp, xpad, KH, KW, OH, OW, sh, sw, dh, dw, empty=None):
    """xpad (C, Hp, Wp, N) -> cols (C*KH*KW, OH*OW*N), rows in (c, kh, kw) order like w's.

    A view of xpad when the kernel is 1x1 at stride 1 over a contiguous input; otherwise a copy,
    written into ``empty(shape, dtype)`` when given (an op's ``ctx.empty``).
    """
    C, _, _, N = xpad.shape
    s0, s1, s2, s3 = _elem_strides(xpad)
    shape6 = (C, KH, KW, OH, OW, N)
    view = windows(xp, xpad, shape6, (s0, dh * s1, dw * s2, sh * s1, sw * s2, s3))
    if empty is None or (KH == KW == sh == sw == 1 and xpad.flags.c_contiguous):
        # The one copy of the forward pass (a view when the kernel is 1x1 over a contiguous input).
        return view.reshape(C * KH * KW, OH * OW * N)
    out = empty((C * KH * KW, OH * OW * N), xpad.dtype)
    xp.copyto(out.reshape(shape6), view)
    return out


def col2im(xp, gcols, shape, KH, KW, OH, OW, sh, sw, dh, dw, zeros=None):
    """The adjoint of im2col: gcols (C*KH*KW, OH*OW*N) -> the padded gradient (C, Hp, Wp, N).

    One strided slice-add per kernel tap; the taps overlap when the stride is below the kernel
    extent, which is why this accumulates rather than assigns. ``zeros(shape, dtype)`` allocates
    the zeroed result (an op's ``ctx.empty``).
    """
    C, Hp, Wp, N = shape
    g = gcols.reshape(C, KH, KW, OH, OW, N)
    gpad = xp.zeros(shape, dtype=gcols.dtype) if zeros is None else zeros(shape, gcols.dtype)
    he, we = sh * (OH - 1) + 1, sw * (OW - 1) + 1
    for i in range(KH):
        for j in range(KW):
            gpad[:, i * dh : i * dh + he : sh, j * dw : j * dw + we : sw] += g[:, i, j]
    return gpad


class ConvGeometry(NamedTuple):
    """What conv2d's backward needs to know of its forward (conv1d already given a unit height)."""

    x_shape: tuple  # the input's (N, C, H, W)
    pad_shape: tuple  # the padded input's (C, Hp, Wp, N)
    KH: int  # kernel height and width
    KW: int
    OH: int  # output height and width
    OW: int
    sh: int  # strides
    sw: int
    dh: int  # dilations
    dw: int
    pt: int  # padding at the top and on the left (what the input gradient is cropped by)
    pl: int
    groups: int


def _input_grad_rows(ctx, gyc, w, g: ConvGeometry, spare):
    """conv2d's input gradient at stride 1, dilation 1, one group (see the module docstring).

    gx[c, h, w] = sum_{o,i,j} w[o,c,i,j] gy[o, h + pt - i, w + pl - j], computed as
    A[i, c, h', w] = sum_{o,j'} wt[(i, c), (o, j')] B[(o, j'), h', w] with j' = KW-1-j and
    B[(o, j'), h', w] = gy[o, h', w + j' + pl - (KW-1)] (zero outside gy), then
    gx[c, h] = sum_i A[i, c, h + pt - i].
    ``gyc``: the output gradient as (O, OH, OW, N); ``spare``: a dead buffer of at least
    (KH*C + O*KW) * OH*W*N elements to build B and A in.
    Returns gx (N, C, H, W) as a view of (C, H, W, N) memory.
    """
    xp = ctx.xp
    N, C, H, W = g.x_shape
    O, _, KH, KW = w.shape
    OH, OW, pt, pl = g.OH, g.OW, g.pt, g.pl
    M = OH * W * N
    dt = gyc.dtype
    if spare is not None and spare.size >= (O * KW + KH * C) * M:
        flat = spare.reshape(-1)
        B = flat[: O * KW * M].reshape(O, KW, OH, W, N)
        A = flat[O * KW * M : (O * KW + KH * C) * M].reshape(KH, C, OH, W, N)
    else:
        B = ctx.empty((O, KW, OH, W, N), dt)
        A = ctx.empty((KH, C, OH, W, N), dt)
    # B: gy unfolded along the width, one shifted copy per kernel column, zero past gy's edges.
    zero = dt.type(0)
    for jf in range(KW):
        shift = jf + pl - (KW - 1)  # B[:, jf, :, q] = gy[:, :, q + shift]
        lo, hi = max(0, -shift), min(W, OW - shift)
        if hi <= lo:
            B[:, jf] = zero
            continue
        B[:, jf, :, :lo] = zero
        B[:, jf, :, hi:] = zero
        B[:, jf, :, lo:hi] = gyc[:, :, lo + shift : hi + shift]
    # wt[(i, c), (o, j')] = w[o, c, i, KW-1-j']
    wt = w[:, :, :, ::-1].transpose(2, 1, 0, 3).reshape(KH * C, O * KW)
    xp.matmul(wt, B.reshape(O * KW, M), out=A.reshape(KH * C, M))
    # gx[:, h] = sum_i A[i, :, h + pt - i] over the rows where that index lies inside gy.
    gx = ctx.empty((C, H, W, N), dt)
    ranges = [(i, max(0, i - pt), min(H, OH + i - pt)) for i in range(KH)]
    first = next((r for r in ranges if r[1] == 0 and r[2] == H), None)
    if first is None:
        gx.fill(0)
    else:
        i, lo, hi = first
        xp.copyto(gx, A[i, :, lo + pt - i : hi + pt - i])
    for r in ranges:
        i, lo, hi = r
        if r is not first and hi > lo:
            gx[:, lo:hi] += A[i, :, lo + pt - i : hi + pt - i]
    return gx.transpose(3, 0, 1, 2)


# Without a weight gradient to compute, the forward unfolds at most this many bytes at a time.
_CHUNK_BYTES = 16 << 20


def _multiply(xp, w, cols, G, out):
    """out (O, L) = w (O, C/G*KH*KW, ...) @ cols (C*KH*KW, L), group by group."""
    O = w.shape[0]
    ckk = cols.shape[0] // G
    if G == 1:
        xp.matmul(w.reshape(O, ckk), cols, out=out)
    else:
        L = cols.shape[1]
        xp.matmul(w.reshape(G, O // G, ckk), cols.reshape(G, ckk, L), out=out.reshape(G, O // G, L))


def _forward_chunked(ctx, xpad, w, g: ConvGeometry, nb):
    """conv2d's product ``w @ cols`` built ``nb`` samples at a time -> y (O, OH*OW*N)."""
    xp = ctx.xp
    N = xpad.shape[3]
    O = w.shape[0]
    y = ctx.empty((O, g.OH, g.OW, N), xpad.dtype)
    for n0 in range(0, N, nb):
        n1 = min(N, n0 + nb)
        cols = _im2col_of(ctx, xpad[..., n0:n1], g)
        yc = ctx.empty((O, g.OH * g.OW * (n1 - n0)), xpad.dtype)
        _multiply(xp, w, cols, g.groups, yc)
        y[..., n0:n1] = yc.reshape(O, g.OH, g.OW, n1 - n0)
        del cols, yc  # free for the next chunk to reuse
    return y.reshape(O, g.OH * g.OW * N)


def _im2col_of(ctx, xpad, g: ConvGeometry):
    return im2col(ctx.xp, xpad, g.KH, g.KW, g.OH, g.OW, g.sh, g.sw, g.dh, g.dw, ctx.empty)


def out_size(n, k, s, d, p_lo, p_hi):
    """Output length of a convolution along one axis."""
    return (n + p_lo + p_hi - d * (k - 1) - 1) // s + 1


def _gy_rows(ctx, gy):
    """gy (N, O, OH, OW) -> (O, OH*OW*N), the layout every gradient product reads.

    Free when gy kept the forward output's layout (it came through relu or pooling); otherwise
    one transposing copy, which every use then reads in order.
    """
    N, O, OH, OW = gy.shape
    gyt = gy.transpose(1, 2, 3, 0)
    if gyt.flags.c_contiguous:
        return gyt.reshape(O, OH * OW * N)
    gy2 = ctx.empty((O, OH * OW * N), gy.dtype)
    ctx.xp.copyto(gy2.reshape(gyt.shape), gyt)
    return gy2


def _weight_grad(cols, gy2, g: ConvGeometry):
    """gw (O, C/G, KH, KW) from cols (C*KH*KW, L) and gy2 (O, L)."""
    O, L = gy2.shape
    G = g.groups
    C = g.x_shape[1]
    # (cols @ gy^T)^T rather than gy @ cols^T: the same product, but BLAS runs it up to 2x faster
    # when O is small (measured for LeNet's 6 and 16 filters), never slower.
    if G == 1:
        gw = (cols @ gy2.T).T
    else:
        ckk = C // G * g.KH * g.KW
        gw = cols.reshape(G, ckk, L) @ gy2.reshape(G, O // G, L).transpose(0, 2, 1)
        gw = gw.transpose(0, 2, 1)
    return gw.reshape((O, C // G, g.KH, g.KW))


def _row_split_pays(g: ConvGeometry) -> bool:
    """Whether the input gradient is cheaper split by kernel rows than through col2im.

    The row split needs stride 1, dilation 1 and one group, and multiplies over the input's width
    W rather than the output's OW: a win for 'same' convolutions (W = OW), a loss past
    W ~ 1.25 OW (measured: a tie at W = 1.5 OW, 40% slower at 2 OW), where col2im's slice-adds
    are cheaper.
    """
    one = g.groups == g.sh == g.sw == g.dh == g.dw == 1
    return one and 4 * g.x_shape[3] <= 5 * g.OW


def _input_grad_col2im(ctx, gy2, w, g: ConvGeometry, spare):
    """gx (N, C, H, W) = col2im(w^T @ gy): one multiply, then one strided slice-add per kernel
    tap. ``spare``: a dead (C*KH*KW, L) buffer for ``w^T @ gy``, or None."""
    xp = ctx.xp
    N, C, H, W = g.x_shape
    O, L = gy2.shape
    G = g.groups
    ckk = C // G * g.KH * g.KW
    gcols = spare if spare is not None else ctx.empty((C * g.KH * g.KW, L), gy2.dtype)
    if G == 1:
        xp.matmul(w.reshape(O, ckk).T, gy2, out=gcols)
    else:
        wg = w.reshape(G, O // G, ckk).transpose(0, 2, 1)
        xp.matmul(wg, gy2.reshape(G, O // G, L), out=gcols.reshape(G, ckk, L))
    gpad = col2im(xp, gcols, g.pad_shape, g.KH, g.KW, g.OH, g.OW, g.sh, g.sw, g.dh, g.dw, ctx.zeros)
    return gpad[:, g.pt : g.pt + H, g.pl : g.pl + W].transpose(3, 0, 1, 2)


@register_op("conv2d")
class Conv2d(Function):
    """y[n,o] = b[o] + sum_{c,i,j} w[o,c,i,j] xpad[n,c, s*oh + d*i, s*ow + d*j] (groups split c, o);
    gw = gy @ cols^T, gx = col2im(w^T @ gy) (or the same sum split by kernel rows), gb = sum(gy).
    A 3-D input (N, C, L) is conv1d.

    ``padding`` is (top, bottom, left, right); ``stride``/``dilation`` are (h, w) pairs.
    """

    @staticmethod
    def forward(ctx, x, w, b=None, *, stride, padding, dilation, groups):
        xp = ctx.xp
        ctx.one_d = x.ndim == 3
        if ctx.one_d:
            x = x[:, :, None, :]
            w = w[:, :, None, :]
        N, C, H, W = x.shape
        O, Cg, KH, KW = w.shape
        sh, sw = stride
        dh, dw = dilation
        pt, pb, pl, pr = padding
        OH = out_size(H, KH, sh, dh, pt, pb)
        OW = out_size(W, KW, sw, dw, pl, pr)
        xpad = padded_chwn(xp, x, pt, pb, pl, pr, ctx.empty)
        g = ConvGeometry(x.shape, xpad.shape, KH, KW, OH, OW, sh, sw, dh, dw, pt, pl, groups)
        nx, nw = ctx.needs_input_grad[:2]
        per_sample = C * KH * KW * OH * OW * x.itemsize  # bytes of cols per sample
        if not nw and N > 1 and per_sample * N > _CHUNK_BYTES:
            # No weight gradient to come (inference, frozen weights): cols need not outlive the
            # multiply, so build it a few samples at a time. LeNet-5's second conv at batch
            # 1,000 would otherwise unfold into 392 MB.
            y = _forward_chunked(ctx, xpad, w, g, max(1, _CHUNK_BYTES // per_sample))
            cols = None
        else:
            cols = _im2col_of(ctx, xpad, g)  # (C*KH*KW, OH*OW*N): a conv net's biggest array
            y = ctx.empty((O, OH * OW * N), x.dtype)
            _multiply(xp, w, cols, groups, y)
        if b is not None:
            y += b[:, None]
        ctx.geom = g
        ctx.save_for_backward(cols if nw else None, w if nx else None)
        # Whether cols is this op's own buffer (not a view of x), free to overwrite in backward.
        ctx.cols_owned = cols is not None and cols.base is None
        y = y.reshape(O, OH, OW, N).transpose(3, 0, 1, 2)  # a view: NCHW over (O, OH, OW, N)
        return y[:, :, 0, :] if ctx.one_d else y

    @staticmethod
    def backward(ctx, gy):
        cols, w = ctx.saved_tensors
        g = ctx.geom
        nx, nw, *nb = ctx.needs_input_grad
        if ctx.one_d:
            gy = gy[:, :, None, :]
        gy2 = _gy_rows(ctx, gy)
        gx = gw = gb = None
        if nb and nb[0]:
            gb = gy2.sum(axis=1)
        if nw:
            gw = _weight_grad(cols, gy2, g)
        if nx:
            # On the graph's last backward, once gw is made, cols' buffer is free to hold the
            # input gradient's temporaries (one 25 MB buffer fewer at peak for LeNet-5's second
            # conv at batch 64).
            spare = cols if cols is not None and ctx.cols_owned and ctx.last_backward else None
            if _row_split_pays(g):
                gyc = gy2.reshape(gy.shape[1], g.OH, g.OW, g.x_shape[0])  # contiguous
                gx = _input_grad_rows(ctx, gyc, w, g, spare)
            else:
                gx = _input_grad_col2im(ctx, gy2, w, g, spare)
        if ctx.one_d:
            gx = None if gx is None else gx[:, :, 0, :]
            gw = None if gw is None else gw[:, :, 0, :]
        return gx, gw, gb
