"""Issue 3's core-layer benchmarks, backprop against PyTorch in one run (float32, same threads):

- BatchNorm2d forward+backward in training mode on (64, 20, 28, 28) (the issue's benchmark),
  and on (64, 50, 10, 10);
- for scale: cross-entropy forward+backward on (256, 10) logits, LayerNorm on (64, 50, 256),
  Dropout(0.5) on (64, 800), Embedding lookup + backward (batch 64 x 50 tokens, vocabulary 10,000).

    python benchmarks/bench_nn_core.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import machine, report, setup_torch, time_pair  # noqa: E402

import backprop as bp  # noqa: E402
from backprop import nn  # noqa: E402


def _step(module, x, grad_out):
    """Forward, then backward of <grad_out, output>, from cleared gradients."""
    for p in module.parameters():
        p.grad = None
    x.grad = None
    (module(x) * grad_out).sum().backward()


def _layer_pair(torch, rng, b_mod, t_mod, x, float_input=True):
    b_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    bx = bp.tensor(x, requires_grad=float_input)
    tx = torch.tensor(x, requires_grad=float_input)
    shape = t_mod(tx).shape
    g = rng.standard_normal(tuple(shape)).astype(np.float32)
    bg, tg = bp.tensor(g), torch.tensor(g)
    return lambda: _step(b_mod, bx, bg), lambda: _step(t_mod, tx, tg)


def main():
    torch = setup_torch()
    rng = np.random.default_rng(0)
    rows = []

    for shape in [(64, 20, 28, 28), (64, 50, 10, 10)]:
        x = rng.standard_normal(shape).astype(np.float32)
        fb, ft = _layer_pair(
            torch, rng, nn.BatchNorm2d(shape[1]), torch.nn.BatchNorm2d(shape[1]), x
        )
        b, t = time_pair(fb, ft, repeats=15, warmup=3)
        rows.append((f"BatchNorm2d fwd+bwd, {shape}", b, t))

    logits = rng.standard_normal((256, 10)).astype(np.float32)
    y = rng.integers(0, 10, 256)
    bl, tl = bp.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    by, ty = bp.tensor(y), torch.tensor(y)

    def ce(lib_nnf, xl, yl):
        xl.grad = None
        lib_nnf.cross_entropy(xl, yl).backward()

    b, t = time_pair(
        lambda: ce(nn.functional, bl, by),
        lambda: ce(torch.nn.functional, tl, ty),
        repeats=15,
        warmup=3,
        inner=20,
    )
    rows.append(("cross_entropy fwd+bwd, (256, 10)", b, t))

    x = rng.standard_normal((64, 50, 256)).astype(np.float32)
    fb, ft = _layer_pair(torch, rng, nn.LayerNorm(256), torch.nn.LayerNorm(256), x)
    b, t = time_pair(fb, ft, repeats=15, warmup=3)
    rows.append(("LayerNorm(256) fwd+bwd, (64, 50, 256)", b, t))

    x = rng.standard_normal((64, 800)).astype(np.float32)
    fb, ft = _layer_pair(torch, rng, nn.Dropout(0.5), torch.nn.Dropout(0.5), x)
    b, t = time_pair(fb, ft, repeats=15, warmup=3, inner=10)
    rows.append(("Dropout(0.5) fwd+bwd, (64, 800)", b, t))

    idx = rng.integers(0, 10_000, (64, 50))
    be, te = nn.Embedding(10_000, 64), torch.nn.Embedding(10_000, 64)
    be.load_state_dict({k: v.detach().numpy() for k, v in te.state_dict().items()})
    bi, ti = bp.tensor(idx), torch.tensor(idx)
    g = rng.standard_normal((64, 50, 64)).astype(np.float32)
    bg, tg = bp.tensor(g), torch.tensor(g)

    def emb(mod, i, gg):
        mod.weight.grad = None
        (mod(i) * gg).sum().backward()

    b, t = time_pair(lambda: emb(be, bi, bg), lambda: emb(te, ti, tg), repeats=15, warmup=3)
    rows.append(("Embedding(10000, 64) fwd+bwd, (64, 50) ids", b, t))

    print(report(rows, "nn core layers: backprop vs PyTorch (float32, CPU)"))
    print()
    print(machine())


if __name__ == "__main__":
    main()
