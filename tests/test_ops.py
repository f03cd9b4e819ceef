"""Op tests driven by the op table (optable*.py): vs NumPy, float64 gradcheck, torch parity, and
the edge column (values and gradients at zeros, kinks, ties, NaN and inf, vs torch)."""

from __future__ import annotations

import importlib
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch

import backprop as bp
import optable
from backprop.autograd import function as bfunction
from backprop.ops import OPS

for _path in sorted(Path(__file__).parent.glob("optable_*.py")):
    importlib.import_module(_path.stem)

torch.set_num_threads(1)


def _samples(row):
    return row.samples(np.random.default_rng(zlib.crc32(row.name.encode())))


def _edges(row):
    return row.edges(np.random.default_rng(zlib.crc32(row.name.encode()) + 1)) if row.edges else []


def _edge_ops(row):
    if row.edge_ops:
        return set(row.edge_ops)
    return {row.name} if row.name in OPS else set()


CASES = [
    pytest.param(row, i, id=f"{row.name}-{i}")
    for row in optable.ROWS
    for i in range(len(_samples(row)))
]
EDGE_CASES = [
    pytest.param(row, i, id=f"{row.name}-edge{i}")
    for row in optable.ROWS
    for i in range(len(_edges(row)))
]


def _inputs(lib, sample, dtype):
    out = []
    for i, a in enumerate(sample.arrays):
        a = np.asarray(a)
        if np.issubdtype(a.dtype, np.floating):
            t = lib.tensor(a.astype(dtype), requires_grad=i not in sample.no_grad)
        else:
            t = lib.tensor(a)
        out.append(t)
    return out


def _run(lib, row, sample, dtype):
    inputs = _inputs(lib, sample, dtype)
    return row.fn(lib, *inputs, **sample.kwargs), inputs


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.data)


@pytest.mark.parametrize("row,i", CASES)
def test_forward_matches_numpy(row, i):
    if row.ref is None:
        pytest.skip("no NumPy reference for this row (torch parity covers it)")
    sample = _samples(row)[i]
    expected = row.ref(*[np.asarray(a, dtype=np.float64) for a in sample.arrays], **sample.kwargs)
    if expected is None:
        pytest.skip("reference not meaningful for this sample")
    out, _ = _run(bp, row, sample, np.float64)
    np.testing.assert_allclose(out.data, expected, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("row,i", CASES)
def test_gradcheck_float64(row, i):
    if not (row.grad and row.gradcheck):
        pytest.skip("row is not finite-difference checkable (a kink or tie by design)")
    sample = _samples(row)[i]
    inputs = _inputs(bp, sample, np.float64)
    if not any(t.requires_grad for t in inputs):
        pytest.skip("no differentiable input")
    assert bp.gradcheck(
        lambda *ts: row.fn(bp, *ts, **sample.kwargs),
        inputs,
        eps=row.gradcheck_eps,
        atol=1e-5,
        rtol=1e-3,
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("row,i", CASES)
def test_parity_with_torch(row, i, dtype):
    sample = _samples(row)[i]
    rtol, atol = (row.rtol64, row.atol64) if dtype == np.float64 else (row.rtol32, row.atol32)
    b_out, b_in = _run(bp, row, sample, dtype)
    t_out, t_in = _run(torch, row, sample, dtype)
    assert b_out.shape == tuple(t_out.shape), (
        f"{row.name}: shape {b_out.shape} vs torch {tuple(t_out.shape)}"
    )
    assert str(b_out.dtype) == str(t_out.dtype).removeprefix("torch."), (
        f"{row.name}: dtype {b_out.dtype} vs torch {t_out.dtype}"
    )
    np.testing.assert_allclose(_np(b_out), _np(t_out), rtol=rtol, atol=atol)
    if not (row.grad and b_out.requires_grad):
        return
    u = np.random.default_rng(1).standard_normal(b_out.shape).astype(b_out.dtype)
    (b_out * bp.tensor(u)).sum().backward()
    (t_out * torch.tensor(u)).sum().backward()
    for k, (bi, ti) in enumerate(zip(b_in, t_in)):
        if not bi.requires_grad:
            continue
        tg = ti.grad.numpy() if ti.grad is not None else np.zeros(ti.shape)
        assert bi.grad is not None, f"{row.name}: no gradient for input {k}"
        assert bi.grad.dtype == bi.dtype
        np.testing.assert_allclose(bi.grad.data, tg, rtol=rtol, atol=atol, err_msg=f"input {k}")


def test_every_registered_op_runs_in_some_row():
    seen = set()

    def record(event, fn, _):
        if event == "forward":
            seen.add(fn.name)

    bfunction._anomaly_hook = record
    try:
        for row in optable.ROWS:
            for sample in _samples(row):
                _run(bp, row, sample, np.float64)
    finally:
        bfunction._anomaly_hook = None
    missing = sorted(set(OPS) - seen)
    assert not missing, f"registered ops with no op-table row: {missing}"


def _grads_equal(b_in, t_in, rtol, atol, name):
    for k, (bi, ti) in enumerate(zip(b_in, t_in)):
        if not bi.requires_grad:
            continue
        tg = ti.grad.numpy() if ti.grad is not None else np.zeros(ti.shape)
        bg = bi.grad.data if bi.grad is not None else np.zeros(bi.shape)
        np.testing.assert_allclose(bg, tg, rtol=rtol, atol=atol, err_msg=f"{name}: input {k}")


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("row,i", EDGE_CASES)
def test_edges_match_torch(row, i, dtype):
    """Values and gradients at an op's special inputs equal torch's (NaN == NaN, same places)."""
    sample = _edges(row)[i]
    rtol, atol = (row.rtol64, row.atol64) if dtype == np.float64 else (row.rtol32, row.atol32)
    # Floating-point warnings are expected here (inf - inf, 0 * inf): the values are the test.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b_out, b_in = _run(bp, row, sample, dtype)
        t_out, t_in = _run(torch, row, sample, dtype)
        assert b_out.shape == tuple(t_out.shape), f"{row.name}: shape"
        assert str(b_out.dtype) == str(t_out.dtype).removeprefix("torch."), f"{row.name}: dtype"
        np.testing.assert_allclose(
            _np(b_out), _np(t_out), rtol=rtol, atol=atol, err_msg=f"{row.name}: values"
        )
        if not (row.grad and b_out.requires_grad):
            return
        if sample.grad is None:
            g = np.random.default_rng(1).standard_normal(b_out.shape)
        else:
            g = np.broadcast_to(np.asarray(sample.grad, dtype=np.float64), b_out.shape)
        g = np.array(g, dtype=b_out.dtype)  # a copy (0-d stays 0-d)
        b_out.backward(bp.tensor(g))
        t_out.backward(torch.tensor(g))
        _grads_equal(b_in, t_in, rtol, atol, row.name)


def _ops_run_by(samples_of):
    """{row name: set of registered ops that the row's samples (``samples_of(row)``) run}."""
    seen = {}

    def record(event, fn, _):
        if event == "forward":
            current.add(fn.name)

    bfunction._anomaly_hook = record
    try:
        with np.errstate(all="ignore"):
            for row in optable.ROWS:
                current = seen[row.name] = set()
                for sample in samples_of(row):
                    _run(bp, row, sample, np.float64)
    finally:
        bfunction._anomaly_hook = None
    return seen


def test_every_registered_op_has_edge_cases_or_a_reason():
    claimed = {}
    for row in optable.ROWS:
        if row.edges:
            for op in _edge_ops(row):
                claimed.setdefault(op, []).append(row.name)
    silent = sorted(row.name for row in optable.ROWS if row.edges and not _edge_ops(row))
    assert not silent, f"edge rows that stand for no registered op (give edge_ops): {silent}"
    unknown = sorted((set(claimed) | set(optable.NO_EDGES)) - set(OPS))
    assert not unknown, f"edge_ops / no_edges name ops that are not registered: {unknown}"
    both = sorted(set(claimed) & set(optable.NO_EDGES))
    assert not both, f"ops with edge cases that are also declared edge-free: {both}"
    missing = sorted(set(OPS) - set(claimed) - set(optable.NO_EDGES))
    assert not missing, (
        f"registered ops with neither edge cases (a row's edges / edge_ops) nor a reasoned "
        f"no_edges(...) declaration: {missing}"
    )
    ran = _ops_run_by(_edges)
    idle = sorted(
        f"{row.name}: {op}"
        for row in optable.ROWS
        if row.edges
        for op in _edge_ops(row) - ran[row.name]
    )
    assert not idle, f"edge rows that never run the op they stand for: {idle}"
