"""Vanishing gradients, made visible: a deep sigmoid MLP against a ReLU/He-initialised one, and a
bad initialisation against Glorot's.

Part 1. Ten hidden layers of 64 units on the 8x8 digits. With sigmoids (PyTorch's default
initialisation) every layer multiplies the gradient flowing back by ``sigmoid'(a) <= 1/4`` times
a weight matrix of norm below 1: the first layer's gradient is orders of magnitude smaller than
the last one's, and the network barely learns. ReLU (derivative 1 where active) with He's
initialisation (variance 2 / fan_in, which keeps the activations' scale from layer to layer)
passes the gradient back at about the same size, and trains (a few percent of its ReLUs are dead:
zero for every example of a batch, so no gradient reaches their weights).

Part 2. The same depth with tanh: weights drawn from N(0, 0.01^2) shrink the activations (and so
the gradients) by ~0.08 per layer, until nothing is left; N(0, 1) saturates the units (tanh' ~ 0
for most of them) while the weights (norm ~8 per layer) blow the gradient up towards the input:
neither trains. Glorot's uniform init (variance 2 / (fan_in + fan_out)) keeps activations and
gradients at the same scale in every layer.

Each network is trained by the Trainer with a :class:`~backprop.train.GradientStats` callback,
which logs every layer's gradient norm (weights and bias together), mean |gradient| and, for the
ReLU network, the fraction of dead ReLUs, averaged over each epoch's batches, into the History.
Prints the per-layer gradient norms of the first epoch and the test accuracy after training, and
writes ``vanishing_gradients.png`` (per part: the norm per layer in the first epoch, the norm per
layer over the epochs of the network that fails, the training loss).

    python examples/vanishing_gradients.py [--epochs 15] [--out examples/output]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import backprop as bp
from backprop import nn
from backprop.data import DataLoader, Digits, TensorDataset
from backprop.train import GradientStats, Trainer
from backprop.viz import plot_gradient_stats

OUT = Path(__file__).resolve().parent / "output"
DEPTH, WIDTH = 10, 64


def digits() -> tuple[DataLoader, DataLoader]:
    """The 8x8 digits, flattened to 64 features in [0, 1]: shuffled training batches of 32 and
    the test set."""
    loaders = []
    for train in (True, False):
        ds = Digits(train=train)
        x = (ds.data.reshape(len(ds), -1) / np.float32(16)).astype(np.float32)
        loaders.append(DataLoader(TensorDataset(x, ds.targets), batch_size=32, shuffle=train))
    return loaders[0], loaders[1]


def deep_mlp(activation: type, init=None) -> nn.Sequential:
    """``DEPTH`` hidden layers of ``WIDTH`` units; ``init(weight)`` re-initialises each Linear."""
    layers: list[nn.Module] = []
    fan_in = 64
    for _ in range(DEPTH):
        layers += [nn.Linear(fan_in, WIDTH), activation()]
        fan_in = WIDTH
    layers.append(nn.Linear(fan_in, 10))
    net = nn.Sequential(*layers)
    if init is not None:
        for m in net:
            if isinstance(m, nn.Linear):
                init(m.weight)
                nn.init.zeros_(m.bias)
    return net


def train(net, train_data, test_data, epochs: int, lr: float):
    """Mini-batch SGD with momentum, gradient statistics logged per epoch; returns the History,
    the layer names (input side first) and the test accuracy."""
    stats = GradientStats()
    opt = bp.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    trainer = Trainer(net, nn.CrossEntropyLoss(), opt, metrics=["accuracy"], callbacks=[stats],
                      verbose=0)  # fmt: skip
    history = trainer.fit(train_data, epochs=epochs)
    return history, stats.layers, trainer.evaluate(test_data)["accuracy"]


def gaussian(std: float):
    return lambda w: nn.init.normal_(w, 0.0, std)


CONFIGS = {
    "depth": [
        ("sigmoid, default init", nn.Sigmoid, None, 0.05),
        ("ReLU, He init", nn.ReLU, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), 0.01),
    ],
    "init": [
        ("tanh, N(0, 0.01²)", nn.Tanh, gaussian(0.01), 0.05),
        ("tanh, N(0, 1)", nn.Tanh, gaussian(1.0), 0.05),
        ("tanh, Glorot uniform", nn.Tanh, nn.init.xavier_uniform_, 0.05),
    ],
}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    args = parser.parse_args(argv)
    from matplotlib.figure import Figure

    train_data, test_data = digits()
    results: dict = {}
    fig = Figure(figsize=(16, 8), layout="constrained")
    axes = fig.subplots(2, 3)
    for row, (part, configs) in enumerate(CONFIGS.items()):
        print(f"\n{part}: gradient norm per layer, first epoch (layer 1 ... {DEPTH + 1})")
        for k, (name, act, init, lr) in enumerate(configs):
            bp.manual_seed(0)
            net = deep_mlp(act, init)
            history, layers, acc = train(net, train_data, test_data, args.epochs, lr)
            h = history.history
            norms = [h[f"grad_norm/{layer}"][0] for layer in layers]
            dead = [v[-1] for key, v in h.items() if key.startswith("dead_relu/")]
            results[name] = {"grad_norms": norms, "losses": h["loss"], "accuracy": acc,
                             "grad_norms_last": [h[f"grad_norm/{la}"][-1] for la in layers],
                             "dead_relu": dead}  # fmt: skip
            ratio = norms[0] / norms[-1]
            print(f"  {name:<22} first/last {ratio:9.2e}  " + " ".join(f"{g:.1e}" for g in norms))
            line = f"  {'':<22} test accuracy after {args.epochs} epochs: {acc:.1%}"
            if dead:
                line += f"; dead ReLUs in the last epoch: {np.mean(dead):.1%} on average"
            print(line)
            axes[row, 0].semilogy(np.arange(1, len(norms) + 1), norms, "o-", label=name)
            axes[row, 2].plot(
                np.arange(1, len(h["loss"]) + 1), h["loss"], label=f"{name} ({acc:.0%})"
            )
            if k == 0:  # the network that fails: every layer's gradient over the epochs
                plot_gradient_stats(history, ax=axes[row, 1], title=f"{name}: per layer, per epoch")
        axes[row, 0].set(xlabel="layer (input side first)", ylabel="gradient norm, first epoch")
        axes[row, 0].set_title("gradient norm per layer: " + ("depth" if row == 0 else "init"))
        axes[row, 2].set(xlabel="epoch", ylabel="training loss", title="training (test accuracy)")
        for ax in axes[row, ::2]:
            ax.legend(fontsize=8, frameon=False)
    fig.suptitle(f"A {DEPTH}-hidden-layer MLP on the 8x8 digits (gradients from GradientStats)")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "vanishing_gradients.png"
    fig.savefig(path, dpi=110)
    print(f"\nwrote {path}")
    return results


if __name__ == "__main__":
    main()
