"""The error function and its inverse on arrays, to float64 accuracy, without SciPy.

NumPy has no ``erf``. These kernels take the array module ``xp`` (NumPy or CuPy) and work in
float64 whatever the input dtype; the ops cast the result back.

- ``erf_erfc(xp, x)``: W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev
  approximations for the error function", Math. Comp. 23 (1969) 631-638; the coefficients of
  his SPECFUN routine CALERF, published on netlib). Three intervals of |x|: up to 0.46875, erf is
  x * P(x^2) / Q(x^2); up to 4, erfc is exp(-x^2) * P(|x|) / Q(|x|); beyond, erfc is
  exp(-x^2) / |x| * (1/sqrt(pi) + P(1/x^2) / (x^2 Q(1/x^2))). exp(-x^2) is formed as
  exp(-t^2) * exp(-(|x| - t)(|x| + t)) with t = |x| rounded down to 1/16, so that the rounding
  of x^2 (relative 1e-16, but absolute up to 1e-13 near x = 26) does not reach the result.
  Both erf and erfc come back, each to about one unit in the last place (erfc keeps its
  relative accuracy in the far tail, where 1 - erf would be 0).
- ``erfinv(xp, y)``: an initial guess good to about 1e-3 (the closed form of Winitzki's
  approximation), refined by three Halley steps on erf(x) = y. Halley's method triples the
  correct digits per step. For |y| > 1/2 the step solves erfc(x) = 1 - |y| instead: 1 - |y| is
  exact there (Sterbenz) and erfc is accurate relatively, so the tail keeps full precision where
  erf(x) - y would lose it to cancellation.
"""

from __future__ import annotations

import math

from ..backend import cody_erf

# Cody's coefficients, highest power first (as Horner evaluates them); backend/cody_erf.py holds
# them for the compiled GELU kernels too.
_ERF_P, _ERF_Q = cody_erf.ERF_P, cody_erf.ERF_Q
_MID_P, _MID_Q = cody_erf.MID_P, cody_erf.MID_Q
_TAIL_P, _TAIL_Q = cody_erf.TAIL_P, cody_erf.TAIL_Q

_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SMALL, _MID = 0.46875, 4.0
# erfc(x) is below the smallest float64 (5e-324) beyond this (masks the NaN of inf - inf).
_ERFC_ZERO = 27.3


def _horner(coeffs, z):
    acc = coeffs[0]
    for c in coeffs[1:]:
        acc = acc * z + c
    return acc


def _erfc_abs(xp, y):
    """erfc(y) for y = |x| > 0.46875 (other entries give finite garbage, masked by the caller)."""
    with xp.errstate(all="ignore"):
        mid = _horner(_MID_P, y) / _horner(_MID_Q, y)
        z = 1.0 / (y * y)
        tail = (_INV_SQRT_PI - z * _horner(_TAIL_P, z) / _horner(_TAIL_Q, z)) / y
        r = xp.where(y <= _MID, mid, tail)
        t = xp.trunc(y * 16.0) / 16.0
        out = xp.exp(-t * t) * xp.exp(-(y - t) * (y + t)) * r
    return xp.where(y >= _ERFC_ZERO, 0.0, out)


def erf_erfc(xp, x):
    """(erf(x), erfc(x)) as float64 arrays, to about one ulp; NaN gives NaN."""
    x = xp.asarray(x, dtype=xp.float64)
    y = xp.abs(x)
    small = y <= _SMALL
    with xp.errstate(all="ignore"):
        z = x * x
        erf_small = x * _horner(_ERF_P, z) / _horner(_ERF_Q, z)
        # Outside the small interval only: y = 0.1 keeps the masked-out entries finite.
        ec = _erfc_abs(xp, xp.where(small, 0.1, y))
    neg = x < 0
    erf = xp.where(small, erf_small, xp.where(neg, ec - 1.0, 1.0 - ec))
    erfc = xp.where(small, 1.0 - erf_small, xp.where(neg, 2.0 - ec, ec))
    return erf, erfc


def erfinv(xp, y):
    """The x with erf(x) = y, as a float64 array: +-inf at +-1, NaN outside [-1, 1] and at NaN."""
    y = xp.asarray(y, dtype=xp.float64)
    a = xp.abs(y)
    inside = a < 1.0
    a_in = xp.where(inside, a, 0.0)
    with xp.errstate(all="ignore"):
        # Winitzki: erfinv(a)^2 ~ sqrt((b + l/2)^2 - l/k) - (b + l/2), l = log(1 - a^2),
        # b = 2 / (pi k), k = 0.147; relative error below 2e-3 on [0, 1).
        k = 0.147
        b = 2.0 / (math.pi * k)
        ln = xp.log1p(-a_in * a_in)
        h = b + 0.5 * ln
        x = xp.sqrt(xp.sqrt(h * h - ln / k) - h)
        # Near 0 that difference cancels: there erfinv(a) = a sqrt(pi) / 2 (1 + O(a^2)).
        x = xp.where(a_in < 1e-3, a_in / _TWO_OVER_SQRT_PI, x)
        upper = a_in > 0.5
        q = 1.0 - a_in  # exact for a in [1/2, 1]
        for _ in range(3):
            erf, erfc = erf_erfc(xp, x)
            f = xp.where(upper, q - erfc, erf - a_in)  # both are erf(x) - a
            dx = f / (_TWO_OVER_SQRT_PI * xp.exp(-x * x))
            x = x - dx / (1.0 + x * dx)
    out = xp.where(inside, x, xp.where(a == 1.0, xp.inf, xp.nan))
    return xp.where(y < 0, -out, out)
