"""Vanishing gradients, made visible: a deep sigmoid MLP against a ReLU/He-initialised one, and a
bad initialisation against Glorot's.

Part 1. Ten hidden layers of 64 units on the 8x8 digits. With sigmoids (PyTorch's default
initialisation) every layer multiplies the gradient flowing back by ``sigmoid'(a) <= 1/4`` times
a weight matrix of norm below 1: the first layer's gradient is orders of magnitude smaller than
the last one's, and the network barely learns. ReLU (derivative 1 where active) with He's
initialisation (variance 2 / fan_in, which keeps the activations' scale from layer to layer)
passes the gradient back at about the same size, and trains.

Part 2. The same depth with tanh: weights drawn from N(0, 0.01^2) shrink the activations (and so
the gradients) by ~0.08 per layer, until nothing is left; N(0, 1) saturates the units (tanh' ~ 0
for most of them) while the weights (norm ~8 per layer) blow the gradient up towards the input:
neither trains. Glorot's uniform init (variance 2 / (fan_in + fan_out)) keeps activations and
gradients at the same scale in every layer.

Prints the per-layer gradient norms at initialisation and the accuracy after training, and writes
``vanishing_gradients.png``.

    python examples/vanishing_gradients.py [--epochs 15] [--out examples/output]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import backprop as bp
from backprop import nn
from backprop.data import Digits

OUT = Path(__file__).resolve().parent / "output"
DEPTH, WIDTH = 10, 64


def digits() -> tuple[bp.Tensor, bp.Tensor, bp.Tensor, bp.Tensor]:
    """The 8x8 digits, flattened to 64 features in [0, 1]: train and test tensors."""
    out = []
    for train in (True, False):
        ds = Digits(train=train)
        x = (ds.data.reshape(len(ds), -1) / np.float32(16)).astype(np.float32)
        out += [bp.tensor(x), bp.tensor(ds.targets)]
    return tuple(out)


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


def layer_grad_norms(net: nn.Sequential, x, y) -> list[float]:
    """The norm of each Linear weight's gradient for one batch (first layer first)."""
    net.zero_grad()
    nn.functional.cross_entropy(net(x), y).backward()
    return [float(m.weight.grad.norm()) for m in net if isinstance(m, nn.Linear)]


def train(net, xtr, ytr, xte, yte, epochs: int, lr: float) -> tuple[list[float], float]:
    """Plain mini-batch SGD with momentum; returns the loss per epoch and the test accuracy."""
    opt = bp.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    losses = []
    n = len(xtr)
    for _ in range(epochs):
        order = bp.randperm(n).numpy()
        total = 0.0
        for i in range(0, n, 32):
            idx = bp.tensor(order[i : i + 32])
            loss = nn.functional.cross_entropy(net(xtr[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        losses.append(total / n)
    with bp.no_grad():
        acc = float((net(xte).argmax(dim=1) == yte).float().mean())
    return losses, acc


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

    xtr, ytr, xte, yte = digits()
    results: dict = {}
    fig = Figure(figsize=(12, 8), layout="constrained")
    axes = fig.subplots(2, 2)
    for row, (part, configs) in enumerate(CONFIGS.items()):
        print(f"\n{part}: gradient norm per layer at initialisation (layer 1 ... {DEPTH + 1})")
        for name, act, init, lr in configs:
            bp.manual_seed(0)
            net = deep_mlp(act, init)
            norms = layer_grad_norms(net, xtr[:256], ytr[:256])
            losses, acc = train(net, xtr, ytr, xte, yte, args.epochs, lr)
            results[name] = {"grad_norms": norms, "losses": losses, "accuracy": acc}
            ratio = norms[0] / norms[-1]
            print(f"  {name:<22} first/last {ratio:9.2e}  " + " ".join(f"{g:.1e}" for g in norms))
            print(f"  {'':<22} test accuracy after {args.epochs} epochs: {acc:.1%}")
            layers = np.arange(1, len(norms) + 1)
            axes[row, 0].semilogy(layers, norms, "o-", label=name)
            axes[row, 1].plot(np.arange(1, len(losses) + 1), losses, label=f"{name} ({acc:.0%})")
        axes[row, 0].set(xlabel="layer (input side first)", ylabel="|dL/dW| at init")
        axes[row, 0].set_title("gradient norm per layer: " + ("depth" if row == 0 else "init"))
        axes[row, 1].set(xlabel="epoch", ylabel="training loss", title="training (test accuracy)")
        for ax in axes[row]:
            ax.legend(fontsize=8, frameon=False)
    fig.suptitle(f"A {DEPTH}-hidden-layer MLP on the 8x8 digits")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "vanishing_gradients.png"
    fig.savefig(path, dpi=110)
    print(f"\nwrote {path}")
    return results


if __name__ == "__main__":
    main()
