"""The optimisers' updates as fused numba loops: one pass over memory, split over the cores.

Each function here is the compiled twin of a NumPy kernel in ``backprop.optim`` (the one whose
:class:`~backprop.backend.kernels.Kernel` names it), with the same arguments in the same order: the
arrays (flat, C-contiguous, the parameter's dtype; an absent state array is an empty array), then
the scalars as Python numbers. Nothing imports this module but :mod:`backprop.backend.kernels`, on
the first kernel call with the numba kernels switched on: importing it imports numba.

The arithmetic follows PyTorch's single-tensor code step by step, in the array's dtype: a scalar is
rounded to that dtype first (as PyTorch converts a Python number for a float32 op), and derived
scalars such as ``1 - beta1`` are computed in double precision before that rounding, as PyTorch
computes them in Python. ``fastmath=False``: no reassociation, so a loop gives the same bits on any
thread count. Compiled once per dtype, cached on disk (``cache=True``).

The sections after the optimisers hold a few ops' loops, each the twin of NumPy code in ``ops/``
that its section names: batch norm's, one time step of the LSTM layer's, ReLU's, the exact GELU,
and max pooling's 2x2 tiled forward and backward.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange

from . import cody_erf

__all__ = [
    "MAX_THREADS",
    "launched",
    "sgd",
    "sgd_momentum",
    "adam",
    "rmsprop",
    "adagrad",
    "adadelta",
    "batch_norm_train",
    "batch_norm_train_backward",
    "lstm_pre",
    "lstm_cell",
    "lstm_back",
    "relu",
    "relu_backward",
    "gelu",
    "gelu_backward",
    "max_pool2x2",
    "max_pool2x2_backward",
]

# numba starts this many worker threads at most (NUMBA_NUM_THREADS, default: the CPU count).
MAX_THREADS: int = numba.config.NUMBA_NUM_THREADS

_launched = False


def launched() -> bool:
    """Whether a kernel of this module has run in this process (numba's threads have started)."""
    return _launched


def mark_launched() -> None:
    global _launched
    _launched = True


_jit = njit(parallel=True, cache=True, fastmath=False, nogil=True)


@_jit
def sgd(p, g, lr, weight_decay, maximize):  # pragma: no cover - compiled
    neg_lr = p.dtype.type(-lr)
    wd = p.dtype.type(weight_decay)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        p[i] = p[i] + neg_lr * d


@_jit
def sgd_momentum(
    p, g, buf, lr, weight_decay, momentum, dampening, nesterov, maximize, first_step
):  # pragma: no cover - compiled
    neg_lr = p.dtype.type(-lr)
    wd = p.dtype.type(weight_decay)
    mom = p.dtype.type(momentum)
    one_minus_dampening = p.dtype.type(1.0 - dampening)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        if first_step:
            b = d
        else:
            b = buf[i] * mom + one_minus_dampening * d
        buf[i] = b
        if nesterov:
            d = d + mom * b
        else:
            d = b
        p[i] = p[i] + neg_lr * d


@_jit
def adam(
    p,
    g,
    exp_avg,
    exp_avg_sq,
    max_exp_avg_sq,
    lr,
    beta1,
    beta2,
    eps,
    weight_decay,
    decoupled,
    amsgrad,
    maximize,
    bias_correction1,
    bias_correction2,
):  # pragma: no cover - compiled
    f = p.dtype.type
    decay = f(1.0 - lr * weight_decay)
    wd = f(weight_decay)
    w1 = f(1.0 - beta1)  # exp_avg.lerp_(grad, 1 - beta1)
    lerp_low = abs(w1) < 0.5
    w1_complement = f(1.0) - w1
    b2 = f(beta2)
    w2 = f(1.0 - beta2)
    neg_step_size = f(-(lr / bias_correction1))
    bc2_sqrt = f(bias_correction2**0.5)
    eps_ = f(eps)
    for i in prange(p.size):
        x = p[i]
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            if decoupled:
                x = x * decay
            else:
                d = d + wd * x
        m = exp_avg[i]
        if lerp_low:  # PyTorch's lerp: start + w * (end - start) for w < 0.5
            m = m + w1 * (d - m)
        else:
            m = d - (d - m) * w1_complement
        exp_avg[i] = m
        v = exp_avg_sq[i] * b2 + w2 * d * d
        exp_avg_sq[i] = v
        if amsgrad:
            if max_exp_avg_sq[i] > v or np.isnan(max_exp_avg_sq[i]):
                v = max_exp_avg_sq[i]
            else:
                max_exp_avg_sq[i] = v
        denom = np.sqrt(v) / bc2_sqrt + eps_
        p[i] = x + neg_step_size * m / denom


@_jit
def rmsprop(
    p, g, square_avg, momentum_buffer, grad_avg, lr, alpha, eps, weight_decay, momentum, centered,
    maximize,
):  # pragma: no cover - compiled  # fmt: skip
    f = p.dtype.type
    neg_lr = f(-lr)
    a = f(alpha)
    w = f(1.0 - alpha)
    lerp_low = abs(w) < 0.5
    w_complement = f(1.0) - w
    wd = f(weight_decay)
    mom = f(momentum)
    eps_ = f(eps)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        v = square_avg[i] * a + w * d * d
        square_avg[i] = v
        if centered:
            m = grad_avg[i]
            if lerp_low:
                m = m + w * (d - m)
            else:
                m = d - (d - m) * w_complement
            grad_avg[i] = m
            avg = np.sqrt(v - m * m) + eps_
        else:
            avg = np.sqrt(v) + eps_
        if momentum > 0:
            b = momentum_buffer[i] * mom + d / avg
            momentum_buffer[i] = b
            p[i] = p[i] + neg_lr * b
        else:
            p[i] = p[i] + neg_lr * d / avg


@_jit
def adagrad(p, g, state_sum, clr, eps, weight_decay, maximize):  # pragma: no cover - compiled
    f = p.dtype.type
    neg_clr = f(-clr)
    wd = f(weight_decay)
    eps_ = f(eps)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        s = state_sum[i] + d * d
        state_sum[i] = s
        p[i] = p[i] + neg_clr * d / (np.sqrt(s) + eps_)


@_jit
def adadelta(
    p, g, square_avg, acc_delta, lr, rho, eps, weight_decay, maximize
):  # pragma: no cover - compiled
    f = p.dtype.type
    neg_lr = f(-lr)
    r = f(rho)
    w = f(1.0 - rho)
    wd = f(weight_decay)
    eps_ = f(eps)
    for i in prange(p.size):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        v = square_avg[i] * r + w * d * d
        square_avg[i] = v
        std = np.sqrt(v + eps_)
        delta = np.sqrt(acc_delta[i] + eps_) / std * d
        acc_delta[i] = acc_delta[i] * r + w * delta * delta
        p[i] = p[i] + neg_lr * delta


# ----------------------------------------------------------------------------- batch norm
# x is viewed as (A, C, B) with the channel in the middle and C-contiguous: (N, C, H*W) for an
# NCHW array, (1, C, H*W*N) for a conv output's (N, C, H, W) view of (C, H, W, N) memory. One
# channel per thread; sums in float64 (the NumPy path sums in the array's dtype through BLAS).
# The sums may be reassociated (vectorised): a channel is summed by one thread, in an order fixed
# at compile time, so the bits still do not depend on the thread count; without it a float64 sum
# is one dependent add per element and the kernel is no faster than NumPy's six passes.
_jit_sums = njit(parallel=True, cache=True, fastmath={"reassoc", "contract"}, nogil=True)


@_jit_sums
def batch_norm_train(x, w, b, eps, xc, y, mean, var, invstd, scale):  # pragma: no cover
    """Training-mode batch norm of x (A, C, B): xc = x - mean, y = xc * scale + b per channel;
    writes mean, var (biased), invstd = 1 / sqrt(var + eps) and scale = invstd * w (C,)."""
    A, C, B = x.shape
    m = A * B
    t = x.dtype.type
    for c in prange(C):
        s = 0.0
        for a in range(A):
            for k in range(B):
                s += x[a, c, k]
        mu = t(s / m)
        ss = 0.0
        for a in range(A):
            for k in range(B):
                d = x[a, c, k] - mu
                ss += d * d
        v = t(ss / m)
        inv = t(1) / np.sqrt(v + t(eps))
        sc = inv * w[c] if w.size else inv
        bc = b[c] if b.size else t(0)
        for a in range(A):
            for k in range(B):
                d = x[a, c, k] - mu
                xc[a, c, k] = d
                y[a, c, k] = d * sc + bc
        mean[c] = mu
        var[c] = v
        invstd[c] = inv
        scale[c] = sc


@_jit_sums
def batch_norm_train_backward(gy, xc, invstd, scale, gx, gw, gb):  # pragma: no cover
    """Training-mode batch norm backward over (A, C, B) views: gb = sum(gy), gw = invstd *
    sum(gy * xc), and (when gx is not empty) gx = scale * (gy - gb / m) - xc * scale * invstd *
    gw / m, per channel."""
    A, C, B = gy.shape
    m = A * B
    t = gy.dtype.type
    for c in prange(C):
        sg = 0.0
        sgx = 0.0
        for a in range(A):
            for k in range(B):
                g = gy[a, c, k]
                sg += g
                sgx += g * xc[a, c, k]
        gbc = t(sg)
        gwc = t(sgx) * invstd[c]
        gb[c] = gbc
        gw[c] = gwc
        if gx.size:
            k1 = scale[c]
            k2 = scale[c] * invstd[c] * gwc / t(m)
            k0 = scale[c] * gbc / t(m)
            for a in range(A):
                for k in range(B):
                    gx[a, c, k] = k1 * gy[a, c, k] - k2 * xc[a, c, k] - k0


# ----------------------------------------------------------------------------- recurrent steps
# One time step of the fused LSTM layer's gate arithmetic (ops/recurrent_steps.py holds the NumPy
# twins, same names and arguments, and says what each computes). Serial loops, not parallel: a step
# is ~16k elements (batch 32, hidden 128), less work than waking a second thread costs, and the
# layer calls them once per time step. No transcendental functions here: numba's tanh is a scalar
# libm call (~12 ns an element, measured) where NumPy's is SIMD (~0.4 ns), so the layer calls
# NumPy's tanh between these kernels. Arrays are 2-D (batch, features), C-contiguous.
_jit_serial = njit(cache=True, fastmath=False, nogil=True)


@_jit_serial
def lstm_pre(z, ax, s, sb):  # pragma: no cover - compiled
    """z += s * ax + sb (z, ax: (B, 4H); s, sb: (4H,))."""
    B, G = z.shape
    for b in range(B):
        for j in range(G):
            z[b, j] += s[j] * ax[b, j] + sb[j]


@_jit_serial
def lstm_cell(z, c, c_out):  # pragma: no cover - compiled
    """z holds tanh of the scaled pre-activations: i, f, o become sigmoids (z + 1) / 2 in place;
    c_out = f * c + i * g."""
    B, H = c.shape
    half = z.dtype.type(0.5)
    for b in range(B):
        for j in range(H):
            i = z[b, j] * half + half
            f = z[b, H + j] * half + half
            z[b, j] = i
            z[b, H + j] = f
            z[b, 3 * H + j] = z[b, 3 * H + j] * half + half
            c_out[b, j] = f * c[b, j] + i * z[b, 2 * H + j]


@_jit_serial
def lstm_back(gy, dh, dc, s, tc, c, da):  # pragma: no cover - compiled
    """One step of backpropagation through time: from gy + dh (dh empty: none) and dc (updated in
    place to the previous cell state's gradient) write da (B, 4H)."""
    B, H = gy.shape
    one = gy.dtype.type(1)
    add_dh = dh.size > 0
    for b in range(B):
        for j in range(H):
            g_h = gy[b, j] + dh[b, j] if add_dh else gy[b, j]
            i = s[b, j]
            f = s[b, H + j]
            g = s[b, 2 * H + j]
            o = s[b, 3 * H + j]
            t = tc[b, j]
            d = g_h * o * (one - t * t) + dc[b, j]
            da[b, j] = d * g * (i * (one - i))
            da[b, H + j] = d * c[b, j] * (f * (one - f))
            da[b, 2 * H + j] = d * i * (one - g * g)
            da[b, 3 * H + j] = g_h * t * (o * (one - o))
            dc[b, j] = d * f


# ----------------------------------------------------------------------------- ReLU
# The twins of ops/activation.py's ReLU: one pass each over flat arrays in one memory order
# (kernels.flat_alike), where the NumPy backward makes four (a mask, its negation, the product
# and a NaN check). The same values bit for bit: NaN passes forward, -0.0 becomes 0.0 (as
# np.maximum(x, 0) makes it; PyTorch keeps -0.0, equal in value), and the backward selects, so
# an inf or NaN gy behind a closed gate gives 0 and a NaN y passes gy.
@_jit
def relu(x, y):  # pragma: no cover - compiled
    """y = x where not x <= 0, else 0."""
    zero = y.dtype.type(0)
    for i in prange(x.size):
        v = x[i]
        y[i] = zero if v <= 0 else v


@_jit
def relu_backward(y, gy, gx):  # pragma: no cover - compiled
    """gx = gy where not y <= 0, else 0."""
    zero = gx.dtype.type(0)
    for i in prange(y.size):
        gx[i] = zero if y[i] <= 0 else gy[i]


# ----------------------------------------------------------------------------- exact GELU
# y = x Phi(x) and gx = gy (Phi(x) + x phi(x)), Phi the normal CDF, phi its density: the twins of
# ops/activation.py's GELU (approximate="none"), whose NumPy path goes through scipy.special.erf.
# Each element is computed in float64 and rounded once to the array's dtype, from x alone (the
# backward recomputes Phi rather than keep it: as PyTorch, only x is saved).
#
# Phi(x) = erfc(-x / sqrt 2) / 2 from Cody's rational approximations (backend/cody_erf.py, as
# ops/_erf.py evaluates them): erf for |x| / sqrt 2 <= 0.46875, else erfc(y) = exp(-y^2) R(y),
# so the negative tail keeps its relative accuracy (the NumPy path's 1 + erf cancels there: it
# returns 0 below x ~ -5.54 in float32, ~ -8.37 in float64). exp(-x^2 / 2), shared by Phi and phi,
# comes from _exp_neg_half_sq: x split at 1/16 (x = h + l, h^2 exact) so that x^2's rounding
# stays out of it, Cody-Waite reduction by ln 2, the degree-13 Taylor polynomial on |r| <= 0.35
# (truncation < 1e-17) and 2^n from a table. Every branch is a select and nothing calls libm:
# LLVM vectorises the loop (numba's math.exp is a scalar libm call, and error_model="numpy"
# drops the division-by-zero checks that otherwise keep the loop scalar). Error against mpmath
# on dense grids (tests/nn/test_gelu_kernel.py): <= 1 ulp in float32, ~1e-15 relative in float64.
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_ERF_P, _ERF_Q = cody_erf.ERF_P, cody_erf.ERF_Q
_MID_P, _MID_Q = cody_erf.MID_P, cody_erf.MID_Q
_TAIL_P, _TAIL_Q = cody_erf.TAIL_P, cody_erf.TAIL_Q
_SMALL, _MID = cody_erf.SMALL, cody_erf.MID
_A_MAX = 38.6  # |x| beyond which exp(-x^2 / 2) < 5e-324 and Phi(x) is 0 or 1 in float64
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 in two parts (fdlibm's): n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_EXP_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(13, -1, -1))  # highest power first
_POW2_NEG = np.array([math.ldexp(1.0, -k) for k in range(1100)])  # 2^-k (subnormal, then 0)
_jit_inline = njit(inline="always", cache=True, fastmath=False, error_model="numpy", nogil=True)
_jit_vec = njit(parallel=True, cache=True, fastmath=False, error_model="numpy", nogil=True)


@_jit_inline
def _horner(coeffs, z):  # pragma: no cover - compiled
    acc = coeffs[0]
    for k in range(1, len(coeffs)):
        acc = acc * z + coeffs[k]
    return acc


@_jit_inline
def _exp_neg_half_sq(a, pow2):  # pragma: no cover - compiled
    """exp(-a^2 / 2) for 0 <= a <= _A_MAX: -a^2 / 2 = t1 + t2 with t1 = -h^2 / 2 exact (h = a
    rounded down to 1/16) and t2 = -(a - h)(a + h) / 2, then exp(t1 + t2) = 2^n exp(r)."""
    h = math.floor(a * 16.0) / 16.0
    t1 = -0.5 * (h * h)
    t2 = -0.5 * ((a - h) * (a + h))
    n = math.floor((t1 + t2) * _LOG2E + 0.5)  # in [-1075, 0]
    r = ((t1 - n * _LN2_HI) + t2) - n * _LN2_LO
    return _horner(_EXP_TAYLOR, r) * pow2[np.int64(-n)]


@_jit_inline
def _gelu_parts(x, pow2):  # pragma: no cover - compiled
    """(Phi(x), exp(-x^2 / 2)) for a float64 x; NaN for a NaN x, (0 or 1, 0) beyond _A_MAX."""
    a = abs(x)
    a_c = a if a < _A_MAX else _A_MAX  # also for NaN and inf: every lane below stays finite
    e = _exp_neg_half_sq(a_c, pow2)
    y = a_c * _SQRT_HALF
    yy = y * y
    z = -y if x < 0 else y
    # One division for the interval's rational: erf(z) = z P(y^2) / Q(y^2) for y <= 0.46875;
    # erfc(y) = e R(y), R = P(y) / Q(y) up to 4, (1/sqrt(pi) - w P(w) / Q(w)) / y beyond
    # (w = 1/y^2).
    small, mid = y <= _SMALL, y <= _MID
    w = 1.0 / yy
    q_tail = _horner(_TAIL_Q, w)
    num_tail = _INV_SQRT_PI * q_tail - w * _horner(_TAIL_P, w)
    num = z * _horner(_ERF_P, yy) if small else (_horner(_MID_P, y) if mid else num_tail)
    den = _horner(_ERF_Q, yy) if small else (_horner(_MID_Q, y) if mid else q_tail * y)
    ratio = num / den
    half_erfc = 0.5 * e * ratio  # Phi(-|x|), where not small
    cdf_big = half_erfc if x < 0 else 1.0 - half_erfc
    cdf = 0.5 + 0.5 * ratio if small else cdf_big
    e = e if a < _A_MAX else 0.0
    cdf = cdf if a < _A_MAX else (0.0 if x < 0 else 1.0)
    cdf = cdf if a == a else a  # NaN in, NaN out
    return cdf, e


@_jit_vec
def gelu(x, y):  # pragma: no cover - compiled
    """y = x * Phi(x) (flat arrays of one dtype)."""
    out = y.dtype.type
    pow2 = _POW2_NEG
    for i in prange(x.size):
        v = np.float64(x[i])
        cdf, _ = _gelu_parts(v, pow2)
        y[i] = out(v * cdf)


@_jit_vec
def gelu_backward(x, gy, gx):  # pragma: no cover - compiled
    """gx = gy * (Phi(x) + x * phi(x)) (flat arrays of one dtype)."""
    out = gx.dtype.type
    pow2 = _POW2_NEG
    for i in prange(x.size):
        v = np.float64(x[i])
        cdf, e = _gelu_parts(v, pow2)
        gx[i] = out(np.float64(gy[i]) * (cdf + v * (e * _INV_SQRT_2PI)))


# ----------------------------------------------------------------------------- max pooling
# max_pool2x2 is the twin of ops/pooling.py's tiled forward for 2x2 windows of stride 2 (its
# three np.maximum calls over the taps, in the same order, so the same values: NaN propagates and
# a tie keeps the earlier tap's value; of 0.0 and -0.0 either may come out of NumPy's SIMD loop).
@_jit
def max_pool2x2(x, y):  # pragma: no cover - compiled
    """x (C, H, W, N) -> y (C, OH, OW, N): each window's maximum."""
    C, OH, OW, N = y.shape
    for r in prange(C * OH):
        oh = r % OH
        c = r // OH
        h = 2 * oh
        for ow in range(OW):
            w = 2 * ow
            x0 = x[c, h, w]
            x1 = x[c, h, w + 1]
            x2 = x[c, h + 1, w]
            x3 = x[c, h + 1, w + 1]
            yr = y[c, oh, ow]
            for n in range(N):
                m = x0[n]
                b = x1[n]
                m = m if (m >= b or m != m) else b
                b = x2[n]
                m = m if (m >= b or m != m) else b
                b = x3[n]
                m = m if (m >= b or m != m) else b
                yr[n] = m


# The twin of ops/pooling.py's _tiled_backward for 2x2 windows of stride 2 over a conv output's
# (C, H, W, N) memory (LeNet's pools), one (channel, output row) per parallel iteration. Two
# passes over each window row's batch: pick each window's tap into a small int buffer, then write
# the four taps' gradients one stream at a time. Each inner loop touches few arrays, so it
# vectorises; a one-pass loop writing all four taps did not (on (64, 20, 28, 28) float32, 1
# thread: 1.6-2.1 ms for that loop against 0.28 ms for this one).
@_jit
def max_pool2x2_backward(x, y, gy, gx):  # pragma: no cover - compiled
    """x, gx (C, H, W, N); y, gy (C, OH, OW, N): each window's gy goes to its FIRST tap
    (row-major) equal to the maximum y, or to its LAST NaN tap when y is NaN (PyTorch's rules);
    zero to the other taps. Cells past the last window are left as they are."""
    C, OH, OW, N = y.shape
    zero = gx.dtype.type(0)
    for r in prange(C * OH):
        oh = r % OH
        c = r // OH
        h = 2 * oh
        pick = np.empty(N, np.int32)
        for ow in range(OW):
            w = 2 * ow
            ym = y[c, oh, ow]
            gyr = gy[c, oh, ow]
            x0 = x[c, h, w]
            x1 = x[c, h, w + 1]
            x2 = x[c, h + 1, w]
            x3 = x[c, h + 1, w + 1]
            for n in range(N):
                m = ym[n]
                k = np.int32(3)
                k = np.int32(2) if x2[n] == m else k
                k = np.int32(1) if x1[n] == m else k
                k = np.int32(0) if x0[n] == m else k
                pick[n] = k
            if np.isnan(ym).any():
                for n in range(N):
                    if ym[n] != ym[n]:
                        k = 0
                        k = 1 if x1[n] != x1[n] else k
                        k = 2 if x2[n] != x2[n] else k
                        k = 3 if x3[n] != x3[n] else k
                        pick[n] = k
            for t in range(4):
                gr = gx[c, h + t // 2, w + t % 2]
                for n in range(N):
                    gr[n] = gyr[n] if pick[n] == t else zero
