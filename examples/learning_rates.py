"""The learning rate: too small, too large, about right (the lectures' "small learning rates
converge slowly, large ones overshoot and may diverge").

Left: gradient descent on the 1-D quadratic ``f(w) = (c/2) w^2`` (curvature c = 2). Each step
multiplies ``w`` by ``(1 - lr*c)``: below ``lr = 1/c`` it creeps monotonically towards 0, between
``1/c`` and ``2/c`` it overshoots and zig-zags inwards, and above ``2/c`` every step lands farther
out: it diverges. On a network the same holds with ``c`` the largest curvature (the Hessian's top
eigenvalue) of the loss.

Right: a 64-64-10 ReLU MLP on the 8x8 digits, plain SGD (batch 32) at five learning rates: the
loss per epoch. 0.001 has hardly moved after 20 epochs; 0.3 and 1.0 converge (1.0 is near the
edge: a few times larger and the first steps overshoot so far that most ReLUs die, and the loss
stays at chance, ``log 10 = 2.3``, or above it). A run whose loss overflows is cut where it
stopped being finite.

Third panel: the learning-rate range test (:func:`backprop.train.lr_find`, Smith 2017) on the same
network: 100 batches at learning rates growing from 1e-7 to 10, the smoothed loss against the
rate. It stays flat while the rate is too small to move anything, falls, then explodes; the
suggestion is the steepest descent, found in one sweep of 100 batches instead of one run per
guess. Here it lands near 1: a rate that trains fast but close to the edge (the sweep's loss
lags the rate it is measured at); a few times below it (0.3) is the safe choice. The network is
also trained at the suggested rate, next to the five above.

    python examples/learning_rates.py [--epochs 20] [--out examples/output]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

import backprop as bp
from backprop import nn
from backprop.data import DataLoader, Digits, TensorDataset
from backprop.train import lr_find

OUT = Path(__file__).resolve().parent / "output"
CURVATURE = 2.0
QUADRATIC_RATES = {"0.1 (too small)": 0.1, "0.45 (right)": 0.45, "0.9 (oscillates)": 0.9,
                   "1.05 (diverges)": 1.05}  # fmt: skip
MLP_RATES = {"0.001 (too small)": 0.001, "0.3 (right)": 0.3, "1.0 (fast, on the edge)": 1.0,
             "3.0 (too large)": 3.0, "30 (too large)": 30.0}  # fmt: skip


def quadratic_path(lr: float, steps: int = 20, w0: float = 1.0) -> np.ndarray:
    """Gradient descent on (c/2) w^2 with backprop's autograd: the iterates w_0 ... w_steps."""
    w = bp.tensor(w0, dtype=bp.float64, requires_grad=True)
    path = [w0]
    for _ in range(steps):
        loss = 0.5 * CURVATURE * w**2
        w.grad = None
        loss.backward()
        with bp.no_grad():
            w -= lr * w.grad
        path.append(float(w))
    return np.array(path)


def digits() -> tuple[bp.Tensor, bp.Tensor]:
    ds = Digits(train=True)
    x = (ds.data.reshape(len(ds), -1) / np.float32(16)).astype(np.float32)
    return bp.tensor(x), bp.tensor(ds.targets)


def mlp() -> nn.Sequential:
    """The 64-64-10 ReLU MLP, initialised from seed 0 (the same weights for every run)."""
    bp.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))


def range_test(x, y, batch_size: int = 32):
    """lr_find on a fresh MLP with plain SGD, over shuffled batches of the training set."""
    net = mlp()
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    opt = bp.optim.SGD(net.parameters(), lr=0.1)
    return lr_find(net, loader, nn.CrossEntropyLoss(), opt, start_lr=1e-7, end_lr=10, num_iter=100)


def train_mlp(lr: float, x, y, epochs: int, batch_size: int = 32) -> list[float]:
    """Training loss per epoch for plain SGD at ``lr`` (stops early once the loss is not finite)."""
    net = mlp()
    opt = bp.optim.SGD(net.parameters(), lr=lr)
    losses = []
    n = len(x)
    for _ in range(epochs):
        order = bp.randperm(n).numpy()
        total = 0.0
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run overflows: expected
            for i in range(0, n, batch_size):
                idx = bp.tensor(order[i : i + batch_size])
                loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss) * len(idx)
        losses.append(total / n)
        if not math.isfinite(losses[-1]):
            break
    return losses


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    args = parser.parse_args(argv)
    from matplotlib.figure import Figure

    from backprop.viz import plot_lr_find

    fig = Figure(figsize=(17, 4.8), layout="constrained")
    ax_q, ax_m, ax_f = fig.subplots(1, 3)
    results: dict = {"quadratic": {}, "mlp": {}}
    print(f"f(w) = {CURVATURE / 2:g} w^2: converges iff lr < 2/c = {2 / CURVATURE:g}")
    for name, lr in QUADRATIC_RATES.items():
        path = quadratic_path(lr)
        results["quadratic"][name] = path
        print(f"  lr {name:<18} factor per step {1 - lr * CURVATURE:+.2f}   w_20 = {path[-1]:+.3e}")
        ax_q.plot(path, "o-", ms=3, label=f"lr {name}")
    ax_q.set(
        xlabel="step", ylabel="w", ylim=(-2.5, 2.5), title=f"GD on f(w) = {CURVATURE / 2:g} w²"
    )
    ax_q.axhline(0, color="0.8", lw=0.8)
    ax_q.legend(fontsize=8, frameon=False)

    x, y = digits()
    found = range_test(x, y)
    suggestion = found.suggestion
    results["lr_find"] = found
    print(
        f"\nlr_find ({len(found.lrs)} batches, lr {found.lrs[0]:g} .. {found.lrs[-1]:.3g}): "
        f"steepest descent at lr {suggestion:.2g}, smoothed minimum at lr {found.best_lr:.2g}"
    )
    plot_lr_find(found, ax=ax_f, title="lr_find on the same MLP (plain SGD)")
    for k, lr in enumerate(MLP_RATES.values()):
        ax_f.axvline(lr, color=f"C{k}", ls=":", lw=1.2)  # the rates of the middle panel
    rates = dict(MLP_RATES)
    if suggestion is not None:
        rates[f"{suggestion:.2g} (lr_find)"] = suggestion
    print(f"\n64-64-10 MLP on the digits, SGD batch 32, {args.epochs} epochs: training loss")
    for name, lr in rates.items():
        losses = train_mlp(lr, x, y, args.epochs)
        results["mlp"][name] = losses
        last = losses[-1]
        note = f"after {len(losses)} epochs" if math.isfinite(last) else f"at epoch {len(losses)}"
        print(f"  lr {name:<24} first {losses[0]:8.3f}   last {last:8.3f} ({note})")
        finite = [v if math.isfinite(v) else np.nan for v in losses]
        ax_m.plot(np.arange(1, len(finite) + 1), finite, "o-", ms=3, label=f"lr {name}")
    ax_m.set(xlabel="epoch", ylabel="training loss", yscale="log", title="MLP on the 8x8 digits")
    ax_m.legend(fontsize=8, frameon=False)
    fig.suptitle("Learning rate too small, right, too large, and lr_find's suggestion")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "learning_rates.png"
    fig.savefig(out, dpi=110)
    print(f"\nwrote {out}")
    return results


if __name__ == "__main__":
    main()
