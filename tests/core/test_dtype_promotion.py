"""Result dtypes against torch, systematically: every op of a grid is run on every pair of
operand forms (a tensor of each dtype with dimensions, a 0-d tensor of each dtype, a Python
bool, int or float, on either side) with backprop and with torch, and the result must have
torch's dtype and values, or be refused (TypeError) where torch refuses.

Each test is one op over its whole grid and reports every mismatch at once (a few hundred cases
per op run in milliseconds; one pytest case per cell would cost more than the ops)."""

from __future__ import annotations

import re
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


_SHAPE_WORDS = re.compile(r"shape|size|[01]-?D\b|0-dim|dimension|number of sizes")


def compare(label: str, got, want) -> str | None:
    """A description of the mismatch between backprop's result and torch's, or None."""
    if isinstance(want, Exception):
        if isinstance(got, TypeError) and str(got):
            return None
        if isinstance(got, OverflowError) and "overflow" in str(want):  # (a number too big)
            return None
        if isinstance(got, Exception) and _SHAPE_WORDS.search(str(want)):
            return None  # (a shape refusal, not a dtype one)
        if type(want) not in (RuntimeError, NotImplementedError) and isinstance(got, type(want)):
            return None  # (the same refusal as torch's: IndexError, AttributeError...)
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
    "clamp_max": (lambda m, a, b: m.clamp_max(a, b), ""),
    "ne": (lambda m, a, b: m.ne(a, b), ""),
    "ge": (lambda m, a, b: m.ge(a, b), ""),
    "true_divide": (lambda m, a, b: m.true_divide(a, b), "divisor"),
    "floor_divide": (lambda m, a, b: m.floor_divide(a, b), "divisor"),
    "remainder": (lambda m, a, b: m.remainder(a, b), "divisor"),
    "bitwise_or": (lambda m, a, b: m.bitwise_or(a, b), ""),
    "bitwise_xor": (lambda m, a, b: m.bitwise_xor(a, b), ""),
    "left_shift": (lambda m, a, b: m.bitwise_left_shift(a, b), "exponent"),
    "right_shift": (lambda m, a, b: m.bitwise_right_shift(a, b), "exponent"),
    "logaddexp2": (lambda m, a, b: m.logaddexp2(a, b), ""),
    "lerp": (lambda m, a, b: m.lerp(a, b, 0.5), ""),
    "lerp_tensor": (lambda m, a, b: m.lerp(a, a, b), ""),
    "where_scalar_first": (lambda m, a, b: m.where(_cond(m), b, a), ""),
    "stack": (lambda m, a, b: m.stack([a, b]), ""),
    "add_alpha": (lambda m, a, b: m.add(a, b, alpha=2), ""),
    "sub_alpha": (lambda m, a, b: m.sub(a, b, alpha=2), ""),
    "matmul": (lambda m, a, b: m.matmul(a, b), ""),
    "dot": (lambda m, a, b: m.dot(a, b), ""),
    "outer": (lambda m, a, b: m.outer(a, b), ""),
    "kron": (lambda m, a, b: m.kron(a, b), ""),
    "masked_fill": (lambda m, a, b: a.masked_fill(_cond(m), b), ""),
    "index_fill": (lambda m, a, b: a.reshape(-1).index_fill(0, m.tensor([0]), b), ""),
    "scatter_value": (lambda m, a, b: a.scatter(0, m.tensor([1, 2]), b), ""),
    "fill_": (lambda m, a, b: a.fill_(b), ""),
    "setitem": (lambda m, a, b: a.__setitem__(1, b) or a, ""),
    "setitem_mask": (lambda m, a, b: a.__setitem__(_cond(m), b) or a, ""),
    "copy_": (lambda m, a, b: a.copy_(b), ""),
    "full": (lambda m, a, b: m.full((2,), b, dtype=a.dtype), ""),
    "full_like": (lambda m, a, b: m.full_like(a, b), ""),
}


def _cond(m):
    return m.tensor([True, False, False, True])


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_dtypes(name):
    fn, kind = BINARY[name]
    check_grid(name, fn, binary_cases(kind))


# -------------------------------------------------------------------------- in-place ops
def _iop(sym):
    def f(m, a, b):
        exec(f"a {sym}= b", {}, loc := {"a": a, "b": b})
        return loc["a"]

    return f


INPLACE = {
    sym: _iop(sym) for sym in ("+", "-", "*", "/", "//", "%", "**", "&", "|", "^", "<<", ">>")
}
INPLACE_KIND = {"/": "divisor", "//": "divisor", "%": "divisor", "**": "exponent"}
INPLACE_KIND.update({"<<": "exponent", ">>": "exponent"})


@pytest.mark.parametrize("sym", list(INPLACE))
def test_inplace_dtypes(sym):
    """``a op= b`` keeps a's dtype, and is refused where the result's dtype cannot be cast to
    it (a float result into an integer tensor, an integer one into bool), as in torch."""
    cases = [c for c in binary_cases(INPLACE_KIND.get(sym, "")) if not c[0].startswith("py")]
    check_grid(f"{sym}=", INPLACE[sym], cases)


# ---------------------------------------------------------------------------- unary ops
UNARY = {
    "neg": lambda m, x: m.neg(x),
    "-x": lambda m, x: -x,
    "abs": lambda m, x: m.abs(x),
    "sign": lambda m, x: m.sign(x),
    "sgn": lambda m, x: m.sgn(x),
    "signbit": lambda m, x: m.signbit(x),
    "exp": lambda m, x: m.exp(x),
    "log": lambda m, x: m.log(x),
    "sqrt": lambda m, x: m.sqrt(x),
    "rsqrt": lambda m, x: m.rsqrt(x),
    "sin": lambda m, x: m.sin(x),
    "tan": lambda m, x: m.tan(x),
    "atan": lambda m, x: m.atan(x),
    "tanh": lambda m, x: m.tanh(x),
    "sigmoid": lambda m, x: m.sigmoid(x),
    "relu": lambda m, x: m.relu(x),
    "erf": lambda m, x: m.erf(x),
    "exp2": lambda m, x: m.exp2(x),
    "expm1": lambda m, x: m.expm1(x),
    "log2": lambda m, x: m.log2(x),
    "log1p": lambda m, x: m.log1p(x),
    "floor": lambda m, x: m.floor(x),
    "ceil": lambda m, x: m.ceil(x),
    "round": lambda m, x: m.round(x),
    "round_decimals": lambda m, x: m.round(x, decimals=1),
    "trunc": lambda m, x: m.trunc(x),
    "frac": lambda m, x: m.frac(x),
    "reciprocal": lambda m, x: m.reciprocal(x),
    "square": lambda m, x: m.square(x),
    "~": lambda m, x: ~x,
    "bitwise_not": lambda m, x: m.bitwise_not(x),
    "logical_not": lambda m, x: m.logical_not(x),
    "isnan": lambda m, x: m.isnan(x),
    "isinf": lambda m, x: m.isinf(x),
    "isfinite": lambda m, x: m.isfinite(x),
    "nan_to_num": lambda m, x: m.nan_to_num(x),
    "clone": lambda m, x: m.clone(x),
    "clamp_int": lambda m, x: m.clamp(x, 0, 3),
    "clamp_float": lambda m, x: m.clamp(x, max=2.5),
    "softmax": lambda m, x: m.softmax(x, 0),
    "hardtanh": lambda m, x: m.nn.functional.hardtanh(x),
    "asin": lambda m, x: m.asin(x),
    "cosh": lambda m, x: m.cosh(x),
    "erfinv": lambda m, x: m.erfinv(x),
    "isposinf": lambda m, x: m.isposinf(x),
    "positive": lambda m, x: +x,
    "abs_op": lambda m, x: abs(x),
    "relu6": lambda m, x: m.nn.functional.relu6(x),
    "leaky_relu": lambda m, x: m.nn.functional.leaky_relu(x),
    "gelu": lambda m, x: m.nn.functional.gelu(x),
    "silu": lambda m, x: m.nn.functional.silu(x),
    "log_softmax": lambda m, x: m.log_softmax(x, 0),
    "hardshrink": lambda m, x: m.nn.functional.hardshrink(x),
    "softsign": lambda m, x: m.nn.functional.softsign(x),
    "pow_2": lambda m, x: x**2,
    "pow_half": lambda m, x: x**0.5,
    "rpow": lambda m, x: 2**x,
    "mul_float": lambda m, x: x * 0.5,
    "item": lambda m, x: x.reshape(-1)[0].item(),
    "tolist": lambda m, x: x.tolist(),
    "int()": lambda m, x: int(x.reshape(-1)[0]),
    "float()": lambda m, x: float(x.reshape(-1)[0]),
    "is_floating_point": lambda m, x: x.is_floating_point(),
    "element_size": lambda m, x: x.element_size(),
    "new_zeros": lambda m, x: x.new_zeros(2),
    "new_tensor": lambda m, x: x.new_tensor([1, 2]),
    "new_full": lambda m, x: x.new_full((2,), 2),
    "detach": lambda m, x: x.detach(),
    "contiguous": lambda m, x: x.contiguous(),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_dtypes(name):
    check_grid(name, UNARY[name], unary_cases())


# ------------------------------------------------------------------ reductions and scans
REDUCTIONS = {
    "sum": lambda m, x: m.sum(x),
    "sum_dim": lambda m, x: x.sum(0),
    "sum_dtype": lambda m, x: x.sum(dtype=m.int32),
    "nansum": lambda m, x: m.nansum(x),
    "prod": lambda m, x: m.prod(x),
    "prod_dim": lambda m, x: x.prod(0),
    "mean": lambda m, x: m.mean(x),
    "mean_dtype": lambda m, x: x.mean(dtype=m.float64),
    "var": lambda m, x: m.var(x),
    "std": lambda m, x: m.std(x),
    "cumsum": lambda m, x: m.cumsum(x, 0),
    "cumprod": lambda m, x: m.cumprod(x, 0),
    "cummax": lambda m, x: tuple(m.cummax(x, 0)),
    "max": lambda m, x: m.max(x),
    "max_dim": lambda m, x: tuple(m.max(x, 0)),
    "min": lambda m, x: m.min(x),
    "amax": lambda m, x: m.amax(x),
    "amin": lambda m, x: m.amin(x, 0),
    "aminmax": lambda m, x: tuple(m.aminmax(x)),
    "argmax": lambda m, x: m.argmax(x),
    "argmin": lambda m, x: m.argmin(x, 0),
    "all": lambda m, x: m.all(x),
    "any_dim": lambda m, x: m.any(x, 0),
    "count_nonzero": lambda m, x: m.count_nonzero(x),
    "median": lambda m, x: m.median(x),
    "logsumexp": lambda m, x: m.logsumexp(x, 0),
    "norm": lambda m, x: m.norm(x),
    "sort": lambda m, x: tuple(m.sort(x)),
    "topk": lambda m, x: tuple(m.topk(x, 1)),
    "kthvalue": lambda m, x: tuple(m.kthvalue(x, 1)),
    "cumsum_dtype": lambda m, x: x.cumsum(0, dtype=m.int16),
    "cummin": lambda m, x: tuple(m.cummin(x, 0)),
    "logcumsumexp": lambda m, x: m.logcumsumexp(x, 0),
    "nanmedian": lambda m, x: m.nanmedian(x),
    "mode": lambda m, x: tuple(m.mode(x)),
    "quantile": lambda m, x: m.quantile(x, 0.5),
    "var_mean": lambda m, x: tuple(m.var_mean(x)),
    "std_mean": lambda m, x: tuple(m.std_mean(x)),
    "argsort": lambda m, x: m.argsort(x),
    "msort": lambda m, x: m.msort(x),
    "any": lambda m, x: m.any(x),
    "all_dim": lambda m, x: m.all(x, 0),
    "count_nonzero_dim": lambda m, x: m.count_nonzero(x, 0),
    "sum_keepdim": lambda m, x: x.sum(0, keepdim=True),
    "max_binary": lambda m, x: m.max(x, x),
    "amax_dim": lambda m, x: m.amax(x, 0),
    "trace": lambda m, x: m.trace(x.reshape(2, 2)),
    "norm_p1": lambda m, x: m.norm(x, 1),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
def test_reduction_dtypes(name):
    """sum/prod/cumsum of integers and bools give int64, mean of an integer tensor is refused,
    max/min/sort keep the dtype, argmax gives int64, all/any give bool: torch's rules."""
    check_grid(name, REDUCTIONS[name], unary_cases())


# ---------------------------------------------------------------- layout and indexing
LAYOUT = {
    "reshape": lambda m, x: x.reshape(2, 2),
    "flip": lambda m, x: m.flip(x, (0,)),
    "roll": lambda m, x: m.roll(x, 1, 0),
    "tril": lambda m, x: m.tril(x.reshape(2, 2)),
    "transpose": lambda m, x: x.reshape(2, 2).t(),
    "slice": lambda m, x: x[1:3],
    "getitem_int": lambda m, x: x[2],
    "getitem_mask": lambda m, x: x[x > 2],
    "expand": lambda m, x: x.expand(2, 4),
    "repeat": lambda m, x: x.repeat(2),
    "tile": lambda m, x: x.tile(2),
    "repeat_interleave": lambda m, x: x.repeat_interleave(2),
    "stack": lambda m, x: m.stack([x, x]),
    "unbind": lambda m, x: tuple(x.unbind(0)),
    "split": lambda m, x: tuple(x.split(2)),
    "diag": lambda m, x: m.diag(x),
    "masked_fill_int": lambda m, x: x.masked_fill(x > 2, 1),
    "masked_fill_float": lambda m, x: x.masked_fill(x > 2, 0.5),
    "masked_fill_bool": lambda m, x: x.masked_fill(x > 2, True),
    "masked_select": lambda m, x: m.masked_select(x, x > 2),
    "nonzero": lambda m, x: m.nonzero(x),
    "argwhere": lambda m, x: m.argwhere(x),
    "zeros_like": lambda m, x: m.zeros_like(x),
    "ones_like": lambda m, x: m.ones_like(x),
    "full_like": lambda m, x: m.full_like(x, 2),
    "pad": lambda m, x: m.nn.functional.pad(x, (1, 1)),
    "matmul": lambda m, x: x.reshape(2, 2) @ x.reshape(2, 2),
    "flatten": lambda m, x: x.reshape(2, 2).flatten(),
    "permute": lambda m, x: x.reshape(2, 2).permute(1, 0),
    "squeeze": lambda m, x: x.unsqueeze(0).squeeze(0),
    "chunk": lambda m, x: tuple(x.chunk(2)),
    "narrow": lambda m, x: x.narrow(0, 1, 2),
    "movedim": lambda m, x: m.movedim(x.reshape(2, 2), 0, 1),
    "rot90": lambda m, x: m.rot90(x.reshape(2, 2)),
    "diagonal": lambda m, x: m.diagonal(x.reshape(2, 2)),
    "diag_embed": lambda m, x: m.diag_embed(x),
    "triu": lambda m, x: m.triu(x.reshape(2, 2)),
    "fliplr": lambda m, x: m.fliplr(x.reshape(2, 2)),
    "tensor_split": lambda m, x: tuple(m.tensor_split(x, 2)),
    "unfold": lambda m, x: x.unfold(0, 2, 1),
    "pad_reflect": lambda m, x: m.nn.functional.pad(x.reshape(1, 1, 4), (1, 1), mode="reflect"),
    "pad_replicate": lambda m, x: m.nn.functional.pad(x.reshape(1, 1, 4), (1, 1), mode="replicate"),
    "pad_circular": lambda m, x: m.nn.functional.pad(x.reshape(1, 1, 4), (1, 1), mode="circular"),
    "pad_value": lambda m, x: m.nn.functional.pad(x, (1, 1), value=2),
    "max_pool1d": lambda m, x: m.nn.functional.max_pool1d(x.reshape(1, 1, 4), 2),
    "max_pool2d": lambda m, x: m.nn.functional.max_pool2d(x.reshape(1, 1, 2, 2), 2),
    "avg_pool1d": lambda m, x: m.nn.functional.avg_pool1d(x.reshape(1, 1, 4), 2),
    "adaptive_max_pool1d": lambda m, x: m.nn.functional.adaptive_max_pool1d(x.reshape(1, 1, 4), 2),
    "interpolate_nearest": lambda m, x: m.nn.functional.interpolate(
        x.reshape(1, 1, 4), scale_factor=2
    ),
    "interpolate_linear": lambda m, x: m.nn.functional.interpolate(
        x.reshape(1, 1, 4), scale_factor=2, mode="linear"
    ),
    "einsum": lambda m, x: m.einsum("i,i->", x, x),
    "bmm": lambda m, x: m.bmm(x.reshape(1, 2, 2), x.reshape(1, 2, 2)),
    "cross": lambda m, x: m.cross(x[:3].reshape(1, 3), x[1:].reshape(1, 3), dim=1),
    "cdist": lambda m, x: m.cdist(x.reshape(2, 2), x.reshape(2, 2)),
    "outer": lambda m, x: m.outer(x, x),
    "sort_stable": lambda m, x: tuple(m.sort(x, stable=True)),
    "clone_copy": lambda m, x: x.clone(),
    "numpy": lambda m, x: x.numpy().dtype.name,
}


@pytest.mark.parametrize("name", list(LAYOUT))
def test_layout_dtypes(name):
    """Layout ops and masks keep the dtype of every dtype."""
    cases = [c for c in unary_cases() if not c[0].startswith("0d")]
    check_grid(name, LAYOUT[name], cases)


INDEXED = {
    "getitem": lambda m, x, i: x[i],
    "index_select": lambda m, x, i: m.index_select(x, 0, i),
    "gather": lambda m, x, i: m.gather(x, 0, i),
    "take": lambda m, x, i: m.take(x, i),
    "take_along_dim": lambda m, x, i: m.take_along_dim(x, i, 0),
    "scatter": lambda m, x, i: m.scatter(x, 0, i, x[:3]),
    "scatter_value": lambda m, x, i: m.scatter(x, 0, i, 2),
    "scatter_add": lambda m, x, i: m.scatter_add(x, 0, i, x[:3]),
    "index_add": lambda m, x, i: m.index_add(x, 0, i, x[:3]),
    "index_copy": lambda m, x, i: m.index_copy(x, 0, i, x[:3]),
    "index_fill": lambda m, x, i: m.index_fill(x, 0, i, 1),
    "setitem": lambda m, x, i: x.__setitem__(i, 1) or x,
    "embedding": lambda m, x, i: m.nn.functional.embedding(i, m.ones(4, 2)),
    "one_hot": lambda m, x, i: m.nn.functional.one_hot(i, 4),
}


@pytest.mark.parametrize("name", list(INDEXED))
def test_index_dtypes(name):
    """Indexing by integer tensors of every dtype (and bool masks for ``[]``): the values keep
    their dtype; torch refuses some index dtypes for some ops (gather takes int64 only)."""
    cases = []
    for dx in DTYPES:
        for di in INTS + ("bool",):
            idx = [True, False, True] if di == "bool" else [2, 0, 1]
            if di == "bool" and name != "getitem":
                continue
            arr = np.array(values(dx, "left"), dtype=dx)
            ia = np.array(idx, dtype=di)
            cases.append(
                (
                    f"{dx}[{di}]",
                    (bp.tensor(arr), bp.tensor(ia)),
                    (torch.tensor(arr), torch.tensor(ia)),
                )
            )
    check_grid(name, INDEXED[name], cases)


def test_cat_promotes():
    """cat promotes its inputs' dtypes (int8 with uint8: int16), as torch."""

    def cases():
        for da in DTYPES:
            for db in DTYPES:
                (ba, ta), (bb, tb) = (
                    operand(("dim", d), s, "") for d, s in ((da, "left"), (db, "right"))
                )
                yield f"{da}, {db}", (ba, bb), (ta, tb)

    check_grid("cat", lambda m, a, b: m.cat([a, b]), cases())


# ------------------------------------------------------------------- conversions
CONVERSIONS = {
    "int": lambda m, x: x.int(),
    "short": lambda m, x: x.short(),
    "char": lambda m, x: x.char(),
    "byte": lambda m, x: x.byte(),
    "long": lambda m, x: x.long(),
    "half": lambda m, x: x.half(),
    "float": lambda m, x: x.float(),
    "double": lambda m, x: x.double(),
    "bool": lambda m, x: x.bool(),
}
for _d in DTYPES:
    CONVERSIONS[f"to({_d})"] = lambda m, x, _d=_d: x.to(getattr(m, _d))
    CONVERSIONS[f"type({_d})"] = lambda m, x, _d=_d: x.type(getattr(m, _d))
    CONVERSIONS[f"to(dtype={_d})"] = lambda m, x, _d=_d: x.to(dtype=getattr(m, _d))


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversions(name):
    """Every conversion method from every dtype, values included (floats to integers truncate
    toward zero; non-negative values only, as a negative float to uint8 is undefined in C)."""

    def cases():
        for d in DTYPES:
            vals = [0.5, 2.25, 3.0, 200.75] if d in FLOATS else values(d, "left")
            if d in ("int8", "int16", "int32", "int64"):
                vals = [0, 2, 3, 5] if name.endswith(("byte", "(uint8)")) else vals
            arr = np.array(vals, dtype=d)
            yield d, (bp.tensor(arr),), (torch.tensor(arr),)

    check_grid(name, CONVERSIONS[name], cases())


# --------------------------------------------------------------------- creation
CREATION = {
    "tensor_ints": lambda m: m.tensor([1, 2]),
    "tensor_bools": lambda m: m.tensor([True, False]),
    "tensor_mixed": lambda m: m.tensor([1, 2.5]),
    "tensor_int8": lambda m: m.tensor([1, 2], dtype=m.int8),
    "tensor_uint8": lambda m: m.tensor([1, 255], dtype=m.uint8),
    "tensor_half": lambda m: m.tensor([1, 2.5], dtype=m.float16),
    "scalar_int": lambda m: m.tensor(3),
    "zeros_int16": lambda m: m.zeros(2, dtype=m.int16),
    "ones_bool": lambda m: m.ones(2, dtype=m.bool),
    "empty_int32": lambda m: m.empty(2, dtype=m.int32).zero_(),
    "full_int": lambda m: m.full((2,), 3),
    "full_bool": lambda m: m.full((2,), True),
    "full_float": lambda m: m.full((2,), 2.5),
    "full_int8": lambda m: m.full((2,), 3, dtype=m.int8),
    "arange_int": lambda m: m.arange(4),
    "arange_float": lambda m: m.arange(0, 1, 0.25),
    "arange_int8": lambda m: m.arange(4, dtype=m.int8),
    "eye_uint8": lambda m: m.eye(2, dtype=m.uint8),
    "linspace_int32": lambda m: m.linspace(0, 6, 4, dtype=m.int32),
    "zeros_like_int8": lambda m: m.zeros_like(m.tensor([1], dtype=m.int8), dtype=m.int32),
    "randint": lambda m: m.randint(0, 5, (3,)).zero_(),
    "randint_int8": lambda m: m.randint(0, 5, (3,), dtype=m.int8).zero_(),
    "tensor_overflow": lambda m: m.tensor([300], dtype=m.int8),
    "tensor_wrap_uint8": lambda m: m.tensor([-1], dtype=m.uint8),
    "tensor_float_to_int": lambda m: m.tensor([2.7, -2.7], dtype=m.int32),
    "tensor_bool_int": lambda m: m.tensor([True, 2]),
    "tensor_np_int32": lambda m: m.tensor(np.array([1, 2], dtype=np.int32)),
    "tensor_np_uint8": lambda m: m.as_tensor(np.array([1, 2], dtype=np.uint8)),
    "from_numpy_int16": lambda m: m.from_numpy(np.array([1, 2], dtype=np.int16)),
    "tensor_np_float16": lambda m: m.tensor(np.array([1, 2], dtype=np.float16)),
    "tensor_np_float64_scalar": lambda m: m.tensor(np.float64(1.5)),
    "full_uint8_overflow": lambda m: m.full((2,), 300, dtype=m.uint8),
    "zeros_half": lambda m: m.zeros(2, dtype=m.half),
    "arange_float16": lambda m: m.arange(3, dtype=m.float16),
    "arange_int_float_step": lambda m: m.arange(0, 3, 1.0),
    "ones_like_bool": lambda m: m.ones_like(m.tensor([1, 2]), dtype=m.bool),
    "empty_like_uint8": lambda m: m.empty_like(m.tensor([1], dtype=m.uint8)).zero_(),
    "linspace_default": lambda m: m.linspace(0, 1, 3),
    "eye_bool": lambda m: m.eye(2, dtype=m.bool),
}


@pytest.mark.parametrize("name", list(CREATION))
def test_creation_dtypes(name):
    check_grid(name, lambda m, _n=name: CREATION[_n](m), [("", (), ())])


# ---------------------------------------------------------------- autograd in float16
def test_float16_backward_matches_torch():
    """A float16 tensor takes gradients in float16 (and a float16 tensor mixed with an integer
    one too), as torch's; int tensors beside it do not change its dtype."""
    x = np.array([0.5, -1.25, 2.0], dtype=np.float16)
    n = np.array([1, 2, 3], dtype=np.int32)
    grads = []
    for m in (bp, torch):
        t = m.tensor(x, requires_grad=True)
        y = (t * m.tensor(n) + t.exp() / 3).sum()
        y.backward()
        grads.append((_dtype_name(y), _dtype_name(t.grad), _as_numpy(t.grad).astype(np.float64)))
    assert grads[0][:2] == grads[1][:2] == ("float16", "float16")
    np.testing.assert_allclose(grads[0][2], grads[1][2], rtol=2e-3)


def test_integer_tensors_refuse_grad():
    for d in ("bool",) + INTS:
        with pytest.raises(TypeError, match="floating-point"):
            bp.tensor(np.zeros(2, dtype=d), requires_grad=True)


@pytest.mark.parametrize("dim", [0, None])
def test_float16_sums_accumulate_in_float32_as_torch(dim):
    # 4,000 halves summed down a column: float16 accumulation drifts by ~17 (2,042 against 2,025).
    x = np.random.default_rng(0).uniform(0, 1, (4000, 3)).astype(np.float16)
    got = bp.tensor(x).sum(dim)
    want = torch.tensor(x).sum() if dim is None else torch.tensor(x).sum(dim)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got.data, want.numpy())
