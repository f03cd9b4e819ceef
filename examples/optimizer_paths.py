"""Paths of five optimisers on a ravine and on Rosenbrock's valley: "ravines, with and without
momentum", made visible.

Every optimiser starts from the same point and takes the same number of steps on each surface; the
PNG has one panel per surface, with contour lines of the loss and one path per optimiser.

    python examples/optimizer_paths.py [output.png]   (default examples/output/optimizer_paths.png)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import backprop as bp
import backprop.optim as optim


# 1. The two surfaces, written with backprop ops so that backward() gives their gradients.
def ravine(w):
    """An elongated quadratic: 100 times more curved across the valley (y) than along it (x)."""
    x, y = w[0], w[1]
    return 0.01 * x**2 + y**2


def rosenbrock(w):
    """Rosenbrock's banana-shaped valley, minimum 0 at (1, 1)."""
    x, y = w[0], w[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


# 2. The contenders. The SGD family shares one learning rate per surface, so that the only
# difference is the momentum (0.9): across the ravine (curvature 2) plain SGD settles at once, along
# it (curvature 0.02) it crawls; momentum builds up speed along the valley but overshoots across it;
# Nesterov's look-ahead gradient damps that overshoot. RMSprop and Adam take steps of about lr in
# each coordinate whatever the gradient's scale, so their rates are on another scale: values that
# reach the minimum's neighbourhood within the budget.
LEARNING_RATES = {  # surface: (SGD family, RMSprop, Adam)
    "ravine": (0.4, 0.1, 0.2),
    "rosenbrock": (8e-4, 0.01, 0.03),
}


def contenders(surface: str):
    sgd_lr, rms_lr, adam_lr = LEARNING_RATES[surface]
    return [
        ("SGD", "tab:blue", lambda p: optim.SGD(p, lr=sgd_lr)),
        ("SGD + momentum 0.9", "tab:orange", lambda p: optim.SGD(p, lr=sgd_lr, momentum=0.9)),
        (
            "Nesterov 0.9",
            "tab:green",
            lambda p: optim.SGD(p, lr=sgd_lr, momentum=0.9, nesterov=True),
        ),
        ("RMSprop", "tab:red", lambda p: optim.RMSprop(p, lr=rms_lr)),
        ("Adam", "tab:purple", lambda p: optim.Adam(p, lr=adam_lr)),
    ]


def descend(make_optimizer, loss_fn, start, steps: int) -> np.ndarray:
    """The points visited: start, then one per step. Shape: (steps + 1, 2)."""
    w = bp.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = make_optimizer([w])
    path = [w.data.copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(w).backward()
        opt.step()
        path.append(w.data.copy())
    return np.array(path)


SURFACES = [
    # name, function, start, steps, x range, y range, contour levels
    ("ravine", ravine, (-9.0, 2.5), 60, (-10, 3), (-3, 3), np.linspace(0.2, 3.2, 14) ** 2),
    ("rosenbrock", rosenbrock, (-1.5, 2.2), 300, (-2, 2), (-1, 3), np.logspace(-1, 3.3, 18)),
]
TITLES = {
    "ravine": "Ravine  f = 0.01 x² + y²",
    "rosenbrock": "Rosenbrock  f = (1 - x)² + 100 (y - x²)²",
}
MINIMA = {"ravine": (0.0, 0.0), "rosenbrock": (1.0, 1.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description="Draw optimiser paths on two loss surfaces.")
    parser.add_argument(
        "output", nargs="?", default="examples/output/optimizer_paths.png", help="PNG to write"
    )
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")  # headless: write a file, open no window
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(15, 6.2))
    for ax, (name, fn, start, steps, xr, yr, levels) in zip(axes, SURFACES):
        # 3. Contour lines of the loss, evaluated on a grid with plain NumPy (same formulas).
        xs, ys = np.meshgrid(np.linspace(*xr, 400), np.linspace(*yr, 400))
        zs = fn(np.stack([xs, ys]))
        ax.contour(xs, ys, zs, levels=levels, colors="0.6", linewidths=0.7)
        for rank, (label, color, make) in enumerate(contenders(name)):
            path = descend(make, fn, start, steps)
            final = float(fn(bp.tensor(path[-1])).item())
            # The paths share the valley floor: the later ones (the adaptive methods) go underneath,
            # dashed, so that the SGD family stays visible on top of them.
            style = "-o" if rank < 3 else "--o"
            ax.plot(path[:, 0], path[:, 1], style, color=color, lw=1.5, ms=2.5, alpha=0.85,
                    zorder=3 - 0.1 * rank, label=f"{label}  (final loss {final:.2g})")  # fmt: skip
            # Where each one ended, drawn on top so that short paths are not hidden by long ones.
            ax.plot(*path[-1], "X", color=color, ms=11, mec="white", mew=1.2, zorder=5)
        ax.plot(*start, "ks", ms=8, label="start", zorder=6)
        ax.plot(*MINIMA[name], "k*", ms=14, label="minimum", zorder=6)
        ax.plot([], [], "X", color="0.3", ms=9, ls="none", label="end of a path")
        ax.set(xlim=xr, ylim=yr, xlabel="x", ylabel="y")
        ax.set_title(f"{TITLES[name]}: {steps} steps each", fontsize=12)
        ax.legend(loc="lower right" if name == "ravine" else "lower left", fontsize=9)
        ax.set_aspect("equal" if name == "rosenbrock" else "auto")
    fig.suptitle("Optimiser paths from the same start with the same step budget", fontsize=14)
    fig.tight_layout()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
