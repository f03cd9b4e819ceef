"""Small convolutional networks for digits: the lectures' LeNet-5 and a CNN for 8x8 digits."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from .. import nn
from ..tensor import Tensor
from . import register_model

__all__ = ["LeNet5", "DigitsCNN"]


@register_model("lenet5", input_shape=(1, 28, 28))
class LeNet5(nn.Module):
    """LeNet-5 as in the lectures' table (LeCun et al. 1998, with ReLU and max pooling):

    ======================================  ============  ==============
    Layer                                   Output size   Weight size
    ======================================  ============  ==============
    Input                                   1 x 28 x 28
    Conv (C_out=20, K=5, P=2, S=1)          20 x 28 x 28  20 x 1 x 5 x 5
    ReLU                                    20 x 28 x 28
    MaxPool (K=2, S=2)                      20 x 14 x 14
    Conv (C_out=50, K=5, P=2, S=1)          50 x 14 x 14  50 x 20 x 5 x 5
    ReLU                                    50 x 14 x 14
    MaxPool (K=2, S=2)                      50 x 7 x 7
    Flatten                                 2450
    Linear (2450 -> 500)                    500           2450 x 500
    ReLU                                    500
    Linear (500 -> 10)                      10            500 x 10
    ======================================  ============  ==============

    1,256,080 parameters and 6,522,000 multiply-adds per 28x28 image.

    Args:
        num_classes: outputs of the last layer.
        in_channels: input channels (1 for MNIST).
        image_size: input height = width (28; sets the flatten size ``50 * (size // 4)**2``).
        dropout: dropout probability before the last layer (0 = the table exactly).

    Shape:
        input: ``(N, in_channels, image_size, image_size)``; output: ``(N, num_classes)``.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 28,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if image_size < 4:
            raise ValueError(f"LeNet5: image_size must be at least 4, got {image_size}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"LeNet5: dropout must be in [0, 1), got {dropout}")
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(in_channels, 20, kernel_size=5, stride=1, padding=2),
                relu1=nn.ReLU(),
                pool1=nn.MaxPool2d(kernel_size=2, stride=2),
                conv2=nn.Conv2d(20, 50, kernel_size=5, stride=1, padding=2),
                relu2=nn.ReLU(),
                pool2=nn.MaxPool2d(kernel_size=2, stride=2),
            )
        )
        flat = 50 * (image_size // 4) ** 2
        head: OrderedDict[str, nn.Module] = OrderedDict(
            flatten=nn.Flatten(), fc1=nn.Linear(flat, 500), relu3=nn.ReLU()
        )
        if dropout > 0:
            head["dropout"] = nn.Dropout(dropout)
        head["fc2"] = nn.Linear(500, num_classes)
        self.classifier = nn.Sequential(head)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


@register_model("digits_cnn", input_shape=(1, 8, 8))
class DigitsCNN(nn.Module):
    """A small, fast CNN for the 8x8 digits (the default of ``backprop train``).

    ``conv3x3(c1) -> ReLU -> conv3x3(c2) -> ReLU -> maxpool 2 -> flatten -> Linear(hidden) -> ReLU
    -> Dropout -> Linear(num_classes)``; with the defaults 151,306 parameters and 1,330,432
    multiply-adds per image. Reaches about 98% test accuracy on Digits in a few seconds.

    Args:
        num_classes: outputs.
        in_channels: input channels.
        image_size: input height = width (8).
        channels: widths of the two conv layers.
        hidden: width of the hidden linear layer.
        dropout: dropout probability before the last layer.

    Shape:
        input: ``(N, in_channels, image_size, image_size)``; output: ``(N, num_classes)``.
    """

    def __init__(
        self,
        num_classes: int = 10,
        in_channels: int = 1,
        image_size: int = 8,
        channels: Sequence[int] = (32, 64),
        hidden: int = 128,
        dropout: float = 0.25,
    ) -> None:
        super().__init__()
        c1, c2 = (int(c) for c in channels)
        if image_size < 2:
            raise ValueError(f"DigitsCNN: image_size must be at least 2, got {image_size}")
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(in_channels, c1, kernel_size=3, padding=1),
                relu1=nn.ReLU(),
                conv2=nn.Conv2d(c1, c2, kernel_size=3, padding=1),
                relu2=nn.ReLU(),
                pool=nn.MaxPool2d(2),
            )
        )
        head: OrderedDict[str, nn.Module] = OrderedDict(
            flatten=nn.Flatten(),
            fc1=nn.Linear(c2 * (image_size // 2) ** 2, hidden),
            relu3=nn.ReLU(),
        )
        if dropout > 0:
            head["dropout"] = nn.Dropout(dropout)
        head["fc2"] = nn.Linear(hidden, num_classes)
        self.classifier = nn.Sequential(head)

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
