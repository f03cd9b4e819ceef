"""Every layer of backprop.nn with an ONNX form: exported, run in ONNX Runtime at two batch sizes,
compared with backprop's eval-mode forward (float32, 1e-5)."""

from __future__ import annotations

import numpy as np
import pytest

import backprop
from backprop import nn


def _randn(*shape):
    def make(n):
        rng = np.random.default_rng(n)
        return (rng.standard_normal((n, *shape)).astype(np.float32),)

    return make


def _bn_with_stats(bn):
    # Non-trivial running statistics and affine parameters, as after training.
    rng = np.random.default_rng(1)
    C = bn.num_features
    if bn.running_mean is not None:
        bn.running_mean.data[...] = rng.standard_normal(C)
        bn.running_var.data[...] = rng.uniform(0.5, 2.0, C)
    if bn.weight is not None:
        bn.weight.data[...] = rng.uniform(0.5, 1.5, C)
        bn.bias.data[...] = rng.standard_normal(C)
    return bn


def _avg(**kw):
    return lambda: nn.AvgPool2d(**kw)


# (id, factory, per-sample input shape)
LAYERS = [
    ("linear", lambda: nn.Linear(6, 4), (6,)),
    ("linear_nobias", lambda: nn.Linear(6, 4, bias=False), (6,)),
    ("linear_3d", lambda: nn.Linear(6, 4), (5, 6)),
    ("identity", lambda: nn.Identity(), (3,)),
    ("dropout", lambda: nn.Dropout(0.5), (7,)),
    ("relu", nn.ReLU, (3, 4)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), (3, 4)),
    ("elu", lambda: nn.ELU(0.7), (3, 4)),
    ("gelu", nn.GELU, (3, 4)),
    ("gelu_tanh", lambda: nn.GELU("tanh"), (3, 4)),
    ("silu", nn.SiLU, (3, 4)),
    ("sigmoid", nn.Sigmoid, (3, 4)),
    ("tanh", nn.Tanh, (3, 4)),
    ("softplus", nn.Softplus, (3, 4)),
    ("softplus_beta", lambda: nn.Softplus(beta=2.0, threshold=1.0), (3, 4)),
    ("threshold", lambda: nn.Threshold(0.1, -2.0), (3, 4)),
    ("step", lambda: nn.Step(0.2), (3, 4)),
    ("hardtanh", lambda: nn.Hardtanh(-0.5, 1.5), (3, 4)),
    ("relu6", lambda: nn.ReLU6(), (3, 4)),
    ("hardsigmoid", lambda: nn.Hardsigmoid(), (3, 4)),
    ("hardswish", lambda: nn.Hardswish(), (3, 4)),
    ("selu", lambda: nn.SELU(), (3, 4)),
    ("celu", lambda: nn.CELU(0.5), (3, 4)),
    ("mish", lambda: nn.Mish(), (3, 4)),
    ("softsign", lambda: nn.Softsign(), (3, 4)),
    ("logsigmoid", lambda: nn.LogSigmoid(), (3, 4)),
    ("tanhshrink", lambda: nn.Tanhshrink(), (3, 4)),
    ("softshrink", lambda: nn.Softshrink(0.3), (3, 4)),
    ("hardshrink", lambda: nn.Hardshrink(0.3), (3, 4)),
    ("prelu", lambda: nn.PReLU(), (3, 4)),
    ("prelu_channels", lambda: nn.PReLU(3, init=0.1), (3, 4)),
    ("glu", lambda: nn.GLU(), (3, 4)),
    ("glu_dim1", lambda: nn.GLU(dim=1), (4, 3)),
    ("softmax", lambda: nn.Softmax(dim=-1), (3, 4)),
    ("softmax_dim1", lambda: nn.Softmax(dim=1), (3, 4)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=1), (5,)),
    ("flatten", nn.Flatten, (2, 3, 4)),
    ("flatten_mid", lambda: nn.Flatten(1, 2), (2, 3, 4)),
    ("unflatten", lambda: nn.Unflatten(1, (2, 3)), (6, 4)),
    ("rbf", lambda: nn.RBF(4, 3, sigma_init=2.0), (4,)),
    ("conv1d", lambda: nn.Conv1d(2, 4, 3), (2, 9)),
    ("conv1d_same_dilated", lambda: nn.Conv1d(2, 4, 4, padding="same", dilation=2), (2, 9)),
    ("conv2d", lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1), (3, 9, 9)),
    ("conv2d_groups", lambda: nn.Conv2d(4, 6, 3, groups=2, bias=False), (4, 7, 7)),
    ("conv2d_depthwise", lambda: nn.Conv2d(4, 4, 3, groups=4, padding=1), (4, 6, 6)),
    ("conv2d_dilation", lambda: nn.Conv2d(2, 3, 3, dilation=2, padding=(1, 2)), (2, 9, 8)),
    ("conv2d_same_even", lambda: nn.Conv2d(2, 3, (4, 2), padding="same"), (2, 7, 6)),
    ("conv2d_reflect", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"), (2, 6, 6)),
    (
        "conv2d_replicate",
        lambda: nn.Conv2d(2, 3, 3, padding=2, padding_mode="replicate"),
        (2, 6, 6),
    ),
    ("conv2d_circular", lambda: nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"), (2, 6, 6)),
    ("conv3d", lambda: nn.Conv3d(2, 3, 3, padding=1), (2, 4, 5, 4)),
    ("conv_transpose1d", lambda: nn.ConvTranspose1d(3, 2, 3, stride=2), (3, 6)),
    (
        "conv_transpose2d",
        lambda: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
        (4, 5, 5),
    ),
    (
        "conv_transpose2d_groups",
        lambda: nn.ConvTranspose2d(4, 6, 3, groups=2, dilation=2),
        (4, 4, 4),
    ),
    ("maxpool1d", lambda: nn.MaxPool1d(3, 2), (3, 10)),
    ("maxpool2d", lambda: nn.MaxPool2d(2), (3, 8, 8)),
    ("maxpool2d_ceil", lambda: nn.MaxPool2d(3, 2, ceil_mode=True), (2, 8, 8)),
    ("maxpool2d_pad_dil", lambda: nn.MaxPool2d(3, 2, padding=1, dilation=2), (2, 9, 9)),
    ("maxpool2d_ceil_pad", lambda: nn.MaxPool2d(3, 2, padding=1, ceil_mode=True), (2, 8, 7)),
    ("maxpool3d", lambda: nn.MaxPool3d(2), (2, 4, 4, 4)),
    ("avgpool1d", lambda: nn.AvgPool1d(3, 2, padding=1), (3, 10)),
    ("avgpool2d", _avg(kernel_size=2), (3, 8, 8)),
    ("avgpool2d_pad", _avg(kernel_size=3, stride=2, padding=1), (2, 8, 8)),
    (
        "avgpool2d_pad_exclude",
        _avg(kernel_size=3, stride=2, padding=1, count_include_pad=False),
        (2, 8, 8),
    ),
    ("avgpool2d_ceil", _avg(kernel_size=3, stride=2, ceil_mode=True), (2, 8, 8)),
    ("avgpool2d_ceil_pad", _avg(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 8, 7)),
    (
        "avgpool2d_ceil_pad_exclude",
        _avg(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
        (2, 8, 7),
    ),
    ("avgpool2d_divisor", _avg(kernel_size=3, stride=2, padding=1, divisor_override=5), (2, 7, 7)),
    ("avgpool3d", lambda: nn.AvgPool3d(2), (2, 4, 4, 4)),
    ("adaptive_avg_global", lambda: nn.AdaptiveAvgPool2d(1), (3, 5, 7)),
    ("adaptive_avg_even", lambda: nn.AdaptiveAvgPool2d((2, 3)), (3, 4, 6)),
    ("adaptive_avg_uneven", lambda: nn.AdaptiveAvgPool2d((3, 2)), (3, 7, 5)),
    ("adaptive_avg_none", lambda: nn.AdaptiveAvgPool2d((None, 2)), (3, 4, 5)),
    ("adaptive_avg1d", lambda: nn.AdaptiveAvgPool1d(3), (2, 8)),
    ("adaptive_max_global", lambda: nn.AdaptiveMaxPool2d(1), (3, 5, 7)),
    ("adaptive_max_uneven", lambda: nn.AdaptiveMaxPool2d((3, 4)), (3, 7, 5)),
    ("adaptive_max1d", lambda: nn.AdaptiveMaxPool1d(3), (2, 7)),
    ("batchnorm1d", lambda: _bn_with_stats(nn.BatchNorm1d(5)), (5,)),
    ("batchnorm1d_3d", lambda: _bn_with_stats(nn.BatchNorm1d(5)), (5, 4)),
    ("batchnorm2d", lambda: _bn_with_stats(nn.BatchNorm2d(3)), (3, 4, 4)),
    ("batchnorm2d_noaffine", lambda: _bn_with_stats(nn.BatchNorm2d(3, affine=False)), (3, 4, 4)),
    (
        "batchnorm2d_nostats",
        lambda: _bn_with_stats(nn.BatchNorm2d(3, track_running_stats=False)),
        (3, 4, 4),
    ),
    ("layernorm", lambda: nn.LayerNorm(6), (4, 6)),
    ("layernorm_2d", lambda: nn.LayerNorm((4, 6), eps=1e-3), (4, 6)),
    ("layernorm_nobias", lambda: nn.LayerNorm(6, bias=False), (6,)),
    ("layernorm_noaffine", lambda: nn.LayerNorm(6, elementwise_affine=False), (6,)),
    ("groupnorm", lambda: nn.GroupNorm(2, 6), (6, 3, 3)),
    ("groupnorm_noaffine", lambda: nn.GroupNorm(3, 6, affine=False), (6, 5)),
    ("rmsnorm", lambda: nn.RMSNorm(6), (4, 6)),
    ("rmsnorm_eps", lambda: nn.RMSNorm(6, eps=1e-3, elementwise_affine=False), (6,)),
    ("pixel_shuffle", lambda: nn.PixelShuffle(2), (8, 3, 3)),
    ("pixel_unshuffle", lambda: nn.PixelUnshuffle(2), (2, 4, 6)),
    ("upsample_nearest", lambda: nn.Upsample(scale_factor=2), (2, 3, 4)),
    ("upsample_bilinear", lambda: nn.Upsample(size=(5, 7), mode="bilinear"), (2, 3, 4)),
    ("upsample_bilinear_ac", lambda: nn.UpsamplingBilinear2d(scale_factor=2), (2, 3, 4)),
    ("zero_pad2d", lambda: nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4)),
    ("constant_pad1d", lambda: nn.ConstantPad1d((2, 1), 0.5), (2, 4)),
    ("reflection_pad2d", lambda: nn.ReflectionPad2d(1), (2, 3, 4)),
    ("replication_pad1d", lambda: nn.ReplicationPad1d((1, 3)), (2, 4)),
    ("circular_pad2d", lambda: nn.CircularPad2d((1, 1, 2, 0)), (2, 3, 4)),
    ("sequential", lambda: nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)), (4,)),
]


@pytest.mark.parametrize("name,factory,shape", LAYERS, ids=[row[0] for row in LAYERS])
def test_layer_matches_onnxruntime(name, factory, shape, onnx_check):
    backprop.manual_seed(0)
    onnx_check(factory(), _randn(*shape), (2, 3))


@pytest.mark.parametrize("opset", [17, 18, 19, 21, 22])
@pytest.mark.parametrize(
    "name",
    [
        "gelu",
        "gelu_tanh",
        "adaptive_avg_uneven",
        "groupnorm",
        "layernorm",
        "rmsnorm",
        "batchnorm2d_nostats",
        "rbf",
    ],
)
def test_opsets(name, opset, onnx_check):
    """The layers whose nodes change with the opset (GELU composed below 20, Reduce* axes
    as an input from 18), at every accepted opset."""
    _, factory, shape = next(row for row in LAYERS if row[0] == name)
    backprop.manual_seed(0)
    onnx_check(factory(), _randn(*shape), (2, 3), opset=opset)


def test_circular_padding_needs_opset_19():
    with pytest.raises(backprop.onnx.UnsupportedModuleError, match="opset >= 19"):
        backprop.onnx.export(nn.CircularPad1d(1), backprop.randn(2, 3, 4), opset=18)


def test_embedding(onnx_check):
    backprop.manual_seed(0)
    emb = nn.Embedding(10, 4, padding_idx=0)

    def make(n):
        return (np.random.default_rng(n).integers(0, 10, (n, 5)),)

    onnx_check(emb, make, (2, 3))


@pytest.mark.parametrize("opset", [17, 20, 22])
def test_gelu_node_by_opset(opset):
    proto = backprop.onnx.export(nn.GELU(), backprop.randn(2, 3), opset=opset)
    ops = {n.op_type for n in proto.graph.node}
    assert ("Gelu" in ops) == (opset >= 20)
    assert proto.opset_import[0].version == opset
