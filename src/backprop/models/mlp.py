"""The multilayer perceptron: ``Linear -> [BatchNorm] -> activation -> [Dropout]`` per layer."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .. import nn
from . import register_model
from ._layers import make_activation

__all__ = ["MLP"]


@register_model("mlp", input_shape=(784,))
class MLP(nn.Sequential):
    """A fully connected network ``sizes[0] -> sizes[1] -> ... -> sizes[-1]``.

    Each hidden layer is ``Linear -> [BatchNorm1d] -> activation -> [Dropout(dropout)]``; the
    last layer is a plain ``Linear`` (logits). The input is flattened first, so images can be
    fed directly. The lectures' 3-4-2 network is ``MLP([3, 4, 2])``: (3*4) + (4*2) = 20 weights
    and 20 + 4 + 2 = 26 learnable parameters.

    Args:
        sizes: layer widths, input first, output last (at least two).
        activation: name (``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"leaky_relu"``, ``"step"``,
            ``"linear"``...), Module class or factory for the hidden layers. ``"linear"`` gives
            the lectures' point: linear activations make the whole network one linear map.
        dropout: probability of dropping a hidden unit (PyTorch's ``p``; the lectures suggest
            0.5).
        input_dropout: probability of dropping an input (the lectures suggest 0.2).
        batchnorm: add ``BatchNorm1d`` after each hidden ``Linear``.
        bias: whether the ``Linear`` layers have biases.

    Shape:
        input: ``(N, *)`` with ``prod(*) == sizes[0]``; output: ``(N, sizes[-1])``.

    Example:
        >>> net = MLP([784, 800, 800, 10], dropout=0.5)
        >>> net(backprop.zeros(2, 1, 28, 28)).shape
        (2, 10)
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 256, 10),
        activation: str | type | Callable[[], nn.Module] | None = "relu",
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        batchnorm: bool = False,
        bias: bool = True,
    ) -> None:
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"MLP: sizes must hold at least two positive widths, got {sizes}")
        for name, p in (("dropout", dropout), ("input_dropout", input_dropout)):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"MLP: {name} must be in [0, 1), got {p}")
        layers: list[nn.Module] = [nn.Flatten()]
        if input_dropout > 0:
            layers.append(nn.Dropout(input_dropout))
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(fan_in, fan_out, bias=bias))
            if i == len(sizes) - 2:
                break
            if batchnorm:
                layers.append(nn.BatchNorm1d(fan_out))
            layers.append(make_activation(activation, "MLP"))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
        super().__init__(*layers)
        self.sizes = sizes

    def linear_layers(self) -> list[nn.Linear]:
        """The ``Linear`` layers, input side first."""
        return [m for m in self if isinstance(m, nn.Linear)]

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}"
