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
from ..functional.attention import scaled_dot_product_attention
from ..functional.conv import conv1d, conv2d
from ..functional.conv_transpose import (
    conv3d,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from ..functional.dropout import dropout
from ..functional.embedding import embedding
from ..functional.embedding_bag import embedding_bag
from ..functional.linalg import linear
from ..functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    multi_margin_loss,
    nll_loss,
)
from ..functional.normalization import batch_norm, group_norm, layer_norm, rms_norm
from ..functional.padding import pad
from ..functional.pixel import pixel_shuffle, pixel_unshuffle
from ..functional.pool3d import (
    avg_pool3d,
    max_pool3d,
    max_unpool1d,
    max_unpool2d,
    max_unpool3d,
)
from ..functional.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from ..functional.sampling import one_hot
from ..functional.upsample import (
    interpolate,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)

__all__ = [
    "elu", "gelu", "heaviside_step", "leaky_relu", "linear_activation", "log_softmax", "relu",
    "sigmoid", "silu", "softmax", "softplus", "step", "tanh", "threshold", "linear", "pad",
    "dropout", "embedding", "one_hot", "batch_norm", "layer_norm", "group_norm", "rms_norm",
    "pixel_shuffle", "pixel_unshuffle", "mse_loss", "l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss",
    "multi_margin_loss",
    "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
    "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d", "adaptive_max_pool2d",
]  # fmt: skip
__all__ += [
    "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "embedding_bag",
    "avg_pool3d", "max_pool3d", "max_unpool1d", "max_unpool2d", "max_unpool3d", "interpolate",
    "upsample", "upsample_bilinear", "upsample_nearest",
]  # fmt: skip
__all__ += ["scaled_dot_product_attention"]

# Issue 17's activations (and the in-place forms PyTorch's nn.functional has).
from ..functional.activation import (  # noqa: E402
    celu,
    celu_,
    elu_,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    leaky_relu_,
    logsigmoid,
    mish,
    normalize,
    prelu,
    relu6,
    relu_,
    selu,
    selu_,
    softshrink,
    softsign,
    tanhshrink,
    threshold_,
)

__all__ += [
    "celu", "celu_", "elu_", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "hardtanh_", "leaky_relu_", "logsigmoid", "mish", "normalize", "prelu", "relu6", "relu_",
    "selu", "selu_", "softshrink", "softsign", "tanhshrink", "threshold_",
]  # fmt: skip

# Sliding windows as columns and back (im2col / col2im).
from ..functional.fold import fold, unfold  # noqa: E402

__all__ += ["fold", "unfold"]
