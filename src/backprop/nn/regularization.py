"""`l2_penalty`: the lectures' explicit weight-decay term ``lambda * Omega(theta)``."""

from __future__ import annotations

from collections.abc import Iterable

from ..tensor import Tensor
from .module import Module
from .normalization import LayerNorm, _BatchNorm
from .parameter import Parameter

__all__ = ["l2_penalty"]

_NORM_LAYERS = (_BatchNorm, LayerNorm)


def _penalised(source, exclude_bias_and_norm: bool) -> list[Tensor]:
    if isinstance(source, Module):
        if not exclude_bias_and_norm:
            return list(source.parameters())
        skip = set()
        for m in source.modules():
            if isinstance(m, _NORM_LAYERS):
                skip.update(id(p) for p in m.parameters(recurse=False))
        return [
            p
            for name, p in source.named_parameters()
            if id(p) not in skip and name.rsplit(".", 1)[-1] != "bias"
        ]
    params = list(source)
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"l2_penalty: expected Tensors or a Module, got {type(p).__name__}")
    # Without names, biases and norm scales are recognised as the 1-D parameters.
    return [p for p in params if not exclude_bias_and_norm or p.ndim > 1]


def l2_penalty(
    module_or_params: Module | Iterable[Parameter], exclude_bias_and_norm: bool = True
) -> Tensor:
    """``Omega(theta) = sum of squared weights``, differentiable: add ``lam * l2_penalty(model)``
    to the loss for the lectures' regularised objective ``J(theta) + lambda * Omega(theta)``.

    Relation to ``weight_decay``: the gradient of ``lam * sum(w^2)`` is ``2 lam w``, and SGD's
    ``weight_decay=wd`` adds ``wd * w`` to the gradient; so this penalty with ``lam`` equals
    ``weight_decay = 2 * lam`` (with the lectures' ``Omega = 1/2 sum(w^2)``,
    ``weight_decay = lam``).
    ``weight_decay`` is cheaper (no extra graph); the explicit term shows up in the loss value.
    (AdamW's decoupled decay is a different method, not an L2 penalty.)

    Args:
        module_or_params: a Module, or an iterable of parameters.
        exclude_bias_and_norm: leave out biases and normalisation-layer parameters (the usual
            practice: they do not cause overfitting, and decaying a batch-norm scale fights
            the normalisation). For a Module: parameters named ``bias`` and those of
            BatchNorm/LayerNorm layers; for an iterable: the 1-D tensors.

    Returns:
        a 0-d Tensor (0 when nothing is penalised).

    Example:
        >>> loss = criterion(model(x), y) + 1e-4 * nn.l2_penalty(model)
    """
    params = _penalised(module_or_params, exclude_bias_and_norm)
    if not params:
        return Tensor(0.0)
    total = None
    for p in params:
        s = (p * p).sum()
        total = s if total is None else total + s
    return total
