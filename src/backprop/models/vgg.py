"""VGG (Simonyan and Zisserman, 2014): 11, 13, 16 and 19 weight layers from one table."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..tensor import Tensor
from . import register_model
from ._layers import scaled

__all__ = ["VGG", "VGG11", "VGG13", "VGG16", "VGG19", "VGG_CONFIGS"]

# The paper's table (configurations A, B, D, E): conv 3x3 widths, "M" = 2x2 max pool.
VGG_CONFIGS: dict[int, list[int | str]] = {
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [
        64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M",
        512, 512, 512, 512, "M", 512, 512, 512, 512, "M",
    ],
}  # fmt: skip


class VGG(nn.Module):
    """VGG: stacks of 3x3 convolutions (pad 1) + ReLU, five 2x2 max pools, three FC layers.

    The layout (and so the parameter count) is torchvision's: ``features`` (conv, [BN], ReLU,
    pool), ``classifier`` = Linear(512*7*7, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU,
    Dropout, Linear(4096, num_classes). VGG-16 has 138,357,544 parameters and about 15.5 G
    multiply-adds per 224x224 image. Conv weights use He (kaiming normal, fan out) init, as
    torchvision does; the linear layers keep the default init.

    Args:
        depth: 11, 13, 16 or 19 (or pass ``config``).
        num_classes: outputs.
        in_channels: input channels.
        image_size: input height = width (224 gives the 7x7x512 feature map); a multiple of 32.
        batchnorm: BatchNorm2d after each conv (torchvision's ``vgg16_bn``).
        dropout: dropout probability in the classifier.
        width: multiplies every conv width (1.0 = the paper; the tests use tiny ones).
        hidden: width of the two hidden FC layers.
        config: a custom table like the entries of ``VGG_CONFIGS``.

    Shape:
        input: ``(N, in_channels, image_size, image_size)``; output: ``(N, num_classes)``.
    """

    def __init__(
        self,
        depth: int = 16,
        num_classes: int = 1000,
        in_channels: int = 3,
        image_size: int = 224,
        batchnorm: bool = False,
        dropout: float = 0.5,
        width: float = 1.0,
        hidden: int = 4096,
        config: Sequence[int | str] | None = None,
    ) -> None:
        super().__init__()
        if config is None:
            if depth not in VGG_CONFIGS:
                raise ValueError(f"VGG: depth must be one of {sorted(VGG_CONFIGS)}, got {depth}")
            config = VGG_CONFIGS[depth]
        layers: list[nn.Module] = []
        channels, size = in_channels, image_size
        for v in config:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                size //= 2
                continue
            out = scaled(int(v), width)
            conv = nn.Conv2d(channels, out, kernel_size=3, padding=1)
            nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(conv.bias)
            layers.append(conv)
            if batchnorm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(nn.ReLU())
            channels = out
        if size < 1:
            raise ValueError(f"VGG: image_size {image_size} is too small for its pools")
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(channels * size * size, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))


@register_model("vgg11", input_shape=(3, 224, 224))
class VGG11(VGG):
    """VGG-11 (configuration A): ``VGG(depth=11, ...)``, same options as :class:`VGG`."""

    def __init__(self, num_classes: int = 1000, **kwargs) -> None:
        super().__init__(depth=11, num_classes=num_classes, **kwargs)


@register_model("vgg13", input_shape=(3, 224, 224))
class VGG13(VGG):
    """VGG-13 (configuration B): ``VGG(depth=13, ...)``, same options as :class:`VGG`."""

    def __init__(self, num_classes: int = 1000, **kwargs) -> None:
        super().__init__(depth=13, num_classes=num_classes, **kwargs)


@register_model("vgg16", input_shape=(3, 224, 224))
class VGG16(VGG):
    """VGG-16 (configuration D, 138,357,544 parameters): ``VGG(depth=16, ...)``."""

    def __init__(self, num_classes: int = 1000, **kwargs) -> None:
        super().__init__(depth=16, num_classes=num_classes, **kwargs)


@register_model("vgg19", input_shape=(3, 224, 224))
class VGG19(VGG):
    """VGG-19 (configuration E): ``VGG(depth=19, ...)``, same options as :class:`VGG`."""

    def __init__(self, num_classes: int = 1000, **kwargs) -> None:
        super().__init__(depth=19, num_classes=num_classes, **kwargs)
