"""Export rules for the model zoo: one rule per family, mirroring its forward with ``ctx.call``
on the children (their own rules emit the nodes) and a few nodes between them."""

from __future__ import annotations

import numpy as np

from .. import models
from ..functional import cat
from ..models import resnet
from ..models import rnn as zoo_rnn
from .core import ExportContext, UnsupportedModuleError, Value, register_rule
from .rules import _pad_node

try:  # GPT joins the zoo in its own change; export it wherever it exists
    from ..models import gpt
except ImportError:  # pragma: no cover - a checkout without the GPT family
    gpt = None

__all__: list[str] = []

_TOKENS = [{0: "batch", 1: "sequence"}, {0: "batch", 1: "sequence"}]


def _chain(ctx: ExportContext, m, x):
    """Models whose forward applies their children in registration order."""
    for child in m.children():
        x = ctx.call(child, x)
    return x


# LeNet-5, DigitsCNN, AlexNet and VGG: ``classifier(features(x))``; GPT's MLP: c_fc, gelu,
# c_proj, dropout.
for _cls in (models.LeNet5, models.DigitsCNN, models.AlexNet, models.VGG):
    register_rule(_cls)(_chain)


@register_rule(models.Perceptron)
def _perceptron(ctx, m, x):
    return ctx.linear(x.name, m.weight, m.bias)  # the scores x W^T + b (fit's rule aside)


# ------------------------------------------------------------------------------ ResNet
@register_rule(resnet._PadShortcut)
def _pad_shortcut(ctx, m, x):
    y = x.name
    if m.stride > 1:
        y = ctx.slice(y, [0, 0], [2**62, 2**62], [2, 3], [m.stride, m.stride])
    if not (m.before or m.after):
        return y if y != x.name else ctx.node("Identity", [y])
    return _pad_node(ctx, m, Value(y, x.tensor), [(m.before, m.after), (0, 0), (0, 0)],
                     "constant")  # fmt: skip


@register_rule(models.BasicBlock)
def _basic_block(ctx, m, x):
    identity = x if m.downsample is None else ctx.call(m.downsample, x)
    out = ctx.call(m.relu, ctx.call(m.bn1, ctx.call(m.conv1, x)))
    out = ctx.call(m.bn2, ctx.call(m.conv2, out))
    return ctx.call(m.relu, ctx.add(out, identity))


@register_rule(models.ResNet)
def _resnet(ctx, m, x):
    x = ctx.call(m.relu, ctx.call(m.bn1, ctx.call(m.conv1, x)))
    if m.maxpool is not None:
        x = ctx.call(m.maxpool, x)
    for i in range(m.num_stages):
        x = ctx.call(getattr(m, f"layer{i + 1}"), x)
    x = ctx.call(m.avgpool, x)
    flat = Value(ctx.reshape(x.name, [[0, -1]]), x.tensor.flatten(1))
    return ctx.call(m.fc, flat)


# ------------------------------------------------------------------------------ autoencoder
@register_rule(models.TiedLinear)
def _tied_linear(ctx, m, h):
    # y = h W + c with W the encoder's own (hidden, visible) weight: one initialiser, two uses.
    return ctx.linear(h.name, m.weight, m.bias, transposed=True)


@register_rule(models.TiedAutoencoder)
def _tied_autoencoder(ctx, m, x):
    h = x
    if x.ndim > 2:
        h = Value(ctx.reshape(x.name, [[0, -1]]), x.tensor.flatten(1))
    for lin, act in zip(m.encoder, m.encoder_act):
        h = ctx.call(act, ctx.call(lin, h))
    for lin, act in zip(m.decoder, m.decoder_act):
        h = ctx.call(act, ctx.call(lin, h))
    return h


# ------------------------------------------------------------------------------ recurrent zoo
def _one_hot(ctx, ids: Value, depth: int) -> Value:
    """Ids (N, T) -> one-hot float32 (N, T, depth), as the models' data transform."""
    values = ctx.const(np.array([0.0, 1.0], np.float32), hint="onehot_values")
    name = ctx.node("OneHot", [ids.name, ctx.const(np.int64(depth), hint="depth"), values],
                    axis=-1)  # fmt: skip
    return Value(name, zoo_rnn._one_hot(ids.tensor, depth))


def _last_hidden(ctx, state, bidirectional: bool) -> Value:
    """The top layer's final hidden state (N, H * directions) from h_n (or (h_n, c_n))."""
    h = state[0] if isinstance(state, tuple) else state

    def pick(i: int) -> str:
        return ctx.node("Gather", [h.name, ctx.const(np.int64(i), hint="index")], axis=0)

    if bidirectional:
        return Value(ctx.node("Concat", [pick(-2), pick(-1)], axis=1),
                     cat([h.tensor[-2], h.tensor[-1]], dim=1))  # fmt: skip
    return Value(pick(-1), h.tensor[-1])


def _int_ids(x: Value, where: str) -> None:
    if x.dtype.kind not in "iu":
        raise UnsupportedModuleError(f"onnx.export: {where}: token ids must be integers, got "
                                     f"{x.dtype}")  # fmt: skip


@register_rule(models.SequenceClassifier, axes=lambda m: _TOKENS)
def _sequence_classifier(ctx, m, x):
    if m.tokens:
        _int_ids(x, "SequenceClassifier")
        x = _one_hot(ctx, x, m.input_size)
    _, state = ctx.call(m.rnn, x)
    return ctx.call(m.fc, _last_hidden(ctx, state, m.bidirectional))


@register_rule(models.CharRNN, axes=lambda m: _TOKENS)
def _char_rnn(ctx, m, ids, state=None):
    _int_ids(ids, "CharRNN")
    out, state = ctx.call(m.rnn, _one_hot(ctx, ids, m.vocab_size), state)
    return ctx.call(m.fc, out), state


@register_rule(models.Seq2Seq, axes=lambda m: _TOKENS)
def _seq2seq(ctx, m, src, tgt_in):
    _int_ids(src, "Seq2Seq")
    _int_ids(tgt_in, "Seq2Seq")
    _, state = ctx.call(m.encoder, _one_hot(ctx, src, m.src_vocab))
    context = _last_hidden(ctx, state, False)  # (N, H), fed to every decoder step
    x = _one_hot(ctx, tgt_in, m.tgt_vocab)
    H = context.shape[1]
    shape = ctx.node("Concat", [ctx.shape_of(x.name, 0, 2), ctx.ints([H], "hidden")], axis=0)
    expanded = ctx.node("Expand", [ctx.unsqueeze(context.name, [1]), shape])
    n, t = x.shape[0], x.shape[1]
    joined = Value(
        ctx.node("Concat", [x.name, expanded], axis=2),
        cat([x.tensor, context.tensor.unsqueeze(1).expand(n, t, H)], dim=2),
    )
    out, _ = ctx.call(m.decoder, joined, state)
    return ctx.call(m.fc, out)


# ------------------------------------------------------------------------------ GPT
if gpt is not None:
    register_rule(gpt._MLP)(_chain)  # c_fc, gelu, c_proj, dropout

    @register_rule(gpt._CausalSelfAttention)
    def _causal_self_attention(ctx, m, x):
        from .rules_seq import causal_mask

        H, C = m.n_head, m.n_embd
        hd = C // H
        qkv = ctx.linear(x.name, m.c_attn.weight, m.c_attn.bias)
        # (B, T, 3C) -> (3, B, H, T, hd), as the forward's reshape + permute
        qkv = ctx.node("Transpose", [ctx.reshape(qkv, [[0, 0, 3, H, hd]])], perm=[2, 0, 3, 1, 4])
        q, k, v = (ctx.node("Gather", [qkv, ctx.const(np.int64(i), hint="index")], axis=0)
                   for i in range(3))  # fmt: skip
        kt = ctx.node("Transpose", [k], perm=[0, 1, 3, 2])
        scores = ctx.node("MatMul", [q, kt])
        scores = ctx.node("Mul", [scores, ctx.scalar(1.0 / np.sqrt(hd), x)])
        T = ctx.shape_of(x.name, 1, 2)
        scores = ctx.node("Add", [scores, causal_mask(ctx, T, T, x)])
        y = ctx.node("MatMul", [ctx.node("Softmax", [scores], axis=-1), v])  # (B, H, T, hd)
        y = ctx.reshape(ctx.node("Transpose", [y], perm=[0, 2, 1, 3]), [[0, 0, C]])
        return ctx.linear(y, m.c_proj.weight, m.c_proj.bias)  # resid_dropout: eval identity

    @register_rule(gpt._Block)
    def _gpt_block(ctx, m, x):
        x = ctx.add(x, ctx.call(m.attn, ctx.call(m.ln_1, x)))
        return ctx.add(x, ctx.call(m.mlp, ctx.call(m.ln_2, x)))

    @register_rule(gpt.GPT, axes=lambda m: _TOKENS)
    def _gpt(ctx, m, idx, targets=None):
        if targets is not None:
            raise UnsupportedModuleError("onnx.export: GPT: export the logits only (no targets)")
        _int_ids(idx, "GPT")
        tok = ctx.call(m.wte, idx)
        T = ctx.squeeze(ctx.shape_of(idx.name, 1, 2), [0])
        zero, one = (ctx.const(np.int64(v), hint="range") for v in (0, 1))
        pos = ctx.node(
            "Gather", [ctx.param(m.wpe.weight), ctx.node("Range", [zero, T, one])], axis=0
        )
        x = ctx.add(tok, Value(pos, m.wpe.weight[: idx.shape[1]].detach()))
        x = ctx.call(m.drop, x)
        for block in m.blocks:
            x = ctx.call(block, x)
        return ctx.call(m.lm_head, ctx.call(m.ln_f, x))
