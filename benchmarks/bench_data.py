"""Data-pipeline timings: IDX decoding and DataLoader epochs, side by side with PyTorch.

    .venv/bin/python benchmarks/bench_data.py [--repeat 5] [--no-torch]

Needs the real MNIST files in ../shared/data/mnist (or --mnist DIR). Reports, best of --repeat:

1. decoding the MNIST train file (gunzip + IDX parse) and scaling it to float32 [0, 1]: the
   20,000-image shared file, and a 60,000-image file made by tiling it (the size of the official
   training set; built once, in a temporary folder);
2. one DataLoader epoch over 20,000 MNIST images at batch 64, shuffled: whole-batch fetching (the
   default), item-by-item collation, with RandomShift / RandomAffine augmentation; and
   torch.utils.data.DataLoader over a TensorDataset of the same float32 images;
3. for scale, one PyTorch LeNet-5 training epoch on the same data (CPU, one thread). A backprop
   LeNet-5 epoch is slower than PyTorch's, so the loader's share of a backprop epoch is at most
   the share shown.

The PyTorch timings run in a child process of their own that never imports backprop (two
libraries in one process compete for the cores through their worker threads).
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def decode(path: Path) -> np.ndarray:
    from backprop.data import read_idx

    return np.divide(read_idx(path), np.float32(255), dtype=np.float32)


def epoch(loader) -> int:
    n = 0
    for _, y in loader:
        n += len(y)
    return n


def torch_lenet_epoch(images: np.ndarray, labels: np.ndarray) -> float:
    import torch
    from torch import nn

    # One thread: on a small shared machine, oversubscribed intra-op threads make this vary 10x.
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10),
    )  # fmt: skip
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    t = time.perf_counter()
    for start in range(0, len(x), 64):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[start : start + 64]), y[start : start + 64])
        loss.backward()
        opt.step()
    return time.perf_counter() - t


def _idx(path: Path, offset: int) -> np.ndarray:
    """The uint8 payload of a gzipped IDX file after its ``offset``-byte header (the child reads
    the files itself, without backprop's reader)."""
    return np.frombuffer(gzip.decompress(path.read_bytes())[offset:], np.uint8)


def torch_child(mnist: Path, repeat: int) -> None:
    """The PyTorch timings, printed as JSON: run as a process of its own by ``main``."""
    import torch
    from torch.utils.data import DataLoader as TorchLoader
    from torch.utils.data import TensorDataset as TorchTensorDataset

    labels = _idx(mnist / "train-labels-idx1-ubyte.gz", 8).astype(np.int64)
    pixels = _idx(mnist / "train-images-idx3-ubyte.gz", 16).reshape(len(labels), 1, 28, 28)
    images = np.divide(pixels, np.float32(255), dtype=np.float32)
    tds = TorchTensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
    torch.manual_seed(0)
    tl = TorchLoader(tds, batch_size=64, shuffle=True)
    loader = best_of(lambda: epoch(tl), repeat)
    lenet = min(torch_lenet_epoch(images, labels) for _ in range(2))
    print(json.dumps({"loader": loader, "lenet": lenet}))


def main() -> None:
    if "--torch-child" in sys.argv:
        ap = argparse.ArgumentParser()
        ap.add_argument("--torch-child", action="store_true")
        ap.add_argument("--mnist", type=Path)
        ap.add_argument("--repeat", type=int)
        a = ap.parse_args()
        return torch_child(a.mnist, a.repeat)
    import backprop
    from backprop.data import MNIST, DataLoader, default_collate, read_idx
    from backprop.data import transforms as T

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparisons")
    args = ap.parse_args()
    images_gz = args.mnist / "train-images-idx3-ubyte.gz"
    if not images_gz.is_file():
        sys.exit(f"bench_data: {images_gz} not found (pass --mnist DIR)")
    r = args.repeat
    rows: list[tuple[str, float, str]] = []

    # 1. decoding
    n20 = len(read_idx(images_gz))
    rows.append((f"read_idx, {n20:,} images (uint8)", best_of(lambda: read_idx(images_gz), r), ""))
    rows.append((f"read_idx + to float32, {n20:,}", best_of(lambda: decode(images_gz), r), ""))
    with tempfile.TemporaryDirectory() as tmp:
        raw = gzip.decompress(images_gz.read_bytes())
        pixels = raw[16:]
        reps = -(-60_000 // n20)
        body = (pixels * reps)[: 60_000 * 784]
        header = b"\x00\x00\x08\x03" + np.array([60_000, 28, 28], ">u4").tobytes()
        big = Path(tmp) / "train-60k-images-idx3-ubyte.gz"
        big.write_bytes(gzip.compress(header + body, compresslevel=6))
        rows.append(("read_idx, 60,000 images (uint8)", best_of(lambda: read_idx(big), r), ""))
        rows.append(("read_idx + to float32, 60,000", best_of(lambda: decode(big), r), ""))

    # 2. loader epochs
    train = MNIST(args.mnist, train=True)
    n = len(train)
    backprop.manual_seed(0)
    fast = DataLoader(train, batch_size=64, shuffle=True)
    t_fast = best_of(lambda: epoch(fast), r)
    rows.append((f"DataLoader epoch, {n:,} images, batch 64", t_fast, "whole-batch fetch"))
    slow = DataLoader(train, batch_size=64, shuffle=True, collate_fn=default_collate)
    rows.append(("  same, item-by-item collate", best_of(lambda: epoch(slow), r), ""))
    shifted = MNIST(args.mnist, train=True, transform=T.RandomShift(2))
    rows.append(
        (
            "  same, + RandomShift(2)",
            best_of(lambda: epoch(DataLoader(shifted, 64, shuffle=True)), r),
            "",
        )
    )
    affine = MNIST(args.mnist, train=True, transform=T.RandomAffine(10, (0.1, 0.1), (0.9, 1.1)))
    rows.append(
        (
            "  same, + RandomAffine(10, 0.1, 0.9-1.1)",
            best_of(lambda: epoch(DataLoader(affine, 64, shuffle=True)), min(r, 2)),
            "",
        )
    )
    t_torch = t_lenet = None
    if not args.no_torch:
        child = [sys.executable, __file__, "--torch-child", "--mnist", str(args.mnist),
                 "--repeat", str(r)]  # fmt: skip
        got = json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout)
        t_torch, t_lenet = got["loader"], got["lenet"]
        rows.append(("torch DataLoader(TensorDataset), batch 64", t_torch, "own process"))
        rows.append((f"torch LeNet-5 training epoch, {n:,} images (CPU)", t_lenet, "own process"))

    width = max(len(name) for name, _, _ in rows)
    print(f"{'benchmark':<{width}}  {'seconds':>9}")
    for name, secs, note in rows:
        print(f"{name:<{width}}  {secs:9.4f}  {note}")
    if t_torch is not None:
        print(f"\nbackprop / torch loader epoch time: {t_fast / t_torch:.3f}")
        print(f"loader epoch / torch LeNet-5 epoch: {100 * t_fast / t_lenet:.2f}%")


if __name__ == "__main__":
    main()
