"""Residual networks (He, Zhang, Ren and Sun, 2016): basic blocks with shortcut connections."""

from __future__ import annotations

from collections.abc import Sequence

from .. import nn
from ..nn import functional as F
from ..tensor import Tensor
from . import register_model

__all__ = ["BasicBlock", "ResNet", "ResNet18", "ResNet34", "ResNet20"]


class _PadShortcut(nn.Module):
    """The CIFAR paper's option A shortcut: subsample by ``stride`` and zero-pad the new
    channels; no parameters."""

    def __init__(self, in_planes: int, planes: int, stride: int) -> None:
        super().__init__()
        self.stride = stride
        self.before = (planes - in_planes) // 2
        self.after = planes - in_planes - self.before

    def forward(self, x: Tensor) -> Tensor:
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, self.before, self.after))

    def extra_repr(self) -> str:
        return f"stride={self.stride}, pad_channels=({self.before}, {self.after})"


class BasicBlock(nn.Module):
    """``relu(bn2(conv3x3(relu(bn1(conv3x3(x))))) + shortcut(x))``.

    The shortcut is the identity, or ``downsample`` where the block changes the width or the
    resolution (a 1x1 conv + BN projection, or the parameter-free option A).

    Shape:
        input: ``(N, in_planes, H, W)``; output: ``(N, planes, H / stride, W / stride)``.
    """

    expansion = 1

    def __init__(
        self, in_planes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """A ResNet of basic blocks, in the ImageNet or the CIFAR layout.

    - ``stem="imagenet"`` (ResNet-18/34): conv 7x7/2 (64) -> BN -> ReLU -> maxpool 3x3/2, then
      stages of width 64, 128, 256, 512 (the first at stride 1, the others halving the size),
      global average pool, fc. Layer names are torchvision's (``conv1``, ``bn1``, ``layer1``..,
      ``fc``), and so are the counts: ResNet-18 has 11,689,512 parameters.
    - ``stem="cifar"`` (ResNet-20/32/...): conv 3x3 (16) -> BN -> ReLU, stages of 16, 32, 64.

    Convs use He init (kaiming normal, fan out), batch norms start at weight 1, bias 0.

    Args:
        layers: blocks per stage (``[2, 2, 2, 2]`` is ResNet-18).
        num_classes: outputs.
        in_channels: input channels.
        width: the first stage's width (64 ImageNet, 16 CIFAR); doubles at each stage.
        stem: ``"imagenet"`` or ``"cifar"``.
        shortcut: ``"B"`` (1x1 conv + BN projection where the shape changes, torchvision's) or
            ``"A"`` (subsample + zero-pad channels, no parameters: the CIFAR paper's).
        zero_init_residual: start each block's last BN weight at 0 (each block = identity).

    Shape:
        input: ``(N, in_channels, H, W)``; output: ``(N, num_classes)``.
    """

    def __init__(
        self,
        layers: Sequence[int] = (2, 2, 2, 2),
        num_classes: int = 1000,
        in_channels: int = 3,
        width: int = 64,
        stem: str = "imagenet",
        shortcut: str = "B",
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__()
        if stem not in ("imagenet", "cifar"):
            raise ValueError(f"ResNet: stem must be 'imagenet' or 'cifar', got {stem!r}")
        if shortcut not in ("A", "B"):
            raise ValueError(f"ResNet: shortcut must be 'A' or 'B', got {shortcut!r}")
        if not layers or any(int(n) < 1 for n in layers):
            raise ValueError(f"ResNet: layers must be positive block counts, got {list(layers)}")
        self.shortcut = shortcut
        if stem == "imagenet":
            self.conv1 = nn.Conv2d(in_channels, width, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU()
            self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        else:
            self.conv1 = nn.Conv2d(in_channels, width, 3, stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU()
            self.maxpool = None
        planes = width
        for i, blocks in enumerate(layers):
            stage, planes = self._stage(planes, width * 2**i, int(blocks), 1 if i == 0 else 2)
            setattr(self, f"layer{i + 1}", stage)
        self.num_stages = len(layers)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(planes, num_classes)

        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        if zero_init_residual:
            for m in self.modules():
                if isinstance(m, BasicBlock):
                    nn.init.zeros_(m.bn2.weight)

    def _stage(self, in_planes: int, planes: int, blocks: int, stride: int):
        downsample = None
        if stride != 1 or in_planes != planes:
            if self.shortcut == "A":
                downsample = _PadShortcut(in_planes, planes, stride)
            else:
                downsample = nn.Sequential(
                    nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(planes),
                )
        blocks_ = [BasicBlock(in_planes, planes, stride, downsample)]
        blocks_ += [BasicBlock(planes, planes) for _ in range(blocks - 1)]
        return nn.Sequential(*blocks_), planes

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for i in range(self.num_stages):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


@register_model("resnet18", input_shape=(3, 224, 224))
class ResNet18(ResNet):
    """ResNet-18: ``ResNet([2, 2, 2, 2])``, ImageNet layout, 11,689,512 parameters."""

    def __init__(self, num_classes: int = 1000, **kwargs) -> None:
        super().__init__(layers=(2, 2, 2, 2), num_classes=num_classes, **kwargs)


@register_model("resnet34", input_shape=(3, 224, 224))
class ResNet34(ResNet):
    """ResNet-34: ``ResNet([3, 4, 6, 3])``, ImageNet layout, 21,797,672 parameters."""

    def __init__(self, num_classes: int = 1000, **kwargs) -> None:
        super().__init__(layers=(3, 4, 6, 3), num_classes=num_classes, **kwargs)


@register_model("resnet20", input_shape=(3, 32, 32))
class ResNet20(ResNet):
    """ResNet-20 for 32x32 images (CIFAR): three stages of three blocks, widths 16, 32, 64,
    option A shortcuts (as in the paper's CIFAR experiments); 269,722 parameters with 10
    classes (272,474 with ``shortcut="B"``)."""

    def __init__(
        self, num_classes: int = 10, width: int = 16, shortcut: str = "A", **kwargs
    ) -> None:
        super().__init__(
            layers=(3, 3, 3), num_classes=num_classes, width=width, stem="cifar",
            shortcut=shortcut, **kwargs,
        )  # fmt: skip
