"""Op tests driven by the op table (optable*.py): vs NumPy, float64 gradcheck, torch parity."""

from __future__ import annotations

import importlib
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


CASES = [
    pytest.param(row, i, id=f"{row.name}-{i}")
    for row in optable.ROWS
    for i in range(len(_samples(row)))
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
