"""AlexNet (Krizhevsky, Sutskever and Hinton, 2012) with the lectures' shapes."""

from __future__ import annotations

from collections import OrderedDict

from .. import nn
from ..tensor import Tensor
from . import register_model
from ._layers import conv_out_size, scaled

__all__ = ["AlexNet"]


@register_model("alexnet", input_shape=(3, 227, 227))
class AlexNet(nn.Module):
    """AlexNet for 227x227x3 images, shaped as in the lectures' table:

    ======  ==========  ========  ==========  ========  ==========  ==========  ==========
    Input   Conv1       MaxPool1  Conv2       MaxPool2  Conv3       Conv4       Conv5
    227²x3  55x55x96    27x27x96  27x27x256   13x13x256 13x13x384   13x13x384   13x13x256
    ======  ==========  ========  ==========  ========  ==========  ==========  ==========

    then MaxPool3 6x6x256 and the fully connected FC6 4096, FC7 4096, FC8 1000.

    Conv1 is 96 filters 11x11 stride 4 (no padding); Conv2 256 5x5 pad 2; Conv3-5 3x3 pad 1;
    pools are 3x3 stride 2 (overlapping); dropout precedes FC6 and FC7. As in most later
    re-implementations, the single-GPU form: no grouped convolutions and no local response
    normalisation. 62,378,344 parameters, about 1.14 G multiply-adds per image.

    Args:
        num_classes: outputs of FC8.
        in_channels: input channels.
        image_size: input height = width (227; any size that survives the three pools works).
        dropout: dropout probability before FC6 and FC7.
        width: multiplies every conv width (1.0 = the table; the tests use tiny ones).
        hidden: width of FC6 and FC7.

    Shape:
        input: ``(N, in_channels, image_size, image_size)``; output: ``(N, num_classes)``.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_channels: int = 3,
        image_size: int = 227,
        dropout: float = 0.5,
        width: float = 1.0,
        hidden: int = 4096,
    ) -> None:
        super().__init__()
        c1, c2, c3, c4, c5 = (scaled(c, width) for c in (96, 256, 384, 384, 256))
        self.features = nn.Sequential(
            OrderedDict(
                conv1=nn.Conv2d(in_channels, c1, kernel_size=11, stride=4),
                relu1=nn.ReLU(),
                pool1=nn.MaxPool2d(kernel_size=3, stride=2),
                conv2=nn.Conv2d(c1, c2, kernel_size=5, padding=2),
                relu2=nn.ReLU(),
                pool2=nn.MaxPool2d(kernel_size=3, stride=2),
                conv3=nn.Conv2d(c2, c3, kernel_size=3, padding=1),
                relu3=nn.ReLU(),
                conv4=nn.Conv2d(c3, c4, kernel_size=3, padding=1),
                relu4=nn.ReLU(),
                conv5=nn.Conv2d(c4, c5, kernel_size=3, padding=1),
                relu5=nn.ReLU(),
                pool3=nn.MaxPool2d(kernel_size=3, stride=2),
            )
        )
        size = conv_out_size(image_size, 11, 4)
        for _ in range(3):  # conv2..conv5 keep the size; each pool is 3x3 stride 2
            size = conv_out_size(size, 3, 2)
        if size < 1:
            raise ValueError(f"AlexNet: image_size {image_size} is too small for three pools")
        self.classifier = nn.Sequential(
            OrderedDict(
                flatten=nn.Flatten(),
                drop6=nn.Dropout(dropout),
                fc6=nn.Linear(c5 * size * size, hidden),
                relu6=nn.ReLU(),
                drop7=nn.Dropout(dropout),
                fc7=nn.Linear(hidden, hidden),
                relu7=nn.ReLU(),
                fc8=nn.Linear(hidden, num_classes),
            )
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))
