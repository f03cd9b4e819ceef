"""Full-batch, mini-batch and stochastic gradient descent on the same problem.

A softmax regression (64 -> 10) on the 8x8 digits, trained for the same number of epochs (passes
over the 1,438 training images) with plain SGD at three batch sizes:

- full batch (B = N): one exact gradient per epoch; smooth but only one update per epoch;
- mini-batch (B = 32): 45 updates per epoch, each an unbiased estimate of the full gradient
  whose noise shrinks like 1/sqrt(B); one matrix product handles the whole batch;
- stochastic (B = 1): 1,438 updates per epoch, very noisy, and slow in wall-clock time because
  every example costs a Python round trip.

Each uses a learning rate that suits it (larger batches average away noise and tolerate larger
steps). The figure plots the training loss against epochs and against seconds.

    python examples/batch_sizes.py [--epochs 10] [--out examples/output]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import backprop as bp
from backprop import nn
from backprop.data import Digits

OUT = Path(__file__).resolve().parent / "output"
# name: (batch size, learning rate); None = the whole training set
SETTINGS = {"full batch": (None, 2.0), "mini-batch 32": (32, 0.5), "stochastic (1)": (1, 0.05)}


def digits(train: bool = True) -> tuple[bp.Tensor, bp.Tensor]:
    ds = Digits(train=train)
    x = (ds.data.reshape(len(ds), -1) / np.float32(16)).astype(np.float32)
    return bp.tensor(x), bp.tensor(ds.targets)


def full_loss(model, x, y) -> float:
    with bp.no_grad():
        return float(nn.functional.cross_entropy(model(x), y))


def run(batch_size: int | None, lr: float, x, y, epochs: int) -> dict:
    """Train; record the full training loss after each epoch and the elapsed seconds."""
    bp.manual_seed(0)
    model = nn.Linear(64, 10)
    opt = bp.optim.SGD(model.parameters(), lr=lr)
    n = len(x)
    b = n if batch_size is None else batch_size
    losses, seconds, updates = [full_loss(model, x, y)], [0.0], 0
    start = time.perf_counter()
    for _ in range(epochs):
        order = bp.randperm(n).numpy()
        for i in range(0, n, b):
            idx = bp.tensor(order[i : i + b])
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            updates += 1
        seconds.append(time.perf_counter() - start)
        losses.append(full_loss(model, x, y))
    return {"losses": losses, "seconds": seconds, "updates": updates, "model": model}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    args = parser.parse_args(argv)
    from matplotlib.figure import Figure

    x, y = digits()
    xte, yte = digits(train=False)
    fig = Figure(figsize=(12, 4.5), layout="constrained")
    ax_e, ax_t = fig.subplots(1, 2)
    results = {}
    print(f"{'':<16} {'lr':>5} {'updates':>8} {'loss':>7} {'test acc':>9} {'seconds':>8}")
    for name, (b, lr) in SETTINGS.items():
        r = run(b, lr, x, y, args.epochs)
        with bp.no_grad():
            acc = float((r["model"](xte).argmax(dim=1) == yte).float().mean())
        r["accuracy"] = acc
        results[name] = r
        print(f"{name:<16} {lr:5g} {r['updates']:8d} {r['losses'][-1]:7.4f} {acc:9.1%} "
              f"{r['seconds'][-1]:8.2f}")  # fmt: skip
        ax_e.plot(range(len(r["losses"])), r["losses"], "o-", ms=3, label=name)
        ax_t.plot(r["seconds"], r["losses"], "o-", ms=3, label=name)
    ax_e.set(xlabel="epoch", ylabel="training loss (whole set)", yscale="log")
    ax_t.set(xlabel="seconds", ylabel="training loss (whole set)", yscale="log")
    for ax in (ax_e, ax_t):
        ax.legend(fontsize=8, frameon=False)
    fig.suptitle("Softmax regression on the digits: batch size")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "batch_sizes.png"
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    return results


if __name__ == "__main__":
    main()
