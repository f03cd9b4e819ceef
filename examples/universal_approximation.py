"""Universal approximation: one hidden layer of ReLU units fitting a 1-D function, with 3, 4, 6,
8 and 20 hidden units side by side.

With ReLU, the network is a piecewise-linear spline: each hidden unit adds one kink (at
x = -b/w), and training places the kinks and sets the slopes between them. "The quality of
approximation depends on the number of linear segments" (the lectures): the error falls as
units are added.

    python examples/universal_approximation.py [--out examples/output] [--steps 3000]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import backprop
from backprop import nn, optim
from backprop.models import MLP

OUT = Path(__file__).resolve().parent / "output"
WIDTHS = (3, 4, 6, 8, 20)


def target(x: np.ndarray) -> np.ndarray:
    """A bumpy function on [-3, 3]: two oscillations riding on a parabola."""
    return np.sin(2 * x) + 0.15 * x**2


def fit(width: int, x: np.ndarray, y: np.ndarray, steps: int, restarts: int) -> tuple[MLP, float]:
    """The best of a few restarts (a narrow ReLU net can lose units that never switch on)."""
    best, best_mse = None, np.inf
    xt, yt = backprop.tensor(x[:, None]), backprop.tensor(y[:, None])
    for _ in range(restarts):
        net = MLP([1, width, 1], activation="relu")
        spread_kinks(net, x.min(), x.max())
        opt = optim.Adam(net.parameters(), lr=0.02)
        sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
        loss_fn = nn.MSELoss()
        for _ in range(steps):
            loss = loss_fn(net(xt), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        with backprop.no_grad():
            mse = loss_fn(net(xt), yt).item()
        if mse < best_mse:
            best, best_mse = net, mse
    return best, best_mse


def spread_kinks(net: MLP, lo: float, hi: float) -> None:
    """Start every hidden unit's kink at a random point of [lo, hi], facing a random way.

    With the default init most kinks fall near 0 and the units facing away from the data never
    switch on; spreading them over the interval lets gradient descent start from a spline that
    already covers it, and the fit then improves steadily with the width.
    """
    lin = net.linear_layers()[0]
    g = backprop.random.generator()
    w = g.choice([-1.0, 1.0], size=lin.weight.shape[0]) * g.uniform(0.5, 1.5, lin.weight.shape[0])
    with backprop.no_grad():
        lin.weight.data[:, 0] = w
        lin.bias.data[...] = -w * g.uniform(lo, hi, size=w.shape)


def kinks(net: MLP) -> np.ndarray:
    """Where each hidden ReLU switches on: w x + b = 0."""
    lin = net.linear_layers()[0]
    w, b = lin.weight.data[:, 0], lin.bias.data
    return -b[w != 0] / w[w != 0]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    parser.add_argument("--steps", type=int, default=3000, help="full-batch Adam steps")
    parser.add_argument("--restarts", type=int, default=8, help="random restarts per width")
    args = parser.parse_args(argv)
    from matplotlib.figure import Figure

    backprop.manual_seed(0)
    x = np.linspace(-3, 3, 200, dtype=np.float32)
    y = target(x).astype(np.float32)
    fig = Figure(figsize=(17, 3.6), layout="constrained")
    axes = fig.subplots(1, len(WIDTHS), sharey=True)
    print(f"{'hidden units':>12}  {'parameters':>10}  {'MSE':>9}")
    for ax, width in zip(axes, WIDTHS):
        net, mse = fit(width, x, y, args.steps, args.restarts)
        with backprop.no_grad():
            pred = net(backprop.tensor(x[:, None])).data[:, 0]
        params = sum(p.numel() for p in net.parameters())
        print(f"{width:>12}  {params:>10}  {mse:9.5f}")
        ax.plot(x, y, color="0.6", lw=4, label="target")
        ax.plot(x, pred, color="tab:red", lw=1.8, label="network")
        for k in kinks(net):
            if -3 < k < 3:
                ax.axvline(k, color="tab:blue", lw=0.7, ls=":")
        ax.set_title(f"{width} hidden ReLU units\nMSE {mse:.4f}", fontsize=10)
        ax.set_xlabel("x")
    axes[0].legend(loc="upper center", fontsize=8)
    fig.suptitle("One hidden layer of ReLUs = a piecewise-linear fit (dotted: the kinks)")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "universal_approximation.png"
    fig.savefig(path, dpi=100)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
