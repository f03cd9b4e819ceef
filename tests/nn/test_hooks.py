"""Module.register_full_backward_hook against torch: what the hook sees, replacing grad_input."""

import numpy as np
import pytest
import torch

import backprop as bp


def _np(x):
    if x is None:
        return None
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x.data)


def _pair():
    bp.manual_seed(0)
    m = bp.nn.Sequential(bp.nn.Linear(3, 4), bp.nn.Tanh(), bp.nn.Linear(4, 2))
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for (_, p), (_, q) in zip(m.named_parameters(), t.named_parameters()):
            q.copy_(torch.from_numpy(p.numpy().copy()))
    return m, t


def _run(lib, model, x, replace=False):
    seen = []

    def hook(mod, grad_input, grad_output):
        seen.append(([_np(g) for g in grad_input], [_np(g) for g in grad_output]))
        if replace and isinstance(mod, (bp.nn.Tanh, torch.nn.Tanh)):
            return tuple(g * 0.5 for g in grad_input)
        return None

    handles = [c.register_full_backward_hook(hook) for c in model.children()]
    model(x).pow(2).sum().backward()
    for h in handles:
        h.remove()
    return seen


@pytest.mark.parametrize("input_grad", [False, True])
@pytest.mark.parametrize("replace", [False, True])
def test_full_backward_hook_matches_torch(input_grad, replace):
    m, t = _pair()
    data = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    xb = bp.tensor(data, requires_grad=input_grad)
    xt = torch.tensor(data, requires_grad=input_grad)
    sb = _run(bp, m, xb, replace)
    st = _run(torch, t, xt, replace)
    assert len(sb) == len(st) == 3
    for (gi_b, go_b), (gi_t, go_t) in zip(sb, st):
        for a, b in zip(gi_b + go_b, gi_t + go_t):
            if b is None:
                assert a is None
            else:
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for p, q in zip(m.parameters(), t.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-6)
    if input_grad:
        np.testing.assert_allclose(xb.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_removed_hook_does_not_run_and_no_grad_forward_skips_it():
    m, _ = _pair()
    calls = []
    h = m.register_full_backward_hook(lambda *a: calls.append(1))
    with bp.no_grad():
        m(bp.ones((2, 3)))
    m(bp.ones((2, 3))).sum().backward()
    assert calls == [1]
    h.remove()
    m(bp.ones((2, 3))).sum().backward()
    assert calls == [1]


def test_hook_returning_the_wrong_number_of_gradients_is_an_error():
    lin = bp.nn.Linear(2, 2)
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(RuntimeError, match="expected 1"):
        lin(bp.ones((1, 2), requires_grad=True)).sum().backward()
