"""What LeNet-5's first layer learns: its 20 filters (5x5) as an image grid, next to the 20
feature maps they produce for one test digit (the lectures' "AlexNet's filters", on MNIST).

Trains the lectures' LeNet-5 briefly on the MNIST subset in ../shared/data/mnist (Adam, batch
64), reports the test accuracy, and draws the filters before and after training, and the
difference: a short training moves each weight only a little, so the raw filters still carry
their random start, while the change itself shows smooth stroke and edge detectors.

    python examples/lenet_filters.py [--epochs 2] [--out examples/output]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import backprop
from backprop import nn, optim
from backprop.data import MNIST, DataLoader, Subset
from backprop.data import transforms as T
from backprop.models import LeNet5
from backprop.viz import filter_grid, plot_filters

HERE = Path(__file__).resolve().parent
OUT = HERE / "output"
MNIST_ROOT = HERE.parent.parent / "shared" / "data" / "mnist"


def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = total = 0
    with backprop.no_grad():
        for x, y in loader:
            correct += int((model(x).data.argmax(1) == y.data).sum())
            total += len(y)
    model.train()
    return correct / total


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2, help="training epochs")
    parser.add_argument("--limit", type=int, default=0, help="use only this many training images")
    parser.add_argument("--test-limit", type=int, default=0, help="score on this many test images")
    parser.add_argument("--root", type=Path, default=MNIST_ROOT, help="the MNIST folder")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    args = parser.parse_args(argv)
    if not (args.root / "t10k-images-idx3-ubyte.gz").exists():
        raise SystemExit(f"MNIST not found at {args.root} (pass --root)")

    backprop.manual_seed(0)
    norm = T.Normalize([0.1307], [0.3081])
    train = MNIST(args.root, train=True, transform=norm)
    test = MNIST(args.root, train=False, transform=norm)
    if args.limit:
        train = Subset(train, range(args.limit))
    if args.test_limit:
        test = Subset(test, range(args.test_limit))
    train_loader = DataLoader(train, batch_size=64, shuffle=True)
    test_loader = DataLoader(test, batch_size=500)

    model = LeNet5()
    before = model.features.conv1.weight.data.copy()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    print(f"LeNet-5 on {len(train)} MNIST training images, {args.epochs} epoch(s)")
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        for x, y in train_loader:
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        acc = evaluate(model, test_loader)
        print(f"epoch {epoch}: test accuracy {acc:.2%} ({time.perf_counter() - start:.0f} s)")

    # The 20 feature maps of conv1 (after ReLU) for the first test digit.
    image, label = test[0]
    model.eval()
    with backprop.no_grad():
        maps = model.features.relu1(model.features.conv1(backprop.tensor(image[None]))).data
    weights = model.features.conv1.weight.data
    print(f"conv1 weights {tuple(weights.shape)}: mean |w| {np.abs(before).mean():.3f} at init, "
          f"{np.abs(weights).mean():.3f} trained")  # fmt: skip

    from matplotlib.figure import Figure

    fig = Figure(figsize=(16, 4), layout="constrained")
    axes = fig.subplots(1, 5, width_ratios=[1, 1, 1, 0.55, 1.25])
    plot_filters(before, ax=axes[0], ncols=5, title="conv1 filters at initialisation")
    plot_filters(weights, ax=axes[1], ncols=5, title=f"after {args.epochs} epoch(s)\n"
                 f"(test accuracy {acc:.2%})")  # fmt: skip
    # A short training moves each weight a little: the raw filters still look like their random
    # start. The change itself is what the gradient wrote: smooth oriented edge and blob
    # detectors.
    plot_filters(weights - before, ax=axes[2], ncols=5, title="what training changed\n"
                 "(trained - initial)")  # fmt: skip
    axes[3].imshow(image[0], cmap="gray")
    axes[3].set_title(f"a test digit ({label})")
    axes[3].set_axis_off()
    axes[4].imshow(filter_grid(maps.transpose(1, 0, 2, 3), ncols=5), cmap="magma")
    axes[4].set_title("its 20 feature maps (conv1 + ReLU)")
    axes[4].set_axis_off()
    fig.suptitle("LeNet-5's first layer: 20 learned 5x5 filters (white = positive weight)")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "lenet_filters.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")
    return {"test_accuracy": acc}


if __name__ == "__main__":
    main()
