"""GradientStats: per-layer gradient norm and mean |g| against a hand computation (a 2-2-1 ReLU
network, MSE, SGD, two batches, two epochs, in float64), dead-ReLU fractions on constructed
weights (Linear and convolution units, a ReLU called twice, validation batches not counted),
bitwise-unchanged training, resume inside an epoch, and the picture."""

import math

import numpy as np
import pytest

import backprop as bp
from backprop import nn, optim
from backprop.data import DataLoader, TensorDataset
from backprop.train import (
    GradientStats,
    LambdaCallback,
    ModelCheckpoint,
    Trainer,
)

X = np.array([[1.0, 2.0], [-1.0, 0.5], [0.5, -2.0], [2.0, 1.0]])
T = np.array([[1.0], [0.0], [-1.0], [2.0]])
W1 = np.array([[0.5, -0.3], [0.8, 0.2]])
B1 = np.array([0.1, -0.2])
W2 = np.array([[0.7, -1.1]])
B2 = np.array([0.3])


def _tiny_model():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1)).double()
    with bp.no_grad():
        for p, v in zip(model.parameters(), (W1, B1, W2, B2)):
            p.copy_(bp.tensor(v))
    return model


def _by_hand(epochs: int, lr: float) -> dict[str, list[float]]:
    """Forward, backward and SGD written out in NumPy: the statistics per epoch."""
    w1, b1, w2, b2 = W1.copy(), B1.copy(), W2.copy(), B2.copy()
    out: dict[str, list[float]] = {}
    for _ in range(epochs):
        per_batch: dict[str, list[float]] = {}
        for i in (0, 2):
            x, t = X[i : i + 2], T[i : i + 2]
            a = x @ w1.T + b1
            h = np.maximum(a, 0)
            y = h @ w2.T + b2
            gy = 2 * (y - t) / y.size  # MSE, mean over all elements
            gw2, gb2 = gy.T @ h, gy.sum(0)
            ga = (gy @ w2) * (a > 0)
            gw1, gb1 = ga.T @ x, ga.sum(0)
            for layer, grads in (("0", (gw1, gb1)), ("2", (gw2, gb2))):
                flat = np.concatenate([g.ravel() for g in grads])
                per_batch.setdefault(f"grad_norm/{layer}", []).append(np.sqrt((flat**2).sum()))
                per_batch.setdefault(f"grad_abs_mean/{layer}", []).append(np.abs(flat).mean())
            dead = (h == 0).all(axis=0).mean()
            per_batch.setdefault("dead_relu/1", []).append(dead)
            w1, b1, w2, b2 = w1 - lr * gw1, b1 - lr * gb1, w2 - lr * gw2, b2 - lr * gb2
        for k, v in per_batch.items():
            out.setdefault(k, []).append(float(np.mean(v)))
    return out


def _loader(x, t, batch_size=2):
    """float64 batches, in order (a DataLoader would collate them into float32)."""
    f64 = bp.float64
    return [
        (bp.tensor(x[i : i + batch_size], dtype=f64), bp.tensor(t[i : i + batch_size], dtype=f64))
        for i in range(0, len(x), batch_size)
    ]


def test_values_match_a_hand_computation():
    model = _tiny_model()
    stats = GradientStats()
    trainer = Trainer(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.5), callbacks=[stats], verbose=0
    )
    h = trainer.fit(_loader(X, T), epochs=2).history
    expected = _by_hand(epochs=2, lr=0.5)
    assert stats.layers == ["0", "2"] and stats.relus == ["1"]
    for k, v in expected.items():
        np.testing.assert_allclose(h[k], v, rtol=1e-12, err_msg=k)
    # The hand computation is not degenerate: a dead unit in some batch, and the layers differ.
    assert 0 < max(expected["dead_relu/1"]) < 1
    assert h["grad_norm/0"][0] != h["grad_norm/2"][0]
    # A fixed key order: the gradient norms (input side first), the mean |g|, the dead ReLUs.
    keys = [k for k in h if "/" in k]
    assert keys == [
        "grad_norm/0", "grad_norm/2", "grad_abs_mean/0", "grad_abs_mean/2", "dead_relu/1"
    ]  # fmt: skip


def test_a_model_owning_parameters_itself_is_named_after_its_class():
    model = nn.Linear(2, 1).double()
    trainer = Trainer(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), callbacks=[GradientStats()],
        verbose=0,
    )  # fmt: skip
    h = trainer.fit(_loader(X, T, batch_size=4), epochs=1).history
    model.zero_grad()
    nn.functional.mse_loss(
        model(bp.tensor(X, dtype=bp.float64)), bp.tensor(T, dtype=bp.float64)
    ).backward()
    g = np.concatenate([model.weight.grad.numpy().ravel(), model.bias.grad.numpy().ravel()])
    np.testing.assert_allclose(h["grad_norm/Linear"], [np.linalg.norm(g)], rtol=1e-12)
    assert not any(k.startswith("dead_relu") for k in h)  # no ReLU module, no key


class _Twice(nn.Module):
    """One ReLU module called on two tensors per forward, then a convolution through another."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.conv = nn.Conv2d(1, 2, kernel_size=1)
        self.act2 = nn.ReLU()
        self.head = nn.Linear(4 + 2 * 2 * 2, 1)

    def forward(self, x, img):
        a = self.act(self.fc(x))
        b = self.act(-self.fc(x))  # the same module again: its units count too
        c = self.act2(self.conv(img)).flatten(1)
        return self.head(bp.cat([a + b, c], dim=1))


def test_dead_relu_fraction_on_constructed_weights():
    model = _Twice()
    with bp.no_grad():
        # fc: unit 0 always < 0, unit 1 always > 0, unit 2 = x0 (sign varies), unit 3 = 0 exactly.
        model.fc.weight.copy_(
            bp.tensor([[0, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0]], dtype=bp.float32)
        )
        model.fc.bias.copy_(bp.tensor([-5.0, 5.0, 0.0, 0.0]))
        # conv: channel 0 = pixel, channel 1 = -pixel - 10 (always dead)
        model.conv.weight.copy_(bp.tensor([[[[1.0]]], [[[-1.0]]]]))
        model.conv.bias.copy_(bp.tensor([0.0, -10.0]))
    # Batch 1: x0 > 0 for one example. Batch 2: x0 < 0 for both.
    x = np.array([[1.0, 0, 0], [-1.0, 0, 0], [-2.0, 0, 0], [-3.0, 0, 0]], np.float32)
    img = np.zeros((4, 1, 2, 2), np.float32)
    img[0, 0, 0, 0] = 1.0  # batch 1: one live pixel of channel 0; batch 2: none
    y = np.zeros((4, 1), np.float32)
    data = DataLoader(TensorDataset(x, img, y), batch_size=2)
    batches = [((xb, ib), yb) for xb, ib, yb in data]
    # Validation batches would change the numbers (x0 > 0 everywhere): they must not count.
    val = [((bp.tensor(np.abs(x[:2]) + 1), bp.tensor(img[:2] + 1)), bp.tensor(y[:2]))]
    stats = GradientStats()
    trainer = Trainer(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.0), callbacks=[stats], verbose=0
    )
    h = trainer.fit(batches, val, epochs=1).history
    # act, batch 1: call 1 -> units 0, 3 dead, 2 alive (example 1); call 2 (-fc) -> unit 1 dead
    # (-5 < 0), unit 0 alive (+5), unit 2 alive (example 2: +1), unit 3 dead: 4 of 8.
    # batch 2: call 1 -> units 0, 2, 3 dead; call 2 -> units 1, 3 dead: 5 of 8.
    assert h["dead_relu/act"] == [pytest.approx((4 / 8 + 5 / 8) / 2)]
    # act2: 8 units (2 channels x 2 x 2). batch 1: channel 1 dead (4), channel 0 alive only at
    # (0, 0): 7 of 8; batch 2: all 8 dead.
    assert h["dead_relu/act2"] == [pytest.approx((7 / 8 + 8 / 8) / 2)]
    assert stats.relus == ["act", "act2"]
    # The hooks are gone after training.
    assert not model.act._forward_hooks and not model.act2._forward_hooks


def test_dead_relu_can_be_switched_off():
    model = _tiny_model()
    stats = GradientStats(dead_relu=False)
    trainer = Trainer(
        model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), callbacks=[stats], verbose=0
    )
    h = trainer.fit(_loader(X, T), epochs=1).history
    assert "grad_norm/0" in h and not any(k.startswith("dead_relu") for k in h)
    with pytest.raises(TypeError, match="GradientStats: dead_relu must be a bool"):
        GradientStats(dead_relu="yes")


def _train(setup, callbacks, epochs=3, clip=None):
    s = setup(seed=0)
    trainer = Trainer(
        s.model, s.loss_fn, s.optimizer, metrics=["accuracy"], callbacks=callbacks,
        grad_clip_norm=clip, verbose=0,
    )  # fmt: skip
    trainer.fit(s.train, s.val, epochs=epochs)
    return s, trainer


@pytest.mark.parametrize("clip", [None, 1e-3])
def test_training_results_are_bitwise_unchanged(setup, clip):
    s0, t0 = _train(setup, [], clip=clip)
    s1, t1 = _train(setup, [GradientStats()], clip=clip)
    for k, v in s0.weights().items():
        np.testing.assert_array_equal(v, s1.weights()[k], err_msg=k)
    rows0 = t0.history.rows
    rows1 = [{k: v for k, v in r.items() if "/" not in k} for r in t1.history.rows]
    assert rows0 == rows1
    assert all("grad_norm/0" in r and "dead_relu/1" in r for r in t1.history.rows)
    # Measured before clipping: the gradient norms are the ones backward computed.
    if clip is not None:
        assert max(t1.history["grad_norm/3"]) > clip


def test_the_stats_of_a_resumed_epoch_are_those_of_an_uninterrupted_one(setup, tmp_path):
    _, straight = _train(setup, [GradientStats()], epochs=3)

    s = setup(seed=0)
    trainer = None

    def stop(batch, logs):
        if (trainer.epoch, batch) == (1, 2):
            trainer.request_interrupt()

    trainer = Trainer(
        s.model, s.loss_fn, s.optimizer, metrics=["accuracy"], verbose=0,
        callbacks=[GradientStats(), ModelCheckpoint(tmp_path, monitor="val_loss"),
                   LambdaCallback(on_train_batch_end=stop)],
    )  # fmt: skip
    trainer.fit(s.train, s.val, epochs=3)
    assert trainer.interrupted

    s2 = setup(seed=5)
    again = Trainer(
        s2.model, s2.loss_fn, s2.optimizer, metrics=["accuracy"], verbose=0,
        callbacks=[GradientStats(), ModelCheckpoint(tmp_path, monitor="val_loss"),
                   LambdaCallback()],
    )  # fmt: skip
    again.load_checkpoint(tmp_path / "last.safetensors")
    again.fit(s2.train, s2.val, epochs=3)
    assert again.history.rows == straight.history.rows


def test_plot_gradient_stats(setup, tmp_path):
    pytest.importorskip("matplotlib")
    from backprop.viz import plot_gradient_stats, plot_history

    _, t = _train(setup, [GradientStats()], epochs=2)
    fig = plot_gradient_stats(t.history, tmp_path / "g.png", title="blobs")
    assert (tmp_path / "g.png").stat().st_size > 0
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["0", "3"]
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), t.history["grad_norm/3"])
    dead = plot_gradient_stats(t.history, stat="dead_relu").axes[0]
    assert [line.get_label() for line in dead.get_lines()] == ["1"]
    with pytest.raises(ValueError, match="no 'grad_norm/' values.*GradientStats"):
        plot_gradient_stats({"loss": [1.0]})
    with pytest.raises(ValueError, match="stat must be one of"):
        plot_gradient_stats(t.history, stat="grad")
    # plot_history does not mistake a gradient statistic for the metric of its right panel.
    h = {k: v for k, v in t.history.history.items() if k != "accuracy" and k != "val_accuracy"}
    assert len(plot_history(h).axes) == 1
    assert not math.isnan(t.history["grad_abs_mean/0"][0])
