"""Issue 8's tests of the training step itself (no timings):

1. a float32 training step of every zoo model creates no float64 array: every op output and every
   gradient an op's backward returns is checked as it is made (through the op-dispatch hook that
   ``detect_anomaly`` uses), then the parameters, their gradients and the optimiser state;
2. repeated training steps do not grow memory: after a warm-up step, NumPy's traced memory, the
   and the number of live tensors stay flat, and each step's graph is freed.
"""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import backprop
from backprop import models, nn, optim
from backprop.autograd import function
from backprop.tensor import Tensor


@contextlib.contextmanager
def no_float64():
    """Fail on the first float64 array an op returns, forward or backward (chaining to any hook
    already installed, e.g. detect_anomaly's)."""
    previous = function._anomaly_hook
    seen: list[str] = []

    def check(where, arr):
        if isinstance(arr, np.ndarray | np.generic) and arr.dtype == np.float64:
            seen.append(where)
            raise AssertionError(f"float64 array made by {where}, shape {np.shape(arr)}")

    def hook(event, fn_or_ctx, payload):
        if event == "forward":
            outs = payload if isinstance(payload, tuple) else (payload,)
            for y in outs:
                check(f"{fn_or_ctx.name} forward", y)
        elif event == "backward":
            for g in payload:
                check(f"{fn_or_ctx.name} backward", g)
        if previous is not None:
            previous(event, fn_or_ctx, payload)

    function._anomaly_hook = hook
    try:
        yield seen
    finally:
        function._anomaly_hook = previous


def _ids(rng, shape, n):
    return backprop.tensor(rng.integers(0, n, shape))


def _classify(model, x, classes):
    def loss(rng):
        y = _ids(rng, (x.shape[0],), classes)
        return nn.CrossEntropyLoss()(model(x), y)

    return loss


def _zoo_case(name, rng):
    """(model, loss function of rng) for a small float32 variant of zoo model ``name``."""
    randn = lambda *s: backprop.tensor(rng.standard_normal(s).astype(np.float32))  # noqa: E731
    small_cnn = dict(num_classes=4, width=1 / 16, hidden=16, image_size=32, dropout=0.5)
    if name == "mlp":
        m = models.get_model(name, sizes=[12, 16, 3], dropout=0.2, batchnorm=True)
        return m, _classify(m, randn(4, 12), 3)
    if name == "perceptron":
        m = models.get_model(name, in_features=3, num_classes=3)
        return m, _classify(m, randn(4, 3), 3)
    if name == "lenet5":
        m = models.get_model(name, num_classes=4, dropout=0.5)
        return m, _classify(m, randn(4, 1, 28, 28), 4)
    if name == "digits_cnn":
        m = models.get_model(name, num_classes=4, channels=(4, 8), hidden=16)
        return m, _classify(m, randn(4, 1, 8, 8), 4)
    if name == "alexnet":
        m = models.get_model(name, **dict(small_cnn, image_size=67))
        return m, _classify(m, randn(2, 3, 67, 67), 4)
    if name.startswith("vgg"):
        m = models.get_model(name, batchnorm=name != "vgg11", **small_cnn)
        return m, _classify(m, randn(2, 3, 32, 32), 4)
    if name.startswith("resnet"):
        m = models.get_model(name, num_classes=4, width=4)
        return m, _classify(m, randn(2, 3, 16, 16), 4)
    if name == "sequence_classifier":
        m = models.get_model(name, input_size=5, hidden_size=8, num_classes=3)
        return m, _classify(m, randn(3, 6, 5), 3)
    if name == "tied_autoencoder":
        m = models.get_model(name, sizes=[20, 8, 4], corruption=0.2)
        x = backprop.tensor(rng.random((4, 20)).astype(np.float32))
        return m, lambda rng: nn.MSELoss()(m(x), x)
    if name == "char_rnn":
        m = models.get_model(name, vocab_size=7, hidden_size=8, num_layers=2, cell="lstm")
        ids = _ids(rng, (3, 5), 7)

        def char_loss(rng):
            logits, _ = m(ids)
            return nn.CrossEntropyLoss()(logits.reshape(-1, 7), _ids(rng, (15,), 7))

        return m, char_loss
    if name == "seq2seq":
        m = models.get_model(name, src_vocab=6, tgt_vocab=5, hidden_size=8, cell="gru")
        src, tgt = _ids(rng, (3, 4), 6), _ids(rng, (3, 5), 5)

        def s2s_loss(rng):
            return nn.CrossEntropyLoss()(m(src, tgt).reshape(-1, 5), _ids(rng, (15,), 5))

        return m, s2s_loss
    if name == "gpt":
        m = models.get_model(name, vocab_size=7, block_size=5, n_layer=1, n_head=2, n_embd=8,
                             dropout=0.1)  # fmt: skip
        ids = _ids(rng, (3, 5), 7)
        return m, lambda rng: m(ids, _ids(rng, (3, 5), 7))[1]
    raise KeyError(name)


def test_every_zoo_model_is_covered():
    rng = np.random.default_rng(0)
    for name in models.list_models():
        try:
            _zoo_case(name, rng)
        except KeyError:
            pytest.fail(f"zoo model {name!r} has no case in tests/perf/test_training_step.py")


@pytest.mark.parametrize("name", models.list_models())
def test_float32_training_step_makes_no_float64(name):
    rng = np.random.default_rng(0)
    model, loss_fn = _zoo_case(name, rng)
    assert all(p.dtype == np.float32 for p in model.parameters())
    opt = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    model.train()
    with no_float64():
        for _ in range(2):  # the second step runs with the optimiser state made by the first
            opt.zero_grad()
            loss = loss_fn(rng)
            assert loss.dtype == np.float32
            loss.backward()
            opt.step()
        model.eval()
        with backprop.no_grad():
            loss_fn(rng)
    for p in model.parameters():
        assert p.dtype == np.float32, name
        assert p.grad is None or p.grad.dtype == np.float32, name
    for state in opt.state.values():
        for v in state.values():
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                assert v.dtype == np.float32, name
    for b in model.buffers():
        if b.dtype.kind == "f":
            assert b.dtype == np.float32, name


def test_no_float64_hook_catches_an_upcast():
    x = backprop.ones(3, requires_grad=True)
    with pytest.raises(AssertionError, match="float64"):
        with no_float64():
            x.double()


def _live_tensors() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is Tensor)


@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_repeated_training_steps_do_not_grow_memory(opt_name):
    backprop.manual_seed(0)
    model = models.LeNet5(num_classes=10)
    kwargs = {"lr": 0.01, "momentum": 0.9} if opt_name == "SGD" else {"lr": 1e-3}
    opt = getattr(optim, opt_name)(model.parameters(), **kwargs)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = backprop.tensor(rng.standard_normal((16, 1, 28, 28)).astype(np.float32))
    y = backprop.tensor(rng.integers(0, 10, 16))

    def step():
        opt.zero_grad()
        logits = model(x)
        loss = loss_fn(logits, y)
        loss.backward()
        opt.step()
        return weakref.ref(loss), weakref.ref(logits)

    step()  # warm-up: optimiser state
    tracemalloc.start()
    try:
        step()
        gc.collect()
        base_mem = tracemalloc.get_traced_memory()[0]
        base_tensors = _live_tensors()
        refs = []
        for _ in range(6):
            refs.append(step())
        gc.collect()
        mem = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # The loss and the logits (an intermediate tensor) die with the step: the graph is freed.
    assert all(r() is None for pair in refs for r in pair)
    assert _live_tensors() == base_tensors
    # Six more steps leave NumPy's traced memory where one step left it (slack for allocator and
    # interpreter noise, far below one step's 10+ MB of activations).
    assert mem - base_mem < 256 * 1024, f"memory grew by {(mem - base_mem) / 1024:.0f} KiB"
