"""The neural-network functions, where PyTorch puts them (``torch.nn.functional``).

Activations, softmax and linear are implemented in ``backprop.functional`` and re-exported here.
"""

from ..functional.activation import (
    elu,
    gelu,
    heaviside_step,
    leaky_relu,
    linear_activation,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    step,
    tanh,
    threshold,
)
from ..functional.linalg import linear
from ..functional.shape import pad

__all__ = [
    "elu", "gelu", "heaviside_step", "leaky_relu", "linear_activation", "log_softmax", "relu",
    "sigmoid", "silu", "softmax", "softplus", "step", "tanh", "threshold", "linear", "pad",
]  # fmt: skip
