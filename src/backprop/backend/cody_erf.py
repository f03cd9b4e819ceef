"""W. J. Cody's rational Chebyshev coefficients for erf and erfc ("Rational Chebyshev
approximations for the error function", Math. Comp. 23 (1969) 631-638; those of his SPECFUN
routine CALERF, published on netlib), in one place for the two codes that evaluate them:
``ops/_erf.py`` (NumPy, whole arrays) and ``backend/numba_kernels.py`` (the exact GELU's loops).
``ops/_erf.py`` says which interval each serves.
"""

from __future__ import annotations

__all__ = ["ERF_P", "ERF_Q", "MID_P", "MID_Q", "TAIL_P", "TAIL_Q", "SMALL", "MID", "ERFC_ZERO"]

# Cody's coefficients, highest power first (as Horner evaluates them).
ERF_P = (
    1.85777706184603153e-1,
    3.16112374387056560e00,
    1.13864154151050156e02,
    3.77485237685302021e02,
    3.20937758913846947e03,
)
ERF_Q = (
    1.0,
    2.36012909523441209e01,
    2.44024637934444173e02,
    1.28261652607737228e03,
    2.84423683343917062e03,
)
MID_P = (
    2.15311535474403846e-8,
    5.64188496988670089e-1,
    8.88314979438837594e00,
    6.61191906371416295e01,
    2.98635138197400131e02,
    8.81952221241769090e02,
    1.71204761263407058e03,
    2.05107837782607147e03,
    1.23033935479799725e03,
)
MID_Q = (
    1.0,
    1.57449261107098347e01,
    1.17693950891312499e02,
    5.37181101862009858e02,
    1.62138957456669019e03,
    3.29079923573345963e03,
    4.36261909014324716e03,
    3.43936767414372164e03,
    1.23033935480374942e03,
)
TAIL_P = (
    1.63153871373020978e-2,
    3.05326634961232344e-1,
    3.60344899949804439e-1,
    1.25781726111229246e-1,
    1.60837851487422766e-2,
    6.58749161529837803e-4,
)
TAIL_Q = (1.0, 2.56852019228982242e00, 1.87295284992346047e00, 5.27905102951428412e-1,
           6.05183413124413191e-2, 2.33520497626869185e-3)  # fmt: skip

SMALL, MID = 0.46875, 4.0  # the intervals' ends in |x|
# erfc(x) is below the smallest float64 (5e-324) beyond this.
ERFC_ZERO = 27.3
