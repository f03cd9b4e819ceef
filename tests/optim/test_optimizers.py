"""Optimisers vs torch.optim: 50 training steps of a small MLP, float64, 1e-10 relative.

Every test runs twice: on the NumPy kernels and on the fused numba kernels (skipped where numba is
not installed).
"""

from __future__ import annotations

import json
import re
import threading

import numpy as np
import pytest
import torch
from _optim_parity import Pair

import backprop as bp
import backprop.optim as optim
from backprop.backend import kernels

STEPS = 50

try:
    import numba  # noqa: F401

    _HAS_NUMBA = True
except ImportError:  # pragma: no cover - numba comes with the dev extra
    _HAS_NUMBA = False


@pytest.fixture(
    autouse=True,
    params=[
        "numpy",
        pytest.param("numba", marks=pytest.mark.skipif(not _HAS_NUMBA, reason="no numba")),
    ],
)
def kernel_path(request):
    """Run the test on the NumPy kernels and on the numba ones."""
    previous = kernels.set_kernels(request.param)
    try:
        yield request.param
    finally:
        kernels.set_kernels(previous)


# (name, keyword arguments): every option of every optimiser, alone and in the combinations
# that interact (momentum with dampening / nesterov / weight decay, centered with momentum...).
CASES = {
    "SGD": [
        {},
        {"lr": 0.1},
        {"lr": 0.05, "momentum": 0.9},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"lr": 0.05, "weight_decay": 0.01},
        {"lr": 0.05, "momentum": 0.8, "dampening": 0.1, "weight_decay": 0.02},
        {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
        {"lr": 1e-4, "momentum": 0.9, "maximize": True},
        {"lr": 1e-4, "weight_decay": 0.1, "maximize": True},
    ],
    "Adagrad": [
        {},
        {"lr": 0.1},
        {"lr": 0.1, "lr_decay": 0.05},
        {"lr": 0.1, "initial_accumulator_value": 0.1},
        {"lr": 0.1, "weight_decay": 0.01},
        {"lr": 0.1, "eps": 1e-3},
        {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.01, "initial_accumulator_value": 0.5},
        {"lr": 0.01, "maximize": True},
    ],
    "Adadelta": [
        {},
        {"lr": 0.5, "rho": 0.5},
        {"eps": 1e-4},
        {"weight_decay": 0.01},
        {"lr": 0.7, "rho": 0.95, "eps": 1e-5, "weight_decay": 0.05},
        {"lr": 0.1, "maximize": True},
    ],
    "RMSprop": [
        {},
        {"lr": 0.001, "alpha": 0.9},
        {"lr": 0.001, "centered": True},
        {"lr": 0.001, "momentum": 0.9},
        {"lr": 0.001, "momentum": 0.9, "centered": True},
        {"lr": 0.001, "weight_decay": 0.01},
        {"lr": 0.001, "eps": 1e-4, "alpha": 0.95, "centered": True, "weight_decay": 0.02},
        {"lr": 0.001, "momentum": 0.5, "maximize": True},
    ],
    "Adam": [
        {},
        {"lr": 0.01},
        {"lr": 0.01, "betas": (0.8, 0.99)},
        {"lr": 0.01, "eps": 1e-4},
        {"lr": 0.01, "amsgrad": True},
        {"lr": 0.01, "weight_decay": 0.01},
        {"lr": 0.01, "weight_decay": 0.05, "amsgrad": True},
        {"lr": 0.01, "weight_decay": 0.05, "decoupled_weight_decay": True},
        {"lr": 0.01, "betas": (0.5, 0.9), "eps": 1e-6, "weight_decay": 0.01, "amsgrad": True},
        {"lr": 0.001, "maximize": True},
        {"lr": 0.001, "maximize": True, "weight_decay": 0.01, "amsgrad": True},
    ],
    "AdamW": [
        {},
        {"lr": 0.01},
        {"lr": 0.01, "weight_decay": 0.1},
        {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True},
        {"lr": 0.01, "weight_decay": 0.0},
        {"lr": 0.01, "betas": (0.7, 0.95), "eps": 1e-5},
        {"lr": 0.001, "maximize": True, "weight_decay": 0.05},
    ],
}
PARAMS = [
    pytest.param(name, kw, id=f"{name}-{','.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}")
    for name, kws in CASES.items()
    for kw in kws
]


def make(name: str, pair: Pair, kwargs: dict, split=None):
    """Our optimiser and torch's (on its single-tensor path) over the pair's parameters."""
    ours = getattr(optim, name)(pair.groups(True, split), **kwargs)
    theirs = getattr(torch.optim, name)(pair.groups(False, split), foreach=False, **kwargs)
    return ours, theirs


def assert_state_matches(ours, theirs, rtol=1e-10):
    """The per-parameter state: same keys, same step counts, arrays within rtol."""
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert mine["state"].keys() == ref["state"].keys()
    for i, s in ref["state"].items():
        assert mine["state"][i].keys() == s.keys(), i
        for k, v in s.items():
            if k == "step":
                assert mine["state"][i][k] == int(v.item())
            elif v is not None:
                np.testing.assert_allclose(mine["state"][i][k], v.numpy(), rtol=rtol, atol=1e-14)
    for g_mine, g_ref in zip(mine["param_groups"], ref["param_groups"]):
        assert g_mine["params"] == g_ref["params"]
        for k, v in g_mine.items():
            assert g_ref[k] == v, k


@pytest.mark.parametrize("name, kwargs", PARAMS)
def test_matches_torch_for_50_steps(name, kwargs):
    pair = Pair()
    ours, theirs = make(name, pair, kwargs)
    for _ in range(STEPS):
        pair.step(ours, theirs)
    pair.assert_close(what=f"{name}({kwargs})")
    assert_state_matches(ours, theirs)
    # The run moved the weights: the test would be vacuous otherwise.
    assert not np.allclose(pair.bp_params[0].data, Pair().bp_params[0].data)


@pytest.mark.parametrize(
    "name, groups",
    [
        ("SGD", [{"lr": 0.1, "momentum": 0.9}, {"lr": 0.02, "nesterov": True, "momentum": 0.5}]),
        ("Adam", [{"lr": 0.02, "amsgrad": True}, {"betas": (0.5, 0.6), "weight_decay": 0.1}]),
        ("RMSprop", [{"centered": True}, {"momentum": 0.9, "lr": 0.003}]),
        ("Adagrad", [{"lr_decay": 0.1}, {"eps": 1e-3, "weight_decay": 0.01}]),
        ("Adadelta", [{"rho": 0.5}, {"lr": 0.3}]),
    ],
)
def test_parameter_groups_have_their_own_hyperparameters(name, groups):
    pair = Pair()
    ours, theirs = make(name, pair, {"lr": 0.01} if name != "Adadelta" else {}, split=groups)
    for _ in range(STEPS):
        pair.step(ours, theirs)
    pair.assert_close(what=name)
    assert_state_matches(ours, theirs)


def test_adagrad_takes_each_groups_own_initial_accumulator_value():
    # PyTorch fills every group's accumulator from the constructor's value and ignores a group's
    # own; here the group's value counts (a deliberate difference).
    a, b = bp.ones(2, requires_grad=True), bp.ones(2, requires_grad=True)
    opt = optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 0.5}])
    np.testing.assert_array_equal(opt.state[a]["sum"], [0.0, 0.0])
    np.testing.assert_array_equal(opt.state[b]["sum"], [0.5, 0.5])


def test_a_scheduler_driven_lr_matches_torch():
    pair = Pair()
    ours, theirs = make("SGD", pair, {"lr": 0.1, "momentum": 0.9})
    s_ours = optim.lr_scheduler.StepLR(ours, step_size=10, gamma=0.5)
    s_theirs = torch.optim.lr_scheduler.StepLR(theirs, step_size=10, gamma=0.5)
    for _ in range(STEPS):
        pair.step(ours, theirs)
        s_ours.step()
        s_theirs.step()
    pair.assert_close()


# ----------------------------------------------------------------------------- state dicts
def _through_json(state: dict) -> dict:
    """Store a state dict as a checkpoint will: arrays apart (safetensors), the rest as JSON."""
    arrays = {}

    def strip(obj, path):
        if isinstance(obj, np.ndarray):
            arrays[path] = obj
            return {"__array__": path}
        if isinstance(obj, dict):
            return {str(k): strip(v, f"{path}.{k}") for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [strip(v, f"{path}.{i}") for i, v in enumerate(obj)]
        return obj

    def put_back(obj):
        if isinstance(obj, dict):
            if "__array__" in obj:
                return arrays[obj["__array__"]].copy()
            return {k: put_back(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [put_back(v) for v in obj]
        return obj

    return put_back(json.loads(json.dumps(strip(state, "s"))))


def _assert_state_dicts_equal(a: dict, b: dict) -> None:
    assert a["param_groups"] == b["param_groups"]
    assert a["state"].keys() == b["state"].keys()
    for i in a["state"]:
        assert a["state"][i].keys() == b["state"][i].keys()
        for k, v in a["state"][i].items():
            w = b["state"][i][k]
            if isinstance(v, np.ndarray):
                assert v.dtype == w.dtype and np.array_equal(v, w), (i, k)
            else:
                assert v == w, (i, k)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
        ("Adadelta", {"weight_decay": 0.01}),
        ("RMSprop", {"lr": 0.001, "momentum": 0.9, "centered": True}),
        ("Adam", {"lr": 0.01, "amsgrad": True}),
        ("AdamW", {"lr": 0.01}),
    ],
)
@pytest.mark.parametrize("via_json", [False, True], ids=["dict", "json+arrays"])
def test_state_dict_round_trip_mid_training_continues_identically(name, kwargs, via_json):
    pair = Pair()
    ours, theirs = make(name, pair, kwargs)
    for _ in range(STEPS // 2):
        pair.step(ours, theirs)
    saved = ours.state_dict()
    snapshot = _through_json(saved) if via_json else saved
    weights = [p.data.copy() for p in pair.bp_params]

    # Resume: a new model with the saved weights and a new optimiser loaded from the state dict.
    resumed = Pair(weights=weights)
    resumed.step_index = pair.step_index
    new_opt = getattr(optim, name)(resumed.bp_params, **kwargs)
    new_opt.load_state_dict(snapshot)
    _assert_state_dicts_equal(new_opt.state_dict(), saved)

    # The state dict is a deep copy: training on does not change it.
    before = json.dumps(saved["param_groups"])
    frozen = {
        i: {k: np.array(v, copy=True) for k, v in s.items()} for i, s in saved["state"].items()
    }
    for _ in range(STEPS - STEPS // 2):
        pair.step(ours, theirs)
        resumed.step(new_opt, theirs_dummy := _NullOptimizer())
        del theirs_dummy
    for a, b in zip(pair.bp_params, resumed.bp_params):
        np.testing.assert_array_equal(a.data, b.data)
    _assert_state_dicts_equal(ours.state_dict(), new_opt.state_dict())
    pair.assert_close()  # and the uninterrupted run still matches torch
    assert json.dumps(saved["param_groups"]) == before
    for i, s in saved["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(np.asarray(v), frozen[i][k])


class _NullOptimizer:
    """Stands in for the torch optimiser where only backprop's side is trained."""

    def zero_grad(self):
        pass

    def step(self):
        pass


def test_load_state_dict_casts_to_the_parameter_dtype_and_checks_shapes():
    p = bp.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    opt = optim.Adam([p])
    p.grad = bp.ones(2, 3)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["exp_avg"] = sd["state"][0]["exp_avg"].astype(np.float64)
    opt.load_state_dict(sd)
    assert opt.state[p]["exp_avg"].dtype == np.float32
    sd["state"][0]["exp_avg"] = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"exp_avg.*\(3, 2\)"):
        opt.load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})


# ----------------------------------------------------------------------------- validation
INVALID = [
    ("SGD", {"lr": -0.1}, "lr", -0.1),
    ("SGD", {"lr": float("nan")}, "lr", float("nan")),
    ("SGD", {"momentum": -0.5}, "momentum", -0.5),
    ("SGD", {"weight_decay": -1e-4}, "weight_decay", -1e-4),
    ("SGD", {"nesterov": True, "momentum": 0.0}, "momentum", 0.0),
    ("SGD", {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, "dampening", 0.1),
    ("Adam", {"lr": -1.0}, "lr", -1.0),
    ("Adam", {"betas": (1.0, 0.999)}, "betas[0]", 1.0),
    ("Adam", {"betas": (-0.1, 0.999)}, "betas[0]", -0.1),
    ("Adam", {"betas": (0.9, 1.0)}, "betas[1]", 1.0),
    ("Adam", {"eps": -1e-8}, "eps", -1e-8),
    ("Adam", {"weight_decay": -0.1}, "weight_decay", -0.1),
    ("AdamW", {"betas": (0.9, 1.5)}, "betas[1]", 1.5),
    ("AdamW", {"weight_decay": -0.01}, "weight_decay", -0.01),
    ("Adagrad", {"lr": -0.01}, "lr", -0.01),
    ("Adagrad", {"lr_decay": -0.1}, "lr_decay", -0.1),
    ("Adagrad", {"initial_accumulator_value": -1.0}, "initial_accumulator_value", -1.0),
    ("Adagrad", {"eps": -1.0}, "eps", -1.0),
    ("Adadelta", {"rho": 1.5}, "rho", 1.5),
    ("Adadelta", {"rho": -0.1}, "rho", -0.1),
    ("Adadelta", {"eps": -1e-6}, "eps", -1e-6),
    ("RMSprop", {"alpha": -0.9}, "alpha", -0.9),
    ("RMSprop", {"momentum": -0.9}, "momentum", -0.9),
    ("RMSprop", {"eps": -1.0}, "eps", -1.0),
]


@pytest.mark.parametrize("name, kwargs, hp, value", INVALID)
def test_invalid_hyperparameters_raise_value_error_naming_them(name, kwargs, hp, value):
    p = bp.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match=re.escape(hp) + r".*" + re.escape(repr(value))):
        getattr(optim, name)([p], **kwargs)
    # A group's own value is checked too.
    with pytest.raises(ValueError, match=re.escape(hp)):
        getattr(optim, name)([{"params": [p], **kwargs}])


def test_non_numeric_hyperparameters_raise_type_error():
    p = bp.zeros(3, requires_grad=True)
    with pytest.raises(TypeError, match="lr must be a number"):
        optim.SGD([p], lr="0.1")
    with pytest.raises(TypeError, match=r"betas\[1\] must be a number"):
        optim.Adam([p], betas=(0.9, None))


def test_parameter_list_errors():
    p = bp.zeros(3, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="set"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(TypeError, match="ndarray"):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})


# ----------------------------------------------------------------------------- base behaviour
def test_zero_grad_and_lazy_state():
    a = bp.ones(4, requires_grad=True)
    b = bp.ones(4, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    assert len(opt.state) == 0
    (a * 2).sum().backward()
    grad = a.grad
    opt.step()
    assert list(opt.state) == [a]  # b had no gradient: no state, no update
    np.testing.assert_array_equal(b.data, np.ones(4, np.float32))
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad and not a.grad.data.any()
    opt.zero_grad()
    assert a.grad is None


def test_step_runs_the_closure_with_grad_enabled_and_returns_its_loss():
    w = bp.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with bp.no_grad():
        loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.0)
    np.testing.assert_allclose(w.data, [0.8, -1.6], rtol=1e-6)


def test_add_param_group_takes_the_defaults():
    a, b = bp.ones(2, requires_grad=True), bp.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b
    assert "Parameter Group 1" in repr(opt)


FLOAT32_CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.2}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "betas": (0.3, 0.9)}),  # lerp's other branch (weight >= 0.5)
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.001, "momentum": 0.9, "centered": True}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01}),
    ("Adadelta", {"weight_decay": 0.01}),
]


@pytest.mark.parametrize("name, kwargs", FLOAT32_CASES)
def test_float32_parameters_stay_float32_and_match_torch(name, kwargs):
    pair = Pair(dtype=np.float32)
    ours, theirs = make(name, pair, kwargs)
    for _ in range(20):
        pair.step(ours, theirs)
    for p in pair.bp_params:
        assert p.dtype == np.float32
    for s in ours.state.values():
        assert all(v.dtype == np.float32 for v in s.values() if isinstance(v, np.ndarray))
    pair.assert_close(rtol=2e-5, atol=1e-6)


def test_one_float32_update_equals_torchs_to_rounding():
    # One step from the same arrays: no training loop between, so the bound is a few ulps.
    rng = np.random.default_rng(5)
    w = rng.standard_normal(4099).astype(np.float32)
    g = rng.standard_normal(4099).astype(np.float32)
    for name, kwargs in FLOAT32_CASES:
        p = bp.tensor(w.copy(), requires_grad=True)
        t = torch.tensor(w.copy(), requires_grad=True)
        ours = getattr(optim, name)([p], **kwargs)
        theirs = getattr(torch.optim, name)([t], foreach=False, **kwargs)
        for k in range(3):
            p.grad = bp.tensor(g * (k + 1))
            t.grad = torch.tensor(g * (k + 1))
            ours.step()
            theirs.step()
        # A few ulps of the values involved (not of the result: p - lr*step may cancel; PyTorch
        # also fuses some multiply-adds that NumPy and numba round twice).
        ref = t.detach().numpy()
        bound = 8 * np.finfo(np.float32).eps * np.maximum(np.abs(w), np.abs(ref))
        worst = np.max(np.abs(p.data - ref) / bound)
        assert worst <= 1, f"{name}({kwargs}): {worst:.2f} x the bound"


# ----------------------------------------------------------------------------- large parameters
def _big_problem(dtype=np.float64):
    """A parameter above the split size the test sets, a non-contiguous one and a small one."""
    rng = np.random.default_rng(3)
    big = rng.standard_normal((61, 67))  # 4087 elements: split unevenly across 2 or 3 threads
    transposed = rng.standard_normal((40, 50)).T  # non-contiguous: never split
    small = rng.standard_normal(7)
    return [a.astype(dtype) for a in (big, transposed, small)]


def _grad_of(w: np.ndarray, k: int) -> np.ndarray:
    """A gradient that depends on the weights non-linearly (and not symmetrically in sign)."""
    return w**3 - 0.5 * w + 0.1 * np.cos(k * w.size % 7 + w)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": 0.01, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
        ("SGD", {"lr": 0.01, "weight_decay": 0.01, "maximize": True}),
        ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.01}),
        ("AdamW", {"lr": 0.01, "maximize": True}),
        ("RMSprop", {"lr": 0.001, "momentum": 0.5, "centered": True}),
        ("Adagrad", {"lr": 0.05, "lr_decay": 0.01, "maximize": True}),
        ("Adadelta", {"weight_decay": 0.01}),
    ],
)
def test_large_and_non_contiguous_parameters_match_torch_on_every_thread_count(
    name, kwargs, monkeypatch, kernel_path
):
    # The NumPy path splits parameters from 1024 elements on (64k by default) over its threads.
    monkeypatch.setattr(kernels, "_MIN_SPLIT", 1024)
    ran_in = set()
    run_numpy = kernels.Kernel._run_numpy
    numpy_fns = {}

    def spy(self, arrays, scalars, scratch):
        fn = self.numpy_fn

        def traced(*a, **k):
            ran_in.add(threading.current_thread().name.startswith("backprop-kernel"))
            return fn(*a, **k)

        numpy_fns[self] = fn
        try:
            object.__setattr__(self, "numpy_fn", traced)
            run_numpy(self, arrays, scalars, scratch)
        finally:
            object.__setattr__(self, "numpy_fn", fn)

    monkeypatch.setattr(kernels.Kernel, "_run_numpy", spy)
    init = _big_problem()
    results = []
    previous = kernels.get_num_threads()
    try:
        for threads in (1, 2, 3):
            kernels.set_num_threads(threads)
            # init[1].T.copy().T: a fresh array in Fortran order, a non-contiguous parameter.
            ps = [bp.Tensor(a.copy() if i != 1 else a.T.copy().T, requires_grad=True)
                  for i, a in enumerate(init)]  # fmt: skip
            assert not ps[1].data.flags.c_contiguous
            ts = [torch.tensor(a.copy(), requires_grad=True) for a in init]
            ours = getattr(optim, name)(ps, **kwargs)
            theirs = getattr(torch.optim, name)(ts, foreach=False, **kwargs)
            for k in range(10):
                for p, t in zip(ps, ts):
                    p.grad = bp.Tensor(_grad_of(p.data, k))
                    t.grad = torch.tensor(_grad_of(t.detach().numpy(), k))
                ours.step()
                theirs.step()
            for p, t in zip(ps, ts):
                np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-10, atol=1e-12)
            results.append([p.data.copy() for p in ps])
            if kernel_path == "numpy":
                assert ran_in == ({False} if threads == 1 else {False, True}), threads
            else:  # only the non-contiguous parameter falls back to NumPy, on the caller's thread
                assert ran_in == {False}, threads
            ran_in.clear()
    finally:
        kernels.set_num_threads(previous)
    for other in results[1:]:  # elementwise updates: bit-identical whatever the split
        for a, b in zip(results[0], other):
            np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- versions
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_a_step_between_forward_and_backward_makes_backward_raise(name):
    w = bp.tensor([1.0, -2.0, 0.5], requires_grad=True)
    x = bp.tensor([3.0, 1.0, 2.0], requires_grad=True)
    opt = getattr(optim, name)([w], lr=0.1)
    w.grad = bp.ones(3)
    y = (x * w).sum()  # x's gradient needs w as it was
    before = w._version
    opt.step()
    assert w._version == before + 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_the_version_counts_every_step_and_parameters_without_gradients_are_untouched():
    a, b = bp.ones(2, requires_grad=True), bp.ones(2, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    a.grad = bp.ones(2)
    for _ in range(3):
        opt.step()
    assert a._version == 3 and b._version == 0
