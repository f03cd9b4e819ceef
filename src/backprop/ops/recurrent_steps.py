"""One time step of the fused LSTM layer's gate arithmetic, in NumPy.

These are the reference twins of the compiled serial kernels ``lstm_pre``, ``lstm_cell`` and
``lstm_back`` in ``backend/numba_kernels.py``: same names, same arguments, same in-place results.
``ops/recurrent.py`` (``LSTMLayer``) takes one set or the other from :func:`step_functions`.

Every gate comes from one tanh over the whole (B, 4H) pre-activation block: sigmoid(a) =
(1 + tanh(a / 2)) / 2, so the layer halves the pre-activations of the sigmoid gates i, f, o first
(it multiplies W_hh^T, the input part and b_hh by ``s`` = 1/2 on those blocks, 1 on g). Halving is
exact in binary floating point, so each gate equals the unscaled formula's bit for bit (away from
subnormals). Arrays are 2-D (batch, features), the gate blocks in PyTorch's order i, f, g, o:

    lstm_pre(z, ax, s, sb):   z += s * ax + sb            (z = h W_hh^T s, already in place)
    [the layer: z = tanh(z)]
    lstm_cell(z, c, c_out):   i, f, o = (z + 1) / 2 in place;  c_out = f * c + i * g
    [the layer: tc = tanh(c_out);  h = o * tc]
    lstm_back(gy, dh, dc, s, tc, c, da):
        d = dc + (gy + dh) * o * (1 - tc^2)
        da = [d g i(1-i),  d c f(1-f),  d i (1-g^2),  (gy + dh) tc o(1-o)];  dc = d * f

``lstm_back`` is one step of backpropagation through time: ``s`` holds the step's gates
(i, f, g, o after their activations), ``c`` the previous cell state, ``dh`` the gradient reaching
h from the next step (an empty array: none), ``dc`` that of the cell state, updated in place to
the previous cell state's. The tanh calls stay outside the compiled kernels: numba's tanh is a
scalar libm call (~12 ns an element) where NumPy's is vectorised (~0.4 ns).
"""

from __future__ import annotations

import numpy as np

from ..backend import kernels

__all__ = ["gate_scale", "lstm_pre", "lstm_cell", "lstm_back", "step_functions"]


def gate_scale(H: int, dtype) -> np.ndarray:
    """``s`` (4H,): 1/2 on the sigmoid gates' blocks (i, f, o), 1 on the tanh gate's (g)."""
    s = np.full(4 * H, 0.5, dtype=dtype)
    s[2 * H : 3 * H] = 1
    return s


def lstm_pre(z, ax, s, sb):
    """z += s * ax + sb (z, ax: (B, 4H); s, sb: (4H,))."""
    t = ax * s
    t += sb
    z += t


def lstm_cell(z, c, c_out):
    """z holds tanh of the scaled pre-activations: i, f, o become sigmoids (z + 1) / 2 in place;
    c_out = f * c + i * g."""
    H = c.shape[1]
    half = z.dtype.type(0.5)
    for gates in (z[:, : 2 * H], z[:, 3 * H :]):
        gates *= half
        gates += half
    np.multiply(z[:, H : 2 * H], c, out=c_out)
    c_out += z[:, :H] * z[:, 2 * H : 3 * H]


def lstm_back(gy, dh, dc, s, tc, c, da):
    """One step of backpropagation through time: from gy + dh (dh empty: none) and dc (updated in
    place to the previous cell state's gradient) write da (B, 4H)."""
    H = gy.shape[1]
    one = gy.dtype.type(1)
    i, f, g, o = s[:, :H], s[:, H : 2 * H], s[:, 2 * H : 3 * H], s[:, 3 * H :]
    g_h = gy + dh if dh.size else gy
    d = g_h * o
    d *= one - tc * tc
    d += dc
    np.multiply(d * g, i * (one - i), out=da[:, :H])
    np.multiply(d * c, f * (one - f), out=da[:, H : 2 * H])
    np.multiply(d * i, one - g * g, out=da[:, 2 * H : 3 * H])
    np.multiply(g_h * tc, o * (one - o), out=da[:, 3 * H :])
    np.multiply(d, f, out=dc)


def step_functions():
    """(lstm_pre, lstm_cell, lstm_back): the compiled kernels while the numba kernels are in use
    (:func:`backend.kernels.fused_kernels_enabled`), else the NumPy twins above."""
    if kernels.fused_kernels_enabled():
        return tuple(kernels.serial(n) for n in ("lstm_pre", "lstm_cell", "lstm_back"))
    return lstm_pre, lstm_cell, lstm_back
