"""Issue 3's layer benchmarks, backprop against PyTorch in one run (float32, same thread count):

- Conv2d forward+backward, input (64, 20, 14, 14) -> 50 filters 5x5, padding 2;
- MaxPool2d 2x2 forward+backward on (64, 20, 28, 28);
- LSTM forward+backward, batch 32, 50 steps, input 64, hidden 128.

Also re-measures the two ways of computing conv2d's input gradient on the benchmark shape
(col2im slice-adds, which backprop uses, against a full correlation through im2col).

    python benchmarks/bench_nn.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import machine, report, setup_torch, time_pair  # noqa: E402

import backprop as bp  # noqa: E402
from backprop import nn  # noqa: E402


def _step(lib, module, x, grad_out):
    """Forward, then backward of <grad_out, output>, from cleared gradients."""
    for p in module.parameters():
        p.grad = None
    x.grad = None
    out = module(x)
    if isinstance(out, tuple):
        out = out[0]
    (out * grad_out).sum().backward()


def _pair(torch, rng, b_mod, t_mod, x_shape):
    b_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    x = rng.standard_normal(x_shape).astype(np.float32)
    bx, tx = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with torch.no_grad():
        out = t_mod(tx)
    out = out[0] if isinstance(out, tuple) else out
    g = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    bg, tg = bp.tensor(g), torch.tensor(g)
    return (
        lambda: _step(bp, b_mod, bx, bg),
        lambda: _step(torch, t_mod, tx, tg),
    )


def input_grad_variants(repeats: int = 9):
    """conv2d's input gradient on the benchmark shape, both ways, in plain NumPy (ms)."""
    import statistics
    import time

    from backprop.ops.conv import col2im, im2col

    rng = np.random.default_rng(0)
    N, C, H, W, O, K, p = 64, 20, 14, 14, 50, 5, 2
    w = rng.standard_normal((O, C, K, K)).astype(np.float32)
    gy = rng.standard_normal((O, H, W, N)).astype(np.float32)  # the op's (O, OH, OW, N) layout
    shape = (C, H + 2 * p, W + 2 * p, N)

    def slice_adds():
        gcols = w.reshape(O, -1).T @ gy.reshape(O, -1)
        return col2im(np, gcols, shape, K, K, H, W, 1, 1, 1, 1)[:, p:-p, p:-p]

    def full_correlation():
        q = K - 1 - p
        gpad = np.zeros((O, H + 2 * q, W + 2 * q, N), np.float32)
        gpad[:, q : q + H, q : q + W] = gy
        cols = im2col(np, gpad, K, K, H, W, 1, 1, 1, 1)  # (O*K*K, H*W*N)
        wf = w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3).reshape(C, -1)
        return (wf @ cols).reshape(C, H, W, N)

    np.testing.assert_allclose(slice_adds(), full_correlation(), rtol=1e-3, atol=1e-3)
    times = {}
    for name, fn in (("col2im slice-adds", slice_adds), ("full correlation", full_correlation)):
        fn()
        ts = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        times[name] = statistics.median(ts) * 1e3
    return times


def main() -> str:
    torch = setup_torch()
    rng = np.random.default_rng(0)
    rows = []

    torch.manual_seed(0)
    t_conv = torch.nn.Conv2d(20, 50, 5, padding=2)
    b_conv = nn.Conv2d(20, 50, 5, padding=2)
    b, t = time_pair(*_pair(torch, rng, b_conv, t_conv, (64, 20, 14, 14)), repeats=15, warmup=3)
    rows.append(("Conv2d 20->50 5x5 pad 2 on (64, 20, 14, 14), fwd+bwd", b, t))

    b, t = time_pair(
        *_pair(torch, rng, nn.MaxPool2d(2), torch.nn.MaxPool2d(2), (64, 20, 28, 28)),
        repeats=25,
        warmup=3,
    )
    rows.append(("MaxPool2d 2x2 on (64, 20, 28, 28), fwd+bwd", b, t))

    t_lstm = torch.nn.LSTM(64, 128)
    b_lstm = nn.LSTM(64, 128)
    b, t = time_pair(*_pair(torch, rng, b_lstm, t_lstm, (50, 32, 64)), repeats=9, warmup=2)
    rows.append(("LSTM 64->128, 50 steps, batch 32, fwd+bwd", b, t))

    table = report(rows, "Layers (issue 3), float32")
    variants = input_grad_variants()
    lines = [
        table,
        "",
        "conv2d input gradient on the benchmark shape, NumPy only: "
        + ", ".join(f"{k} {v:.2f} ms" for k, v in variants.items()),
        "",
        f"Machine: {machine()}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main())
