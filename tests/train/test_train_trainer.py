"""The Trainer: fitting, evaluation mode, callbacks, schedules, exact resume, Ctrl-C, NaN guard."""

import math
import os
import signal

import numpy as np
import pytest

import backprop as bp
from backprop import nn, optim
from backprop.train import (
    CSVLogger,
    EarlyStopping,
    JSONLinesLogger,
    LambdaCallback,
    ModelCheckpoint,
    NonFiniteLossError,
    Trainer,
)


def test_fit_reaches_high_accuracy_on_a_toy_problem(setup):
    s = setup()
    trainer = Trainer(s.model, s.loss_fn, s.optimizer, metrics=["accuracy"], verbose=0)
    history = trainer.fit(s.train, s.val, epochs=12)
    assert len(history) == 12 and trainer.epoch == 12 and trainer.global_step == 12 * 6
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}
    assert history["val_accuracy"][-1] >= 0.95
    assert history["loss"][-1] < history["loss"][0] / 3
    final = trainer.evaluate(s.val)
    assert final["accuracy"] == history["val_accuracy"][-1]
    assert final["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-6)
    out = trainer.predict(s.val)
    assert out.shape == (60, 3)
    labels = np.concatenate([y.data for _, y in s.val])
    assert (out.data.argmax(1) == labels).mean() == final["accuracy"]


class _Spy(nn.Module):
    """Records the mode and grad mode of every forward call."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls = []

    def forward(self, x):
        self.calls.append((self.training, bp.is_grad_enabled()))
        return self.inner(x)


def test_training_in_train_mode_and_evaluation_in_eval_mode_without_grad(setup):
    s = setup()
    spy = _Spy(s.model)
    trainer = Trainer(spy, s.loss_fn, optim.SGD(spy.parameters(), lr=0.1), verbose=0)
    trainer.fit(s.train, s.val, epochs=1)
    assert spy.calls[:6] == [(True, True)] * 6  # 6 training batches
    assert spy.calls[6:] == [(False, False)] * 1  # 1 validation batch
    spy.calls.clear()
    trainer.evaluate(s.val)
    assert spy.calls == [(False, False)] and spy.training  # mode restored afterwards


def _scripted(values, key="val_loss"):
    """A callback that overwrites a metric with a scripted sequence (runs before the others)."""
    return LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update({key: values[epoch]}))


def test_early_stopping_stops_at_the_right_epoch_and_restores_the_best_weights(setup):
    s = setup()
    snapshots = []
    remember = LambdaCallback(order=50, on_epoch_end=lambda e, logs: snapshots.append(s.weights()))
    es = EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    seq = [1.0, 0.8, 0.9, 0.85, 0.1, 0.1]
    trainer = Trainer(
        s.model, s.loss_fn, s.optimizer, verbose=0, callbacks=[_scripted(seq), es, remember]
    )
    history = trainer.fit(s.train, epochs=6)
    # best 0.8 at epoch index 1; no improvement at 2 and 3 -> stops after epoch index 3
    assert len(history) == 4 and es.stopped_epoch == 3 and es.best_epoch == 1
    assert "has not improved for 2 epochs" in trainer.stop_reason
    for k, v in s.weights().items():
        np.testing.assert_array_equal(v, snapshots[1][k])
    assert not all(np.array_equal(v, snapshots[3][k]) for k, v in s.weights().items())


def test_early_stopping_min_delta_and_max_mode(setup):
    s = setup()
    es = EarlyStopping("val_accuracy", patience=1, min_delta=0.05)  # auto: max
    seq = [0.5, 0.54, 0.9]  # +0.04 is below min_delta: no improvement -> stop after index 1
    trainer = Trainer(
        s.model, s.loss_fn, s.optimizer, verbose=0, callbacks=[_scripted(seq, "val_accuracy"), es]
    )
    assert len(trainer.fit(s.train, epochs=3)) == 2 and es.mode == "max"


def test_reduce_lr_on_plateau_halves_at_the_right_epochs(setup):
    torch = pytest.importorskip("torch")
    s = setup()
    opt = optim.SGD(s.model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    seq = [1.0, 0.9, 0.95, 0.96, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76]
    trainer = Trainer(
        s.model, s.loss_fn, opt, scheduler=sched, verbose=0, callbacks=[_scripted(seq)]
    )
    lrs = trainer.fit(s.train, epochs=len(seq))["lr"]
    # the lr used in each epoch; the plateau after epochs 4 and 7 (1-based) halves it
    assert lrs == [0.1] * 4 + [0.05] * 3 + [0.025] * 3
    p = torch.nn.Parameter(torch.zeros(1))
    topt = torch.optim.SGD([p], lr=0.1)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, factor=0.5, patience=1)
    want = []
    for v in seq:
        want.append(topt.param_groups[0]["lr"])
        tsched.step(v)
    assert lrs == want


def test_plateau_scheduler_without_validation_data_names_the_missing_metric(setup):
    s = setup()
    sched = optim.lr_scheduler.ReduceLROnPlateau(s.optimizer)
    trainer = Trainer(s.model, s.loss_fn, s.optimizer, scheduler=sched, verbose=0)
    with pytest.raises(ValueError, match="'val_loss' is not in the logs.*pass val_data"):
        trainer.fit(s.train, epochs=1)


def _full_run(setup, tmp_path, epochs, interrupt_at=None, gen_seed=None, folder="a"):
    """Train with every stateful piece: dropout, shuffling, Adam, a step schedule, early stopping,
    checkpoints; optionally request an interrupt at (epoch, batch)."""
    gen = None if gen_seed is None else np.random.default_rng(gen_seed)
    s = setup(seed=0, loader_generator=gen)
    sched = optim.lr_scheduler.StepLR(s.optimizer, step_size=2, gamma=0.5)
    ckpt = ModelCheckpoint(tmp_path / folder, monitor="val_accuracy")
    cbs = [EarlyStopping(patience=50, restore_best_weights=False), ckpt]
    if interrupt_at is not None:

        def maybe_interrupt(batch, logs):
            if (trainer.epoch, batch) == interrupt_at:
                trainer.request_interrupt()

        cbs.append(LambdaCallback(on_train_batch_end=maybe_interrupt))
    trainer = Trainer(
        s.model,
        s.loss_fn,
        s.optimizer,
        metrics=["accuracy"],
        scheduler=sched,
        callbacks=cbs,
        verbose=0,
    )
    trainer.fit(s.train, s.val, epochs=epochs)
    return s, trainer, ckpt


def _resume(setup, path, epochs, seed=123, gen_seed=None):
    # Another seed on purpose: everything must come from the checkpoint.
    gen = None if gen_seed is None else np.random.default_rng(gen_seed + 1000)
    s = setup(seed=seed, loader_generator=gen)
    sched = optim.lr_scheduler.StepLR(s.optimizer, step_size=2, gamma=0.5)
    trainer = Trainer(
        s.model,
        s.loss_fn,
        s.optimizer,
        metrics=["accuracy"],
        scheduler=sched,
        callbacks=[EarlyStopping(patience=50), ModelCheckpoint(path.parent)],
        verbose=0,
    )
    trainer.load_checkpoint(path)
    trainer.fit(s.train, s.val, epochs=epochs)
    return s, trainer


def _assert_same(a, b):
    sa, ta = a
    sb, tb = b
    for k, v in sa.weights().items():
        np.testing.assert_array_equal(v, sb.weights()[k], err_msg=k)
    assert ta.history.rows == tb.history.rows  # exactly equal floats
    assert ta.global_step == tb.global_step and ta.epoch == tb.epoch
    oa, ob = sa.optimizer.state_dict(), sb.optimizer.state_dict()
    assert oa["param_groups"] == ob["param_groups"]
    for i in oa["state"]:
        for k, v in oa["state"][i].items():
            np.testing.assert_array_equal(np.asarray(v), np.asarray(ob["state"][i][k]))


@pytest.mark.parametrize("gen_seed", [None, 7])  # library RNG / the loader's own generator
def test_resume_after_k_epochs_is_bit_identical(setup, tmp_path, gen_seed):
    straight = _full_run(setup, tmp_path, 5, gen_seed=gen_seed, folder="straight")[:2]
    _full_run(setup, tmp_path, 2, gen_seed=gen_seed, folder="k")
    resumed = _resume(setup, tmp_path / "k" / "last.safetensors", 5, gen_seed=gen_seed)
    _assert_same(straight, resumed)


@pytest.mark.parametrize("gen_seed", [None, 7])
def test_resume_after_a_mid_epoch_interrupt_is_bit_identical(setup, tmp_path, gen_seed):
    straight = _full_run(setup, tmp_path, 4, gen_seed=gen_seed, folder="straight")[:2]
    s, t, ckpt = _full_run(setup, tmp_path, 4, interrupt_at=(2, 3), gen_seed=gen_seed)
    assert t.interrupted and t.epoch == 2 and len(t.history) == 2
    partial = bp.train.read_checkpoint(ckpt.last_path).trainer["partial"]
    assert partial["batch"] == 4  # batches 0..3 of epoch index 2 were done
    resumed = _resume(setup, ckpt.last_path, 4, gen_seed=gen_seed)
    _assert_same(straight, resumed)
    # Calling fit again in the same process continues exactly as well.
    t.fit(s.train, s.val, epochs=4)
    _assert_same(straight, (s, t))


def test_sigint_stops_cleanly_with_a_resumable_checkpoint(setup, tmp_path):
    s = setup()
    ckpt = ModelCheckpoint(tmp_path, monitor="val_loss")

    def ctrl_c(batch, logs):
        if trainer.epoch == 1 and batch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    trainer = Trainer(
        s.model,
        s.loss_fn,
        s.optimizer,
        callbacks=[ckpt, LambdaCallback(on_train_batch_end=ctrl_c)],
        verbose=0,
    )
    before = signal.getsignal(signal.SIGINT)
    trainer.fit(s.train, s.val, epochs=3)  # returns instead of raising KeyboardInterrupt
    assert trainer.interrupted and trainer.epoch == 1
    assert signal.getsignal(signal.SIGINT) is before
    c = bp.train.read_checkpoint(ckpt.last_path)
    assert c.epoch == 1 and c.trainer["partial"]["batch"] == 2


def test_nan_guard_names_epoch_step_and_value_and_keeps_the_weights(setup):
    s = setup()
    calls = {"n": 0}

    def loss_fn(out, y):
        calls["n"] += 1
        loss = s.loss_fn(out, y)
        return loss * float("nan") if calls["n"] == 9 else loss  # 3rd batch of epoch 2

    saved = {}
    keep = LambdaCallback(on_train_batch_end=lambda b, logs: saved.update(s.weights()))
    trainer = Trainer(s.model, loss_fn, s.optimizer, callbacks=[keep], verbose=0)
    with pytest.raises(NonFiniteLossError, match=r"nan at epoch 2, batch 3 \(global step 9\)"):
        trainer.fit(s.train, epochs=3)
    for k, v in s.weights().items():
        np.testing.assert_array_equal(v, saved[k])  # the bad step was never applied


def test_gradient_clipping_bounds_the_norm(setup):
    s = setup(lr=0.01)
    norms = []

    def measure(batch, logs):
        g = np.concatenate([p.grad.data.ravel() for p in s.model.parameters()])
        norms.append(float(np.linalg.norm(g)))

    probe = LambdaCallback(order=0, on_before_optimizer_step=measure)
    trainer = Trainer(
        s.model, s.loss_fn, s.optimizer, grad_clip_norm=0.05, callbacks=[probe], verbose=0
    )
    trainer.fit(s.train, epochs=1)
    assert max(norms) <= 0.05 * (1 + 1e-5)


def test_loggers_write_one_row_per_epoch_and_survive_resume(setup, tmp_path):
    s = setup()
    csv_path, jl = tmp_path / "h.csv", tmp_path / "h.jsonl"
    ck = ModelCheckpoint(tmp_path / "ck", monitor="val_loss")
    t = Trainer(
        s.model,
        s.loss_fn,
        s.optimizer,
        metrics=["accuracy"],
        verbose=0,
        callbacks=[CSVLogger(csv_path), JSONLinesLogger(jl), ck],
    )
    t.fit(s.train, s.val, epochs=2)
    s2 = setup(seed=5)
    t2 = Trainer(
        s2.model,
        s2.loss_fn,
        s2.optimizer,
        metrics=["accuracy"],
        verbose=0,
        callbacks=[CSVLogger(csv_path), JSONLinesLogger(jl), ck],
    )
    t2.load_checkpoint(ck.last_path)
    t2.fit(s2.train, s2.val, epochs=3)
    lines = csv_path.read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr"
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3"]
    assert len(jl.read_text().splitlines()) == 3
    assert float(lines[1].split(",")[1]) == t2.history["loss"][0]


def test_bad_data_arguments_are_explained(setup):
    s = setup()
    t = Trainer(s.model, s.loss_fn, s.optimizer, verbose=0)
    x, y = bp.randn(4, 2), bp.tensor([0, 1, 2, 0])
    with pytest.raises(TypeError, match="wrap it in a DataLoader"):
        t.fit((x, y))
    with pytest.raises(TypeError, match="iterator"):
        t.fit(iter([(x, y)]))
    with pytest.raises(TypeError, match=r"\(inputs, targets\) pair"):
        t.fit([x])
    with pytest.raises(ValueError, match="epochs must be"):
        t.fit([(x, y)], epochs=-1)
    with pytest.raises(TypeError, match="loss_fn must be callable"):
        Trainer(s.model, "mse", s.optimizer)


def test_a_list_of_batches_works_and_progress_lines_print(setup, capsys):
    s = setup()
    batches = list(s.train)
    t = Trainer(s.model, s.loss_fn, s.optimizer, metrics=["accuracy"], verbose=1)
    t.fit(batches, epochs=2)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Epoch 1/2: loss ") and "accuracy" in out[0] and "ex/s" in out[0]
    assert len(out) == 2 and not math.isnan(t.history["loss"][-1])


def test_nan_guard_explains_with_anomaly_detection(setup):
    s = setup()
    x, y = next(iter(s.train))
    x.data[3, 1] = np.nan  # a corrupted input
    trainer = Trainer(s.model, s.loss_fn, s.optimizer, verbose=0)
    with pytest.raises(NonFiniteLossError) as e:
        trainer.fit([(x, y)], epochs=1)
    assert "epoch 1, batch 1" in str(e.value)
    assert "op 'linear' (Linear) returned nan values in its forward output" in str(e.value)


def test_ctrl_c_during_validation_stops_at_the_epoch_boundary(setup, tmp_path):
    s = setup()
    ckpt = ModelCheckpoint(tmp_path, monitor="val_loss")
    stop = LambdaCallback(on_test_begin=lambda logs: trainer.request_interrupt())
    trainer = Trainer(s.model, s.loss_fn, s.optimizer, callbacks=[ckpt, stop], verbose=0)
    trainer.fit(s.train, s.val, epochs=3)
    assert trainer.interrupted and trainer.epoch == 1 and len(trainer.history) == 1
    c = bp.train.read_checkpoint(ckpt.last_path)
    assert c.epoch == 1 and c.trainer["partial"] is None


def test_a_scheduler_can_step_every_batch(setup):
    s = setup()
    opt = optim.SGD(s.model.parameters(), lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    seen = []
    probe = LambdaCallback(
        on_train_batch_begin=lambda b, logs: seen.append(opt.param_groups[0]["lr"])
    )
    t = Trainer(s.model, s.loss_fn, opt, scheduler=sched, scheduler_interval="step",
                callbacks=[probe], verbose=0)  # fmt: skip
    t.fit(s.train, epochs=2)  # 6 batches per epoch
    assert sched.last_epoch == 12
    assert seen == [0.1 * 0.5 ** (i // 4) for i in range(12)]
    with pytest.raises(ValueError, match="can only step per epoch"):
        Trainer(s.model, s.loss_fn, opt, scheduler=optim.lr_scheduler.ReduceLROnPlateau(opt),
                scheduler_interval="step")  # fmt: skip
