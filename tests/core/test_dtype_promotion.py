"""Result dtypes against torch, systematically: every op of a grid is run on every pair of
operand forms (a tensor of each dtype with dimensions, a 0-d tensor of each dtype, a Python
bool, int or float, on either side) with backprop and with torch, and the result must have
torch's dtype and values, or be refused (TypeError) where torch refuses.

Each test is one op over its whole grid and reports every mismatch at once (a few hundred cases
per op run in milliseconds; one pytest case per cell would cost more than the ops)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import backprop as bp

torch = pytest.importorskip("torch")

DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
INTS = ("uint8", "int8", "int16", "int32", "int64")
FLOATS = ("float16", "float32", "float64")

# Operand values: no zero divisors, no value a narrow dtype cannot hold.
_LEFT = {
    "bool": [True, False, True, True],
    "uint8": [7, 2, 3, 250],
    "float": [-1.5, 0.5, 2.25, 3.0],
    "int": [-7, -2, 3, 5],
}
_RIGHT = {
    "bool": [True, True, False, True],
    "uint8": [2, 3, 5, 4],
    "float": [2.0, -0.5, 1.5, 4.0],
    "int": [2, 3, -2, 4],
}
_NONZERO_BOOL = [True, True, True, True]
_SMALL = {"bool": [True, False, True, True], "uint8": [0, 1, 2, 3], "float": [0.5, 1.0, 2.0, 3.0]}


def _family(dtype: str) -> str:
    if dtype in ("bool", "uint8"):
        return dtype
    return "float" if dtype in FLOATS else "int"


def values(dtype: str, side: str, kind: str = "") -> list:
    """The four values of an operand of ``dtype``; ``kind`` picks a variant an op needs:
    'divisor' (no zero), 'exponent' (small and non-negative)."""
    fam = _family(dtype)
    if side == "right" and kind == "divisor" and fam == "bool":
        return _NONZERO_BOOL
    if side == "right" and kind == "exponent":
        return _SMALL.get(fam, [0, 1, 2, 3])
    return (_LEFT if side == "left" else _RIGHT)[fam]


# A Python int out of a narrow dtype's range (300, -3 for uint8) wraps to it, as torch does.
SCALARS = {"pybool": True, "pyint": 3, "pyneg": -3, "pybig": 300, "pyfloat": 2.5}


def operand(form, side: str, kind: str):
    """(backprop operand, torch operand) for a form: ('dim', dtype), ('0d', dtype) or
    ('py', 'pybool' | 'pyint' | 'pyfloat')."""
    how, what = form
    if how == "py":
        v = SCALARS[what]
        if kind == "exponent" and what in ("pyint", "pyneg", "pybig"):
            v = 2
        return v, v
    vals = values(what, side, kind)
    arr = np.array(vals if how == "dim" else vals[1], dtype=what)
    return bp.tensor(arr), torch.tensor(arr)


FORMS = [("dim", d) for d in DTYPES] + [("0d", d) for d in DTYPES] + [("py", k) for k in SCALARS]


def _run(fn, m, *args):
    """fn's result, or the exception it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(m, *args)
    except Exception as e:  # (torch raises RuntimeError, TypeError, ...; kept to compare)
        return e


def _dtype_name(x) -> str:
    if isinstance(x, torch.Tensor):
        return str(x.dtype).replace("torch.", "")
    if isinstance(x, bp.Tensor):
        return x.dtype.name
    return type(x).__name__


def _as_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.numpy()
    if isinstance(x, bp.Tensor):
        return x.data
    return np.asarray(x)


def compare(label: str, got, want) -> str | None:
    """A description of the mismatch between backprop's result and torch's, or None."""
    if isinstance(want, Exception):
        if isinstance(got, TypeError) and str(got):
            return None
        if isinstance(got, OverflowError) and "overflow" in str(want):  # (a number too big)
            return None
        if isinstance(got, Exception):
            return f"{label}: torch refuses ({want!r:.80}), backprop raised {got!r:.120}"
        return f"{label}: torch refuses ({want!r:.80}), backprop gave {_dtype_name(got)}"
    if isinstance(got, Exception):
        return f"{label}: torch gives {_dtype_name(want)}, backprop raised {got!r:.160}"
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"{label}: torch gives a sequence of {len(want)}, backprop {got!r:.80}"
        for i, (g, w) in enumerate(zip(got, want)):
            bad = compare(f"{label}[{i}]", g, w)
            if bad:
                return bad
        return None
    if isinstance(want, (bool, int, float)):
        if type(got) is not type(want) or not (got == want or (got != got and want != want)):
            return f"{label}: torch gives {want!r}, backprop {got!r}"
        return None
    if _dtype_name(got) != _dtype_name(want):
        return f"{label}: torch gives {_dtype_name(want)}, backprop {_dtype_name(got)}"
    g, w = _as_numpy(got), _as_numpy(want)
    if g.shape != w.shape:
        return f"{label}: torch's shape {w.shape}, backprop's {g.shape}"
    if w.dtype.kind == "f":
        tol = {2: 2e-3, 4: 1e-5, 8: 1e-12}[w.dtype.itemsize]
        ok = np.allclose(g, w, rtol=tol, atol=tol, equal_nan=True)
    else:
        ok = np.array_equal(g, w)
    if not ok:
        return f"{label}: values {g.tolist()} != torch's {w.tolist()}"
    return None


def check_grid(name, fn, cases) -> None:
    """Run ``fn(m, *operands)`` on every case with m = backprop and m = torch; fail with all
    the mismatches (the first 40 listed)."""
    bad = []
    for label, bp_args, torch_args in cases:
        want = _run(fn, torch, *torch_args)
        if isinstance(want, TypeError) and any(isinstance(x, NUMBER) for x in torch_args):
            continue  # a signature torch refuses (a number where it takes only a Tensor)
        got = _run(fn, bp, *bp_args)
        msg = compare(f"{name}({label})", got, want)
        if msg:
            bad.append(msg)
    assert not bad, f"{len(bad)} mismatches:\n" + "\n".join(bad[:40])


NUMBER = (bool, int, float)


def _label(form) -> str:
    return f"{form[0]}:{form[1]}"


def binary_cases(kind: str = ""):
    for fa in FORMS:
        for fb in FORMS:
            if fa[0] == "py" and fb[0] == "py":
                continue
            (ba, ta), (bb, tb) = operand(fa, "left", kind), operand(fb, "right", kind)
            yield f"{_label(fa)}, {_label(fb)}", (ba, bb), (ta, tb)


def unary_cases(kind: str = ""):
    for f in FORMS:
        if f[0] != "py":
            b, t = operand(f, "left", kind)
            yield _label(f), (b,), (t,)


# --------------------------------------------------------------------------- binary ops
BINARY = {
    "add": (lambda m, a, b: m.add(a, b), ""),
    "+": (lambda m, a, b: a + b, ""),
    "sub": (lambda m, a, b: m.sub(a, b), ""),
    "-": (lambda m, a, b: a - b, ""),
    "mul": (lambda m, a, b: m.mul(a, b), ""),
    "*": (lambda m, a, b: a * b, ""),
    "/": (lambda m, a, b: a / b, "divisor"),
    "div": (lambda m, a, b: m.div(a, b), "divisor"),
    "div_trunc": (lambda m, a, b: m.div(a, b, rounding_mode="trunc"), "divisor"),
    "div_floor": (lambda m, a, b: m.div(a, b, rounding_mode="floor"), "divisor"),
    "//": (lambda m, a, b: a // b, "divisor"),
    "%": (lambda m, a, b: a % b, "divisor"),
    "fmod": (lambda m, a, b: m.fmod(a, b), "divisor"),
    "**": (lambda m, a, b: a**b, "exponent"),
    "pow": (lambda m, a, b: m.pow(a, b), "exponent"),
    "maximum": (lambda m, a, b: m.maximum(a, b), ""),
    "minimum": (lambda m, a, b: m.minimum(a, b), ""),
    "==": (lambda m, a, b: a == b, ""),
    "!=": (lambda m, a, b: a != b, ""),
    "<": (lambda m, a, b: a < b, ""),
    "<=": (lambda m, a, b: a <= b, ""),
    ">": (lambda m, a, b: a > b, ""),
    ">=": (lambda m, a, b: a >= b, ""),
    "eq": (lambda m, a, b: m.eq(a, b), ""),
    "lt": (lambda m, a, b: m.lt(a, b), ""),
    "&": (lambda m, a, b: a & b, ""),
    "|": (lambda m, a, b: a | b, ""),
    "^": (lambda m, a, b: a ^ b, ""),
    "<<": (lambda m, a, b: a << b, "exponent"),
    ">>": (lambda m, a, b: a >> b, "exponent"),
    "bitwise_and": (lambda m, a, b: m.bitwise_and(a, b), ""),
    "logical_and": (lambda m, a, b: m.logical_and(a, b), ""),
    "logical_or": (lambda m, a, b: m.logical_or(a, b), ""),
    "atan2": (lambda m, a, b: m.atan2(a, b), ""),
    "hypot": (lambda m, a, b: m.hypot(a, b), ""),
    "copysign": (lambda m, a, b: m.copysign(a, b), ""),
    "logaddexp": (lambda m, a, b: m.logaddexp(a, b), ""),
    "where": (lambda m, a, b: m.where(_cond(m), a, b), ""),
    "isclose": (lambda m, a, b: m.isclose(a, b), ""),
    "clamp_min": (lambda m, a, b: m.clamp(a, min=b), ""),
}


def _cond(m):
    return m.tensor([True, False, False, True])


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_dtypes(name):
    fn, kind = BINARY[name]
    check_grid(name, fn, binary_cases(kind))
