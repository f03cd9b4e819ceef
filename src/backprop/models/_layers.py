"""Small helpers shared by the zoo: activations by name, a flatten-size calculator."""

from __future__ import annotations

from collections.abc import Callable

from .. import nn

__all__ = ["make_activation", "conv_out_size", "scaled"]

# Names as the configs spell them -> the nn class name (looked up when first used).
_ACTIVATIONS = {
    "relu": "ReLU", "sigmoid": "Sigmoid", "tanh": "Tanh", "leaky_relu": "LeakyReLU",
    "elu": "ELU", "gelu": "GELU", "silu": "SiLU", "softplus": "Softplus", "step": "Step",
    "identity": "Identity", "linear": "Identity", "none": "Identity",
}  # fmt: skip


def make_activation(spec: str | type | Callable[[], nn.Module] | None, where: str) -> nn.Module:
    """A fresh activation module from a name (``"relu"``), a Module class or a factory.

    ``None``, ``"linear"`` and ``"identity"`` give the identity (the lectures' "linear
    activation").
    """
    if spec is None:
        spec = "identity"
    if isinstance(spec, str):
        key = spec.lower()
        if key not in _ACTIVATIONS:
            raise ValueError(
                f"{where}: unknown activation {spec!r}; "
                f"choose from {', '.join(sorted(_ACTIVATIONS))}"
            )
        return getattr(nn, _ACTIVATIONS[key])()
    if isinstance(spec, nn.Module):
        raise TypeError(
            f"{where}: pass an activation name, class or factory, not a module instance "
            f"({type(spec).__name__}): each layer needs its own"
        )
    if callable(spec):
        act = spec()
        if not isinstance(act, nn.Module):
            raise TypeError(f"{where}: activation factory returned {type(act).__name__}")
        return act
    raise TypeError(
        f"{where}: activation must be a name, a Module class or a factory, got {spec!r}"
    )


def conv_out_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """The lectures' output size: ``(W - K + 2P) / S + 1``, rounded down."""
    return (size - kernel + 2 * padding) // stride + 1


def scaled(channels: int, width: float) -> int:
    """``channels * width``, rounded, at least 1 (for the tiny variants the tests use)."""
    return max(1, int(round(channels * width)))
