"""Fused recurrent ops: Elman RNN (tanh/relu), LSTM and GRU, as single cells and as whole layers.

PyTorch's equations and gate layouts, so that weights can be exchanged:

    RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh)
    LSTM: i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)   (rows of W in the order i, f, g, o)
          c' = sigmoid(f) * c + sigmoid(i) * tanh(g);   h' = sigmoid(o) * tanh(c')
    GRU:  r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z})   (rows in order r, z, n)
          n = tanh(W_in x + b_in + r * (W_hn h + b_hn));   h' = (1 - z) * n + z * h

A cell op is one time step (the ``*Cell`` modules): one Function computing every gate, with a
closed-form backward. A layer op runs a whole sequence for one layer and direction: the input
projection ``W_ih x + b_ih`` for all time steps comes in precomputed by one matrix multiply (the
caller's ``linear``), the op loops over time with one ``h @ W_hh^T`` per step, and its backward is
backpropagation through time in one loop, ending with ONE matrix multiply for ``gW_hh`` over all
steps. The graph holds one node per layer instead of ~15 per step, and a 1,000-step sequence is
no deeper a graph than a 1-step one.

Every graph node has one output, so ops with two results stack them: the LSTM cell returns
(2, B, H) = [h', c'], the LSTM layer (T + 1, B, H) = [h_1 .. h_T, c_T]; the caller slices.
First-order gradients only.
"""

from __future__ import annotations

from contextlib import nullcontext

from ..autograd.function import Function
from ..backend import numpy_backend
from . import recurrent_steps as steps
from . import register_op
from .activation import select


def _serial(xp):
    """One BLAS thread around the time loops (see ``numpy_backend.one_blas_thread``: their small
    products lose more to thread hand-offs than they gain); a no-op for other backends."""
    return numpy_backend.one_blas_thread() if xp is numpy_backend.np else nullcontext()


def _sigmoid_(xp, a):
    """sigmoid(a) = (1 + tanh(a / 2)) / 2, in place in ``a``: no temporaries, no overflow."""
    half = a.dtype.type(0.5)
    a *= half
    xp.tanh(a, out=a)
    a *= half
    a += half
    return a


def _act(xp, a, nonlinearity):
    return xp.tanh(a) if nonlinearity == "tanh" else xp.maximum(a, a.dtype.type(0))


def _act_back(xp, g, h, nonlinearity, out=None):
    """g * d act / d a, written with the output h = act(a); for relu a mask that selects (0 where
    h <= 0 even for an inf or NaN g, as PyTorch's relu backward), into ``out`` when given."""
    if nonlinearity == "tanh":
        return xp.multiply(g, h.dtype.type(1) - h * h, out=out)
    return select(xp, g, ~(h <= 0), out=out)


# ------------------------------------------------------------------ one step, forward and backward
# ``ax`` is the input part of the pre-activation (W_ih x + b_ih, plus b_hh where it simply adds).


def lstm_step(xp, ax, h, c, w_t, h_out=None, c_out=None):
    """One LSTM step (``w_t`` = W_hh^T); writes h' and c' into ``h_out``/``c_out`` when given."""
    H = h.shape[-1]
    a = h @ w_t
    a += ax
    g = xp.tanh(a[:, 2 * H : 3 * H])
    s = _sigmoid_(xp, a)  # in place; its g block is unused: one call beats three slices
    c2 = xp.multiply(s[:, H : 2 * H], c, out=c_out)
    c2 += s[:, :H] * g
    tc = xp.tanh(c2)
    h2 = xp.multiply(s[:, 3 * H :], tc, out=h_out)
    return h2, c2, (s, g, tc)


def lstm_step_back(dh, dc, c, cache, da):
    """From dL/dh' (dh) and dL/dc' (dc, from later steps): write dL/da into ``da``; return dL/dc."""
    s, g, tc = cache
    H = dh.shape[-1]
    one = dh.dtype.type(1)
    i, f, o = s[:, :H], s[:, H : 2 * H], s[:, 3 * H :]
    dc = dc + dh * o * (one - tc * tc)
    ds = s * (one - s)
    da[:, :H] = dc * g * ds[:, :H]
    da[:, H : 2 * H] = dc * c * ds[:, H : 2 * H]
    da[:, 2 * H : 3 * H] = dc * i * (one - g * g)
    da[:, 3 * H :] = dh * tc * ds[:, 3 * H :]
    return dc * f


def gru_step(xp, ax, h, w_t, b_hh, h_out=None):
    """One GRU step (``w_t`` = W_hh^T); writes h' into ``h_out`` when given."""
    H = h.shape[-1]
    gh = h @ w_t
    if b_hh is not None:
        gh += b_hh
    rz = _sigmoid_(xp, ax[:, : 2 * H] + gh[:, : 2 * H])
    hn = gh[:, 2 * H :]
    n = rz[:, :H] * hn
    n += ax[:, 2 * H :]
    n = xp.tanh(n)
    h2 = xp.subtract(h, n, out=h_out)
    h2 *= rz[:, H:]
    h2 += n
    return h2, (rz, n, hn)


def gru_step_back(dh, h, cache, dax, dgh):
    """Given d h' (dh), write d(input part) into ``dax`` and d(W_hh h + b_hh) into ``dgh``;
    return the direct part of d h (the W_hh path is added by the caller)."""
    rz, n, hn = cache
    H = dh.shape[-1]
    one = dh.dtype.type(1)
    r, z = rz[:, :H], rz[:, H:]
    dan = dh * (one - z) * (one - n * n)
    dax[:, 2 * H :] = dan
    dgh[:, 2 * H :] = dan * r
    drz = dgh[:, : 2 * H]
    drz[:, :H] = dan * hn
    drz[:, H:] = dh * (h - n)
    drz *= rz * (one - rz)
    dax[:, : 2 * H] = drz
    return dh * z


# ------------------------------------------------------------------ cells: one time step
def _cell_input(x, w_ih, b_ih, b_hh=None):
    ax = x @ w_ih.T
    if b_ih is not None:
        ax += b_ih
    if b_hh is not None:
        ax += b_hh
    return ax


def _cell_grads(ctx, k, da, dgh, x, h, w_ih, w_hh, gh_prev):
    """Gradients of (x, h, w_ih, w_hh, b_ih, b_hh) from d(input pre-activation) ``da`` and
    d(hidden pre-activation) ``dgh`` (the same array except for the GRU); ``k`` is w_ih's position
    among the op's inputs (x, h, [c,] w_ih, w_hh, b_ih, b_hh)."""
    n = tuple(ctx.needs_input_grad) + (False, False)  # the biases may be left out
    gx = da @ w_ih if n[0] else None
    gh = None
    if n[1]:
        gh = dgh @ w_hh
        if gh_prev is not None:
            gh += gh_prev
    gw_ih = da.T @ x if n[k] else None
    gw_hh = dgh.T @ h if n[k + 1] else None
    gb_ih = da.sum(axis=0) if n[k + 2] else None
    gb_hh = dgh.sum(axis=0) if n[k + 3] else None
    return gx, gh, gw_ih, gw_hh, gb_ih, gb_hh


@register_op("rnn_cell")
class RNNCell(Function):
    """h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu;  da = gh' * act'(a)."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh"):
        xp = ctx.xp
        with _serial(xp):
            a = _cell_input(x, w_ih, b_ih, b_hh)
            a += h @ w_hh.T
        h2 = _act(xp, a, nonlinearity)
        ctx.nonlinearity = nonlinearity
        ctx.save_for_backward(x, h, w_ih, w_hh, h2)
        return h2

    @staticmethod
    def backward(ctx, gy):
        x, h, w_ih, w_hh, h2 = ctx.saved_tensors
        da = _act_back(ctx.xp, gy, h2, ctx.nonlinearity)
        with _serial(ctx.xp):
            return _cell_grads(ctx, 2, da, da, x, h, w_ih, w_hh, None)


@register_op("lstm_cell")
class LSTMCell(Function):
    """[h', c'] (stacked, (2, B, H)) from PyTorch's LSTM equations;  closed-form backward."""

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
        xp = ctx.xp
        with _serial(xp):
            ax = _cell_input(x, w_ih, b_ih, b_hh)
            h2, c2, cache = lstm_step(xp, ax, h, c, w_hh.T)
        ctx.cache = cache
        ctx.save_for_backward(x, h, c, w_ih, w_hh)
        return xp.stack([h2, c2])

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, h, c, w_ih, w_hh = ctx.saved_tensors
        s = ctx.cache[0]
        da = xp.empty_like(s)
        gc = lstm_step_back(gy[0], gy[1], c, ctx.cache, da)
        with _serial(xp):
            grads = _cell_grads(ctx, 3, da, da, x, h, w_ih, w_hh, None)
        gx, gh, gw_ih, gw_hh, gb_ih, gb_hh = grads
        return gx, gh, (gc if ctx.needs_input_grad[2] else None), gw_ih, gw_hh, gb_ih, gb_hh


@register_op("gru_cell")
class GRUCell(Function):
    """h' from PyTorch's GRU equations (b_hn inside r * (...));  closed-form backward."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        xp = ctx.xp
        with _serial(xp):
            ax = _cell_input(x, w_ih, b_ih)
            h2, cache = gru_step(xp, ax, h, w_hh.T, b_hh)
        ctx.cache = cache
        ctx.save_for_backward(x, h, w_ih, w_hh)
        return h2

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        x, h, w_ih, w_hh = ctx.saved_tensors
        B, H = gy.shape
        dax = xp.empty((B, 3 * H), dtype=gy.dtype)
        dgh = xp.empty((B, 3 * H), dtype=gy.dtype)
        gh_direct = gru_step_back(gy, h, ctx.cache, dax, dgh)
        with _serial(xp):
            return _cell_grads(ctx, 2, dax, dgh, x, h, w_ih, w_hh, gh_direct)


# ------------------------------------------------------------------ layers: a whole sequence
def _layer_weight_grads(ctx, dA, hs, k):
    """gW_hh = sum_t dA_t^T h_{t-1} as one multiply over all steps, and gb_hh = sum dA."""
    T, B, G = dA.shape
    n = ctx.needs_input_grad
    gw = dA.reshape(T * B, G).T @ hs[:T].reshape(T * B, -1) if n[k] else None
    gb = dA.sum(axis=(0, 1)) if len(n) > k + 1 and n[k + 1] else None
    return gw, gb


def _in_time_order(a, reverse):
    return a[::-1] if reverse else a


@register_op("rnn_layer")
class RNNLayer(Function):
    """hs[t] = act(ax[t] + hs[t-1] W_hh^T + b_hh) for t = 1..T (ax = x W_ih^T + b_ih precomputed);
    reverse runs t from T down to 1. Returns hs (T, B, H); backward is BPTT in one loop."""

    @staticmethod
    def forward(ctx, ax, h0, w_hh, b_hh=None, *, nonlinearity="tanh", reverse=False):
        xp = ctx.xp
        T, B, H = ax.shape
        ax = _in_time_order(ax, reverse)
        if b_hh is not None:
            ax = ax + b_hh
        hs = xp.empty((T + 1, B, H), dtype=ax.dtype)  # h_0 .. h_T in processing order
        hs[0] = h0
        w_t = xp.ascontiguousarray(w_hh.T)  # a contiguous operand: ~20% faster small multiplies
        with _serial(xp):
            for t in range(T):
                a = hs[t] @ w_t
                a += ax[t]
                hs[t + 1] = _act(xp, a, nonlinearity)
        ctx.save_for_backward(w_hh)  # an input: saved, so that an in-place write to it is caught
        ctx.hs, ctx.reverse, ctx.nonlinearity = hs, reverse, nonlinearity
        return _in_time_order(hs[1:], reverse).copy()

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        hs, (w_hh,) = ctx.hs, ctx.saved_tensors
        gy = _in_time_order(gy, ctx.reverse)
        T = gy.shape[0]
        dA = xp.empty((T,) + gy.shape[1:], dtype=gy.dtype)
        dh = None
        with _serial(xp):
            for t in range(T - 1, -1, -1):
                g = gy[t] if dh is None else gy[t] + dh
                _act_back(xp, g, hs[t + 1], ctx.nonlinearity, out=dA[t])
                dh = dA[t] @ w_hh
        gw, gb = _layer_weight_grads(ctx, dA, hs, 2)
        return _in_time_order(dA, ctx.reverse), dh, gw, gb


@register_op("lstm_layer")
class LSTMLayer(Function):
    """The LSTM over a sequence from ax = x W_ih^T + b_ih (T, B, 4H), h0, c0, W_hh, b_hh.

    Returns (T + 1, B, H): h_1 .. h_T, then c_T. Backward: BPTT with the closed-form cell gradient.
    Per step: one product ``h @ (W_hh^T s)`` into the step's slice of one (T, B, 4H) buffer (``s``
    halves the sigmoid gates' columns, see ``recurrent_steps``), ``lstm_pre``, one tanh over all
    gates, ``lstm_cell``, tanh(c), h = o * tanh(c); backward: ``lstm_back`` and ``dA_t @ W_hh``.
    The step functions are numba's serial kernels or their NumPy twins (``step_functions``).
    """

    @staticmethod
    def forward(ctx, ax, h0, c0, w_hh, b_hh=None, *, reverse=False):
        xp = ctx.xp
        T, B, G = ax.shape
        H = G // 4
        ax = _in_time_order(xp.ascontiguousarray(ax), reverse)  # each ax[t] contiguous
        dtype = ax.dtype
        pre, cell, _ = steps.step_functions()
        s = steps.gate_scale(H, dtype)
        sb = b_hh * s if b_hh is not None else xp.zeros(G, dtype=dtype)
        w_s = xp.ascontiguousarray(w_hh.T * s)  # (H, 4H), contiguous: faster small products
        hs = xp.empty((T + 1, B, H), dtype=dtype)
        cs = xp.empty((T + 1, B, H), dtype=dtype)
        gates = xp.empty((T, B, G), dtype=dtype)  # i, f, g, o after their activations
        tcs = xp.empty((T, B, H), dtype=dtype)  # tanh(c_t)
        hs[0], cs[0] = h0, c0
        with _serial(xp):
            for t in range(T):
                z = gates[t]
                xp.matmul(hs[t], w_s, out=z)
                pre(z, ax[t], s, sb)
                xp.tanh(z, out=z)
                cell(z, cs[t], cs[t + 1])
                xp.tanh(cs[t + 1], out=tcs[t])
                xp.multiply(z[:, 3 * H :], tcs[t], out=hs[t + 1])
        ctx.save_for_backward(w_hh)
        ctx.hs, ctx.cs, ctx.gates, ctx.tcs, ctx.reverse = hs, cs, gates, tcs, reverse
        out = xp.empty((T + 1, B, H), dtype=dtype)
        out[:T] = _in_time_order(hs[1:], reverse)
        out[T] = cs[T]
        return out

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        hs, cs, gates, tcs, (w_hh,) = ctx.hs, ctx.cs, ctx.gates, ctx.tcs, ctx.saved_tensors
        T = gy.shape[0] - 1
        B, H = gy.shape[1:]
        back = steps.step_functions()[2]
        ghs = _in_time_order(xp.ascontiguousarray(gy[:T]), ctx.reverse)
        dA = xp.empty((T, B, 4 * H), dtype=gy.dtype)
        dc = xp.array(gy[T], order="C")  # updated in place, step by step
        dh_in = xp.empty((0, 0), dtype=gy.dtype)  # nothing reaches h_T from a later step
        dh = xp.zeros((B, H), dtype=gy.dtype)  # dA_t @ W_hh, once back() has read it
        w = xp.ascontiguousarray(w_hh)
        need_h0 = ctx.needs_input_grad[1]
        with _serial(xp):
            for t in range(T - 1, -1, -1):
                back(ghs[t], dh_in, dc, gates[t], tcs[t], cs[t], dA[t])
                if t or need_h0:  # the last product is h0's gradient alone
                    xp.matmul(dA[t], w, out=dh)
                dh_in = dh
        gw, gb = _layer_weight_grads(ctx, dA, hs, 3)
        return _in_time_order(dA, ctx.reverse), (dh if need_h0 else None), dc, gw, gb


@register_op("gru_layer")
class GRULayer(Function):
    """The GRU over a sequence from ax = x W_ih^T + b_ih (T, B, 3H), h0, W_hh, b_hh.

    Returns hs (T, B, H). Backward: BPTT with the closed-form cell gradient.
    """

    @staticmethod
    def forward(ctx, ax, h0, w_hh, b_hh=None, *, reverse=False):
        xp = ctx.xp
        T, B, G = ax.shape
        H = G // 3
        ax = _in_time_order(ax, reverse)
        hs = xp.empty((T + 1, B, H), dtype=ax.dtype)
        hs[0] = h0
        caches = []
        w_t = xp.ascontiguousarray(w_hh.T)
        with _serial(xp):
            for t in range(T):
                caches.append(gru_step(xp, ax[t], hs[t], w_t, b_hh, hs[t + 1])[1])
        ctx.save_for_backward(w_hh)
        ctx.hs, ctx.caches, ctx.reverse = hs, caches, reverse
        return _in_time_order(hs[1:], reverse).copy()

    @staticmethod
    def backward(ctx, gy):
        xp = ctx.xp
        hs, caches, (w_hh,) = ctx.hs, ctx.caches, ctx.saved_tensors
        gy = _in_time_order(gy, ctx.reverse)
        T, B, H = gy.shape
        dAx = xp.empty((T, B, 3 * H), dtype=gy.dtype)
        dGh = xp.empty((T, B, 3 * H), dtype=gy.dtype)
        dh = None
        with _serial(xp):
            for t in range(T - 1, -1, -1):
                g = gy[t] if dh is None else gy[t] + dh
                dh = gru_step_back(g, hs[t], caches[t], dAx[t], dGh[t])
                dh += dGh[t] @ w_hh
        gw, gb = _layer_weight_grads(ctx, dGh, hs, 2)
        return _in_time_order(dAx, ctx.reverse), dh, gw, gb
