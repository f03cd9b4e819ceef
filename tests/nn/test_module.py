"""nn.Module, nn.Parameter and the containers: registration, iteration, modes, state dicts, hooks,
dtype conversion and repr (compared with PyTorch's for the same architecture)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import backprop as bp
from backprop import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(8, 3))
        self.scale = nn.Parameter(bp.ones(1))
        self.register_buffer("steps", bp.zeros(1))
        self.register_buffer("cache", bp.zeros(2), persistent=False)

    def forward(self, x):
        return self.head(self.bn(self.fc1(x))) * self.scale


def test_parameter_basics():
    t = bp.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, bp.Tensor) and p.requires_grad and p.is_leaf
    assert p.data is t.data  # shares the array, as torch shares storage
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert "requires_grad=True" in repr(p)
    assert not nn.Parameter(bp.zeros(2), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    # ops on a Parameter give plain tensors
    assert type(p * 2) is bp.Tensor
    with pytest.raises(TypeError):
        nn.Parameter(bp.tensor([1, 2]))  # integer tensors cannot require grad


def test_registration_and_iteration():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "scale", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "head.1.weight", "head.1.bias",
    ]  # fmt: skip
    assert len(list(net.parameters())) == 7
    assert [n for n, _ in net.named_buffers()] == [
        "steps", "cache", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
    ]  # fmt: skip
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "head"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "bn", "head", "head.0", "head.1"]
    assert len(list(net.modules())) == 6
    assert [n for n, _ in net.named_parameters(recurse=False)] == ["scale"]
    assert [n for n, _ in net.named_parameters(prefix="model")][0] == "model.scale"
    assert net.get_submodule("head.1") is net.head[1]
    # parameters, buffers and modules are attributes
    assert isinstance(net.fc1.weight, nn.Parameter) and isinstance(net.steps, bp.Tensor)
    # torch names the same parameters in the same order
    tnet = torch.nn.Module()
    tnet.scale = torch.nn.Parameter(torch.ones(1))
    tnet.fc1 = torch.nn.Linear(4, 8)
    tnet.bn = torch.nn.BatchNorm1d(8)
    tnet.head = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(8, 3))
    assert [n for n, _ in tnet.named_parameters()] == names


def test_setattr_rules():
    m = nn.Module()
    m.w = nn.Parameter(bp.zeros(2))
    with pytest.raises(TypeError, match="parameter 'w'"):
        m.w = bp.zeros(2)  # a plain tensor cannot replace a parameter
    m.w = None
    assert m.w is None and list(m.parameters()) == []
    m.register_buffer("b", bp.zeros(3))
    with pytest.raises(TypeError, match="buffer 'b'"):
        m.b = 3
    m.b = bp.ones(3)
    assert m._buffers["b"].data.sum() == 3
    m.child = nn.Linear(2, 2)
    m.child = None
    assert list(m.children()) == []
    del m.b
    assert "b" not in dict(m.named_buffers())
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)
    with pytest.raises(KeyError):
        m.register_buffer("", None)
    m.plain = 5
    with pytest.raises(KeyError, match="already exists"):
        m.register_buffer("plain", bp.zeros(1))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = m.nothing

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(bp.zeros(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(bp.zeros(1))


def test_tied_weights_counted_once():
    a = nn.Linear(3, 3, bias=False)
    b = nn.Linear(3, 3, bias=False)
    b.weight = a.weight
    seq = nn.Sequential(a, b)
    assert len(list(seq.parameters())) == 1
    assert [n for n, _ in seq.named_parameters()] == ["0.weight"]
    # the same module twice is also counted once; state_dict keeps every name, as in torch
    shared = nn.Linear(2, 2)
    seq2 = nn.Sequential(shared, nn.Tanh(), shared)
    assert len(list(seq2.parameters())) == 2
    assert list(seq2.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(list(seq2.modules())) == 3
    seq2(bp.randn(4, 2)).sum().backward()
    assert shared.weight.grad is not None  # both uses accumulate into the one parameter


def test_train_eval_recurse():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.head.train()
    assert net.head[1].training and not net.training and not net.bn.training
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="bool"):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    net = Net()
    net(bp.randn(5, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.data.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.fc1.requires_grad_(False)
    net(bp.randn(5, 4)).sum().backward()
    assert net.fc1.weight.grad is None and net.head[1].weight.grad is not None
    assert net.requires_grad_() is net and all(p.requires_grad for p in net.parameters())


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Linear", "BatchNorm1d", "ReLU", "Linear", "Sequential", "Net"]

    def init(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)

    net.apply(init)
    assert not net.fc1.weight.data.any() and not net.head[1].weight.data.any()


def test_to_dtype_keeps_parameter_identity():
    net = Net()
    params = list(net.parameters())
    net(bp.randn(5, 4)).sum().backward()
    assert net.double() is net
    assert all(a is b for a, b in zip(params, net.parameters()))
    assert all(p.dtype == np.float64 for p in net.parameters())
    assert all(p.grad.dtype == np.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == np.float64
    assert net.bn.num_batches_tracked.dtype == np.int64  # integer buffers keep their dtype
    # an update through the old reference (as an optimiser holds it) is seen by the model
    with bp.no_grad():
        params[1].data -= 1.0
    assert net.fc1.weight.data is params[1].data
    y = net(bp.randn(5, 4, dtype=bp.float64))
    assert y.dtype == np.float64
    net.to(bp.float32)
    assert net.fc1.weight.dtype == np.float32
    net.to("cpu", dtype=bp.float64)
    assert net.fc1.weight.dtype == np.float64
    net.float()
    assert net.fc1.weight.dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        net.to(bp.int64)
    with pytest.raises(RuntimeError, match="CPU only"):
        net.to("cuda")


def test_state_dict_round_trip():
    bp.manual_seed(1)
    a = Net()
    a(bp.randn(6, 4))  # updates batch-norm running stats
    sd = a.state_dict()
    assert list(sd) == [
        "scale", "steps", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias", "bn.running_mean",
        "bn.running_var", "bn.num_batches_tracked", "head.1.weight", "head.1.bias",
    ]  # fmt: skip
    assert "cache" not in sd  # non-persistent buffer
    assert all(type(v) is bp.Tensor and not v.requires_grad for v in sd.values())
    assert sd["fc1.weight"].data is a.fc1.weight.data  # detached views, like torch
    assert a.state_dict(keep_vars=True)["fc1.weight"] is a.fc1.weight
    b = Net()
    w_before = b.fc1.weight
    assert b.load_state_dict(sd) == ([], [])
    assert b.fc1.weight is w_before  # copied in place
    for k, v in b.state_dict().items():
        np.testing.assert_array_equal(v.data, sd[k].data)
    assert int(b.bn.num_batches_tracked.item()) == 1
    # numpy arrays are accepted; float64 values load into float32 parameters
    c = Net()
    c.load_state_dict({k: v.data.astype(np.float64) for k, v in sd.items()})
    assert c.fc1.weight.dtype == np.float32
    np.testing.assert_allclose(c.fc1.weight.data, sd["fc1.weight"].data)
    x = bp.randn(3, 4)
    a.eval(), c.eval()
    np.testing.assert_allclose(a(x).data, c(x).data, rtol=1e-6)


def test_load_state_dict_errors():
    net = Net()
    sd = net.state_dict()
    missing = {k: v for k, v in sd.items() if k != "fc1.bias"}
    with pytest.raises(ValueError, match=r"missing key\(s\): 'fc1.bias'"):
        net.load_state_dict(missing)
    with pytest.raises(RuntimeError):  # also a RuntimeError, as torch raises
        net.load_state_dict(missing)
    extra = dict(sd, **{"fc9.weight": bp.zeros(1)})
    with pytest.raises(ValueError, match=r"unexpected key\(s\): 'fc9.weight'"):
        net.load_state_dict(extra)
    wrong = dict(sd, **{"fc1.weight": bp.zeros(8, 5)})
    with pytest.raises(ValueError, match=r"'fc1.weight'.*\(8, 5\).*\(8, 4\)"):
        net.load_state_dict(wrong)
    before = net.fc1.bias.data.copy()
    with pytest.raises(ValueError):
        net.load_state_dict(dict(wrong, **{"fc1.bias": bp.ones(8)}))
    np.testing.assert_array_equal(net.fc1.bias.data, before)  # nothing copied on error
    # shape mismatch raises even when not strict; missing/unexpected are returned
    with pytest.raises(ValueError, match="size mismatch"):
        net.load_state_dict(wrong, strict=False)
    res = net.load_state_dict(dict(missing, extra=bp.zeros(1)), strict=False)
    assert res.missing_keys == ["fc1.bias"] and res.unexpected_keys == ["extra"]
    with pytest.raises(TypeError):
        net.load_state_dict([1, 2])


def test_state_dict_loads_into_torch_and_back():
    bp.manual_seed(2)
    net = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    net(bp.randn(8, 4))
    tnet = torch.nn.Sequential(
        torch.nn.Linear(4, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(), torch.nn.Linear(5, 2)
    )
    tnet.load_state_dict({k: torch.from_numpy(v.data.copy()) for k, v in net.state_dict().items()})
    net.eval(), tnet.eval()
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(
        net(bp.tensor(x)).data, tnet(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )
    back = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2))
    back.load_state_dict({k: v.numpy() for k, v in tnet.state_dict().items()})
    back.eval()
    np.testing.assert_allclose(back(bp.tensor(x)).data, net(bp.tensor(x)).data)


def test_forward_hooks():
    net = Net()
    acts = {}
    h = net.fc1.register_forward_hook(lambda m, args, out: acts.update(fc1=out))
    y = net(bp.randn(5, 4))
    assert acts["fc1"].shape == (5, 8)
    h.remove()
    acts.clear()
    net(bp.randn(5, 4))
    assert acts == {}
    # a hook's non-None result replaces the output; a pre-hook's replaces the input
    with net.head.register_forward_hook(lambda m, args, out: out * 0):
        assert not net(bp.randn(5, 4)).data.any()
    assert net(bp.randn(5, 4)).data.any()
    calls = []
    pre = net.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    net.register_forward_pre_hook(lambda m, args: calls.append(args[0].data.copy()))
    net.eval()
    y = net(bp.ones(2, 4))
    assert not calls[0].any()  # the second pre-hook saw the first one's result
    pre.remove()
    assert y.shape == (2, 3)


def test_repr_matches_torch():
    b = nn.Sequential(
        nn.Linear(784, 100),
        nn.BatchNorm1d(100),
        nn.ReLU(),
        nn.Dropout(0.2),
        nn.Sequential(nn.Linear(100, 10, bias=False), nn.LogSoftmax(dim=1)),
        nn.ModuleList([nn.Tanh(), nn.Tanh(), nn.Sigmoid()]),
        nn.ModuleDict({"emb": nn.Embedding(10, 3, padding_idx=0), "ln": nn.LayerNorm(5)}),
        nn.Flatten(),
        nn.Unflatten(1, (1, 28, 28)),
        nn.Identity(),
        nn.LeakyReLU(0.2),
        nn.ELU(),
        nn.GELU(),
        nn.SiLU(),
        nn.Softmax(dim=1),
        nn.Softplus(),
        nn.Threshold(0.1, 20.0),
        nn.BatchNorm2d(3, momentum=None, affine=False),
        nn.CrossEntropyLoss(),
    )
    t = torch.nn
    tm = t.Sequential(
        t.Linear(784, 100),
        t.BatchNorm1d(100),
        t.ReLU(),
        t.Dropout(0.2),
        t.Sequential(t.Linear(100, 10, bias=False), t.LogSoftmax(dim=1)),
        t.ModuleList([t.Tanh(), t.Tanh(), t.Sigmoid()]),
        t.ModuleDict({"emb": t.Embedding(10, 3, padding_idx=0), "ln": t.LayerNorm(5)}),
        t.Flatten(),
        t.Unflatten(1, (1, 28, 28)),
        t.Identity(),
        t.LeakyReLU(0.2),
        t.ELU(),
        t.GELU(),
        t.SiLU(),
        t.Softmax(dim=1),
        t.Softplus(),
        t.Threshold(0.1, 20.0),
        t.BatchNorm2d(3, momentum=None, affine=False),
        t.CrossEntropyLoss(),
    )
    assert repr(b) == repr(tm)


def test_sequential_container():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    s = nn.Sequential(*layers)
    assert len(s) == 3 and list(s) == layers
    assert s[0] is layers[0] and s[-1] is layers[2]
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and len(sub) == 2 and sub[0] is layers[1]
    assert list(sub._modules) == ["1", "2"]
    with pytest.raises(IndexError):
        s[3]
    s.append(nn.Sigmoid())
    assert len(s) == 4 and isinstance(s[3], nn.Sigmoid)
    y = s(bp.randn(5, 2))
    assert y.shape == (5, 1) and (y.data > 0).all()
    del s[1]
    assert list(s._modules) == ["0", "1", "2"]  # renumbered
    s.insert(1, nn.Tanh())
    assert isinstance(s[1], nn.Tanh) and len(s) == 4
    assert isinstance(s.pop(), nn.Sigmoid) and len(s) == 3
    s[0] = nn.Linear(2, 3)
    assert s[0] is not layers[0]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert named.fc is named[0]
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]


def test_module_list_and_dict():
    ml = nn.ModuleList(nn.Linear(2, 2) for _ in range(3))
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    ml += [nn.Sigmoid()]
    assert len(ml) == 6 and isinstance(ml[-1], nn.Sigmoid)
    assert isinstance(ml[1:3], nn.ModuleList) and len(ml[1:3]) == 2
    del ml[0]
    assert list(ml._modules) == [str(i) for i in range(5)]
    ml.insert(0, nn.Identity())
    assert isinstance(ml[0], nn.Identity)
    with pytest.raises(TypeError):
        ml.extend(nn.Linear(1, 1))
    md = nn.ModuleDict({"a": nn.Linear(2, 2)})
    md["b"] = nn.ReLU()
    md.update([("c", nn.Tanh())])
    assert list(md) == ["a", "b", "c"] and "b" in md and len(md) == 3
    assert list(md.keys()) == ["a", "b", "c"] and isinstance(md["a"], nn.Linear)
    assert [n for n, _ in md.named_parameters()] == ["a.weight", "a.bias"]
    assert isinstance(md.pop("b"), nn.ReLU) and "b" not in md
    with pytest.raises(ValueError, match="pair"):
        md.update([nn.ReLU()])

    class Tower(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])

        def forward(self, x):
            for b in self.blocks:
                x = bp.tanh(b(x))
            return x

    tw = Tower()
    assert [n for n, _ in tw.named_parameters()][:2] == ["blocks.0.weight", "blocks.0.bias"]
    assert tw(bp.randn(3, 4)).shape == (3, 4)
