"""The lectures' worked numbers, computed by ``backprop.summary``: output shapes, parameter counts
and multiply-adds of a convolution, the 3-4-2 network, LeNet-5, AlexNet, VGG-16 and ResNet-18.

    python examples/model_summaries.py [--skip-large]
"""

from __future__ import annotations

import argparse

import backprop
from backprop import models, nn


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-large", action="store_true", help="skip VGG-16 (138 M parameters, ~3 s to build)"
    )
    args = parser.parse_args(argv)

    print("1. Convolution example: 3x32x32 input, 10 filters 5x5, stride 1, pad 2")
    print("   output (32 + 2*2 - 5)/1 + 1 = 32 -> 10x32x32; 10 * (3*5*5 + 1) = 760 parameters;")
    print("   10*32*32 outputs x 75 multiply-adds each = 768,000\n")
    print(backprop.summary(nn.Conv2d(3, 10, kernel_size=5, stride=1, padding=2), (3, 32, 32)))

    print("\n2. The 3-4-2 network: (3x4) + (4x2) = 20 weights, 20 + 4 + 2 = 26 parameters\n")
    print(backprop.summary(models.MLP([3, 4, 2]), (3,)))

    print("\n3. LeNet-5 (the lectures' table)\n")
    print(backprop.summary(models.LeNet5(), (1, 28, 28)))

    print("\n4. AlexNet: 227x227x3 -> 55x55x96 -> ... -> 6x6x256 -> 4096 -> 4096 -> 1000\n")
    print(backprop.summary(models.AlexNet(), (3, 227, 227)))

    if not args.skip_large:
        s = backprop.summary(models.VGG16(), (3, 224, 224), depth=1)
        print(f"\n5. VGG-16: {s.total_params:,} parameters, {s.total_macs:,} multiply-adds\n")
        print(s)
    s = backprop.summary(models.ResNet18(), (3, 224, 224), depth=1)
    print(f"\n6. ResNet-18: {s.total_params:,} parameters, {s.total_macs:,} multiply-adds\n")
    print(s)


if __name__ == "__main__":
    main()
