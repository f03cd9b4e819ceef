"""Export rules for the layers of ``backprop.nn``: one small function per Module type.

Each rule mirrors the layer's forward in eval mode with ONNX nodes. Where ONNX's operator and
PyTorch's layer disagree on a detail, the rule says how it bridges it (ceil-mode windows, the
divisor of average pooling, GELU before opset 20, ...). Layers with no ONNX operator of their
own (RBF, Step, Softplus' threshold, RMSNorm) are composed from primitives.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from ..functional.conv import _padding, ntuple
from ..nn import activation as act
from ..nn import conv_transpose as ct
from ..nn import normalization as norm
from ..nn import padding as pad_layers
from ..nn import pool3d, pooling
from .core import ExportContext, UnsupportedModuleError, Value, register_rule

__all__: list[str] = []


def _refuse(module, why: str) -> UnsupportedModuleError:
    return UnsupportedModuleError(f"onnx.export: {type(module).__name__}: {why}")


# ------------------------------------------------------------------------------ containers
@register_rule(nn.Sequential)
def _sequential(ctx: ExportContext, m, x):
    for child in m:
        x = ctx.call(child, x)
    return x


@register_rule(nn.Identity)
def _identity(ctx, m, x, *args, **kwargs):
    return ctx.node("Identity", [x.name])


@register_rule(nn.Dropout)
def _dropout(ctx, m, x):
    return ctx.node("Identity", [x.name])  # eval mode: dropout is the identity


# ------------------------------------------------------------------------------ linear
@register_rule(nn.Linear)
def _linear(ctx, m, x):
    if x.ndim == 2:  # one Gemm node: what runtimes fuse best
        inputs = [x.name, ctx.param(m.weight)]
        if m.bias is not None:
            inputs.append(ctx.param(m.bias))
        return ctx.node("Gemm", inputs, transB=1)
    return ctx.linear(x.name, m.weight, m.bias)


@register_rule(nn.RBF)
def _rbf(ctx, m, x):
    """``exp(-||x - c||^2 / (2 sigma^2))`` via ``|x|^2 - 2 x.c + |c|^2`` as the layer computes."""
    x2 = ctx.reduce("ReduceSum", ctx.node("Mul", [x.name, x.name]), [-1], keepdims=True)
    c = ctx.param(m.centres)
    c2 = ctx.reduce("ReduceSum", ctx.node("Mul", [c, c]), [-1], keepdims=False)
    xc = ctx.node("MatMul", [x.name, ctx.node("Transpose", [c], perm=[1, 0])])
    d2 = ctx.node("Add", [ctx.node("Sub", [x2, ctx.node("Mul", [xc, ctx.scalar(2.0, x)])]), c2])
    d2 = ctx.node("Max", [d2, ctx.scalar(0.0, x)])
    inv = ctx.node("Mul", [ctx.node("Exp", [ctx.node("Mul", [ctx.param(m.log_sigma),
                                                             ctx.scalar(-2.0, x)])]),
                           ctx.scalar(-0.5, x)])  # fmt: skip
    return ctx.node("Exp", [ctx.node("Mul", [d2, inv])])


# ------------------------------------------------------------------------------ activations
def _unary(op_type: str, **attrs):
    def rule(ctx, m, x):
        return ctx.node(op_type, [x.name], **{k: f(m) for k, f in attrs.items()})

    return rule


register_rule(act.ReLU)(_unary("Relu"))
register_rule(act.Sigmoid)(_unary("Sigmoid"))
register_rule(act.Tanh)(_unary("Tanh"))
register_rule(act.LeakyReLU)(_unary("LeakyRelu", alpha=lambda m: float(m.negative_slope)))
register_rule(act.ELU)(_unary("Elu", alpha=lambda m: float(m.alpha)))


@register_rule(act.SiLU)
def _silu(ctx, m, x):
    return ctx.node("Mul", [x.name, ctx.node("Sigmoid", [x.name])])


def gelu(ctx: ExportContext, x: Value, approximate: str = "none") -> str:
    """GELU: the ``Gelu`` op from opset 20, else its two textbook forms from primitives."""
    if ctx.opset >= 20:
        return ctx.node("Gelu", [x.name], approximate=approximate)
    half = ctx.scalar(0.5, x)
    one = ctx.scalar(1.0, x)
    if approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        x3 = ctx.node("Mul", [ctx.node("Mul", [x.name, x.name]), x.name])
        inner = ctx.node("Add", [x.name, ctx.node("Mul", [x3, ctx.scalar(0.044715, x)])])
        t = ctx.node("Tanh", [ctx.node("Mul", [inner, ctx.scalar(math.sqrt(2 / math.pi), x)])])
    else:  # 0.5 x (1 + erf(x / sqrt(2)))
        t = ctx.node("Erf", [ctx.node("Mul", [x.name, ctx.scalar(1 / math.sqrt(2), x)])])
    return ctx.node("Mul", [ctx.node("Mul", [x.name, half]), ctx.node("Add", [t, one])])


@register_rule(act.GELU)
def _gelu(ctx, m, x):
    return gelu(ctx, x, m.approximate)


@register_rule(act.Softplus)
def _softplus(ctx, m, x):
    """PyTorch's softplus reverts to the identity where ``beta x > threshold``."""
    beta = float(m.beta)
    bx = x.name if beta == 1.0 else ctx.node("Mul", [x.name, ctx.scalar(beta, x)])
    soft = ctx.node("Softplus", [bx])
    if beta != 1.0:
        soft = ctx.node("Div", [soft, ctx.scalar(beta, x)])
    big = ctx.node("Greater", [bx, ctx.scalar(float(m.threshold), x)])
    return ctx.node("Where", [big, x.name, soft])


@register_rule(act.Threshold)
def _threshold(ctx, m, x):
    keep = ctx.node("Greater", [x.name, ctx.scalar(float(m.threshold), x)])
    return ctx.node("Where", [keep, x.name, ctx.scalar(float(m.value), x)])


@register_rule(act.Step)
def _step(ctx, m, x):
    """The lectures' step unit (no ONNX op): ``Cast(x > threshold)`` to the input's dtype."""
    on = ctx.node("Greater", [x.name, ctx.scalar(float(m.threshold), x)])
    return ctx.node("Cast", [on], to=_elem(x))


@register_rule(act.Hardtanh)
def _hardtanh(ctx, m, x):
    return ctx.node("Clip", [x.name, ctx.scalar(m.min_val, x), ctx.scalar(m.max_val, x)])


@register_rule(act.ReLU6)
def _relu6(ctx, m, x):
    return ctx.node("Clip", [x.name, ctx.scalar(0.0, x), ctx.scalar(6.0, x)])


# PyTorch's hardsigmoid is relu6(x + 3) / 6: ONNX's HardSigmoid with alpha 1/6, beta 1/2.
register_rule(act.Hardsigmoid)(_unary("HardSigmoid", alpha=lambda m: 1 / 6, beta=lambda m: 0.5))
register_rule(act.Hardswish)(_unary("HardSwish"))
register_rule(act.SELU)(_unary("Selu"))  # ONNX's default alpha and gamma are PyTorch's constants
register_rule(act.CELU)(_unary("Celu", alpha=lambda m: float(m.alpha)))
register_rule(act.Softsign)(_unary("Softsign"))
register_rule(act.Softshrink)(_unary("Shrink", lambd=lambda m: float(m.lambd),
                                     bias=lambda m: float(m.lambd)))  # fmt: skip
register_rule(act.Hardshrink)(_unary("Shrink", lambd=lambda m: float(m.lambd),
                                     bias=lambda m: 0.0))  # fmt: skip


@register_rule(act.Mish)
def _mish(ctx, m, x):
    if ctx.opset >= 18:
        return ctx.node("Mish", [x.name])
    return ctx.node("Mul", [x.name, ctx.node("Tanh", [ctx.node("Softplus", [x.name])])])


@register_rule(act.LogSigmoid)
def _log_sigmoid(ctx, m, x):
    return ctx.node("Neg", [ctx.node("Softplus", [ctx.node("Neg", [x.name])])])  # -softplus(-x)


@register_rule(act.Tanhshrink)
def _tanhshrink(ctx, m, x):
    return ctx.node("Sub", [x.name, ctx.node("Tanh", [x.name])])


@register_rule(act.PReLU)
def _prelu(ctx, m, x):
    # One slope per channel (dim 1): shaped (C, 1, ..., 1) to broadcast against (N, C, *).
    slope = ctx.param(m.weight)
    if m.num_parameters > 1 and x.ndim > 2:
        slope = ctx.reshape(slope, [[m.num_parameters] + [1] * (x.ndim - 2)])
    return ctx.node("PRelu", [x.name, slope])


@register_rule(act.GLU)
def _glu(ctx, m, x):
    d = m.dim % x.ndim
    half = x.shape[d] // 2
    a = ctx.slice(x.name, [0], [half], [d])
    b = ctx.slice(x.name, [half], [2 * half], [d])
    return ctx.node("Mul", [a, ctx.node("Sigmoid", [b])])


def _elem(x: Value) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(x.dtype)


def _softmax_dim(m, x: Value) -> int:
    if m.dim is not None:
        return int(m.dim)
    return 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit dim (forward warns)


@register_rule(act.Softmax)
def _softmax(ctx, m, x):
    return ctx.node("Softmax", [x.name], axis=_softmax_dim(m, x))


@register_rule(act.LogSoftmax)
def _log_softmax(ctx, m, x):
    return ctx.node("LogSoftmax", [x.name], axis=_softmax_dim(m, x))


# ------------------------------------------------------------------------------ shapes
@register_rule(nn.Flatten)
def _flatten(ctx, m, x):
    nd = x.ndim
    start, end = m.start_dim % nd, m.end_dim % nd
    if start >= end:
        return ctx.node("Identity", [x.name])
    pieces = [[0] * start, [-1]]  # 0 copies a leading dim (dynamic batch kept)
    if end < nd - 1:
        pieces.append(ctx.shape_of(x.name, end + 1))
    return ctx.reshape(x.name, pieces)


@register_rule(nn.Unflatten)
def _unflatten(ctx, m, x):
    d = m.dim % x.ndim
    pieces = [] if d == 0 else [ctx.shape_of(x.name, 0, d)]
    pieces.append(list(m.unflattened_size))
    if d < x.ndim - 1:
        pieces.append(ctx.shape_of(x.name, d + 1))
    return ctx.reshape(x.name, pieces)


@register_rule(nn.Embedding)
def _embedding(ctx, m, x):
    if m.max_norm is not None:
        raise _refuse(m, "max_norm renormalises the table during forward; export without it")
    return ctx.node("Gather", [ctx.param(m.weight), x.name], axis=0)


# ------------------------------------------------------------------------------ normalisation
@register_rule(norm._BatchNorm)
def _batch_norm(ctx, m, x):
    C = m.num_features
    w = ctx.param(m.weight) if m.weight is not None else ctx.const(np.ones(C, x.dtype), hint="one")
    b = ctx.param(m.bias) if m.bias is not None else ctx.const(np.zeros(C, x.dtype), hint="zero")
    if m.running_mean is not None:
        inputs = [x.name, w, b, ctx.param(m.running_mean), ctx.param(m.running_var)]
        return ctx.node("BatchNormalization", inputs, epsilon=float(m.eps))
    # No running statistics: eval mode normalises with the batch's own (biased) statistics.
    axes = [0] + list(range(2, x.ndim))
    mean = ctx.reduce("ReduceMean", x.name, axes)
    d = ctx.node("Sub", [x.name, mean])
    var = ctx.reduce("ReduceMean", ctx.node("Mul", [d, d]), axes)
    y = ctx.node("Div", [d, ctx.node("Sqrt", [ctx.node("Add", [var, ctx.scalar(m.eps, x)])])])
    shape = ctx.ints([C] + [1] * (x.ndim - 2), "shape")
    y = ctx.node("Mul", [y, ctx.node("Reshape", [w, shape])])
    return ctx.node("Add", [y, ctx.node("Reshape", [b, shape])])


@register_rule(nn.LayerNorm)
def _layer_norm(ctx, m, x):
    k = len(m.normalized_shape)
    scale = (
        ctx.param(m.weight)
        if m.weight is not None
        else ctx.const(np.ones(m.normalized_shape, x.dtype), hint="one")
    )
    inputs = [x.name, scale] + ([ctx.param(m.bias)] if m.bias is not None else [])
    return ctx.node("LayerNormalization", inputs, axis=-k, epsilon=float(m.eps))


@register_rule(nn.GroupNorm)
def _group_norm(ctx, m, x):
    """(N, C, *) -> (N, G, C/G * prod(*)), LayerNormalization over the last axis (one op in
    every opset from 17; GroupNormalization changed meaning at 21), back, per-channel affine."""
    G = m.num_groups
    k = x.tensor.data.size // (x.shape[0] * G)
    y = ctx.reshape(x.name, [[0, G, -1]])
    one = ctx.const(np.ones(k, x.dtype), hint="one")
    y = ctx.node("LayerNormalization", [y, one], axis=-1, epsilon=float(m.eps))
    y = ctx.reshape(y, [ctx.shape_of(x.name)])
    if m.weight is None:
        return y
    shape = ctx.ints([m.num_channels] + [1] * (x.ndim - 2), "shape")
    y = ctx.node("Mul", [y, ctx.node("Reshape", [ctx.param(m.weight), shape])])
    return ctx.node("Add", [y, ctx.node("Reshape", [ctx.param(m.bias), shape])])


@register_rule(nn.RMSNorm)
def _rms_norm(ctx, m, x):
    k = len(m.normalized_shape)
    eps = float(np.finfo(x.dtype).eps) if m.eps is None else m.eps
    ms = ctx.reduce("ReduceMean", ctx.node("Mul", [x.name, x.name]), list(range(-k, 0)))
    rms = ctx.node("Sqrt", [ctx.node("Add", [ms, ctx.scalar(eps, x)])])
    y = ctx.node("Div", [x.name, rms])
    return y if m.weight is None else ctx.node("Mul", [y, ctx.param(m.weight)])


# ------------------------------------------------------------------------------ convolution
_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_node(ctx, m, x: Value, pads, mode: str, value=0.0) -> str:
    """``Pad`` over the trailing ``len(pads)`` axes; ``pads``: ((before, after), ...)."""
    if mode == "wrap" and ctx.opset < 19:
        raise _refuse(m, f"circular padding needs opset >= 19 (Pad mode 'wrap'); got {ctx.opset}")
    lead = x.ndim - len(pads)
    befores = [0] * lead + [p[0] for p in pads]
    afters = [0] * lead + [p[1] for p in pads]
    inputs = [x.name, ctx.ints(befores + afters, "pads")]
    if mode == "constant":
        inputs.append(ctx.scalar(value, x))
    return ctx.node("Pad", inputs, mode=mode)


def _conv(ctx, m, x):
    """Conv1d/2d/3d: groups, dilation, 'same' padding (PyTorch puts an odd extra after) and the
    non-zero padding modes (one Pad node first)."""
    nd = len(m.kernel_size)
    if x.ndim != nd + 2:
        raise _refuse(m, f"export a batched input (N, C, ...), got shape {x.shape}")
    pads = _padding(m.padding, m.kernel_size, m.stride, m.dilation, type(m).__name__)
    src = x.name
    if m.padding_mode != "zeros" and any(p != (0, 0) for p in pads):
        src = _pad_node(ctx, m, x, pads, _PAD_MODES[m.padding_mode])
        pads = ((0, 0),) * nd
    inputs = [src, ctx.param(m.weight)] + ([ctx.param(m.bias)] if m.bias is not None else [])
    return ctx.node(
        "Conv", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
        dilations=list(m.dilation), group=int(m.groups),
        pads=[p[0] for p in pads] + [p[1] for p in pads],
    )  # fmt: skip


for _cls in (nn.Conv1d, nn.Conv2d, nn.Conv3d):
    register_rule(_cls)(_conv)


@register_rule(ct._ConvTransposeNd)
def _conv_transpose(ctx, m, x):
    nd = len(m.kernel_size)
    if x.ndim != nd + 2:
        raise _refuse(m, f"export a batched input (N, C, ...), got shape {x.shape}")
    inputs = [x.name, ctx.param(m.weight)] + ([ctx.param(m.bias)] if m.bias is not None else [])
    return ctx.node(
        "ConvTranspose", inputs, kernel_shape=list(m.kernel_size), strides=list(m.stride),
        dilations=list(m.dilation), group=int(m.groups), pads=list(m.padding) * 2,
        output_padding=list(m.output_padding),
    )  # fmt: skip


@register_rule(pad_layers._PadNd)
def _pad_layer(ctx, m, x):
    # padding lists (before, after) from the LAST dim, as F.pad; ONNX wants first-to-last.
    p = list(m.padding)
    pairs = [(p[i], p[i + 1]) for i in range(0, len(p), 2)][::-1]
    if any(a < 0 or b < 0 for a, b in pairs):
        raise _refuse(m, f"negative padding (cropping) is not exported, got {m.padding}")
    mode = {"constant": "constant", **_PAD_MODES}[m._mode]
    return _pad_node(ctx, m, x, pairs, mode, float(getattr(m, "value", 0.0) or 0.0))


# ------------------------------------------------------------------------------ pooling
def _window(m, x: Value, nd: int):
    op = type(m).__name__
    k = ntuple(m.kernel_size, nd, "kernel_size", op, 1)
    s = ntuple(m.stride, nd, "stride", op, 1)
    p = ntuple(m.padding, nd, "padding", op, 0)
    d = ntuple(getattr(m, "dilation", 1), nd, "dilation", op, 1)
    return k, s, p, d


def _ceil_extra(x: Value, out: tuple, k, s, p, d) -> list[int]:
    """Extra right padding so that floor-mode ONNX windows give PyTorch's output size (read
    from backprop's own output): ceil_mode's last partial window, without ONNX's ceil rule."""
    nd = len(k)
    extra = []
    for a in range(nd):
        n = x.shape[x.ndim - nd + a]
        need = (out[a] - 1) * s[a] + d[a] * (k[a] - 1) + 1
        extra.append(max(0, need - (n + 2 * p[a])))
    return extra


def _out_spatial(m, x: Value, nd: int) -> tuple:
    from ..autograd.grad_mode import no_grad

    with no_grad():
        y = m(x.tensor)
    return y.shape[-nd:]


def _max_pool(ctx, m, x):
    nd = x.ndim - 2
    if m.return_indices:
        raise _refuse(m, "return_indices=True (ONNX MaxPool's indices are not PyTorch's)")
    k, s, p, d = _window(m, x, nd)
    extra = _ceil_extra(x, _out_spatial(m, x, nd), k, s, p, d)
    return ctx.node(
        "MaxPool", [x.name], kernel_shape=list(k), strides=list(s), dilations=list(d),
        pads=list(p) + [a + e for a, e in zip(p, extra)],
    )  # fmt: skip


def _avg_pool(ctx, m, x):
    """PyTorch's divisor: with count_include_pad the padded cells count but ceil mode's extra
    ones do not, so the padding is made explicit (zeros) and ONNX then excludes only the
    extra cells; divisor_override rescales full windows."""
    nd = x.ndim - 2
    k, s, p, _ = _window(m, x, nd)
    extra = _ceil_extra(x, _out_spatial(m, x, nd), k, s, p, (1,) * nd)
    src = x.name
    attrs = dict(kernel_shape=list(k), strides=list(s))
    if m.divisor_override:
        src = _pad_node(ctx, m, x, [(a, a + e) for a, e in zip(p, extra)], "constant")
        y = ctx.node("AveragePool", [src], pads=[0] * (2 * nd), **attrs)
        ratio = math.prod(k) / float(m.divisor_override)
        return ctx.node("Mul", [y, ctx.scalar(ratio, x)])
    if m.count_include_pad and any(p):
        src = _pad_node(ctx, m, x, [(a, a) for a in p], "constant")
        pads = [0] * nd + list(extra)
    else:
        pads = list(p) + [a + e for a, e in zip(p, extra)]
    return ctx.node("AveragePool", [src], pads=pads, count_include_pad=0, **attrs)


for _cls in (pooling._MaxPoolNd, pool3d.MaxPool3d):
    register_rule(_cls)(_max_pool)
for _cls in (pooling._AvgPoolNd, pool3d.AvgPool3d):
    register_rule(_cls)(_avg_pool)


def _adaptive(ctx, m, x, reduce_op: str, pool_op: str):
    """PyTorch's adaptive windows ``[floor(i L / n), ceil((i + 1) L / n))``: one pool node when
    every axis divides evenly, else per axis a Slice + Reduce per output cell (the windows are a
    product of per-axis intervals, so mean and max separate by axis)."""
    if getattr(m, "return_indices", False):
        raise _refuse(m, "return_indices=True is not exported")
    nd = x.ndim - 2
    size = m.output_size if isinstance(m.output_size, (tuple, list)) else (m.output_size,) * nd
    ins = x.shape[2:]
    outs = [ins[a] if size[a] is None else int(size[a]) for a in range(nd)]
    if all(o == 1 for o in outs):
        return ctx.node("Global" + pool_op, [x.name])
    if all(n % o == 0 for n, o in zip(ins, outs)):
        kern = [n // o for n, o in zip(ins, outs)]
        return ctx.node(pool_op, [x.name], kernel_shape=kern, strides=kern)
    y = x.name
    for a in range(nd):
        n, o, axis = ins[a], outs[a], 2 + a
        if n == o:
            continue
        cells = []
        for i in range(o):
            lo, hi = (i * n) // o, -((-(i + 1) * n) // o)
            cells.append(ctx.reduce(reduce_op, ctx.slice(y, [lo], [hi], [axis]), [axis]))
        y = ctx.node("Concat", cells, axis=axis)
    return y


register_rule(pooling._AdaptiveAvgPoolNd)(
    lambda ctx, m, x: _adaptive(ctx, m, x, "ReduceMean", "AveragePool")
)
register_rule(pooling._AdaptiveMaxPoolNd)(
    lambda ctx, m, x: _adaptive(ctx, m, x, "ReduceMax", "MaxPool")
)


# ------------------------------------------------------------------------------ resizing
@register_rule(nn.PixelShuffle)
def _pixel_shuffle(ctx, m, x):
    return ctx.node("DepthToSpace", [x.name], blocksize=int(m.upscale_factor), mode="CRD")


@register_rule(nn.PixelUnshuffle)
def _pixel_unshuffle(ctx, m, x):
    # PyTorch's channel order is c * r^2 + i * r + j (ONNX's SpaceToDepth puts c last): reshape.
    r = int(m.downscale_factor)
    C, H, W = x.shape[1:]
    y = ctx.reshape(x.name, [[0, C, H // r, r, W // r, r]])
    y = ctx.node("Transpose", [y], perm=[0, 1, 3, 5, 2, 4])
    return ctx.reshape(y, [[0, C * r * r, H // r, W // r]])


@register_rule(nn.Upsample)
def _upsample(ctx, m, x):
    """Nearest (PyTorch's floor rule) and (bi)linear resizing to the example's output size."""
    nd = x.ndim - 2
    out = _out_spatial(m, x, nd)
    modes = {"nearest": ("nearest", "asymmetric", "floor"),
             "nearest-exact": ("nearest", "half_pixel", "round_prefer_ceil"),
             "linear": ("linear", None, None), "bilinear": ("linear", None, None),
             "trilinear": ("linear", None, None)}  # fmt: skip
    if m.mode not in modes:
        raise _refuse(m, f"mode {m.mode!r} is not exported (nearest, nearest-exact, linear)")
    mode, coord, nearest = modes[m.mode]
    if mode == "linear":
        coord = "align_corners" if m.align_corners else "pytorch_half_pixel"
    sizes = ctx.node("Concat", [ctx.shape_of(x.name, 0, 2), ctx.ints(out, "sizes")], axis=0)
    return ctx.node(
        "Resize", [x.name, "", "", sizes], mode=mode, coordinate_transformation_mode=coord,
        nearest_mode=nearest,
    )  # fmt: skip
