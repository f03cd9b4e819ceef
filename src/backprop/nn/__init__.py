"""Neural-network building blocks, with PyTorch's names: ``Module``, ``Parameter``, containers,
layers, losses, ``backprop.nn.functional`` and ``backprop.nn.init``."""

from . import functional, init, utils
from .activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Step,
    Tanh,
    Threshold,
)
from .container import ModuleDict, ModuleList, Sequential
from .dropout import Dropout
from .embedding import Embedding
from .flatten import Flatten, Unflatten
from .linear import Identity, Linear
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm, RMSNorm
from .parameter import Parameter
from .rbf import RBF
from .regularization import l2_penalty

__all__ = [
    "functional", "init", "utils", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict",
    "Linear", "Identity", "Flatten", "Unflatten", "Embedding", "Dropout", "BatchNorm1d",
    "BatchNorm2d", "LayerNorm", "RBF", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid",
    "Tanh", "Softmax", "LogSoftmax", "Softplus", "Threshold", "Step", "MSELoss", "L1Loss",
    "HuberLoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "NLLLoss", "MultiMarginLoss",
    "l2_penalty", "GroupNorm", "RMSNorm",
]  # fmt: skip

# Convolution, pooling and recurrent layers.
from .conv import Conv1d, Conv2d  # noqa: E402
from .pooling import (  # noqa: E402
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool1d,
    AdaptiveMaxPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell  # noqa: E402

__all__ += [
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "RNN", "LSTM", "GRU", "RNNCell",
    "LSTMCell", "GRUCell",
]  # fmt: skip

from .pixel import PixelShuffle, PixelUnshuffle  # noqa: E402

__all__ += ["PixelShuffle", "PixelUnshuffle"]

# Issue 17's neural-network layers: transposed and 3-D convolution, resizing, 3-D pooling,
# unpooling, embedding bags and padding.
from .conv_transpose import Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d  # noqa: E402
from .embedding_bag import EmbeddingBag  # noqa: E402
from .padding import (  # noqa: E402
    CircularPad1d,
    CircularPad2d,
    CircularPad3d,
    ConstantPad1d,
    ConstantPad2d,
    ConstantPad3d,
    ReflectionPad1d,
    ReflectionPad2d,
    ReflectionPad3d,
    ReplicationPad1d,
    ReplicationPad2d,
    ReplicationPad3d,
    ZeroPad1d,
    ZeroPad2d,
    ZeroPad3d,
)
from .pool3d import AvgPool3d, MaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d  # noqa: E402
from .upsample import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d  # noqa: E402

__all__ += [
    "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "EmbeddingBag",
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "AvgPool3d",
    "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "Upsample", "UpsamplingBilinear2d",
    "UpsamplingNearest2d",
]  # fmt: skip

# Attention and the Transformer (issue 18).
from .attention import MultiheadAttention  # noqa: E402
from .transformer import (  # noqa: E402
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += [
    "MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerEncoderLayer",
    "TransformerDecoder", "TransformerDecoderLayer",
]  # fmt: skip

# Issue 17's activations.
from .activation import (  # noqa: E402
    CELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Hardtanh,
    LogSigmoid,
    Mish,
    PReLU,
    ReLU6,
    Softshrink,
    Softsign,
    Tanhshrink,
)

__all__ += [
    "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "SELU", "CELU", "Mish", "Softsign",
    "LogSigmoid", "Tanhshrink", "Softshrink", "Hardshrink", "PReLU", "GLU",
]  # fmt: skip

from .fold import Fold, Unfold  # noqa: E402

__all__ += ["Fold", "Unfold"]
