"""The model zoo: the lectures' named architectures, each buildable in one line and registered by
name for the command line (``backprop train``, ``backprop summary``).

>>> from backprop import models
>>> net = models.get_model("lenet5", num_classes=10)
>>> print(backprop.summary(net, (1, 28, 28)))      # the lecture's LeNet-5 table

Every image model takes ``num_classes`` and ``in_channels``; ``list_models()`` names them all and
``default_input_shape(name)`` gives the per-sample input shape a model was designed for (what
``backprop summary NAME`` feeds it).
"""

from __future__ import annotations

from collections.abc import Callable

from ..nn.module import Module

__all__ = [
    "register_model", "get_model", "get_model_builder", "list_models", "default_input_shape",
    "Perceptron", "PerceptronFit", "ConvergenceWarning", "MLP", "LeNet5", "DigitsCNN", "AlexNet",
    "VGG", "VGG11", "VGG13", "VGG16", "VGG19", "ResNet", "BasicBlock", "ResNet18", "ResNet34",
    "ResNet20", "TiedLinear", "TiedAutoencoder", "pretrain_layerwise", "finetune",
    "PretrainHistory", "SequenceClassifier", "CharRNN", "Seq2Seq", "GPT", "summary",
    "ModelSummary", "LayerInfo", "register_macs",
]  # fmt: skip

_MODELS: dict[str, Callable[..., Module]] = {}
_INPUT_SHAPES: dict[str, tuple | None] = {}


def register_model(name: str, input_shape: tuple | None = None) -> Callable:
    """Register a model class (or a function returning a Module) under ``name``.

    Args:
        name: the registry key (lower case, as the CLI and configs spell it: ``"lenet5"``).
        input_shape: the per-sample input shape the model was designed for, without the batch
            dimension (``(1, 28, 28)``), or None where it depends on the options.

    Example:
        >>> @register_model("tiny", input_shape=(4,))
        ... class Tiny(nn.Module): ...
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"register_model: name must be a non-empty string, got {name!r}")

    def decorator(builder: Callable[..., Module]) -> Callable[..., Module]:
        if name in _MODELS and _MODELS[name] is not builder:
            raise ValueError(f"register_model: a model named {name!r} is already registered")
        _MODELS[name] = builder
        _INPUT_SHAPES[name] = None if input_shape is None else tuple(input_shape)
        return builder

    return decorator


def _lookup(name: str, where: str) -> Callable[..., Module]:
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"{where}: unknown model {name!r}; registered models: {', '.join(list_models())}"
        ) from None


def get_model_builder(name: str) -> Callable[..., Module]:
    """The class (or function) registered as ``name``: inspect its signature for the options.

    Raises:
        ValueError: for an unknown name (the message lists the registered ones).
    """
    return _lookup(name, "get_model_builder")


def get_model(name: str, **kwargs) -> Module:
    """Build the model registered as ``name`` with the given options.

    Raises:
        ValueError: for an unknown name (the message lists the registered ones).
        TypeError: for an option the model does not take.
    """
    return _lookup(name, "get_model")(**kwargs)


def list_models() -> list[str]:
    """The registered model names, sorted."""
    return sorted(_MODELS)


def default_input_shape(name: str) -> tuple | None:
    """The per-sample input shape ``name`` was designed for (no batch dim), or None."""
    _lookup(name, "default_input_shape")
    return _INPUT_SHAPES[name]


# The families register themselves on import (after the registry above exists).
from .alexnet import AlexNet  # noqa: E402
from .autoencoder import (  # noqa: E402
    PretrainHistory,
    TiedAutoencoder,
    TiedLinear,
    finetune,
    pretrain_layerwise,
)
from .gpt import GPT  # noqa: E402
from .lenet import DigitsCNN, LeNet5  # noqa: E402
from .mlp import MLP  # noqa: E402
from .perceptron import ConvergenceWarning, Perceptron, PerceptronFit  # noqa: E402
from .resnet import BasicBlock, ResNet, ResNet18, ResNet20, ResNet34  # noqa: E402
from .rnn import CharRNN, Seq2Seq, SequenceClassifier  # noqa: E402
from .summary import LayerInfo, ModelSummary, register_macs, summary  # noqa: E402
from .vgg import VGG, VGG11, VGG13, VGG16, VGG19  # noqa: E402
