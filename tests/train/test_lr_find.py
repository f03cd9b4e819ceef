"""lr_find: the exponential sweep and the smoothing as documented, the stop on divergence, a
suggestion below the divergence edge of a problem whose edge is known, and everything restored
(parameters bitwise, optimiser state, gradients, modes, random generators: training afterwards is
the same as without the sweep)."""

import math

import numpy as np
import pytest

import backprop as bp
from backprop import nn, optim
from backprop.train import LRFindResult, Trainer, lr_find


def _regression(n=64, seed=0):
    """y = x @ w_true with x ~ N(0, 1) in 4 dimensions: MSE's curvature is about 2 in every
    direction (the Hessian is 2 x^T x / n), so plain SGD diverges above lr ~ 1."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], np.float32))[:, None]
    return [(bp.tensor(x[i : i + 16]), bp.tensor(y[i : i + 16])) for i in range(0, n, 16)]


def test_sweep_smoothing_and_divergence():
    bp.manual_seed(0)
    model = nn.Linear(4, 1)
    r = lr_find(model, _regression(), nn.MSELoss(), optim.SGD(model.parameters()), num_iter=60)
    assert isinstance(r, LRFindResult) and r.diverged
    n = len(r.lrs)
    assert 10 < n < 60 and len(r.losses) == len(r.raw_losses) == n
    # lr_i = start * (end / start) ** (i / (num_iter - 1))
    np.testing.assert_allclose(r.lrs, 1e-7 * 1e8 ** (np.arange(n) / 59), rtol=1e-12)
    s = [r.raw_losses[0]]
    for v in r.raw_losses[1:]:
        s.append(0.05 * v + 0.95 * s[-1])
    np.testing.assert_allclose(r.losses, s, rtol=1e-12)
    assert r.losses[-1] > 4 * min(r.losses)  # stopped on the first step past the threshold
    assert all(v <= 4 * min(r.losses[: i + 1]) for i, v in enumerate(r.losses[:-1]))
    # The suggestion: on the descent, below the edge where SGD diverges: lr = 2 / the largest
    # curvature of a batch's loss (the Hessian of MSE in (w, b) is 2 [x 1]^T [x 1] / 16).
    edge = min(
        2 / np.linalg.eigvalsh(2 * a.T @ a / len(a)).max()
        for a in (
            np.hstack([x.numpy(), np.ones((len(x), 1), np.float32)]) for x, _ in _regression()
        )
    )
    assert r.suggestion is not None and 1e-2 < r.suggestion < edge < r.lrs[-1]
    i = r.lrs.index(r.suggestion)
    assert r.losses[i + 1] < r.losses[i - 1]
    assert "suggestion=" in repr(r)


def test_end_lr_reached_without_divergence_and_the_loader_is_cycled():
    model = nn.Linear(4, 1)
    data = _regression(n=32)  # 2 batches for 20 steps: cycled
    r = lr_find(model, data, nn.MSELoss(), optim.SGD(model.parameters()), 1e-6, 1e-3, 20)
    assert not r.diverged and len(r.lrs) == 20
    assert r.lrs[-1] == pytest.approx(1e-3) and r.raw_losses[0] == r.raw_losses[0]


def test_a_loss_that_only_rises_gives_no_suggestion():
    model = nn.Linear(4, 1)
    opt = optim.SGD(model.parameters(), maximize=True)  # ascent: the loss goes up at once
    r = lr_find(model, _regression(), nn.MSELoss(), opt, 1e-2, 10, 30, smooth=1.0)
    assert r.suggestion is None and r.diverged


def _mlp_setup(seed=0):
    bp.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 1)
    )
    opt = optim.Adam(model.parameters(), lr=1e-3)
    return model, opt


def test_everything_is_restored_bitwise():
    model, opt = _mlp_setup()
    data = _regression()
    # A state worth restoring: Adam moments after a step, gradients present, eval mode.
    nn.functional.mse_loss(model(data[0][0]), data[0][1]).backward()
    opt.step()
    nn.functional.mse_loss(model(data[1][0]), data[1][1]).backward()
    model.eval()
    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    grads = {id(p): (p.grad, p.grad.data.copy()) for p in model.parameters()}
    opt_before = opt.state_dict()
    group = opt.param_groups[0]
    rng = bp.random.get_rng_state()

    r = lr_find(model, data, nn.MSELoss(), opt, num_iter=40)
    assert len(r.lrs) > 5

    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k], err_msg=k)
        assert v.data.dtype == before[k].dtype
    assert not model.training and not any(m.training for m in model.modules())
    for p in model.parameters():
        g, data_before = grads[id(p)]
        assert p.grad is g
        np.testing.assert_array_equal(p.grad.data, data_before)
    opt_after = opt.state_dict()
    assert opt_after["param_groups"] == opt_before["param_groups"]
    assert opt.param_groups[0] is group and group["lr"] == 1e-3
    assert opt_after["state"].keys() == opt_before["state"].keys()
    for i, s in opt_before["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(np.asarray(opt_after["state"][i][k]), np.asarray(v))
    after = bp.random.get_rng_state()
    assert str(after) == str(rng)


def _fit(model, opt, data, epochs=3):
    t = Trainer(model, nn.MSELoss(), opt, verbose=0)
    t.fit(data, epochs=epochs)
    return t.history.rows, {k: v.data.copy() for k, v in model.state_dict().items()}


def test_training_after_the_sweep_is_as_without_it():
    from backprop.data import DataLoader, TensorDataset

    def loader():
        batches = _regression()
        x = np.concatenate([b[0].numpy() for b in batches])
        y = np.concatenate([b[1].numpy() for b in batches])
        return DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True)

    model, opt = _mlp_setup()
    rows0, w0 = _fit(model, opt, loader())
    model, opt = _mlp_setup()
    data = loader()
    lr_find(model, data, nn.MSELoss(), opt, num_iter=30)  # dropout and shuffling draw from the RNG
    rows1, w1 = _fit(model, opt, data)
    assert rows0 == rows1
    for k in w0:
        np.testing.assert_array_equal(w0[k], w1[k], err_msg=k)


def test_restored_when_the_sweep_raises():
    model, opt = _mlp_setup()
    before = {k: v.data.copy() for k, v in model.state_dict().items()}
    calls = []

    def loss_fn(out, y):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("boom")
        return nn.functional.mse_loss(out, y)

    with pytest.raises(RuntimeError, match="boom"):
        lr_find(model, _regression(), loss_fn, opt)
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.data, before[k], err_msg=k)
    assert opt.param_groups[0]["lr"] == 1e-3 and not opt.state


def test_a_non_finite_loss_stops_the_sweep():
    model = nn.Linear(4, 1)
    opt = optim.SGD(model.parameters())
    r = lr_find(model, _regression(), nn.MSELoss(), opt, 1e-3, 1e6, 80, diverge=1e30)
    assert r.diverged and all(math.isfinite(v) for v in r.raw_losses)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"start_lr": 0}, "0 < start_lr < end_lr"),
        ({"start_lr": 1.0, "end_lr": 0.5}, "0 < start_lr < end_lr"),
        ({"end_lr": math.inf}, "0 < start_lr < end_lr"),
        ({"num_iter": 1}, "num_iter must be an int >= 2"),
        ({"num_iter": 10.0}, "num_iter must be an int >= 2"),
        ({"smooth": 0}, r"smooth must be in \(0, 1\]"),
        ({"smooth": 1.5}, r"smooth must be in \(0, 1\]"),
        ({"diverge": 1.0}, "diverge must be a finite number > 1"),
    ],
)
def test_bad_settings(kwargs, match):
    model = nn.Linear(4, 1)
    with pytest.raises(ValueError, match=match):
        lr_find(model, _regression(), nn.MSELoss(), optim.SGD(model.parameters()), **kwargs)


def test_bad_arguments():
    model = nn.Linear(4, 1)
    opt = optim.SGD(model.parameters())
    with pytest.raises(TypeError, match="start_lr must be a number"):
        lr_find(model, _regression(), nn.MSELoss(), opt, start_lr="1e-7")
    with pytest.raises(TypeError, match="re-iterable"):
        lr_find(model, iter(_regression()), nn.MSELoss(), opt)
    with pytest.raises(TypeError, match="optimizer must be an optimiser"):
        lr_find(model, _regression(), nn.MSELoss(), object())
    with pytest.raises(ValueError, match="yielded no batch"):
        lr_find(model, [], nn.MSELoss(), opt)
    with pytest.raises(TypeError, match=r"\(inputs, targets\) pair"):
        lr_find(model, [bp.zeros(2, 4)], nn.MSELoss(), opt)
    with pytest.raises(TypeError, match="loss_fn must return a Tensor"):
        lr_find(model, _regression(), lambda o, y: 1.0, opt)
    with pytest.raises(ValueError, match="one number"):
        lr_find(model, _regression(), nn.MSELoss(reduction="none"), opt)


def test_plot_lr_find(tmp_path):
    pytest.importorskip("matplotlib")
    from backprop.viz import plot_lr_find

    model = nn.Linear(4, 1)
    r = lr_find(model, _regression(), nn.MSELoss(), optim.SGD(model.parameters()), num_iter=60)
    fig = plot_lr_find(r, tmp_path / "lr.png")
    assert (tmp_path / "lr.png").stat().st_size > 0
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["batch loss", "smoothed loss"] and any("suggestion" in s for s in labels)
    with pytest.raises(ValueError, match="plot_lr_find: expected the result"):
        plot_lr_find(LRFindResult())
