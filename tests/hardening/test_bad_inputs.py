"""Bad input to every public entry point: one row per (entry point, mistake).

Each row calls the entry point with one user mistake (wrong rank, shape or dtype, an out-of-range
class index, a negative size, p outside [0, 1], an empty batch...) and checks that

1. the exception is the documented ValueError or TypeError (IndexError for an index out of a
   container's range, as Python's sequence protocol and PyTorch have it),
2. its message names the function or layer and the offending value or shape (the ``needles``),
3. it is raised by backprop's own argument checks: the innermost frame of the traceback is in
   ``src/backprop``, not deep inside NumPy.
"""

# ruff: noqa: E501

from __future__ import annotations

import re
import traceback
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop import nn, optim
from backprop.data import DataLoader, Subset, TensorDataset, random_split
from backprop.data import transforms as T
from backprop.nn import functional as F
from backprop.nn.utils import clip_grad_norm_, clip_grad_value_
from backprop.train import Trainer

SRC = Path(bp.__file__).resolve().parent


def x(*shape, dtype=None):
    return bp.randn(*shape, dtype=dtype)


def ints(*values):
    return bp.tensor(np.array(values, dtype=np.int64))


def izeros(*shape, dtype=np.int64):
    return bp.tensor(np.zeros(shape, dtype=dtype))


def params():
    return list(nn.Linear(2, 2).parameters())


def loader(inputs, targets, batch_size=4):
    return DataLoader(TensorDataset(inputs, targets), batch_size=batch_size)


def trainer(model=None, loss=None, **kw):
    m = model if model is not None else nn.Linear(4, 3)
    return Trainer(
        m, loss or nn.CrossEntropyLoss(), optim.SGD(m.parameters(), lr=0.1), verbose=0, **kw
    )


def _with_grads(ps):
    for p in ps:
        p.grad = bp.ones(*p.shape)
    return ps


def _step_with_bad_grad():
    p = bp.randn(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = bp.ones(3)
    opt.step()


def _load_bad_state(sd):
    optim.SGD(params(), lr=0.1).load_state_dict(sd)


# (id, call, exception type, needles: regexes the message must contain). One row per line, so
# the table reads as a table: formatting is off for it, and long lines are allowed in this file.
# fmt: off
ROWS = [
    # ---------------------------------------------------------------- creation and shape ops
    ("zeros/negative size", lambda: bp.zeros(2, -3), ValueError, ["zeros", r"\(2, -3\)"]),
    ("randn/negative size", lambda: bp.randn(-2), ValueError, ["randn", "-2"]),
    ("ones/float size", lambda: bp.ones(2.5), TypeError, ["ones", "2.5"]),
    ("arange/step 0", lambda: bp.arange(0, 5, 0), ValueError, ["arange", "step"]),
    ("randint/low >= high", lambda: bp.randint(5, 2, (3,)), ValueError, ["randint", "5"]),
    ("normal/negative std", lambda: bp.normal(0.0, -1.0, (3,)), ValueError, ["normal", "-1"]),
    ("tensor/ragged list", lambda: bp.tensor([[1, 2], [3]]), ValueError, ["tensor", "different lengths"]),
    ("tensor/strings", lambda: bp.tensor(["a"]), TypeError, ["tensor", "'a'"]),
    ("tensor/int requires grad", lambda: bp.tensor([1, 2], requires_grad=True), TypeError, ["requires_grad", "int64"]),
    ("Tensor.to/unknown dtype", lambda: x(2).to("foo"), TypeError, ["to", "'foo'"]),
    ("reshape/wrong size", lambda: x(2, 3).reshape(4, 2), ValueError, ["reshape", r"\(2, 3\)", r"\(4, 2\)"]),
    ("reshape/negative size", lambda: x(2, 3).reshape(-2, 3), ValueError, ["reshape", "-2"]),
    ("expand/negative size", lambda: x(2, 1).expand(2, -2), ValueError, ["expand", "-2"]),
    ("repeat/negative", lambda: x(2, 3).repeat(-1, 1), ValueError, ["repeat", "-1"]),
    ("narrow/negative length", lambda: bp.narrow(x(5), 0, 1, -1), ValueError, ["narrow", r"\(5,\)"]),
    ("split/size 0", lambda: bp.split(x(5), 0), ValueError, ["split", "0"]),
    ("chunk/0 chunks", lambda: bp.chunk(x(5), 0), ValueError, ["chunk", "0"]),
    ("pad/negative", lambda: F.pad(x(2, 3), (-5, 0)), ValueError, ["pad", "-5"]),
    ("cat/empty list", lambda: bp.cat([]), ValueError, ["cat", "non-empty"]),
    ("cat/shapes differ", lambda: bp.cat([x(2, 3), x(2, 4)]), ValueError, ["cat", r"\(2, 4\)"]),
    ("stack/shapes differ", lambda: bp.stack([x(2, 3), x(2, 4)]), ValueError, ["stack", r"\(2, 4\)"]),
    ("permute/repeated dim", lambda: x(2, 3).permute(0, 0), ValueError, ["permute", r"\(0, 0\)"]),
    ("transpose/dim out of range", lambda: x(2, 3).transpose(0, 2), ValueError, ["transpose", "dim 2"]),
    ("unflatten/wrong sizes", lambda: bp.unflatten(x(2, 6), 1, (4, 2)), ValueError, ["unflatten", r"\(4, 2\)"]),
    ("index/out of bounds", lambda: x(2, 3)[5], IndexError, ["index", "5", r"\(2, 3\)"]),
    ("index/float", lambda: x(2, 3)[0.5], TypeError, ["index", "0.5"]),
    ("gather/index out of range", lambda: bp.gather(x(2, 3), 1, bp.tensor([[5], [0]])), IndexError, ["gather", "dim 1", "3"]),
    ("gather/float index", lambda: bp.gather(x(2, 3), 1, bp.tensor([[0.0], [0.0]])), TypeError, ["gather", "integer"]),
    ("index_select/out of range", lambda: bp.index_select(x(2, 3), 1, ints(3)), IndexError, ["index_select", "3"]),
    ("masked_fill/int mask", lambda: bp.masked_fill(x(2, 3), ints(1, 0, 1), 0.0), TypeError, ["masked_fill", "int64"]),
    ("where/float condition", lambda: bp.where(x(3), x(3), x(3)), TypeError, ["where", "float32"]),
    # ---------------------------------------------------------------- elementwise, linalg
    ("add/shapes", lambda: x(2, 3) + x(4, 3), ValueError, ["add", r"\(2, 3\)", r"\(4, 3\)"]),
    ("add/string", lambda: x(2) + "a", TypeError, ["add", "str"]),
    ("allclose/shapes", lambda: bp.allclose(x(3), x(4)), ValueError, ["allclose", r"\(3,\)", r"\(4,\)"]),
    ("matmul/inner dims", lambda: x(2, 3) @ x(4, 5), ValueError, ["matmul", r"\(2, 3\)", r"\(4, 5\)"]),
    ("matmul/0-d", lambda: bp.matmul(x(), x(3)), ValueError, ["matmul", r"\(\)"]),
    ("mm/ndarray", lambda: bp.mm(x(2, 3), np.ones((3, 2))), TypeError, ["mm", "ndarray"]),
    ("mm/1-D", lambda: bp.mm(x(3), x(3, 2)), ValueError, ["mm", r"\(3,\)"]),
    ("bmm/batch mismatch", lambda: bp.bmm(x(2, 3, 4), x(3, 4, 5)), ValueError, ["bmm", r"\(2, 3, 4\)"]),
    ("linear/ndarray input", lambda: F.linear(np.ones((2, 3)), x(4, 3)), TypeError, ["linear", "ndarray"]),
    ("linear/int input", lambda: F.linear(ints(1, 2, 3)[None], x(4, 3)), TypeError, ["linear", "int64", "float"]),
    ("linear/bias shape", lambda: F.linear(x(2, 3), x(4, 3), x(3)), ValueError, ["linear", "bias", r"\(3,\)"]),
    # ---------------------------------------------------------------- reductions
    ("sum/dim out of range", lambda: x(2, 3).sum(3), ValueError, ["sum", "dim 3"]),
    ("sum/string dim", lambda: x(2).sum("a"), TypeError, ["sum", "'a'"]),
    ("mean/int tensor", lambda: ints(1, 2).mean(), TypeError, ["mean", "int64"]),
    ("mean/empty", lambda: bp.zeros(0).mean(), ValueError, ["mean", "empty", r"\(0,\)"]),
    ("mean/empty dim", lambda: bp.zeros(0, 3).mean(0), ValueError, ["mean", r"\(0, 3\)"]),
    ("var/empty", lambda: bp.zeros(0).var(), ValueError, ["var", r"\(0,\)"]),
    ("std/empty dim", lambda: bp.zeros(2, 0).std(1), ValueError, ["std", r"\(2, 0\)"]),
    ("amax/empty dim", lambda: bp.zeros(2, 0).amax(1), ValueError, ["amax", r"\(2, 0\)"]),
    ("max/empty", lambda: bp.zeros(0).max(), ValueError, ["max", r"\(0,\)"]),
    ("argmax/empty", lambda: bp.zeros(0).argmax(), ValueError, ["argmax", r"\(0,\)"]),
    ("logsumexp/empty", lambda: bp.logsumexp(bp.zeros(0), 0), ValueError, ["logsumexp", r"\(0,\)"]),
    ("norm/int", lambda: bp.norm(ints(1, 2)), TypeError, ["norm", "int64"]),  # (torch refuses)
    ("topk/k too large", lambda: bp.topk(x(3), 5), ValueError, ["topk", "k=5", "3"]),
    ("topk/negative k", lambda: bp.topk(x(3), -1), ValueError, ["topk", "k=-1"]),
    ("norm/negative p", lambda: bp.norm(x(3), p=-1), ValueError, ["norm", "-1"]),
    ("item/several elements", lambda: x(3).item(), ValueError, ["item", r"\(3,\)"]),
    # ---------------------------------------------------------------- activations, dropout
    ("softmax/int input", lambda: F.softmax(ints(1, 2), 0), TypeError, ["softmax", "int64"]),
    ("softmax/dim out of range", lambda: F.softmax(x(3), 1), ValueError, ["softmax", "dim 1"]),
    ("log_softmax/dim None", lambda: F.log_softmax(x(3), None), TypeError, ["log_softmax", "NoneType"]),
    ("softmax/int input", lambda: F.softmax(ints(1, 2), 0), TypeError, ["softmax", "int64"]),
    ("relu/ndarray", lambda: F.relu(np.ones(3)), TypeError, ["relu", "ndarray"]),
    ("leaky_relu/string slope", lambda: F.leaky_relu(x(3), "a"), TypeError, ["leaky_relu", "negative_slope", "'a'"]),
    ("elu/string alpha", lambda: F.elu(x(3), "x"), TypeError, ["elu", "alpha", "'x'"]),
    ("softplus/beta 0", lambda: F.softplus(x(3), beta=0), ValueError, ["softplus", "beta", "0"]),
    ("gelu/approximate", lambda: F.gelu(x(3), approximate="x"), ValueError, ["gelu", "'x'"]),
    ("dropout/p 1.5", lambda: F.dropout(x(3), 1.5), ValueError, ["dropout", "1.5"]),
    ("dropout/p -0.1", lambda: F.dropout(x(3), -0.1), ValueError, ["dropout", "-0.1"]),
    ("dropout/p nan", lambda: F.dropout(x(3), float("nan")), ValueError, ["dropout", "nan"]),
    ("dropout/p string", lambda: F.dropout(x(3), "a"), TypeError, ["dropout", "'a'"]),
    ("dropout/int input", lambda: F.dropout(ints(1, 2)), TypeError, ["dropout", "floating"]),
    ("Dropout/p 1.5", lambda: nn.Dropout(1.5), ValueError, ["Dropout", "1.5"]),
    ("Dropout/p bool", lambda: nn.Dropout(True), ValueError, ["Dropout", "True"]),
    ("Dropout/p string", lambda: nn.Dropout("a"), ValueError, ["Dropout", "'a'"]),
    # ---------------------------------------------------------------- Linear, Embedding, RBF
    ("Linear/negative in_features", lambda: nn.Linear(-1, 2), ValueError, ["Linear", "in_features", "-1"]),
    ("Linear/float size", lambda: nn.Linear(2.0, 2), ValueError, ["Linear", "2.0"]),
    ("Linear/int dtype", lambda: nn.Linear(3, 2, dtype=np.int64), TypeError, ["Linear", "int64"]),
    ("Linear/wrong features", lambda: nn.Linear(3, 2)(x(4, 5)), ValueError, ["Linear", r"\(\*, 3\)", r"\(4, 5\)"]),
    ("Linear/int input", lambda: nn.Linear(3, 2)(ints(1, 2, 3)[None]), TypeError, ["linear", "int64"]),
    ("Linear/float64 input", lambda: nn.Linear(3, 2)(x(2, 3, dtype=bp.float64)), TypeError, ["linear", "float64", "float32"]),
    ("Linear/0-d input", lambda: nn.Linear(1, 2)(bp.tensor(1.0)), ValueError, ["Linear", r"\(\)"]),
    ("Embedding/0 rows", lambda: nn.Embedding(0, 3), ValueError, ["Embedding", "num_embeddings", "0"]),
    ("Embedding/negative dim", lambda: nn.Embedding(3, -1), ValueError, ["Embedding", "-1"]),
    ("Embedding/padding_idx range", lambda: nn.Embedding(3, 2, padding_idx=5), ValueError, ["Embedding", "padding_idx 5"]),
    ("Embedding/padding_idx float", lambda: nn.Embedding(3, 2, padding_idx=1.5), TypeError, ["Embedding", "1.5"]),
    ("Embedding/max_norm negative", lambda: nn.Embedding(3, 2, max_norm=-1.0), ValueError, ["Embedding", "max_norm", "-1.0"]),
    ("Embedding/index out of range", lambda: nn.Embedding(3, 2)(ints(3)), IndexError, ["embedding", "index 3", "3 embeddings"]),
    ("Embedding/negative index", lambda: nn.Embedding(3, 2)(ints(-1)), IndexError, ["embedding", "-1"]),
    ("Embedding/float indices", lambda: nn.Embedding(3, 2)(bp.tensor([1.0])), TypeError, ["embedding", "float32"]),
    ("RBF/wrong features", lambda: nn.RBF(2, 3)(x(4, 3)), ValueError, ["RBF", r"\(4, 3\)"]),
    ("Sequential/not a module", lambda: nn.Sequential(nn.Linear(2, 2), "relu"), TypeError, ["Sequential", "str", "'relu'"]),
    # ---------------------------------------------------------------- convolution, pooling
    ("Conv2d/0 in_channels", lambda: nn.Conv2d(0, 2, 3), ValueError, ["Conv2d", "in_channels", "0"]),
    ("Conv2d/negative kernel", lambda: nn.Conv2d(1, 2, -1), ValueError, ["Conv2d", "kernel_size", "-1"]),
    ("Conv2d/stride 0", lambda: nn.Conv2d(1, 2, 3, stride=0), ValueError, ["Conv2d", "stride", "0"]),
    ("Conv2d/negative padding", lambda: nn.Conv2d(1, 2, 3, padding=-1), ValueError, ["Conv2d", "padding", "-1"]),
    ("Conv2d/groups", lambda: nn.Conv2d(4, 2, 3, groups=3), ValueError, ["Conv2d", "groups=3"]),
    ("Conv2d/int dtype", lambda: nn.Conv2d(1, 2, 3, dtype=np.int64), TypeError, ["Conv2d", "int64"]),
    ("Conv2d/uint8 input", lambda: nn.Conv2d(1, 2, 3)(izeros(1, 1, 5, 5, dtype=np.uint8)), TypeError, ["Conv2d", "uint8"]),
    ("Conv2d/float64 input", lambda: nn.Conv2d(1, 2, 3)(x(1, 1, 5, 5, dtype=bp.float64)), TypeError, ["Conv2d", "float64"]),
    ("Conv2d/channels", lambda: nn.Conv2d(3, 2, 3)(x(1, 1, 5, 5)), ValueError, ["Conv2d", "1 channels", "expects 3"]),
    ("Conv2d/NHWC input", lambda: nn.Conv2d(3, 2, 3)(x(1, 5, 5, 3)), ValueError, ["Conv2d", r"\(1, 5, 5, 3\)"]),
    ("Conv2d/rank 2 input", lambda: nn.Conv2d(1, 2, 3)(x(5, 5)), ValueError, ["Conv2d", "4-D", r"\(5, 5\)"]),
    ("Conv2d/kernel > input", lambda: nn.Conv2d(1, 2, 5)(x(1, 1, 3, 3)), ValueError, ["Conv2d", "kernel of size 5", r"\(1, 1, 3, 3\)"]),
    ("Conv1d/rank 4 input", lambda: nn.Conv1d(1, 2, 3)(x(1, 1, 5, 5)), ValueError, ["Conv1d", "3-D", r"\(1, 1, 5, 5\)"]),
    ("Conv1d/2-tuple kernel", lambda: nn.Conv1d(1, 2, (3, 3)), TypeError, ["Conv1d", r"\(3, 3\)"]),
    ("conv2d/stride 0", lambda: F.conv2d(x(1, 1, 4, 4), x(1, 1, 3, 3), stride=0), ValueError, ["conv2d", "stride", "0"]),
    ("conv1d/empty length", lambda: F.conv1d(x(1, 1, 0), x(1, 1, 1)), ValueError, ["conv1d", r"\(1, 1, 0\)"]),
    ("MaxPool2d/negative kernel", lambda: nn.MaxPool2d(-1), ValueError, ["MaxPool2d", "kernel_size", "-1"]),
    ("MaxPool2d/float kernel", lambda: nn.MaxPool2d(2.5), TypeError, ["MaxPool2d", "2.5"]),
    ("MaxPool2d/stride 0", lambda: nn.MaxPool2d(2, stride=0), ValueError, ["MaxPool2d", "stride", "0"]),
    ("MaxPool2d/padding > k/2", lambda: nn.MaxPool2d(3, padding=2)(x(1, 1, 6, 6)), ValueError, ["MaxPool2d", "padding 2"]),
    ("MaxPool2d/kernel > input", lambda: nn.MaxPool2d(5)(x(1, 1, 4, 4)), ValueError, ["MaxPool2d", "kernel of size 5"]),
    ("AvgPool2d/int32 input", lambda: nn.AvgPool2d(2)(izeros(1, 1, 4, 4).int()), TypeError, ["AvgPool2d", "int32"]),
    ("MaxPool1d/rank 4", lambda: nn.MaxPool1d(2)(x(1, 1, 4, 4)), ValueError, ["MaxPool1d", r"\(1, 1, 4, 4\)"]),
    ("AvgPool2d/negative kernel", lambda: nn.AvgPool2d(-2), ValueError, ["AvgPool2d", "-2"]),
    ("AvgPool1d/negative padding", lambda: nn.AvgPool1d(2, padding=-1), ValueError, ["AvgPool1d", "padding", "-1"]),
    ("AdaptiveAvgPool2d/0", lambda: nn.AdaptiveAvgPool2d(0), ValueError, ["AdaptiveAvgPool2d", "output_size", "0"]),
    ("AdaptiveAvgPool1d/3 sizes", lambda: nn.AdaptiveAvgPool1d((1, 2, 3)), ValueError, ["AdaptiveAvgPool1d", r"\(1, 2, 3\)"]),
    ("adaptive_avg_pool2d/negative", lambda: F.adaptive_avg_pool2d(x(1, 1, 4, 4), -1), ValueError, ["adaptive_avg_pool2d", "-1"]),
    # ---------------------------------------------------------------- normalisation
    ("BatchNorm1d/0 features", lambda: nn.BatchNorm1d(0), ValueError, ["BatchNorm1d", "num_features", "0"]),
    ("BatchNorm1d/negative eps", lambda: nn.BatchNorm1d(3, eps=-1), ValueError, ["BatchNorm1d", "eps", "-1"]),
    ("BatchNorm1d/momentum 2", lambda: nn.BatchNorm1d(3, momentum=2), ValueError, ["BatchNorm1d", "momentum", "2"]),
    ("BatchNorm1d/one sample", lambda: nn.BatchNorm1d(3)(x(1, 3)), ValueError, ["batch_norm", r"\(1, 3\)"]),
    ("BatchNorm1d/empty batch", lambda: nn.BatchNorm1d(3)(x(0, 3)), ValueError, ["batch_norm", r"\(0, 3\)"]),
    ("BatchNorm1d/channels", lambda: nn.BatchNorm1d(3)(x(4, 2)), ValueError, ["BatchNorm1d", r"\(4, 2\)", "expected 3"]),
    ("BatchNorm1d/int input", lambda: nn.BatchNorm1d(3)(izeros(4, 3)), TypeError, ["batch_norm", "floating"]),
    ("BatchNorm2d/rank 3", lambda: nn.BatchNorm2d(3)(x(4, 3, 2)), ValueError, ["BatchNorm2d", r"\(4, 3, 2\)"]),
    ("LayerNorm/0", lambda: nn.LayerNorm(0), ValueError, ["LayerNorm", "normalized_shape", "0"]),
    ("LayerNorm/eps 0", lambda: nn.LayerNorm(3, eps=0), ValueError, ["LayerNorm", "eps", "0"]),
    ("LayerNorm/shape", lambda: nn.LayerNorm(3)(x(2, 4)), ValueError, ["LayerNorm", r"\(2, 4\)"]),
    ("LayerNorm/int input", lambda: nn.LayerNorm(3)(izeros(2, 3)), TypeError, ["layer_norm", "floating"]),
    ("layer_norm/negative shape", lambda: F.layer_norm(x(2, 3), -3), ValueError, ["layer_norm", "-3"]),
    # ---------------------------------------------------------------- recurrent
    ("RNN/0 input_size", lambda: nn.RNN(0, 2), ValueError, ["RNN", "input_size", "0"]),
    ("RNN/negative hidden", lambda: nn.RNN(2, -1), ValueError, ["RNN", "hidden_size", "-1"]),
    ("RNN/0 layers", lambda: nn.RNN(2, 3, num_layers=0), ValueError, ["RNN", "num_layers", "0"]),
    ("RNN/dropout 1.5", lambda: nn.RNN(2, 3, dropout=1.5), ValueError, ["RNN", "dropout", "1.5"]),
    ("RNN/nonlinearity", lambda: nn.RNN(2, 3, nonlinearity="sigmoid"), ValueError, ["RNN", "'sigmoid'"]),
    ("RNN/int dtype", lambda: nn.RNN(2, 3, dtype=np.int32), TypeError, ["RNN", "int32"]),
    ("RNN/features", lambda: nn.RNN(2, 3)(x(5, 4, 3)), ValueError, ["RNN", "2 features", r"\(5, 4, 3\)"]),
    ("RNN/rank 4", lambda: nn.RNN(2, 3)(x(5, 4, 3, 2)), ValueError, ["RNN", r"\(5, 4, 3, 2\)"]),
    ("RNN/int input", lambda: nn.RNN(2, 3)(izeros(5, 4, 2)), TypeError, ["RNN", "int64"]),
    ("RNN/empty sequence", lambda: nn.RNN(2, 3)(x(0, 4, 2)), ValueError, ["RNN", "empty", r"\(0, 4, 2\)"]),
    ("RNN/h_0 shape", lambda: nn.RNN(2, 3)(x(5, 4, 2), x(1, 3, 3)), ValueError, ["RNN", "h_0", r"\(1, 3, 3\)"]),
    ("LSTM/hx not a pair", lambda: nn.LSTM(2, 3)(x(5, 4, 2), x(1, 4, 3)), TypeError, ["LSTM", "hx"]),
    ("LSTM/c_0 shape", lambda: nn.LSTM(2, 3)(x(5, 4, 2), (x(1, 4, 3), x(1, 4, 2))), ValueError, ["LSTM", "c_0", r"\(1, 4, 2\)"]),
    ("LSTM/h_0 float64", lambda: nn.LSTM(2, 3)(x(5, 4, 2), (x(1, 4, 3, dtype=bp.float64), x(1, 4, 3))), TypeError, ["LSTM", "h_0", "float64"]),
    ("GRU/h_0 float64", lambda: nn.GRU(2, 3)(x(5, 4, 2), x(1, 4, 3, dtype=bp.float64)), TypeError, ["GRU", "h_0", "float64"]),
    ("GRU/batch_first features", lambda: nn.GRU(2, 3, batch_first=True)(x(4, 5, 3)), ValueError, ["GRU", r"\(4, 5, 3\)"]),
    ("RNNCell/int input", lambda: nn.RNNCell(2, 3)(izeros(4, 2)), TypeError, ["rnn_tanh_cell", "int64"]),
    ("GRUCell/rank 3", lambda: nn.GRUCell(2, 3)(x(1, 4, 2)), ValueError, ["GRUCell", r"\(1, 4, 2\)"]),
    ("LSTMCell/0 hidden", lambda: nn.LSTMCell(2, 0), ValueError, ["LSTMCell", "hidden_size", "0"]),
    # ---------------------------------------------------------------- losses
    ("cross_entropy/float class targets", lambda: F.cross_entropy(x(4, 3), bp.tensor([0.0, 1.0, 2.0, 0.0])), TypeError, ["cross_entropy", r"\(4,\)", "integers"]),
    ("cross_entropy/target too large", lambda: F.cross_entropy(x(4, 3), ints(0, 1, 3, 0)), ValueError, ["cross_entropy", "target 3", "3 classes"]),
    ("cross_entropy/negative target", lambda: F.cross_entropy(x(4, 3), ints(0, 1, -1, 0)), ValueError, ["cross_entropy", "target -1"]),
    ("cross_entropy/target (N, 1)", lambda: F.cross_entropy(x(4, 3), ints(0, 1, 2, 1)[:, None]), ValueError, ["cross_entropy", r"\(4,\)", r"\(4, 1\)"]),
    ("cross_entropy/int logits", lambda: F.cross_entropy(ints(1, 2)[None], ints(0)), TypeError, ["cross_entropy", "int64"]),
    ("cross_entropy/bool target", lambda: F.cross_entropy(x(2, 3), bp.tensor([True, False])), TypeError, ["cross_entropy", "bool"]),
    ("cross_entropy/list target", lambda: F.cross_entropy(x(2, 3), [0, 1]), TypeError, ["cross_entropy", "list"]),
    ("cross_entropy/empty batch", lambda: F.cross_entropy(x(0, 3), izeros(0)), ValueError, ["cross_entropy", "empty", r"\(0, 3\)"]),
    ("cross_entropy/label_smoothing 2", lambda: F.cross_entropy(x(2, 3), ints(0, 0), label_smoothing=2), ValueError, ["cross_entropy", "label_smoothing", "2"]),
    ("cross_entropy/weight shape", lambda: F.cross_entropy(x(2, 3), ints(0, 0), weight=bp.ones(2)), ValueError, ["cross_entropy", "weight", r"\(2,\)"]),
    ("cross_entropy/reduction", lambda: F.cross_entropy(x(2, 3), ints(0, 0), reduction="avg"), ValueError, ["cross_entropy", "'avg'"]),
    ("cross_entropy/0-d input", lambda: F.cross_entropy(x(), ints(0)[0]), ValueError, ["cross_entropy", "0-d"]),
    ("CrossEntropyLoss/float targets", lambda: nn.CrossEntropyLoss()(x(4, 3), bp.tensor([0.0, 1.0, 2.0, 1.0])), TypeError, ["cross_entropy", "integers"]),
    ("CrossEntropyLoss/label_smoothing", lambda: nn.CrossEntropyLoss(label_smoothing=-0.1), ValueError, ["CrossEntropyLoss", "-0.1"]),
    ("CrossEntropyLoss/ndarray weight", lambda: nn.CrossEntropyLoss(weight=np.ones(3)), TypeError, ["CrossEntropyLoss", "weight"]),
    ("nll_loss/float target", lambda: F.nll_loss(x(4, 3), bp.tensor([0.0, 1.0, 2.0, 0.0])), TypeError, ["nll_loss", "float32"]),
    ("nll_loss/target too large", lambda: F.nll_loss(x(4, 3), ints(0, 1, 9, 0)), ValueError, ["nll_loss", "target 9"]),
    ("NLLLoss/empty batch", lambda: nn.NLLLoss()(x(0, 3), izeros(0)), ValueError, ["nll_loss", "empty"]),
    ("mse_loss/(N,1) vs (N,)", lambda: F.mse_loss(x(4, 1), x(4)), ValueError, ["mse_loss", r"\(4,\)", r"\(4, 1\)"]),
    ("mse_loss/int input", lambda: F.mse_loss(ints(1, 2), x(2)), TypeError, ["mse_loss", "int64"]),
    ("mse_loss/list target", lambda: F.mse_loss(x(2), [1.0, 2.0]), TypeError, ["mse_loss", "list"]),
    ("MSELoss/empty batch", lambda: nn.MSELoss()(x(0, 3), x(0, 3)), ValueError, ["mse_loss", "empty", r"\(0, 3\)"]),
    ("L1Loss/empty batch", lambda: nn.L1Loss()(x(0), x(0)), ValueError, ["l1_loss", "empty"]),
    ("HuberLoss/delta 0", lambda: nn.HuberLoss(delta=0), ValueError, ["HuberLoss", "delta", "0"]),
    ("BCELoss/logits given", lambda: nn.BCELoss()(bp.tensor([-2.0, 3.0]), bp.ones(2)), ValueError, ["binary_cross_entropy", r"\[0, 1\]", "-2"]),
    ("BCELoss/NaN probability", lambda: nn.BCELoss()(bp.tensor([float("nan")]), bp.ones(1)), ValueError, ["binary_cross_entropy", "nan"]),
    ("BCELoss/shape", lambda: nn.BCELoss()(bp.full((4, 1), 0.5), bp.ones(4)), ValueError, ["binary_cross_entropy", r"\(4, 1\)"]),
    ("BCEWithLogitsLoss/empty batch", lambda: nn.BCEWithLogitsLoss()(x(0), x(0)), ValueError, ["binary_cross_entropy_with_logits", "empty"]),
    ("BCEWithLogitsLoss/pos_weight shape", lambda: F.binary_cross_entropy_with_logits(x(3, 2), bp.zeros(3, 2), pos_weight=bp.ones(3)), ValueError, ["binary_cross_entropy_with_logits", "pos_weight", r"\(3,\)"]),
    ("MultiMarginLoss/p 3", lambda: nn.MultiMarginLoss(p=3), ValueError, ["MultiMarginLoss", "3"]),
    ("multi_margin_loss/target too large", lambda: F.multi_margin_loss(x(3, 2), ints(0, 1, 2)), ValueError, ["multi_margin_loss", "target 2", "2 classes"]),
    ("multi_margin_loss/rank 3", lambda: F.multi_margin_loss(x(2, 3, 4), izeros(2, 4)), ValueError, ["multi_margin_loss", r"\(2, 3, 4\)"]),
    # ---------------------------------------------------------------- optimisers, clipping
    ("SGD/negative lr", lambda: optim.SGD(params(), lr=-1), ValueError, ["SGD", "lr=-1"]),
    ("SGD/nan lr", lambda: optim.SGD(params(), lr=float("nan")), ValueError, ["SGD", "lr=nan"]),
    ("SGD/string lr", lambda: optim.SGD(params(), lr="0.1"), TypeError, ["SGD", "'0.1'"]),
    ("SGD/negative momentum", lambda: optim.SGD(params(), lr=0.1, momentum=-1), ValueError, ["SGD", "momentum=-1"]),
    ("SGD/nesterov without momentum", lambda: optim.SGD(params(), lr=0.1, nesterov=True), ValueError, ["SGD", "Nesterov", "momentum=0"]),
    ("SGD/no parameters", lambda: optim.SGD([], lr=0.1), ValueError, ["SGD", "empty"]),
    ("SGD/a module", lambda: optim.SGD(nn.Sequential(nn.Linear(2, 2)), lr=0.1), TypeError, ["SGD", "Sequential", r"parameters\(\)"]),
    ("SGD/a tensor", lambda: optim.SGD(bp.randn(2, requires_grad=True), lr=0.1), TypeError, ["SGD", r"\(2,\)"]),
    ("SGD/non-leaf", lambda: optim.SGD([bp.randn(2, requires_grad=True) * 2], lr=0.1), ValueError, ["SGD", "non-leaf"]),
    ("SGD/an int", lambda: optim.SGD(3, lr=0.1), TypeError, ["SGD", "int"]),
    ("SGD.step/gradient shape", _step_with_bad_grad, ValueError, ["SGD.step", r"\(3,\)", r"\(2,\)"]),
    ("SGD.load_state_dict/no groups", lambda: _load_bad_state({"foo": 1}), ValueError, ["SGD.load_state_dict", "param_groups"]),
    ("SGD.load_state_dict/not a dict", lambda: _load_bad_state([1]), ValueError, ["SGD.load_state_dict", "list"]),
    ("SGD.load_state_dict/missing lr", lambda: _load_bad_state({"state": {}, "param_groups": [{"params": [0, 1]}]}), ValueError, ["SGD.load_state_dict", "lr"]),
    ("Adam/beta1 = 1", lambda: optim.Adam(params(), betas=(1.0, 0.999)), ValueError, ["Adam", r"betas\[0\]=1.0"]),
    ("Adam/one beta", lambda: optim.Adam(params(), betas=(0.9,)), ValueError, ["Adam", "betas", r"\(0.9,\)"]),
    ("Adam/negative eps", lambda: optim.Adam(params(), eps=-1), ValueError, ["Adam", "eps=-1"]),
    ("AdamW/negative weight_decay", lambda: optim.AdamW(params(), weight_decay=-1), ValueError, ["AdamW", "weight_decay=-1"]),
    ("RMSprop/negative alpha", lambda: optim.RMSprop(params(), alpha=-1), ValueError, ["RMSprop", "alpha=-1"]),
    ("Adagrad/negative lr_decay", lambda: optim.Adagrad(params(), lr_decay=-1), ValueError, ["Adagrad", "lr_decay=-1"]),
    ("Adadelta/rho 2", lambda: optim.Adadelta(params(), rho=2), ValueError, ["Adadelta", "rho=2"]),
    ("StepLR/step_size 0", lambda: optim.lr_scheduler.StepLR(optim.SGD(params(), lr=0.1), step_size=0), ValueError, ["StepLR", "step_size=0"]),
    ("StepLR/no optimiser", lambda: optim.lr_scheduler.StepLR(None, step_size=1), TypeError, ["StepLR", "NoneType"]),
    ("CosineAnnealingLR/T_max 0", lambda: optim.lr_scheduler.CosineAnnealingLR(optim.SGD(params(), lr=0.1), T_max=0), ValueError, ["CosineAnnealingLR", "T_max=0"]),
    ("ReduceLROnPlateau/mode", lambda: optim.lr_scheduler.ReduceLROnPlateau(optim.SGD(params(), lr=0.1), mode="bad"), ValueError, ["ReduceLROnPlateau", "'bad'"]),
    ("ReduceLROnPlateau.step/string", lambda: optim.lr_scheduler.ReduceLROnPlateau(optim.SGD(params(), lr=0.1)).step("a"), TypeError, ["ReduceLROnPlateau.step", "'a'"]),
    ("clip_grad_norm_/negative max_norm", lambda: clip_grad_norm_(_with_grads(params()), -1.0), ValueError, ["clip_grad_norm_", "max_norm", "-1.0"]),
    ("clip_grad_norm_/nan max_norm", lambda: clip_grad_norm_(_with_grads(params()), float("nan")), ValueError, ["clip_grad_norm_", "nan"]),
    ("clip_grad_norm_/string norm_type", lambda: clip_grad_norm_(_with_grads(params()), 1.0, norm_type="x"), TypeError, ["clip_grad_norm_", "norm_type", "'x'"]),
    ("clip_grad_value_/negative", lambda: clip_grad_value_(_with_grads(params()), -1.0), ValueError, ["clip_grad_value_", "clip_value", "-1.0"]),
    # ---------------------------------------------------------------- data
    ("DataLoader/batch_size 0", lambda: DataLoader(TensorDataset(x(4, 2)), batch_size=0), ValueError, ["DataLoader", "batch_size", "0"]),
    ("DataLoader/negative batch_size", lambda: DataLoader(TensorDataset(x(4, 2)), batch_size=-1), ValueError, ["DataLoader", "-1"]),
    ("DataLoader/float batch_size", lambda: DataLoader(TensorDataset(x(4, 2)), batch_size=2.0), TypeError, ["DataLoader", "2.0"]),
    ("DataLoader/not a dataset", lambda: DataLoader(5, batch_size=2), TypeError, ["DataLoader", "int"]),
    ("DataLoader/None dataset", lambda: DataLoader(None), TypeError, ["DataLoader", "NoneType"]),
    ("DataLoader/collate_fn", lambda: DataLoader(TensorDataset(x(4, 2)), collate_fn=3), TypeError, ["DataLoader", "collate_fn", "3"]),
    ("TensorDataset/lengths", lambda: TensorDataset(x(4, 2), x(3)), ValueError, ["TensorDataset", r"\[4, 3\]"]),
    ("TensorDataset/0-d", lambda: TensorDataset(x()), ValueError, ["TensorDataset", "0-d"]),
    ("TensorDataset/index", lambda: TensorDataset(x(4, 2))[4], IndexError, ["TensorDataset", "index 4", "4 items"]),
    ("Subset/index", lambda: Subset(TensorDataset(x(4, 2)), [5]), IndexError, ["Subset", "5", "4 items"]),
    ("random_split/lengths", lambda: random_split(TensorDataset(x(4, 2)), [3, 3]), ValueError, ["random_split", r"\[3, 3\]", "4"]),
    ("random_split/negative", lambda: random_split(TensorDataset(x(4, 2)), [-1, 5]), ValueError, ["random_split", "-1"]),
    ("Normalize/std 0", lambda: T.Normalize(0.0, 0.0), ValueError, ["Normalize", "std", "0"]),
    ("Normalize/channels", lambda: T.Normalize([0.0, 1.0], [1.0, 1.0])(np.zeros((3, 4, 4), np.float32)), ValueError, ["Normalize", r"\(2,\)", r"\(3, 4, 4\)"]),
    ("OneHot/0 classes", lambda: T.OneHot(0), ValueError, ["OneHot", "0"]),
    ("OneHot/label too large", lambda: T.OneHot(3)(np.array(5)), ValueError, ["OneHot", r"\[0, 3\)", "5"]),
    ("OneHot/float label", lambda: T.OneHot(3)(np.array(1.0)), TypeError, ["OneHot", "float64"]),
    ("ToTensor/1-D", lambda: T.ToTensor()(np.zeros(5)), ValueError, ["ToTensor", r"\(5,\)"]),
    ("ToFloat/scale 0", lambda: T.ToFloat(0), ValueError, ["ToFloat", "scale", "0"]),
    ("ToFloat/strings", lambda: T.ToFloat()(np.array(["a"])), TypeError, ["ToFloat", "<U1"]),
    ("Compose/not callable", lambda: T.Compose([1]), TypeError, ["Compose", "1"]),
    ("RandomCrop/negative size", lambda: T.RandomCrop(-1), ValueError, ["RandomCrop", "-1"]),
    ("RandomHorizontalFlip/p 2", lambda: T.RandomHorizontalFlip(2), ValueError, ["RandomHorizontalFlip", "p", "2"]),
    ("RandomShift/negative", lambda: T.RandomShift(-1), ValueError, ["RandomShift", "-1"]),
    ("RandomAffine/negative degrees", lambda: T.RandomAffine(degrees=-1), ValueError, ["RandomAffine", "degrees", "-1"]),
    # ---------------------------------------------------------------- Trainer
    ("Trainer/model not a Module", lambda: Trainer("model", nn.MSELoss(), optim.SGD(params(), lr=0.1)), TypeError, ["Trainer", "model", "str"]),
    ("Trainer/loss_fn not callable", lambda: Trainer(nn.Linear(1, 1), 3, optim.SGD(params(), lr=0.1)), TypeError, ["Trainer", "loss_fn", "int"]),
    ("Trainer/optimizer", lambda: Trainer(nn.Linear(1, 1), nn.MSELoss(), "sgd"), TypeError, ["Trainer", "optimizer", "str"]),
    ("Trainer/unknown metric", lambda: trainer(metrics=["acc_bogus"]), ValueError, ["metric", "'acc_bogus'"]),
    ("Trainer/negative grad_clip_norm", lambda: trainer(grad_clip_norm=-1.0), ValueError, ["GradientClipping", "-1.0"]),
    ("Trainer/string grad_clip_norm", lambda: trainer(grad_clip_norm="a"), TypeError, ["GradientClipping", "'a'"]),
    ("Trainer/callback type", lambda: trainer(callbacks=[3]), TypeError, ["Trainer", "callbacks", "int"]),
    ("Trainer.fit/negative epochs", lambda: trainer().fit(loader(x(8, 4), ints(*[0] * 8)), epochs=-1), ValueError, ["Trainer.fit", "epochs", "-1"]),
    ("Trainer.fit/arrays not batches", lambda: trainer().fit((x(8, 4), ints(*[0] * 8))), TypeError, ["Trainer", "DataLoader"]),
    ("Trainer.fit/an iterator", lambda: trainer().fit(iter(loader(x(8, 4), ints(*[0] * 8)))), TypeError, ["Trainer", "iterator"]),
    ("Trainer.fit/empty dataset", lambda: trainer().fit(loader(x(0, 4), izeros(0)), epochs=1), ValueError, ["Trainer.fit", "no batch", "epoch 0"]),
    ("Trainer.fit/float class labels", lambda: trainer().fit(loader(x(8, 4), bp.zeros(8)), epochs=1), TypeError, ["cross_entropy", "integers"]),
    ("Trainer.fit/labels out of range", lambda: trainer().fit(loader(x(8, 4), ints(*[5] * 8)), epochs=1), ValueError, ["cross_entropy", "target 5", "3 classes"]),
    ("Trainer.fit/wrong features", lambda: trainer().fit(loader(x(8, 5), ints(*[0] * 8)), epochs=1), ValueError, ["Linear", r"\(4, 5\)"]),
    ("Trainer.fit/integer inputs", lambda: trainer().fit(loader(izeros(8, 4), ints(*[0] * 8)), epochs=1), TypeError, ["linear", "int64"]),
    ("Trainer.fit/batch of 3", lambda: trainer().fit(DataLoader(TensorDataset(x(8, 4), ints(*[0] * 8), x(8)), batch_size=4)), TypeError, ["Trainer", "length 3"]),
    ("Trainer.fit/loss not reduced", lambda: trainer(loss=nn.CrossEntropyLoss(reduction="none")).fit(loader(x(8, 4), ints(*[0] * 8))), ValueError, ["Trainer", "loss_fn", r"\(4,\)"]),
    ("Trainer.fit/loss a float", lambda: trainer(loss=lambda o, y: 1.0).fit(loader(x(8, 4), ints(*[0] * 8))), TypeError, ["Trainer", "loss_fn", "float"]),
    ("Trainer.evaluate/empty", lambda: trainer().evaluate(loader(x(0, 4), izeros(0))), ValueError, ["Trainer.evaluate", "no batch"]),
    ("Trainer.predict/empty", lambda: trainer().predict([]), ValueError, ["Trainer.predict", "no batch"]),
]
# fmt: on


@pytest.mark.parametrize("call, exc, needles", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_is_refused_clearly(call, exc, needles):
    with pytest.raises(exc) as info:
        call()
    # IndexError only for indexing (a container's protocol, as in Python and PyTorch).
    assert isinstance(info.value, (ValueError, TypeError, IndexError)), (
        f"{type(info.value).__name__} is not a ValueError/TypeError"
    )
    message = str(info.value)
    for needle in needles:
        assert re.search(needle, message), f"{needle!r} not in the message: {message!r}"
    origin = Path(traceback.extract_tb(info.tb)[-1].filename).resolve()
    assert SRC in origin.parents, f"raised from {origin}, not by backprop's own checks: {message}"


def test_the_table_covers_every_entry_point_family():
    """One row at least for each public family the issue lists (a guard against a shrinking
    table)."""
    families = {r[0].split("/")[0] for r in ROWS}
    expected = (
        "cross_entropy CrossEntropyLoss nll_loss mse_loss BCELoss Linear Conv2d Conv1d MaxPool2d "
        "AvgPool2d AdaptiveAvgPool2d BatchNorm1d LayerNorm Embedding RNN LSTM GRU Dropout dropout "
        "SGD Adam StepLR clip_grad_norm_ DataLoader TensorDataset Normalize Trainer Trainer.fit "
        "Trainer.evaluate softmax matmul mean zeros reshape"
    )
    for name in expected.split():
        assert name in families, name
    assert len(ROWS) >= 200


# ------------------------------------------------------------------ regressions (bugs found)
def test_reductions_over_an_empty_dim_with_a_dim_argument():
    """amax/amin/max(dim) of an empty tensor crashed with an AttributeError: the module's own
    ``any`` (the tensor reduction) shadowed the builtin in the emptiness check."""
    assert bp.zeros(0, 3).amax(1).shape == (0,)  # reducing a non-empty dim of an empty tensor
    values, idx = bp.zeros(0, 3).max(1)
    assert values.shape == (0,) and idx.shape == (0,)
    with pytest.raises(ValueError, match=r"amin: cannot reduce an empty dimension .*\(3, 0\)"):
        bp.zeros(3, 0).amin(1)


def test_softmax_of_an_empty_tensor_is_empty_as_in_torch():
    """It crashed inside NumPy (zero-size array to reduction operation maximum)."""
    for fn in (F.softmax, F.log_softmax):
        t = bp.zeros(2, 0, requires_grad=True)
        y = fn(t, 1)
        y.sum().backward()
        assert y.shape == (2, 0) and t.grad.shape == (2, 0)
        assert fn(bp.zeros(0, 3), 0).shape == (0, 3)


def test_negative_clip_bounds_do_not_flip_gradients():
    """clip_grad_norm_ with max_norm < 0 multiplied every gradient by a negative factor (gradient
    ascent), clip_grad_value_ with a negative bound set every gradient to -|bound|: both silent."""
    ps = _with_grads(params())
    for bad in (lambda: clip_grad_norm_(ps, -1.0), lambda: clip_grad_value_(ps, -0.5)):
        with pytest.raises(ValueError):
            bad()
    assert all(np.all(p.grad.data == 1) for p in ps)


def test_recurrent_state_of_another_dtype_is_refused_not_upcast():
    """A float64 h_0 made a float32 LSTM/GRU silently compute (and return) float64."""
    lstm = nn.LSTM(2, 3)
    out, (h, c) = lstm(x(5, 4, 2), (x(1, 4, 3), x(1, 4, 3)))
    assert out.dtype == h.dtype == c.dtype == np.float32
    with pytest.raises(TypeError, match="c_0 dtype float64"):
        lstm(x(5, 4, 2), (x(1, 4, 3), x(1, 4, 3, dtype=bp.float64)))


def test_optimizer_given_a_module_names_the_fix():
    """A Sequential passed as params iterated over its layers and failed on 'parameter 0 is a
    Linear'; a Linear failed with "'Linear' object is not iterable"."""
    for model in (nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2))):
        with pytest.raises(TypeError, match=r"pass model.parameters\(\)"):
            optim.Adam(model)


def test_an_empty_training_set_stops_instead_of_logging_nan():
    """fit on an empty loader 'trained' for every epoch and logged loss = nan."""
    t = trainer()
    with pytest.raises(ValueError, match="yielded no batch"):
        t.fit(DataLoader(TensorDataset(x(3, 4), ints(0, 1, 2)), batch_size=4, drop_last=True))
    assert t.epoch == 0 and len(t.history) == 0


def test_integers_mixed_with_array_indices_follow_torch_not_numpy():
    """x[0, :, idx] put idx's dimension first (NumPy counts the 0 as an advanced index); PyTorch
    applies the integer first: a silently transposed result (found by test_fuzz_ops)."""
    import torch

    a = np.arange(24.0).reshape(2, 3, 4)
    for index in [(0, slice(None), [True, False, True, True]), (0, slice(None), [1, 3]),
                  (1, [0, 2], slice(1, 3)), (Ellipsis, 0, [1]), (0, slice(None), [False] * 4)]:  # fmt: skip
        ours = bp.tensor(a)[tuple(bp.tensor(i) if isinstance(i, list) else i for i in index)]
        theirs = torch.tensor(a)[
            tuple(torch.tensor(i) if isinstance(i, list) else i for i in index)
        ]
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["train", "--set", "dataset.test_fraction=1.5"],
            "dataset (digits): Digits: test_fraction",
        ),
        (
            ["train", "--set", "dataset.augment=[{name='random_shift', max_shift=-2}]"],
            "dataset.augment[0]",
        ),
        (
            [
                "train",
                "--set",
                "dataset.name=moons",
                "--set",
                "dataset.n=-10",
                "--set",
                "model.name=mlp",
            ],
            "make_moons: n",
        ),
        (["train", "--set", "optimizer.lr=inf"], "optimizer.lr must be finite"),
        (["train", "--set", f"name={'a' * 300}"], "name must be a plain folder name"),
        (
            ["summary", "digits_cnn", "--input-shape", "-1", "8", "8"],
            "input_shape must hold positive ints",
        ),
    ],
)
def test_command_line_mistakes_exit_2_without_a_traceback(argv, message, capsys):
    """These escaped as tracebacks (ValueError from a dataset, an augmentation or the summary)."""
    from backprop import cli

    assert cli.main([*argv, "-q"] if argv[0] == "train" else argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
