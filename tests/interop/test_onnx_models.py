"""Recurrent and attention layers and every zoo model: exported, run in ONNX Runtime on fresh
inputs at two batch sizes (and two sequence lengths where the time axis is dynamic), compared
with backprop in eval mode. The worst difference per model is what README reports."""

from __future__ import annotations

import numpy as np
import pytest

import backprop
from backprop import models, nn

try:
    from backprop.models.gpt import GPT
except ImportError:  # the GPT family is not in this checkout
    GPT = None


def _seq(features, batch_first=True, length=(5, 7)):
    """Inputs (N, T, F) (or (T, N, F)) whose length changes with the batch size."""

    def make(n):
        t = length[0] if n == 2 else length[1]
        shape = (n, t, features) if batch_first else (t, n, features)
        return (np.random.default_rng(n).standard_normal(shape).astype(np.float32),)

    return make


def _ids(vocab, length=(5, 7), count=1):
    def make(n):
        t = length[0] if n == 2 else length[1]
        rng = np.random.default_rng(n)
        return tuple(rng.integers(0, vocab, (n, t)) for _ in range(count))

    return make


def _vectors(features):
    def make(n):
        return (np.random.default_rng(n).standard_normal((n, features)).astype(np.float32),)

    return make


def _images(c, h, w=None):
    def make(n):
        return (np.random.default_rng(n).standard_normal((n, c, h, w or h)).astype(np.float32),)

    return make


RECURRENT = [
    ("rnn_tanh", lambda: nn.RNN(4, 6), False),
    ("rnn_relu_2layers", lambda: nn.RNN(4, 6, num_layers=2, nonlinearity="relu"), False),
    ("rnn_bidir_bf", lambda: nn.RNN(4, 6, bidirectional=True, batch_first=True), True),
    ("lstm", lambda: nn.LSTM(4, 6), False),
    (
        "lstm_bidir_2layers_bf",
        lambda: nn.LSTM(4, 6, num_layers=2, bidirectional=True, batch_first=True),
        True,
    ),
    ("lstm_nobias", lambda: nn.LSTM(4, 5, bias=False, batch_first=True), True),
    ("gru", lambda: nn.GRU(4, 6, batch_first=True), True),
    ("gru_bidir_2layers", lambda: nn.GRU(4, 6, num_layers=2, bidirectional=True), False),
]


@pytest.mark.parametrize("name,factory,bf", RECURRENT, ids=[r[0] for r in RECURRENT])
def test_recurrent(name, factory, bf, onnx_check):
    backprop.manual_seed(0)
    onnx_check(factory(), _seq(4, bf), (2, 3))


def test_lstm_with_initial_state(onnx_check):
    backprop.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)

    def make(n):
        rng = np.random.default_rng(n)
        x = rng.standard_normal((n, 5, 3)).astype(np.float32)
        h = rng.standard_normal((4, n, 4)).astype(np.float32)
        c = rng.standard_normal((4, n, 4)).astype(np.float32)
        return x, h, c

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = lstm

        def forward(self, x, h, c):
            return self.lstm(x, (h, c))

    @backprop.onnx.register_rule(WithState)
    def _with_state(ctx, m, x, h, c):
        return ctx.call(m.lstm, x, (h, c))

    axes = [{0: "batch"}, {1: "batch"}, {1: "batch"}]
    onnx_check(WithState(), make, (2, 3), dynamic_axes=axes)


def test_lstm_gate_order_reaches_onnx_layout():
    """The initialisers are the state dict's own tensors; a Gather reorders the gate rows."""
    lstm = nn.LSTM(3, 4)
    proto = backprop.onnx.export(lstm, backprop.randn(5, 2, 3))
    names = {i.name for i in proto.graph.initializer}
    assert set(lstm.state_dict()) <= names
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 1


ATTENTION = [
    ("mha", lambda: nn.MultiheadAttention(8, 2), {}, False),
    (
        "mha_bf_noweights",
        lambda: nn.MultiheadAttention(8, 2, batch_first=True),
        {"need_weights": False},
        True,
    ),
    (
        "mha_per_head_weights",
        lambda: nn.MultiheadAttention(8, 4, batch_first=True),
        {"average_attn_weights": False},
        True,
    ),
    (
        "mha_bias_kv_zero_attn",
        lambda: nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True),
        {},
        False,
    ),
    ("mha_nobias", lambda: nn.MultiheadAttention(8, 2, bias=False, batch_first=True), {}, True),
]


class _SelfAttention(nn.Module):
    def __init__(self, mha, **kwargs):
        super().__init__()
        self.mha, self.kwargs = mha, kwargs

    def forward(self, x):
        return self.mha(x, x, x, **self.kwargs)


@backprop.onnx.register_rule(_SelfAttention)
def _self_attention_rule(ctx, m, x):
    return ctx.call(m.mha, x, x, x, **m.kwargs)


@pytest.mark.parametrize("name,factory,kw,bf", ATTENTION, ids=[r[0] for r in ATTENTION])
def test_attention(name, factory, kw, bf, onnx_check):
    backprop.manual_seed(0)
    mha = factory()
    if mha.bias_k is None and mha.in_proj_bias is not None:
        mha.in_proj_bias.data[...] = np.random.default_rng(3).standard_normal(24)
    axes = [{0: "batch", 1: "sequence"} if bf else {1: "batch", 0: "sequence"}]
    onnx_check(_SelfAttention(mha, **kw), _seq(8, bf), (2, 3), dynamic_axes=axes)


def test_attention_cross_with_causal_mask(onnx_check):
    """Query, key and value as three inputs; a causal mask built in the graph for any length."""
    backprop.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, kdim=6, vdim=5, batch_first=True)

    def make(n):
        rng = np.random.default_rng(n)
        t = 4 if n == 2 else 6
        return (rng.standard_normal((n, t, 8)).astype(np.float32),
                rng.standard_normal((n, t, 6)).astype(np.float32),
                rng.standard_normal((n, t, 5)).astype(np.float32))  # fmt: skip

    class Causal(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = mha

        def forward(self, q, k, v):
            mask = nn.Transformer.generate_square_subsequent_mask(q.shape[1])
            return self.mha(q, k, v, attn_mask=mask, is_causal=True, need_weights=False)[0]

    @backprop.onnx.register_rule(Causal)
    def _causal(ctx, m, q, k, v):
        mask = nn.Transformer.generate_square_subsequent_mask(q.shape[1])
        return ctx.call(m.mha, q, k, v, attn_mask=mask, is_causal=True, need_weights=False)[0]

    onnx_check(Causal(), make, (2, 3), dynamic_axes=[{0: "batch", 1: "sequence"}] * 3)


def test_attention_constant_mask(onnx_check):
    """A fixed (L, S) bool mask is a constant of the file (the length is then static)."""
    backprop.manual_seed(0)
    mha = nn.MultiheadAttention(8, 2, batch_first=True)
    mask = backprop.Tensor(np.random.default_rng(0).random((5, 5)) < 0.3)
    mask.data[np.arange(5), np.arange(5)] = False  # every query sees at least itself
    model = _SelfAttention(mha, attn_mask=mask)
    onnx_check(model, _seq(8, True, length=(5, 5)), (2, 3))


TRANSFORMERS = [
    ("encoder_layer", lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1), False, {}),
    (
        "encoder_layer_prenorm_gelu_bf",
        lambda: nn.TransformerEncoderLayer(
            8, 2, 16, activation="gelu", batch_first=True, norm_first=True
        ),
        True,
        {},
    ),
    (
        "encoder_stack_causal",
        lambda: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2, norm=nn.LayerNorm(8)
        ),
        True,
        {"is_causal": True},
    ),
]


@pytest.mark.parametrize("name,factory,bf,kw", TRANSFORMERS, ids=[r[0] for r in TRANSFORMERS])
def test_transformer_encoder(name, factory, bf, kw, onnx_check):
    backprop.manual_seed(0)
    model = factory()
    if kw.get("is_causal"):
        # the stacks need the mask next to the hint; the file rebuilds it for any length
        class Causal(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = model

            def forward(self, x):
                mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
                return self.enc(x, mask=mask, is_causal=True)

        @backprop.onnx.register_rule(Causal)
        def _causal(ctx, m, x):
            mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1])
            return ctx.call(m.enc, x, mask=mask, is_causal=True)

        model = Causal()
        axes = [{0: "batch", 1: "sequence"}]
        onnx_check(model, _seq(8, bf), (2, 3), dynamic_axes=axes)
        return
    onnx_check(model, _seq(8, bf), (2, 3))


def test_transformer_encoder_decoder(onnx_check):
    backprop.manual_seed(0)
    model = nn.Transformer(8, 2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
                           batch_first=True)  # fmt: skip

    def make(n):
        rng = np.random.default_rng(n)
        s, t = (6, 4) if n == 2 else (7, 5)
        return (rng.standard_normal((n, s, 8)).astype(np.float32),
                rng.standard_normal((n, t, 8)).astype(np.float32))  # fmt: skip

    axes = [{0: "batch", 1: "source"}, {0: "batch", 1: "target"}]
    onnx_check(model, make, (2, 3), dynamic_axes=axes)


# ---------------------------------------------------------------------------------- the zoo
ZOO = [
    ("mlp", lambda: models.MLP([12, 16, 8, 3], dropout=0.5, batchnorm=True), _images(1, 3, 4)),
    ("lenet5", lambda: models.LeNet5(dropout=0.5), _images(1, 28)),
    ("digits_cnn", lambda: models.DigitsCNN(), _images(1, 8)),
    (
        "alexnet",
        lambda: models.AlexNet(num_classes=10, image_size=67, width=0.05, hidden=32),
        _images(3, 67),
    ),
    (
        "vgg11_bn",
        lambda: models.VGG11(
            num_classes=10, image_size=32, width=0.0625, hidden=16, batchnorm=True
        ),
        _images(3, 32),
    ),
    (
        "vgg16",
        lambda: models.VGG16(num_classes=10, image_size=32, width=0.0625, hidden=16),
        _images(3, 32),
    ),
    ("resnet18", lambda: models.ResNet18(num_classes=10, width=8), _images(3, 32)),
    ("resnet20", lambda: models.ResNet20(num_classes=10, width=4), _images(3, 16)),
    ("resnet20_B", lambda: models.ResNet20(num_classes=10, width=4, shortcut="B"), _images(3, 16)),
    ("tied_autoencoder", lambda: models.TiedAutoencoder([16, 8, 4]), _images(1, 4)),
    ("perceptron", lambda: models.Perceptron(5, num_classes=3), _vectors(5)),
    ("sequence_classifier", lambda: models.SequenceClassifier(8, 16, 10), _seq(8)),
    (
        "sequence_classifier_gru_bidir",
        lambda: models.SequenceClassifier(
            5, 6, 3, cell="gru", num_layers=2, bidirectional=True, tokens=True
        ),
        _ids(5),
    ),
    ("char_rnn", lambda: models.CharRNN(7, 8, num_layers=2), _ids(7)),
    ("seq2seq", lambda: models.Seq2Seq(6, 5, hidden_size=8, cell="lstm"), _ids(5, count=2)),
    pytest.param(
        "gpt",
        lambda: GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8),
        _ids(11),
        marks=pytest.mark.skipif(GPT is None, reason="no models.gpt here"),
    ),
]


def _perturb(model):
    """Trained-looking batch-norm statistics (and perceptron weights: they start at zero)."""
    rng = np.random.default_rng(7)
    if isinstance(model, models.Perceptron):
        model.weight.data[...] = rng.standard_normal(model.weight.shape)
        model.bias.data[...] = rng.standard_normal(model.bias.shape)
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            C = m.num_features
            m.running_mean.data[...] = 0.1 * rng.standard_normal(C)
            m.running_var.data[...] = rng.uniform(0.5, 1.5, C)
            m.weight.data[...] = rng.uniform(0.5, 1.5, C)
            m.bias.data[...] = 0.1 * rng.standard_normal(C)
    return model


@pytest.mark.parametrize(
    "name,factory,make", ZOO, ids=[(r.values if hasattr(r, "marks") else r)[0] for r in ZOO]
)
def test_zoo_model(name, factory, make, onnx_check, tmp_path):
    backprop.manual_seed(0)
    model = _perturb(factory())
    worst = onnx_check(model, make, (2, 3), tmp_path=tmp_path)
    print(f"{name}: max abs difference {worst:.2e}")


def test_tied_weights_written_once():
    ae = models.TiedAutoencoder([6, 3])
    proto = backprop.onnx.export(ae, backprop.randn(2, 6))
    names = [i.name for i in proto.graph.initializer]
    assert names.count("encoder.0.weight") == 1 and "decoder.0.weight" not in names
    if GPT is None:
        return
    gpt = GPT(vocab_size=5, block_size=4, n_layer=1, n_head=1, n_embd=4)
    names = [i.name for i in backprop.onnx.export(gpt, backprop.Tensor(np.zeros((1, 3), np.int64)))
             .graph.initializer]  # fmt: skip
    assert "wte.weight" in names and "lm_head.weight" not in names


def test_state_dict_names_kept():
    net = models.LeNet5()
    proto = backprop.onnx.export(net, backprop.randn(1, 1, 28, 28))
    assert {i.name for i in proto.graph.initializer} >= set(net.state_dict())


def test_dynamic_axes_in_the_file():
    proto = backprop.onnx.export(models.CharRNN(5, 4), backprop.Tensor(np.zeros((2, 3), np.int64)))
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in dims] == ["batch", "sequence"]
    proto = backprop.onnx.export(models.LeNet5(), backprop.randn(2, 1, 28, 28),
                                 dynamic_batch=False)  # fmt: skip
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [2, 1, 28, 28]


CELLS = [
    ("rnn_cell", lambda: nn.RNNCell(4, 5), 1),
    ("rnn_cell_relu", lambda: nn.RNNCell(4, 5, nonlinearity="relu", bias=False), 1),
    ("lstm_cell", lambda: nn.LSTMCell(4, 5), 2),
    ("gru_cell", lambda: nn.GRUCell(4, 5), 1),
]


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("name,factory,n_states", CELLS, ids=[r[0] for r in CELLS])
def test_cells(name, factory, n_states, with_state, onnx_check):
    backprop.manual_seed(0)
    cell = factory()

    def make(n):
        rng = np.random.default_rng(n)
        arrays = [rng.standard_normal((n, 4)).astype(np.float32)]
        if with_state:
            arrays += [rng.standard_normal((n, 5)).astype(np.float32) for _ in range(n_states)]
        return tuple(arrays)

    if not with_state:
        onnx_check(cell, make, (2, 3))
        return

    class Stepped(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = cell

        def forward(self, x, *state):
            return self.cell(x, state if n_states == 2 else state[0])

    @backprop.onnx.register_rule(Stepped)
    def _stepped(ctx, m, x, *state):
        return ctx.call(m.cell, x, state if n_states == 2 else state[0])

    onnx_check(Stepped(), make, (2, 3), dynamic_axes=[{0: "batch"}] * (1 + n_states))


@pytest.mark.parametrize(
    "name,factory,make",
    [
        ("resnet18_224", lambda: models.ResNet18(), _images(3, 224)),
        ("alexnet_227", lambda: models.AlexNet(), _images(3, 227)),
    ],
)
def test_zoo_model_at_full_size(name, factory, make, onnx_check):
    """The published sizes (ResNet-18: 11.7 M parameters at 224x224; AlexNet: 62 M at 227).
    Batch-norm statistics are calibrated on one batch first (momentum 1), as training leaves
    them: activations then keep unit scale through the 18 layers, as in a trained network."""
    backprop.manual_seed(0)
    model = factory()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.momentum = 1.0
    model.train()
    with backprop.no_grad():
        model(backprop.Tensor(make(4)[0]))
    worst = onnx_check(model, make, (1, 2))
    print(f"{name}: max abs difference {worst:.2e}")


def test_transformer_with_causal_target_mask_as_forward_kwargs(onnx_check):
    """forward_kwargs fix keyword arguments in the file: here the causal target mask (with its
    hint, so the file builds the mask itself) and a source padding mask given as a constant."""
    backprop.manual_seed(0)
    model = nn.Transformer(8, 2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=16,
                           batch_first=True, norm_first=True)  # fmt: skip
    tgt_mask = nn.Transformer.generate_square_subsequent_mask(4)
    pad = backprop.Tensor(np.array([[False] * 5 + [True]] * 2))

    def make(n):
        rng = np.random.default_rng(n)
        return (rng.standard_normal((2, 6, 8)).astype(np.float32),
                rng.standard_normal((2, 4, 8)).astype(np.float32))  # fmt: skip

    kw = {"tgt_mask": tgt_mask, "tgt_is_causal": True, "src_key_padding_mask": pad,
          "memory_key_padding_mask": pad}  # fmt: skip
    onnx_check(model, make, (2, 3), forward_kwargs=kw, dynamic_batch=False)
