"""autograd.trace reproduces the lectures' worked backprop example number for number:
y = w2 * relu(w1 * x + b1) + b2, L = (y - t)^2 with x = 1, t = 1 and (w1, b1, w2, b2) =
(3, 1, 2, -5): the deck's gradients (8, 8, 16, 4) and, with a step of 0.25, (1, -1, -2, -6)."""

import numpy as np

import backprop as bp


def _example():
    x, t = bp.tensor(1.0), bp.tensor(1.0)
    w1, b1, w2, b2 = (bp.tensor(v, requires_grad=True) for v in (3.0, 1.0, 2.0, -5.0))
    names = {"x": x, "t": t, "w1": w1, "b1": b1, "w2": w2, "b2": b2}
    with bp.autograd.trace(names=names) as tr:
        h = (w1 * x + b1).relu()
        y = w2 * h + b2
        L = (y - t) ** 2
        L.backward()
    tr.name_output(h, "h")
    tr.name_output(y, "y")
    tr.name_output(L, "L")
    return tr, (w1, b1, w2, b2)


def test_the_decks_worked_example():
    tr, params = _example()
    forward = {e.output: float(e.output_value) for e in tr.entries}
    assert forward["h"] == 4 and forward["y"] == 3 and forward["L"] == 4
    grads = {e.output: float(e.grad_output) for e in tr.entries}
    assert grads["L"] == 1 and grads["y"] == 4 and grads["h"] == 8  # dL/di2 = 2 i2 = 4
    assert [float(p.grad) for p in params] == [8.0, 8.0, 16.0, 4.0]
    with bp.no_grad():
        for p in params:
            p -= 0.25 * p.grad
    assert [float(p) for p in params] == [1.0, -1.0, -2.0, -6.0]


def test_table_reads_forward_then_backward():
    tr, _ = _example()
    text = str(tr)
    assert text.index("forward") < text.index("backward")
    assert "h = relu(t2=4) = 4" in text
    assert "mul: d/dt4 = 4 -> d/dw2 = 16; d/dh = 8" in text
    assert len(tr.entries) == 7 and tr.entries[0].op == "mul"


def test_trace_of_arrays_summarises_large_values_and_restores_the_hook():
    x = bp.tensor(np.arange(20.0, dtype=np.float32), requires_grad=True)
    with bp.autograd.trace() as tr:
        (x * x).sum().backward()
    assert "mean" in str(tr) and "norm" in str(tr)
    n = len(tr.entries)
    (x * 2).sum().backward()  # outside the block: not traced
    assert len(tr.entries) == n
