"""Recurrent models: many-to-one, many-to-many / one-to-many (char LM), seq2seq."""

import numpy as np
import pytest

import backprop
from backprop import models, nn, optim


def _train(model, make_loss, steps, lr=1e-2):
    opt = optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = make_loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_token_inputs_are_checked():
    model = models.CharRNN(3, hidden_size=4)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\)"):
        model(backprop.tensor(np.array([[0, 3]])))
    with pytest.raises(TypeError, match="integers"):
        model(backprop.tensor(np.array([[0.5]])))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_sequence_classifier_cells_and_tokens(cell):
    # Many-to-one on a task that needs the whole sequence: is the first token equal to the last?
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=(32, 5))
    x[:16, -1] = x[:16, 0]
    x[16:, -1] = (x[16:, 0] + 1) % 4
    y = (np.arange(32) < 16).astype(np.int64)
    model = models.SequenceClassifier(4, 24, 2, cell=cell, tokens=True)
    xt, yt = backprop.tensor(x), backprop.tensor(y)
    loss_fn = nn.CrossEntropyLoss()
    losses = _train(model, lambda: loss_fn(model(xt), yt), 150)
    assert losses[-1] < 0.1 * losses[0]
    assert (model(xt).data.argmax(1) == y).all()


def test_sequence_classifier_bidirectional_stacked():
    model = models.SequenceClassifier(3, 8, 4, cell="gru", num_layers=2, bidirectional=True)
    assert model.fc.weight.shape == (4, 16)
    assert model(backprop.randn(5, 7, 3)).shape == (5, 4)
    with pytest.raises(ValueError, match="cell must be one of"):
        models.SequenceClassifier(3, 8, 2, cell="transformer")


def test_char_rnn_learns_and_samples():
    text = "abcabcabcabcabcabcabcabcabcabc"
    ids = np.array(["abc".index(c) for c in text])
    model = models.CharRNN(3, hidden_size=16, cell="lstm")
    x, y = backprop.tensor(ids[None, :-1]), backprop.tensor(ids[None, 1:])
    loss_fn = nn.CrossEntropyLoss()

    def loss():
        logits, _ = model(x)
        assert logits.shape == (1, len(ids) - 1, 3)
        return loss_fn(logits.reshape(-1, 3), y.reshape(-1))

    losses = _train(model, loss, 100, lr=3e-2)
    assert losses[-1] < 0.05
    # Greedy sampling (temperature 0) continues the pattern; sampling is reproducible.
    assert model.sample([0], 8, temperature=0) == [1, 2, 0, 1, 2, 0, 1, 2]
    backprop.manual_seed(5)
    a = model.sample([0, 1], 20, temperature=1.5)
    backprop.manual_seed(5)
    assert model.sample([0, 1], 20, temperature=1.5) == a and len(a) == 20
    assert model.training  # mode restored
    with pytest.raises(ValueError, match="prefix"):
        model.sample([], 3)


def test_char_rnn_state_carries_over():
    model = models.CharRNN(5, hidden_size=8, cell="gru")
    ids = backprop.tensor(np.array([[0, 1, 2, 3, 4, 0]]))
    with backprop.no_grad():
        whole, _ = model(ids)
        first, state = model(ids[:, :3])
        second, _ = model(ids[:, 3:], state)
    np.testing.assert_allclose(whole.data[:, 3:], second.data, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_seq2seq_learns_to_reverse(cell):
    rng = np.random.default_rng(0)
    start, end = 4, 5
    src = rng.integers(0, 4, size=(48, 3))
    tgt = np.concatenate([src[:, ::-1], np.full((48, 1), end)], axis=1)
    tgt_in = np.concatenate([np.full((48, 1), start), tgt[:, :-1]], axis=1)
    model = models.Seq2Seq(4, 6, hidden_size=32, cell=cell)
    s, ti, t = (backprop.tensor(a) for a in (src, tgt_in, tgt))
    loss_fn = nn.CrossEntropyLoss()
    losses = _train(model, lambda: loss_fn(model(s, ti).reshape(-1, 6), t.reshape(-1)), 150)
    assert losses[-1] < 0.1 * losses[0]
    out = model.generate(s, max_len=4, start=start)
    assert out.shape == (48, 4)
    assert (out == tgt).all(axis=1).mean() > 0.9
