"""Finite-difference gradient checking: the lectures' "compare with a finite-difference
approximation of the gradient", made a public, exact tool.

For ``y = fn(*inputs)`` and a random output weighting ``u``, the scalar ``L = <u, y>`` has gradient
``J^T u`` with respect to each input. gradcheck compares that analytic gradient (one backward pass)
with central differences ``(L(x + eps e_i) - L(x - eps e_i)) / (2 eps)``: element by element for
small inputs (the full check), or along random directions ``v`` for large ones, where
``<J^T u, v>`` is compared with ``(L(x + eps v) - L(x - eps v)) / (2 eps)`` (two evaluations per
direction instead of two per element).
"""

from __future__ import annotations

from functools import partial

import numpy as np

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Analytic and numerical gradients disagree."""


def _scalarize(out, u):
    from ..tensor import Tensor

    outs = out if isinstance(out, (tuple, list)) else (out,)
    total = 0.0
    for o, w in zip(outs, u):
        if isinstance(o, Tensor) and w is not None:
            total = total + float((o.data.astype(np.float64) * w).sum())
    return total


def gradcheck(
    fn,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    mode: str = "auto",
    n_directions: int = 8,
    max_full: int = 400,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central finite differences.

    Args:
        fn: a function of the inputs returning a Tensor (or a tuple of Tensors).
        inputs: a Tensor or a sequence; the floating-point Tensors with ``requires_grad`` are
            checked. Use float64: float32 needs ``eps`` near 1e-3 and looser tolerances.
        eps: the finite-difference step.
        atol, rtol: an element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
        mode: ``'full'`` (every element), ``'random'`` (random directions) or ``'auto'``
            (full when an input has at most ``max_full`` elements).
        n_directions: random directions per input in random mode.
        seed: seeds the output weighting and the directions (not the library's generator).
        raise_exception: raise on failure (default) rather than return False.

    Returns:
        True when every checked gradient agrees.

    Raises:
        GradcheckError: naming the input, the worst element (or direction), and the analytic and
            numerical values.

    Example:
        >>> x = backprop.randn(3, 4, dtype=backprop.float64, requires_grad=True)
        >>> backprop.gradcheck(lambda t: (t * t).sum(dim=1), x)
        True
    """
    from ..tensor import Tensor
    from .grad_mode import no_grad

    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [
        i
        for i, t in enumerate(inputs)
        if isinstance(t, Tensor) and t.requires_grad and np.issubdtype(t.dtype, np.floating)
    ]
    if not checked:
        raise ValueError("gradcheck: no input is a floating-point Tensor with requires_grad=True")
    if mode not in ("auto", "full", "random"):
        raise ValueError(f"gradcheck: mode must be 'auto', 'full' or 'random', got {mode!r}")
    rng = np.random.default_rng(seed)
    leaves, u = _analytic_gradients(fn, inputs, rng)

    def evaluate(i, data):
        args = list(leaves)
        args[i] = Tensor._make(data, False, None)
        with no_grad():
            return _scalarize(fn(*args), u)

    tol = f"(atol={atol}, rtol={rtol}, eps={eps})"
    for i in checked:
        x = leaves[i].data
        analytic = leaves[i].grad.data if leaves[i].grad is not None else np.zeros_like(x)
        analytic = analytic.astype(np.float64)
        L = partial(evaluate, i)
        if mode == "full" or (mode == "auto" and x.size <= max_full):
            problem = _check_every_element(L, x, analytic, eps, atol, rtol)
        else:
            problem = _check_random_directions(L, x, analytic, eps, atol, rtol, n_directions, rng)
        if problem is not None:
            msg = f"gradcheck: gradient of input {i} (shape {x.shape}) is wrong {problem} {tol}"
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True


def _analytic_gradients(fn, inputs, rng):
    """The analytic gradient of ``L = <u, fn(inputs)>`` for a random weighting ``u`` of the
    outputs: one backward pass from fresh leaves (copies of the inputs). Returns (the leaves,
    their ``.grad`` filled; ``u``, one array per output, None where it needs no grad)."""
    from ..tensor import Tensor
    from .grad_mode import enable_grad

    leaves = [
        Tensor._make(t.data.copy(), t.requires_grad, None) if isinstance(t, Tensor) else t
        for t in inputs
    ]
    with enable_grad():
        out = fn(*leaves)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    u = [
        rng.standard_normal(o.shape) if isinstance(o, Tensor) and o.requires_grad else None
        for o in outs
    ]
    if all(w is None for w in u):
        raise ValueError(
            "gradcheck: fn's output does not require grad (is it connected to inputs?)"
        )
    total = None
    for o, w in zip(outs, u):
        if w is not None:
            term = (o * Tensor._make(w.astype(o.dtype), False, None)).sum()
            total = term if total is None else total + term
    total.backward()
    return leaves, u


def _check_every_element(L, x, analytic, eps, atol, rtol) -> str | None:
    """The full check: central differences of ``L`` along each element of ``x`` against
    ``analytic``; None when all agree, else where and by how much the worst element is off."""
    numeric = np.zeros(x.size)
    flat = x.reshape(-1)
    for k in range(x.size):
        xp_, xm_ = flat.copy(), flat.copy()
        xp_[k] += eps
        xm_[k] -= eps
        numeric[k] = (L(xp_.reshape(x.shape)) - L(xm_.reshape(x.shape))) / (2 * eps)
    a = analytic.reshape(-1)
    bad = np.abs(a - numeric) - (atol + rtol * np.abs(numeric))
    k = int(np.argmax(bad))
    if bad[k] > 0 or not np.all(np.isfinite(a)):
        idx = tuple(int(j) for j in np.unravel_index(k, x.shape))
        return f"at element {idx}: analytic {a[k]:.10g}, numerical {numeric[k]:.10g}"
    return None


def _check_random_directions(L, x, analytic, eps, atol, rtol, n_directions, rng) -> str | None:
    """The random check: ``<analytic, v>`` against the central difference of ``L`` along
    ``n_directions`` random directions ``v``; None when all agree, else the first that does not."""
    for d in range(n_directions):
        v = rng.standard_normal(x.shape)
        numeric = (L((x + eps * v).astype(x.dtype)) - L((x - eps * v).astype(x.dtype))) / (2 * eps)
        a = float((analytic * v).sum())
        if not abs(a - numeric) <= atol + rtol * abs(numeric):
            return (
                f"along random direction {d}: analytic <grad, v> = {a:.10g}, "
                f"numerical {numeric:.10g}"
            )
    return None
