"""The Ctrl-C / resume state on its own (ResumeState), the written-out callback hooks, the public
Trainer state callbacks read, and a Trainer that evaluates without an optimiser."""

import inspect

import numpy as np
import pytest

import backprop as bp
from backprop.data import DataLoader, TensorDataset
from backprop.train import Callback, CheckpointError, LambdaCallback, Trainer
from backprop.train.callbacks import CallbackList
from backprop.train.metrics import Mean, get_metric, register_metric
from backprop.train.resume import ResumeState, check_position, rng_state


def _loader(n=10, batch=2, gen=None):
    x = np.arange(n, dtype=np.float32)[:, None]
    return DataLoader(TensorDataset(x, np.arange(n)), batch_size=batch, shuffle=True, generator=gen)


def _order(batches):
    return [int(y) for _, ys in batches for y in ys.data]


@pytest.mark.parametrize("gen_seed", [None, 3])  # the library's RNG / the loader's own generator
def test_an_interrupted_epoch_resumes_with_the_same_order_and_averages(gen_seed):
    gen = None if gen_seed is None else np.random.default_rng(gen_seed)
    loader = _loader(gen=gen)
    bp.manual_seed(0)
    state = ResumeState()
    state.begin_fit(loader)
    batches, first = state.epoch_batches(loader, Mean("loss"), [])
    full = list(batches)
    assert first == 0 and len(full) == 5

    bp.manual_seed(0)
    if gen is not None:
        gen = np.random.default_rng(gen_seed)
        loader = _loader(gen=gen)
    state = ResumeState()
    state.begin_fit(loader)
    avg = Mean("loss")
    batches, _ = state.epoch_batches(loader, avg, [])
    done = [next(batches), next(batches)]
    avg.update(2.0, 4)
    state.request_interrupt()
    assert state.interrupt_requested and not state.interrupted
    state.stop_after(1, avg, [], loader)
    pos = state.position()
    assert state.interrupted and pos["batch"] == 2
    assert check_position(pos, rng_state(loader))

    # A fresh state (another process) restored from the saved position and RNG state.
    bp.manual_seed(99)
    again = ResumeState()
    again.restore(pos, rng_state(loader))
    again.begin_fit(loader)
    assert again.position() is None and not again.interrupted
    avg2 = Mean("loss")
    rest, first = again.epoch_batches(loader, avg2, [])
    assert first == 2 and avg2.compute() == 2.0
    assert _order(done) + _order(rest) == _order(full)


def test_a_position_past_the_end_of_the_data_is_refused():
    loader = _loader()
    state = ResumeState()
    state.begin_fit(loader)
    state.epoch_batches(loader, Mean("loss"), [])
    state.stop_after(7, Mean("loss"), [], loader)  # 8 batches done; the loader has 5
    with pytest.raises(CheckpointError, match="only 5 batches"):
        state.epoch_batches(loader, Mean("loss"), [])


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p: p.update(batch=0),
        lambda p: p.update(batch=True),
        lambda p: p.pop("loss"),
        lambda p: p.update(rng_epoch_start={"other": 1}),
        lambda p: p.update(metrics={}),
    ],
)
def test_a_tampered_position_fails_the_layout_check(mutate):
    loader = _loader()
    state = ResumeState()
    state.begin_fit(loader)
    state.epoch_batches(loader, Mean("loss"), [])
    state.stop_after(0, Mean("loss"), [], loader)
    pos = dict(state.position())
    assert check_position(pos, {})
    mutate(pos)
    assert not check_position(pos, {})
    assert not check_position(state.position(), None)  # no RNG state: cannot replay


def test_an_interrupt_at_an_epoch_boundary_saves_no_position():
    state = ResumeState()
    state.begin_fit(_loader())
    state.request_interrupt()
    state.stop_at_epoch_end()
    assert state.interrupted and state.position() is None


def test_every_callback_hook_is_written_out_on_the_callback_list():
    hooks = sorted(n for n in vars(Callback) if n.startswith("on_"))
    assert len(hooks) == 10
    calls = []

    class Spy(Callback):
        pass

    for name in hooks:
        setattr(Spy, name, lambda self, *a, _n=name, **k: calls.append((_n, a)))
    cbs = CallbackList([Spy()], trainer=None)
    for name in hooks:
        assert name in vars(CallbackList), name  # a real method, not generated on access
        params = inspect.signature(getattr(Callback, name)).parameters
        args = (3, {"k": 1}) if {"epoch", "batch"} & set(params) else ({"k": 1},)
        getattr(cbs, name)(*args)
    assert [c[0] for c in calls] == hooks and all(c[1][-1] == {"k": 1} for c in calls)
    with pytest.raises(AttributeError):
        cbs.on_typo  # noqa: B018


def test_callbacks_read_the_public_trainer_state(setup):
    s = setup()
    seen = []

    def look(batch, logs):
        x, y = trainer.current_batch
        out = trainer.forward(x)
        seen.append((out.shape[0] == y.shape[0], trainer.examples_per_epoch))

    trainer = Trainer(s.model, s.loss_fn, s.optimizer, verbose=0,
                      callbacks=[LambdaCallback(on_train_batch_end=look)])  # fmt: skip
    trainer.fit(s.train, epochs=1)
    assert seen == [(True, 180)] * 6 and trainer.current_batch is None


def test_a_trainer_without_an_optimizer_evaluates_and_predicts_but_does_not_fit(setup):
    s = setup()
    trainer = Trainer(s.model, s.loss_fn, metrics=["accuracy"], verbose=0)
    before = s.weights()
    results = trainer.evaluate(s.val)
    assert set(results) == {"loss", "accuracy"}
    assert trainer.predict(s.val).shape == (60, 3)
    with pytest.raises(ValueError, match="no optimizer"):
        trainer.fit(s.train, epochs=1)
    assert all(np.array_equal(v, s.weights()[k]) for k, v in before.items())
    with pytest.raises(TypeError, match="step\\(\\) and zero_grad\\(\\)"):
        Trainer(s.model, s.loss_fn, object())


def test_metrics_are_registered_by_name():
    register_metric("test_mean_error", lambda num_classes: get_metric("mae"), "tme")
    assert type(get_metric("tme")).__name__ == "MeanAbsoluteError"
    with pytest.raises(ValueError, match="already names the metric 'test_mean_error'"):
        register_metric("other", lambda num_classes: get_metric("mae"), "tme")
    with pytest.raises(ValueError, match="unknown metric 'bleu'; allowed: accuracy, top5"):
        get_metric("bleu")
    with pytest.raises(ValueError, match="'f1' needs num_classes"):
        get_metric("f1")
    assert get_metric("f1", num_classes=3).num_classes == 3
    assert get_metric("top3").k == 3
