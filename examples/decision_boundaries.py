"""Decision boundaries on the 2-D toy sets: "linear activations produce linear decisions
irrespective of the network size; non-linear activations approximate complex decision
boundaries" (the lectures).

Three models per data set, each trained the same way (Adam, full batch):

- a linear model (one ``Linear`` layer: logistic regression);
- a deep, wide MLP 2-64-64-C with *linear* activations: a product of matrices is a matrix, so it
  is the same linear model with more parameters;
- the same MLP with ReLU.

    python examples/decision_boundaries.py [--out examples/output] [--steps 400]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import backprop
from backprop import nn, optim
from backprop.data import make_circles, make_moons, make_spirals, make_xor
from backprop.models import MLP
from backprop.viz import plot_decision_boundary

OUT = Path(__file__).resolve().parent / "output"
DATASETS = {
    "moons": lambda n, seed: make_moons(n, noise=0.15, seed=seed),
    "circles": lambda n, seed: make_circles(n, noise=0.08, seed=seed),
    "xor": lambda n, seed: make_xor(n, noise=0.05, seed=seed),
    "spirals": lambda n, seed: make_spirals(n, noise=0.05, seed=seed),
}
MODELS = {
    "linear model": lambda c: nn.Linear(2, c),
    "MLP 2-64-64, linear activations": lambda c: MLP([2, 64, 64, c], activation="linear"),
    "MLP 2-64-64, ReLU": lambda c: MLP([2, 64, 64, c], activation="relu"),
}


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, steps: int) -> None:
    opt = optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    xt, yt = backprop.tensor(x), backprop.tensor(y)
    for _ in range(steps):
        loss = loss_fn(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with backprop.no_grad():
        return float((model(backprop.tensor(x)).data.argmax(1) == y).mean())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    parser.add_argument("--steps", type=int, default=400, help="full-batch Adam steps")
    parser.add_argument("--n", type=int, default=600, help="training points per data set")
    args = parser.parse_args(argv)
    from matplotlib.figure import Figure

    backprop.manual_seed(0)
    fig = Figure(figsize=(11, 14), layout="constrained")
    axes = fig.subplots(len(DATASETS), len(MODELS))
    print(f"test accuracy ({args.steps} Adam steps on {args.n} points; test on 1000 new ones)")
    print(f"{'data':<9}" + "".join(f"{m:>34}" for m in MODELS))
    for row, (dname, make) in zip(axes, DATASETS.items()):
        x, y = make(args.n, 0)
        xt, yt = make(1000, 1)
        classes = int(y.max()) + 1
        accs = []
        for ax, (mname, build) in zip(row, MODELS.items()):
            model = build(classes)
            train(model, x, y, args.steps)
            acc = accuracy(model, xt, yt)
            accs.append(acc)
            plot_decision_boundary(
                model, x, y, ax=ax, title=f"{dname}: {mname}\ntest acc {acc:.1%}"
            )
        print(f"{dname:<9}" + "".join(f"{a:>34.1%}" for a in accs))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "decision_boundaries.png"
    fig.savefig(path, dpi=90)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
