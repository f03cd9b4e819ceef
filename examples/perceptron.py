"""The perceptron learning rule: it converges on linearly separable points, within Novikoff's
bound, and it never settles on XOR.

Left: 200 points labelled by the lectures' line 1 + 3 x1 - 2 x2 = 0, and the line the perceptron
finds. Middle: XOR, where every line leaves points on the wrong side. Right: mistakes per epoch.

    python examples/perceptron.py [--out examples/output]
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np

import backprop
from backprop.data import make_xor
from backprop.models import ConvergenceWarning, Perceptron
from backprop.viz import plot_decision_boundary

OUT = Path(__file__).resolve().parent / "output"


def separable_points(n: int = 200, margin: float = 0.15, seed: int = 0):
    """Points in [-1, 1]^2 labelled by sign(1 + 3 x1 - 2 x2), none closer than ``margin`` to
    the line (measured with the unit-norm augmented normal, as in Novikoff's bound)."""
    rng = np.random.default_rng(seed)
    w_star = np.array([3.0, -2.0, 1.0]) / np.linalg.norm([3.0, -2.0, 1.0])
    x = rng.uniform(-1, 1, size=(5 * n, 2))
    s = np.c_[x, np.ones(len(x))] @ w_star
    keep = np.abs(s) >= margin
    x, s = x[keep][:n], s[keep][:n]
    y = np.where(s > 0, 1, -1)
    gamma = np.min(y * s)
    radius = np.max(np.linalg.norm(np.c_[x, np.ones(len(x))], axis=1))
    return x.astype(np.float32), y, (radius / gamma) ** 2


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    args = parser.parse_args(argv)
    from matplotlib.figure import Figure

    backprop.manual_seed(0)

    # 1. Separable data: the rule stops after a mistake-free epoch.
    x, y, bound = separable_points()
    p = Perceptron(2)
    fit = p.fit(x, y, max_epochs=100)
    w, b = p.weight.data[0], p.bias.data[0]
    print("Linearly separable points (200, margin 0.15):")
    print(f"  converged: {fit.converged} after {fit.epochs} epochs, {fit.updates} updates")
    print(f"  Novikoff's bound (R / gamma)^2 = {bound:.0f} updates  ->  within it: "
          f"{fit.updates <= bound}")  # fmt: skip
    print(f"  learned line: {b:+.2f} {w[0]:+.2f} x1 {w[1]:+.2f} x2 = 0 "
          f"(the lecture's: +1 +3 x1 -2 x2, up to scale)")  # fmt: skip
    print(f"  training accuracy: {(p.predict(x) == y).mean():.1%}")

    # 2. XOR: no line separates it; fit says so.
    xx, xy = make_xor(200, noise=0.0, seed=0)
    q = Perceptron(2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        xor_fit = q.fit(xx, xy, max_epochs=100)
    print("\nXOR (200 points):")
    print(f"  converged: {xor_fit.converged} after {xor_fit.epochs} epochs; mistakes in the "
          f"last epochs: {xor_fit.mistakes_per_epoch[-5:]}")  # fmt: skip
    print(f"  warning: {caught[0].message if caught else None}")
    print(f"  training accuracy: {(q.predict(xx) == xy).mean():.1%} (about chance)")

    fig = Figure(figsize=(13, 4.2), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    plot_decision_boundary(p, x, y, ax=ax1, margin=0.1,
                           title=f"separable: converged in {fit.epochs} epochs\n"
                                 f"{fit.updates} updates ≤ Novikoff bound {bound:.0f}")  # fmt: skip
    t = np.linspace(-1.1, 1.1, 2)
    ax1.plot(t, (1 + 3 * t) / 2, "k:", lw=1, label="1 + 3x₁ - 2x₂ = 0")
    ax1.legend(loc="lower right", fontsize=8)
    plot_decision_boundary(q, xx, xy, ax=ax2, margin=0.1,
                           title=f"XOR: not converged after {xor_fit.epochs} epochs\n"
                                 "(the final line, one of many it cycles through)")  # fmt: skip
    ax3.plot(range(1, fit.epochs + 1), fit.mistakes_per_epoch, "o-", label="separable")
    ax3.plot(range(1, xor_fit.epochs + 1), xor_fit.mistakes_per_epoch, label="XOR")
    ax3.set_xlabel("epoch")
    ax3.set_ylabel("mistakes (= updates) in the epoch")
    ax3.set_yscale("symlog", linthresh=1)
    ax3.set_title("the rule updates only on mistakes\n(separable: reaches 0, XOR: never)")
    ax3.legend()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "perceptron.png"
    fig.savefig(path, dpi=110)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
