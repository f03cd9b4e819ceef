"""The lectures' activation functions and their derivatives, in one figure.

Each derivative is computed by backprop's autograd (``y.sum().backward()`` gives dy/dx at every
point of the grid), not written by hand: the figure is also a check of the backward passes.

    python examples/activations.py [--out examples/output]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import backprop
from backprop import nn

OUT = Path(__file__).resolve().parent / "output"


def gaussian_rbf() -> nn.Module:
    """One Gaussian RBF unit centred at 0 with width 1: exp(-x^2 / 2)."""
    unit = nn.RBF(1, 1)
    with backprop.no_grad():
        unit.centres.data[...] = 0.0
    return nn.Sequential(nn.Unflatten(-1, (-1, 1)), unit, nn.Flatten(-2))


ACTIVATIONS = [
    ("sigmoid", nn.Sigmoid(), "saturates: gradient at most 1/4"),
    ("tanh", nn.Tanh(), "zero-centred; gradient at most 1"),
    ("ReLU", nn.ReLU(), "gradient 1 or 0: no vanishing for x > 0"),
    ("leaky ReLU (0.1)", nn.LeakyReLU(0.1), "never exactly dead"),
    ("step (threshold)", nn.Step(), "gradient 0 everywhere: no backprop"),
    ("Gaussian RBF exp(-x²/2)", gaussian_rbf(), "local: responds near its centre"),
]


def value_and_derivative(act: nn.Module, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    xt = backprop.tensor(x, requires_grad=True)
    y = act(xt)
    y.sum().backward()  # each y_i depends on x_i only, so d(sum y)/dx_i = dy_i/dx_i
    return y.data, xt.grad.data


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    args = parser.parse_args(argv)
    from matplotlib.figure import Figure

    x = np.linspace(-4, 4, 801, dtype=np.float32)
    fig = Figure(figsize=(12, 6.5), layout="constrained")
    axes = fig.subplots(2, 3)
    print(f"{'activation':<24} {'f(-2)':>7} {'f(0)':>7} {'f(2)':>7} {'max slope':>9}")
    for ax, (name, act, note) in zip(axes.ravel(), ACTIVATIONS):
        y, dy = value_and_derivative(act, x)
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.plot(x, y, color="tab:blue", lw=2, label="f(x)")
        ax.plot(x, dy, color="tab:red", lw=1.6, ls="--", label="f'(x) (autograd)")
        ax.set_title(f"{name}\n{note}", fontsize=10)
        ax.set_ylim(-1.25, 1.6)
        ax.legend(loc="upper left", fontsize=8, frameon=False)
        at = {v: float(y[np.argmin(np.abs(x - v))]) for v in (-2, 0, 2)}
        print(f"{name:<24} {at[-2]:7.3f} {at[0]:7.3f} {at[2]:7.3f} {dy.max():9.3f}")
    fig.suptitle("Activation functions (blue) and their derivatives (red, dashed)")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "activations.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
