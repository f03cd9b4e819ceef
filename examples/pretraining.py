"""Greedy layer-wise pre-training vs a random initialisation, with few labels (the lectures'
"unsupervised pre-training, then fine-tuning"; Bengio et al. 2007, Erhan et al. 2010).

A deep sigmoid MLP 784-500-500-500-10 is trained on a small labelled subset of MNIST (1,000
images, 100 per class) twice, identically, except for where it starts:

- random: the default initialisation;
- pre-trained: first each hidden layer in turn is trained, without labels, as a tied (denoising)
  autoencoder of the layer below, on all 20,000 training images (labels unused), then the whole
  network is fine-tuned on the 1,000 labels.

Both are scored on the official 10,000 test images after every fine-tuning epoch.

    python examples/pretraining.py [--labels 1000] [--epochs 30] [--out examples/output]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import backprop
from backprop.data import MNIST, stratified_indices
from backprop.models import MLP, finetune, pretrain_layerwise

HERE = Path(__file__).resolve().parent
OUT = HERE / "output"
MNIST_ROOT = HERE.parent.parent / "shared" / "data" / "mnist"
SIZES = [784, 500, 500, 500, 10]


def accuracy(model: MLP, x: np.ndarray, y: np.ndarray) -> float:
    model.eval()
    with backprop.no_grad():
        pred = np.concatenate(
            [model(backprop.tensor(x[i : i + 2000])).data.argmax(1) for i in range(0, len(x), 2000)]
        )
    return float((pred == y).mean())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, default=1000, help="labelled training images")
    parser.add_argument(
        "--unlabelled", type=int, default=0, help="images for pre-training (0: all)"
    )
    parser.add_argument("--pretrain-epochs", type=int, default=3, help="epochs per layer")
    parser.add_argument("--epochs", type=int, default=30, help="fine-tuning epochs")
    parser.add_argument("--root", type=Path, default=MNIST_ROOT, help="the MNIST folder")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    args = parser.parse_args(argv)
    if not (args.root / "t10k-images-idx3-ubyte.gz").exists():
        raise SystemExit(f"MNIST not found at {args.root} (pass --root)")

    backprop.manual_seed(0)
    train, test = MNIST(args.root, train=True), MNIST(args.root, train=False)
    x_all = train.data.reshape(len(train), -1).astype(np.float32) / 255.0
    y_all = np.asarray(train.targets)
    x_test = test.data.reshape(len(test), -1).astype(np.float32) / 255.0
    y_test = np.asarray(test.targets)
    labelled, _ = stratified_indices(
        y_all, [args.labels, len(y_all) - args.labels], np.random.default_rng(0)
    )
    x_lab, y_lab = x_all[labelled], y_all[labelled]
    x_unlab = x_all[: args.unlabelled] if args.unlabelled else x_all
    print(f"{len(x_lab)} labelled images, {len(x_unlab)} unlabelled for pre-training, "
          f"{len(x_test)} test images; network {'-'.join(map(str, SIZES))}, sigmoid")  # fmt: skip

    curves = {}
    for name in ("random init", "pre-trained"):
        backprop.manual_seed(1)  # the same initial weights for both before pre-training
        model = MLP(SIZES, activation="sigmoid")
        start = time.perf_counter()
        if name == "pre-trained":
            hist = pretrain_layerwise(
                model, x_unlab, epochs=args.pretrain_epochs, lr=1e-3, batch_size=64,
                corruption=0.2,
            )  # fmt: skip
            for k, losses in enumerate(hist.layer_losses):
                print(f"  pre-training layer {k + 1}: reconstruction loss "
                      f"{losses[0]:.4f} -> {losses[-1]:.4f}")  # fmt: skip
            print(f"  pre-training took {time.perf_counter() - start:.0f} s")
        curve: list[float] = []

        def score(epoch: int, loss: float, model=model, curve=curve) -> None:
            curve.append(accuracy(model, x_test, y_test))

        finetune(model, x_lab, y_lab, epochs=args.epochs, lr=1e-3, batch_size=32,
                 on_epoch_end=score)  # fmt: skip
        curves[name] = curve
        print(f"{name:>12}: test accuracy {curve[-1]:.2%} after {args.epochs} fine-tuning "
              f"epochs (best {max(curve):.2%}); {time.perf_counter() - start:.0f} s")  # fmt: skip

    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.2), layout="constrained")
    ax = fig.subplots()
    for name, curve in curves.items():
        ax.plot(range(1, len(curve) + 1), curve, "o-", ms=3, label=f"{name} ({curve[-1]:.1%})")
    ax.set_xlabel("supervised (fine-tuning) epoch")
    ax.set_ylabel("test accuracy (10,000 images)")
    ax.set_title(f"deep sigmoid MLP, {len(x_lab)} labels: layer-wise pre-training vs random init",
                 fontsize=10)  # fmt: skip
    ax.legend(loc="lower right")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "pretraining.png"
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")
    return {name: curve[-1] for name, curve in curves.items()}


if __name__ == "__main__":
    main()
