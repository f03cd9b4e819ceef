"""Autoencoders with tied weights and greedy layer-wise pre-training (Bengio et al. 2007; the
lectures' "unsupervised pre-training, then fine-tuning")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .. import nn, optim
from ..autograd.grad_mode import no_grad
from ..data import DataLoader, TensorDataset
from ..nn import functional as F
from ..random import generator
from ..tensor import Tensor
from ..train.callbacks import LambdaCallback
from ..train.trainer import Trainer
from . import register_model
from ._layers import make_activation
from .summary import register_macs

__all__ = ["TiedLinear", "TiedAutoencoder", "pretrain_layerwise", "finetune", "PretrainHistory"]


class TiedLinear(nn.Module):
    """The decoder half of a tied autoencoder layer: ``y = h W + c`` where ``W`` is the encoder
    ``Linear``'s own weight (``(hidden, visible)``), used transposed.

    The weight is the very same :class:`~backprop.nn.Parameter` as the encoder's (registered
    here too, as PyTorch does for tied weights; ``parameters()`` yields it once), so its
    gradient is the sum of the gradients of both uses. Only the bias ``c`` is the decoder's own.

    Args:
        tied_to: the encoder layer whose weight is shared.
        bias: learn the decoder's own bias ``c``.

    Shape:
        input: ``(*, tied_to.out_features)``; output: ``(*, tied_to.in_features)``.
    """

    def __init__(self, tied_to: nn.Linear, bias: bool = True) -> None:
        super().__init__()
        if not isinstance(tied_to, nn.Linear):
            raise TypeError(f"TiedLinear: expected an nn.Linear, got {type(tied_to).__name__}")
        self.weight = tied_to.weight
        hidden, visible = tied_to.weight.shape
        self.in_features, self.out_features = hidden, visible
        dtype = tied_to.weight.dtype
        self.bias = nn.Parameter(np.zeros((visible,), dtype=dtype)) if bias else None

    def forward(self, h: Tensor) -> Tensor:
        return F.linear(h, self.weight.T, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}, tied=True"
        )


@register_macs(TiedLinear)
def _tied_linear_macs(m: TiedLinear, inputs, out) -> int:
    return out.numel() * m.in_features


@register_model("tied_autoencoder", input_shape=(784,))
class TiedAutoencoder(nn.Module):
    """An autoencoder whose decoder uses the encoder's weights transposed (the lectures'
    ``h(x) = sigm(b + W x)``, ``x_hat = sigm(c + W^T h(x))``), each layer with its own biases.

    With more than two ``sizes`` it is a stacked autoencoder: encoder ``sizes[0] -> ... ->
    sizes[-1]`` and the mirror-image decoder, layer ``i`` of the decoder tied to layer ``i`` of
    the encoder.

    Args:
        sizes: ``[visible, hidden, ...]`` widths of the encoder.
        activation: the encoder's (and the decoder's hidden layers') activation.
        output_activation: applied to the reconstruction (``"sigmoid"`` for data in [0, 1],
            ``"linear"`` for real-valued data).
        corruption: in training mode, zero each input with this probability first (a denoising
            autoencoder, Vincent et al. 2008); 0 disables it.

    Shape:
        input: ``(N, *)`` with ``prod(*) == sizes[0]`` (flattened); output: ``(N, sizes[0])``.

    Example:
        >>> ae = TiedAutoencoder([784, 256])
        >>> ae.decoder[0].weight is ae.encoder[0].weight
        True
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 256),
        activation: str | type | Callable[[], nn.Module] | None = "sigmoid",
        output_activation: str | type | Callable[[], nn.Module] | None = "sigmoid",
        corruption: float = 0.0,
    ) -> None:
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(
                f"TiedAutoencoder: sizes needs two or more positive widths, got {sizes}"
            )
        if not 0.0 <= corruption < 1.0:
            raise ValueError(f"TiedAutoencoder: corruption must be in [0, 1), got {corruption}")
        self.sizes = sizes
        self.corruption = float(corruption)
        self.encoder = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.encoder_act = nn.ModuleList(
            make_activation(activation, "TiedAutoencoder") for _ in self.encoder
        )
        self.decoder = nn.ModuleList(TiedLinear(lin) for lin in reversed(list(self.encoder)))
        acts = [make_activation(activation, "TiedAutoencoder") for _ in self.decoder[:-1]]
        acts.append(make_activation(output_activation, "TiedAutoencoder"))
        self.decoder_act = nn.ModuleList(acts)

    def encode(self, x: Tensor) -> Tensor:
        """The code ``h(x)``: ``(N, sizes[-1])``."""
        h = x.flatten(1) if x.ndim > 2 else x
        for lin, act in zip(self.encoder, self.encoder_act):
            h = act(lin(h))
        return h

    def decode(self, h: Tensor) -> Tensor:
        """The reconstruction from a code: ``(N, sizes[0])``."""
        for lin, act in zip(self.decoder, self.decoder_act):
            h = act(lin(h))
        return h

    def forward(self, x: Tensor) -> Tensor:
        if self.training and self.corruption > 0:
            x = _corrupt(x, self.corruption)
        return self.decode(self.encode(x))

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, corruption={self.corruption}"


def _corrupt(x: Tensor, p: float) -> Tensor:
    """Masking noise: each input zeroed with probability ``p`` (not rescaled: the decoder must
    reconstruct the clean input)."""
    keep = generator().random(x.shape) >= p
    return x * Tensor(keep.astype(x.dtype))


class PretrainHistory(NamedTuple):
    """What :func:`pretrain_layerwise` returns.

    Attributes:
        layer_losses: for each pre-trained layer (input side first), the mean reconstruction
            loss of each epoch.
        finetune_losses: the mean supervised loss of each fine-tuning epoch (empty without
            labels).
    """

    layer_losses: list[list[float]]
    finetune_losses: list[float]


def _as_array(x, where: str) -> np.ndarray:
    a = x.data if isinstance(x, Tensor) else np.asarray(x)
    if a.ndim < 1 or len(a) == 0:
        raise ValueError(f"{where}: expected a non-empty batch of inputs, got shape {a.shape}")
    return a


def _make_optimizer(optimizer, params, lr: float, where: str):
    if callable(optimizer) and not isinstance(optimizer, str):
        return optimizer(params)
    if optimizer == "adam":
        return optim.Adam(params, lr=lr)
    if optimizer == "sgd":
        return optim.SGD(params, lr=lr, momentum=0.9)
    raise ValueError(f"{where}: optimizer must be 'adam', 'sgd' or a factory, got {optimizer!r}")


class _LayerAutoencoder(nn.Module):
    """One hidden block of an MLP as the encoder of a tied autoencoder (for pre-training):
    ``decoder(block(corrupt(x)))``, the output left as logits / linear values."""

    def __init__(self, block: nn.Module, decoder: TiedLinear, corruption: float) -> None:
        super().__init__()
        self.block, self.decoder, self.corruption = block, decoder, corruption

    def forward(self, x: Tensor) -> Tensor:
        if self.training and self.corruption > 0:
            x = _corrupt(x, self.corruption)
        return self.decoder(self.block(x))


def _fit(model, loss_fn, x, y, epochs: int, batch_size: int, opt, on_epoch_end=None):
    """The library's fit loop (Trainer) over shuffled minibatches of ``(x, y)``, quietly;
    returns the mean training loss of each epoch."""
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    callbacks = []
    if on_epoch_end is not None:
        callbacks.append(
            LambdaCallback(on_epoch_end=lambda e, logs: on_epoch_end(e + 1, logs["loss"]))
        )
    trainer = Trainer(model, loss_fn, opt, callbacks=callbacks, verbose=0, handle_sigint=False)
    return list(trainer.fit(loader, epochs=epochs).history.get("loss", []))


def _blocks(model: nn.Sequential, where: str) -> tuple[list[int], list[nn.Linear]]:
    """Positions of the Linear layers in a Sequential MLP."""
    if not isinstance(model, nn.Sequential):
        raise TypeError(f"{where}: expected an nn.Sequential MLP, got {type(model).__name__}")
    mods = list(model)
    pos = [i for i, m in enumerate(mods) if isinstance(m, nn.Linear)]
    if len(pos) < 2:
        raise ValueError(f"{where}: the model needs at least one hidden Linear layer")
    return pos, [mods[i] for i in pos]


def pretrain_layerwise(
    model: nn.Sequential,
    x,
    *,
    epochs: int = 5,
    lr: float = 1e-3,
    batch_size: int = 64,
    optimizer: str | Callable = "adam",
    corruption: float = 0.0,
    layers: Sequence[int] | None = None,
    y=None,
    finetune_epochs: int = 0,
    finetune_lr: float | None = None,
) -> PretrainHistory:
    """Greedy unsupervised pre-training of a deep MLP, one hidden layer at a time, then
    (optionally) supervised fine-tuning of the whole network.

    Hidden layer ``k`` (its ``Linear`` and what follows it up to the next ``Linear``: batch
    norm, activation, dropout) is trained as the encoder of a tied autoencoder
    (:class:`TiedLinear` decoder with its own bias) that reconstructs the layer's input: the
    output of the already pre-trained layers below it, computed once in eval mode. Only layer
    ``k``'s parameters (and the throw-away decoder bias) are in the optimiser, so no other layer
    changes. Inputs in [0, 1] are reconstructed through a sigmoid with binary cross-entropy,
    other inputs linearly with mean squared error. The output layer is not pre-trained.

    Args:
        model: an ``nn.Sequential`` such as :class:`~backprop.models.MLP`.
        x: unlabelled inputs ``(N, *)`` (Tensor or array).
        epochs: epochs per layer.
        lr: learning rate (Adam's, or SGD with momentum 0.9).
        batch_size: minibatch size.
        optimizer: ``"adam"``, ``"sgd"`` or a factory ``params -> Optimizer``.
        corruption: masking-noise probability on each layer's input (denoising); 0 disables.
        layers: which hidden layers to pre-train (0 = the first); default all, in order.
        y: labels ``(N,)``; with ``finetune_epochs > 0`` the whole model is then fine-tuned
            with cross-entropy on ``(x, y)``.
        finetune_epochs: supervised epochs after pre-training.
        finetune_lr: fine-tuning learning rate (default ``lr``).

    Returns:
        :class:`PretrainHistory` with the reconstruction losses of every layer and epoch and the
        fine-tuning losses.
    """
    where = "pretrain_layerwise"
    pos, linears = _blocks(model, where)
    data = _as_array(x, where)
    hidden = range(len(linears) - 1)
    chosen = list(hidden) if layers is None else [int(k) for k in layers]
    for k in chosen:
        if k not in hidden:
            raise ValueError(f"{where}: layer {k} is not a hidden layer (0..{len(linears) - 2})")
    if epochs < 0 or batch_size < 1:
        raise ValueError(f"{where}: need epochs >= 0 and batch_size >= 1")
    mods = list(model)
    modes = [(m, m.training) for m in model.modules()]
    losses: list[list[float]] = []
    try:
        for k in chosen:
            below = nn.Sequential(*mods[: pos[k]])
            block = nn.Sequential(*mods[pos[k] : pos[k + 1]])
            model.eval()
            with no_grad():
                inputs = np.concatenate(
                    [below(Tensor(data[i : i + 1024])).data for i in range(0, len(data), 1024)]
                )
            inputs = inputs.reshape(len(inputs), -1)
            # Only this block and the decoder's own bias are trained (the decoder's weight is
            # the block's Linear weight): no other layer can change.
            ae = _LayerAutoencoder(block, TiedLinear(linears[k]), corruption)
            opt = _make_optimizer(optimizer, list(ae.parameters()), lr, where)
            binary = inputs.min() >= 0 and inputs.max() <= 1
            loss_fn = nn.BCEWithLogitsLoss() if binary else nn.MSELoss()
            losses.append(_fit(ae, loss_fn, inputs, inputs, epochs, batch_size, opt))
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    tuned: list[float] = []
    if y is not None and finetune_epochs > 0:
        tuned = finetune(
            model, data, y, epochs=finetune_epochs, lr=lr if finetune_lr is None else finetune_lr,
            batch_size=batch_size, optimizer=optimizer,
        )  # fmt: skip
    return PretrainHistory(losses, tuned)


def finetune(
    model: nn.Module,
    x,
    y,
    *,
    epochs: int = 5,
    lr: float = 1e-3,
    batch_size: int = 64,
    optimizer: str | Callable = "adam",
    on_epoch_end: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Supervised training of every parameter of ``model`` with cross-entropy on ``(x, y)``
    (the fine-tuning stage after :func:`pretrain_layerwise`, or plain training from a random
    initialisation for comparison).

    Args:
        model: the network (its output: logits).
        x: inputs ``(N, *)``; y: integer labels ``(N,)``.
        epochs: passes over the data.
        lr: learning rate (Adam's, or SGD with momentum 0.9).
        batch_size: minibatch size.
        optimizer: ``"adam"``, ``"sgd"`` or a factory ``params -> Optimizer``.
        on_epoch_end: called as ``on_epoch_end(epoch, mean_loss)`` after each epoch (it may
            put the model in eval mode to measure it: the next epoch switches back).

    Returns:
        the mean training loss of each epoch.
    """
    where = "finetune"
    data, labels = _as_array(x, where), _as_array(y, where).astype(np.int64)
    if len(data) != len(labels):
        raise ValueError(f"{where}: {len(data)} inputs but {len(labels)} labels")
    opt = _make_optimizer(optimizer, list(model.parameters()), lr, where)
    was_training = model.training
    try:
        return _fit(model, nn.CrossEntropyLoss(), data, labels, epochs, batch_size, opt,
                    on_epoch_end)  # fmt: skip
    finally:
        model.train(was_training)
