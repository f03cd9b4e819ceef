"""Export rules for sequence layers: RNN/LSTM/GRU (ONNX's own recurrent ops, gates reordered),
MultiheadAttention and the Transformer layers and stacks (composed from MatMul and Softmax)."""

from __future__ import annotations

import math

import numpy as np
from onnx import helper

from .. import nn
from ..functional import activation as FA
from ..nn import transformer as T
from ..tensor import Tensor
from .core import ExportContext, UnsupportedModuleError, Value, register_rule

__all__ = ["causal_mask", "activation"]


def _seq_axes(m) -> list[dict[int, str]]:
    """(N, T, ...) with batch_first, else (T, N, ...): both axes dynamic."""
    bf = m.batch_first if hasattr(m, "batch_first") else m.self_attn.batch_first
    ax = {0: "batch", 1: "sequence"} if bf else {0: "sequence", 1: "batch"}
    return [ax, ax, ax]


# ------------------------------------------------------------------------------ recurrent
# Rows of PyTorch's gate blocks in ONNX's order: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h.
_GATE_ORDER = {"LSTM": (0, 3, 1, 2), "GRU": (1, 0, 2), "RNN_TANH": (0,), "RNN_RELU": (0,)}
_ONNX_OP = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}


def _recurrent(ctx: ExportContext, m, x: Value, hx=None):
    """One ONNX RNN/LSTM/GRU node per layer (both directions in one node). The weights stay
    the state-dict initialisers; a Gather reorders their gate blocks (folded by runtimes)."""
    name = type(m).__name__
    if x.ndim != 3:
        raise UnsupportedModuleError(f"onnx.export: {name}: export a batched (3-D) input, got "
                                     f"shape {x.shape}")  # fmt: skip
    lstm = m.mode == "LSTM"
    D, H = (2 if m.bidirectional else 1), m.hidden_size
    order = np.concatenate([np.arange(g * H, (g + 1) * H) for g in _GATE_ORDER[m.mode]])
    idx = ctx.ints(order, "gate_order")
    seq = ctx.node("Transpose", [x.name], perm=[1, 0, 2]) if m.batch_first else x.name
    h0 = c0 = None
    if hx is not None:
        h0, c0 = (hx[0].name, hx[1].name) if lstm else (hx.name, None)
    attrs = {"hidden_size": H, "direction": "bidirectional" if D == 2 else "forward"}
    if m.mode == "GRU":
        attrs["linear_before_reset"] = 1  # PyTorch's GRU: b_hn inside the reset product
    elif not lstm:
        attrs["activations"] = ["Tanh" if m.mode == "RNN_TANH" else "Relu"] * D
    hs, cs = [], []

    def stacked(parts):
        parts = [ctx.unsqueeze(p, [0]) for p in parts]
        return parts[0] if D == 1 else ctx.node("Concat", parts, axis=0)

    def gather(t):
        return ctx.node("Gather", [ctx.param(t), idx], axis=0)

    for layer in range(m.num_layers):
        ws = [m._weights(layer, d) for d in range(D)]
        W = stacked([gather(w[0]) for w in ws])
        R = stacked([gather(w[1]) for w in ws])
        B = ""
        if ws[0][2] is not None:
            B = stacked([ctx.node("Concat", [gather(w[2]), gather(w[3])], axis=0) for w in ws])
        lo, hi = layer * D, (layer + 1) * D
        init_h = "" if h0 is None else ctx.slice(h0, [lo], [hi], [0])
        inputs = [seq, W, R, B, "", init_h]
        if lstm:
            inputs.append("" if c0 is None else ctx.slice(c0, [lo], [hi], [0]))
        while inputs[-1] == "":
            inputs.pop()
        outs = ctx.node(_ONNX_OP[m.mode], inputs, outputs=3 if lstm else 2, **attrs)
        # Y: (T, D, B, H) -> (T, B, D * H), the next layer's input (eval: no dropout).
        y = ctx.node("Transpose", [outs[0]], perm=[0, 2, 1, 3])
        seq = ctx.reshape(y, [[0, 0, -1]])
        hs.append(outs[1])
        if lstm:
            cs.append(outs[2])
    out = ctx.node("Transpose", [seq], perm=[1, 0, 2]) if m.batch_first else seq
    h_n = hs[0] if len(hs) == 1 else ctx.node("Concat", hs, axis=0)
    if not lstm:
        return out, h_n
    c_n = cs[0] if len(cs) == 1 else ctx.node("Concat", cs, axis=0)
    return out, (h_n, c_n)


for _cls in (nn.RNN, nn.LSTM, nn.GRU):
    register_rule(_cls, axes=_seq_axes)(_recurrent)

_CELL_MODES = {nn.LSTMCell: "LSTM", nn.GRUCell: "GRU"}


def _cell(ctx: ExportContext, m, x: Value, hx=None):
    """One step of RNNCell/LSTMCell/GRUCell: the recurrent op over a sequence of length 1."""
    mode = _CELL_MODES.get(type(m)) or ("RNN_TANH" if m.nonlinearity == "tanh" else "RNN_RELU")
    if x.ndim != 2:
        raise UnsupportedModuleError(f"onnx.export: {type(m).__name__}: export a batched "
                                     f"(2-D) input, got shape {x.shape}")  # fmt: skip
    H = m.hidden_size
    order = np.concatenate([np.arange(g * H, (g + 1) * H) for g in _GATE_ORDER[mode]])
    idx = ctx.ints(order, "gate_order")

    def gather(t):
        return ctx.node("Gather", [ctx.param(t), idx], axis=0)

    def gathered(t):
        return ctx.unsqueeze(gather(t), [0])

    B = ""
    if m.bias_ih is not None:
        both = ctx.node("Concat", [gather(m.bias_ih), gather(m.bias_hh)], axis=0)
        B = ctx.unsqueeze(both, [0])
    states = [] if hx is None else ([hx[0], hx[1]] if mode == "LSTM" else [hx])
    inputs = [ctx.unsqueeze(x.name, [0]), gathered(m.weight_ih), gathered(m.weight_hh), B, ""]
    inputs += [ctx.unsqueeze(s.name, [0]) for s in states]
    while inputs[-1] == "":
        inputs.pop()
    attrs = {"hidden_size": H}
    if mode == "GRU":
        attrs["linear_before_reset"] = 1
    elif mode != "LSTM":
        attrs["activations"] = ["Tanh" if mode == "RNN_TANH" else "Relu"]
    outs = ctx.node(_ONNX_OP[mode], inputs, outputs=3 if mode == "LSTM" else 2, **attrs)
    h = ctx.squeeze(outs[1], [0])  # Y_h: (1, B, H) -> (B, H)
    return (h, ctx.squeeze(outs[2], [0])) if mode == "LSTM" else h


for _cls in (nn.RNNCell, nn.LSTMCell, nn.GRUCell):
    register_rule(_cls)(_cell)


# ------------------------------------------------------------------------------ attention
def causal_mask(ctx: ExportContext, rows: str, cols: str, like: Value) -> str:
    """An additive (L, S) mask, ``-inf`` above the diagonal, built in the graph from the dynamic
    lengths ``rows`` and ``cols`` (int64 1-D tensors of one element)."""
    shape = ctx.node("Concat", [rows, cols], axis=0)
    fill = helper.make_tensor("value", helper.np_dtype_to_tensor_dtype(like.dtype), [1],
                              [float("-inf")])  # fmt: skip
    full = ctx.node("ConstantOfShape", [shape], value=fill)
    return ctx.node("Trilu", [full, ctx.const(np.int64(1), hint="k")], upper=1)


def _additive(ctx, mask, like: Value, what: str) -> str | None:
    """A PyTorch MultiheadAttention mask (bool True = not allowed, or float added) as an
    additive float mask name; a Tensor becomes a constant, a Value stays an input."""
    if mask is None:
        return None
    if isinstance(mask, Tensor):
        a = mask.data
        if a.dtype == np.bool_:
            a = np.where(a, -np.inf, 0.0)
        return ctx.const(a.astype(like.dtype), hint=what)
    if not isinstance(mask, Value):
        raise TypeError(f"onnx.export: MultiheadAttention: {what} must be a Tensor, got {mask!r}")
    if mask.dtype == np.bool_:
        return ctx.node("Where", [mask.name, ctx.scalar(-np.inf, like), ctx.scalar(0.0, like)])
    if mask.dtype != like.dtype:
        return ctx.node("Cast", [mask.name], to=helper.np_dtype_to_tensor_dtype(like.dtype))
    return mask.name


@register_rule(nn.MultiheadAttention, axes=_seq_axes)
def _mha(ctx: ExportContext, m, query, key, value, key_padding_mask=None, need_weights=True,
         attn_mask=None, average_attn_weights=True, is_causal=False):  # fmt: skip
    """PyTorch's MultiheadAttention: projections, heads, ``softmax(q k^T / sqrt(d) + masks)``,
    the output projection; the attention weights as a second output when asked for. With
    ``is_causal`` the causal mask is built in the graph (any sequence length)."""
    if query.ndim != 3:
        raise UnsupportedModuleError(
            f"onnx.export: MultiheadAttention: export batched (3-D) inputs, got {query.shape}"
        )
    E, H, hd = m.embed_dim, m.num_heads, m.head_dim
    dt = query.dtype

    def batch_first(v: Value) -> str:
        return v.name if m.batch_first else ctx.node("Transpose", [v.name], perm=[1, 0, 2])

    q_in = batch_first(query)
    k_in = q_in if key is query else batch_first(key)
    v_in = k_in if value is key else batch_first(value)
    b = m.in_proj_bias
    if m._qkv_same_embed_dim:
        w = ctx.param(m.in_proj_weight)
        ws = [ctx.slice(w, [i * E], [(i + 1) * E], [0]) for i in range(3)]
    else:
        ws = [ctx.param(t) for t in (m.q_proj_weight, m.k_proj_weight, m.v_proj_weight)]
    bs = [None] * 3 if b is None else [ctx.slice(ctx.param(b), [i * E], [(i + 1) * E], [0])
                                       for i in range(3)]  # fmt: skip

    def project(x: str, i: int) -> str:
        y = ctx.node("MatMul", [x, ctx.node("Transpose", [ws[i]], perm=[1, 0])])
        return y if bs[i] is None else ctx.node("Add", [y, bs[i]])

    q, k, v = project(q_in, 0), project(k_in, 1), project(v_in, 2)
    N = ctx.shape_of(q_in, 0, 1)
    L = ctx.shape_of(q_in, 1, 2)
    mask = _additive(ctx, attn_mask, query, "attn_mask")
    if mask is not None and attn_mask.ndim == 3:  # (N * H, L, S) -> (N, H, L, S)
        mask = ctx.reshape(mask, [[-1, H], ctx.shape_of(mask, 1)])
    if is_causal:  # the hint says attn_mask is causal: rebuild it for any length
        mask = causal_mask(ctx, L, ctx.shape_of(k_in, 1, 2), query)
    pad = _additive(ctx, key_padding_mask, query, "key_padding_mask")
    if pad is not None:
        pad = ctx.unsqueeze(pad, [1, 2])  # (N, S) -> (N, 1, 1, S)
    row = ctx.node("Concat", [N, ctx.ints([1, E], "shape")], axis=0)
    extra = []
    if m.bias_k is not None:
        extra.append((ctx.node("Expand", [ctx.param(m.bias_k), row]),
                      ctx.node("Expand", [ctx.param(m.bias_v), row])))  # fmt: skip
    if m.add_zero_attn:
        fill = helper.make_tensor("value", helper.np_dtype_to_tensor_dtype(dt), [1], [0.0])
        z = ctx.node("ConstantOfShape", [row], value=fill)
        extra.append((z, z))
    for ek, ev in extra:
        k = ctx.node("Concat", [k, ek], axis=1)
        v = ctx.node("Concat", [v, ev], axis=1)
        mask, pad = _one_more_key(ctx, mask, dt), _one_more_key(ctx, pad, dt)
    q = ctx.node("Transpose", [ctx.reshape(q, [[0, 0, H, hd]])], perm=[0, 2, 1, 3])
    k = ctx.node("Transpose", [ctx.reshape(k, [[0, 0, H, hd]])], perm=[0, 2, 3, 1])
    v = ctx.node("Transpose", [ctx.reshape(v, [[0, 0, H, hd]])], perm=[0, 2, 1, 3])
    scores = ctx.node("MatMul", [ctx.node("Mul", [q, ctx.scalar(1 / math.sqrt(hd), query)]), k])
    for mk in (mask, pad):
        if mk is not None:
            scores = ctx.node("Add", [scores, mk])
    weights = ctx.node("Softmax", [scores], axis=-1)  # (N, H, L, S)
    out = ctx.node("Transpose", [ctx.node("MatMul", [weights, v])], perm=[0, 2, 1, 3])
    out = ctx.reshape(out, [[0, 0, E]])
    if not m.batch_first:
        out = ctx.node("Transpose", [out], perm=[1, 0, 2])
    out = ctx.linear(out, m.out_proj.weight, m.out_proj.bias)
    if not need_weights:
        return out, None
    if average_attn_weights:
        weights = ctx.reduce("ReduceMean", weights, [1], keepdims=False)
    return out, weights


def _one_more_key(ctx, mask: str | None, dt) -> str | None:
    """Append a 0 column to an additive mask (the extra key every query may see)."""
    if mask is None:
        return None
    zero = ctx.node("Mul", [ctx.slice(mask, [-1], [2**62], [-1]), ctx.const(np.zeros((), dt))])
    return ctx.node("Concat", [mask, zero], axis=-1)


# ------------------------------------------------------------------------------ transformer
def activation(ctx: ExportContext, fn, x: Value) -> Value:
    """A Transformer layer's activation: ``F.relu``, ``F.gelu`` or a Module with a rule."""
    if isinstance(fn, nn.Module):
        return ctx.call(fn, x)
    if fn is FA.relu:
        return Value(ctx.node("Relu", [x.name]), FA.relu(x.tensor))
    if fn is FA.gelu:
        from .rules import gelu

        return Value(gelu(ctx, x), FA.gelu(x.tensor))
    raise UnsupportedModuleError(
        f"onnx.export: Transformer activation {fn!r} is not exported: use 'relu', 'gelu' or a "
        f"Module with a registered rule"
    )


def _ff(ctx, m, x: Value, last_dropout) -> Value:
    h = activation(ctx, m.activation, ctx.call(m.linear1, x))
    return ctx.call(last_dropout, ctx.call(m.linear2, ctx.call(m.dropout, h)))


@register_rule(nn.TransformerEncoderLayer, axes=_seq_axes)
def _encoder_layer(ctx, m, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
    def sa(x):
        out, _ = ctx.call(m.self_attn, x, x, x, attn_mask=src_mask,
                          key_padding_mask=src_key_padding_mask, need_weights=False,
                          is_causal=is_causal)  # fmt: skip
        return ctx.call(m.dropout1, out)

    x = src
    if m.norm_first:
        x = ctx.add(x, sa(ctx.call(m.norm1, x)))
        return ctx.add(x, _ff(ctx, m, ctx.call(m.norm2, x), m.dropout2))
    x = ctx.call(m.norm1, ctx.add(x, sa(x)))
    return ctx.call(m.norm2, ctx.add(x, _ff(ctx, m, x, m.dropout2)))


@register_rule(nn.TransformerDecoderLayer, axes=_seq_axes)
def _decoder_layer(ctx, m, tgt, memory, tgt_mask=None, memory_mask=None,
                   tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=False,
                   memory_is_causal=False):  # fmt: skip
    def sa(x):
        out, _ = ctx.call(m.self_attn, x, x, x, attn_mask=tgt_mask,
                          key_padding_mask=tgt_key_padding_mask, is_causal=tgt_is_causal,
                          need_weights=False)  # fmt: skip
        return ctx.call(m.dropout1, out)

    def mha(x):
        out, _ = ctx.call(m.multihead_attn, x, memory, memory, attn_mask=memory_mask,
                          key_padding_mask=memory_key_padding_mask, is_causal=memory_is_causal,
                          need_weights=False)  # fmt: skip
        return ctx.call(m.dropout2, out)

    x = tgt
    if m.norm_first:
        x = ctx.add(x, sa(ctx.call(m.norm1, x)))
        x = ctx.add(x, mha(ctx.call(m.norm2, x)))
        return ctx.add(x, _ff(ctx, m, ctx.call(m.norm3, x), m.dropout3))
    x = ctx.call(m.norm1, ctx.add(x, sa(x)))
    x = ctx.call(m.norm2, ctx.add(x, mha(x)))
    return ctx.call(m.norm3, ctx.add(x, _ff(ctx, m, x, m.dropout3)))


def _detect_causal(mask, is_causal, x: Value, batch_first: bool) -> bool:
    """The stacks' rule (``is_causal=None``: is ``mask`` the causal mask?) on the example."""
    if isinstance(mask, Value):
        return bool(is_causal)
    seq = x.shape[1 if batch_first and x.ndim == 3 else 0]
    return T._is_causal_mask(mask, is_causal, seq)


@register_rule(nn.TransformerEncoder, axes=lambda m: _seq_axes(m.layers[0]))
def _encoder(ctx, m, src, mask=None, src_key_padding_mask=None, is_causal=None):
    causal = _detect_causal(mask, is_causal, src, m.layers[0].self_attn.batch_first)
    x = src
    for layer in m.layers:
        x = ctx.call(layer, x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                     is_causal=causal)  # fmt: skip
    return x if m.norm is None else ctx.call(m.norm, x)


@register_rule(nn.TransformerDecoder, axes=lambda m: _seq_axes(m.layers[0]))
def _decoder(ctx, m, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
             memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):  # fmt: skip
    causal = _detect_causal(tgt_mask, tgt_is_causal, tgt, m.layers[0].self_attn.batch_first)
    x = tgt
    for layer in m.layers:
        x = ctx.call(layer, x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                     tgt_key_padding_mask=tgt_key_padding_mask,
                     memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=causal,
                     memory_is_causal=memory_is_causal)  # fmt: skip
    return x if m.norm is None else ctx.call(m.norm, x)


@register_rule(nn.Transformer, axes=_seq_axes)
def _transformer(ctx, m, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                 src_key_padding_mask=None, tgt_key_padding_mask=None,
                 memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                 memory_is_causal=False):  # fmt: skip
    memory = ctx.call(m.encoder, src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=src_is_causal)  # fmt: skip
    return ctx.call(m.decoder, tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                    tgt_key_padding_mask=tgt_key_padding_mask,
                    memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                    memory_is_causal=memory_is_causal)  # fmt: skip
