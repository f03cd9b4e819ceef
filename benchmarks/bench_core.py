"""Issue 2's benchmark: per-op overhead on small tensors and a 784-512-10 MLP training step.

python benchmarks/bench_core.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import machine, report, setup_torch, time_pair  # noqa: E402

import backprop as bp  # noqa: E402


def chain(lib, x):
    """50 small elementwise ops, forward and backward."""
    y = x
    for _ in range(10):
        y = y * 1.01
        y = y + 0.1
        y = y.tanh()
        y = y - 0.05
        y = y * y
    y.sum().backward()


def mlp_step(lib, F, x, y, w1, b1, w2, b2, lr=0.01):
    h = F.relu(F.linear(x, w1, b1))
    logits = F.linear(h, w2, b2)
    loss = F.cross_entropy(logits, y) if hasattr(F, "cross_entropy") else _nll(F, logits, y)
    for p in (w1, b1, w2, b2):
        p.grad = None
    loss.backward()
    with lib.no_grad():
        for p in (w1, b1, w2, b2):
            # Plain SGD in place: p.data is a Tensor in torch, the ndarray in backprop.
            p.data -= lr * p.grad.data


def _nll(F, logits, y):
    return -F.log_softmax(logits, dim=1).gather(1, y[:, None]).mean()


def main():
    torch = setup_torch()
    rng = np.random.default_rng(0)
    rows = []

    xs = rng.standard_normal((64, 64)).astype(np.float32)
    bx = bp.tensor(xs, requires_grad=True)
    tx = torch.tensor(xs, requires_grad=True)
    b, t = time_pair(lambda: chain(bp, bx), lambda: chain(torch, tx), repeats=15, warmup=3, inner=5)
    rows.append(("chain of 50 elementwise ops, (64, 64) f32, fwd+bwd", b, t))

    x = rng.standard_normal((64, 784)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    params = [
        (rng.standard_normal((512, 784)) * 0.03).astype(np.float32),
        np.zeros(512, np.float32),
        (rng.standard_normal((10, 512)) * 0.04).astype(np.float32),
        np.zeros(10, np.float32),
    ]
    bps = [bp.tensor(p, requires_grad=True) for p in params]
    tps = [torch.tensor(p, requires_grad=True) for p in params]
    bxx, byy = bp.tensor(x), bp.tensor(y)
    txx, tyy = torch.tensor(x), torch.tensor(y)
    b, t = time_pair(
        lambda: mlp_step(bp, bp.nn.functional, bxx, byy, *bps),
        lambda: mlp_step(torch, torch.nn.functional, txx, tyy, *tps),
        repeats=21,
        warmup=5,
        inner=5,
    )
    rows.append(("MLP 784-512-10 SGD step, batch 64 f32", b, t))
    print(report(rows, f"Core benchmark ({machine()})"))


if __name__ == "__main__":
    main()
