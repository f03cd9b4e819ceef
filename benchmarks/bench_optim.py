"""Issue 4's benchmark: one optimiser step on about a million float32 parameters.

The parameters are those of a 784-512-256-10 MLP plus a 256x192x3x3 convolution with its bias
(978,442 in all), with fixed gradients; two more rows time a small 784-100-10 MLP. PyTorch runs its
single-tensor path (``foreach=False``), both libraries on the same number of threads; repeats
alternate the libraries and medians are reported.

python benchmarks/bench_optim.py [--threads N]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from harness import machine, report, time_pair  # noqa: E402

import backprop as bp  # noqa: E402
import backprop.optim as optim  # noqa: E402
from backprop.optim import _runner  # noqa: E402

SHAPES = [(512, 784), (512,), (256, 512), (256,), (10, 256), (10,), (256, 192, 3, 3), (256,)]
# A small model too, where the per-parameter Python overhead matters more than memory bandwidth.
SMALL_SHAPES = [(100, 784), (100,), (10, 100), (10,)]

# (row label, optimiser name, keyword arguments); the first two are the target.
WORKLOADS = [
    ("SGD momentum=0.9", "SGD", {"lr": 0.01, "momentum": 0.9}),
    ("Adam", "Adam", {"lr": 1e-3}),
    ("SGD", "SGD", {"lr": 0.01}),
    ("SGD nesterov + weight_decay", "SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True,
                                            "weight_decay": 1e-4}),
    ("AdamW", "AdamW", {"lr": 1e-3}),
    ("Adam amsgrad", "Adam", {"lr": 1e-3, "amsgrad": True}),
    ("RMSprop", "RMSprop", {"lr": 1e-3}),
    ("Adagrad", "Adagrad", {"lr": 1e-2}),
    ("Adadelta", "Adadelta", {}),
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="threads for both libraries")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    _runner._set_num_threads(args.threads)

    rows = []
    for shapes, workloads in ((SHAPES, WORKLOADS), (SMALL_SHAPES, WORKLOADS[:2])):
        rng = np.random.default_rng(0)
        weights = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in shapes]
        grads = [(rng.standard_normal(s) * 0.01).astype(np.float32) for s in shapes]
        n = sum(w.size for w in weights)
        for label, name, kwargs in workloads:
            bps = [bp.tensor(w, requires_grad=True) for w in weights]
            tps = [torch.tensor(w, requires_grad=True) for w in weights]
            for p, t, g in zip(bps, tps, grads):
                p.grad = bp.tensor(g)
                t.grad = torch.tensor(g)
            ours = getattr(optim, name)(bps, **kwargs)
            theirs = getattr(torch.optim, name)(tps, foreach=False, **kwargs)
            b, t = time_pair(ours.step, theirs.step, repeats=args.repeats, warmup=5, inner=10)
            rows.append((f"{label}, {n:,} f32 params ({len(shapes)} tensors)", b, t))

    title = (
        f"Optimiser step, backprop vs torch.optim (foreach=False), {args.threads} thread(s) each "
        f"({machine()})"
    )
    print(report(rows, title))


if __name__ == "__main__":
    main()
