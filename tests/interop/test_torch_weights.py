"""Weights to and from PyTorch 2.13: a backprop state dict saved as safetensors loads into the
torch twin with strict=True and gives the same outputs, and back (LeNet-5, ResNet-18, LSTM and
GRU bidirectional with 2 layers, MultiheadAttention, BatchNorm buffers), plus what breaks on the
way (tied weights, non-contiguous arrays, float16/bfloat16 files, prefixes, nested checkpoints,
pickles)."""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

import backprop
from backprop import models, nn
from backprop.interop.torch import (
    from_torch,
    load_weights,
    save_weights,
    to_torch,
    unwrap_state_dict,
)
from backprop.serialization import SerializationError, load_file

torch = pytest.importorskip("torch")
st = pytest.importorskip("safetensors.torch")
tnn = torch.nn

ATOL = 1e-5


def _close(ours, theirs, atol=ATOL):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    np.testing.assert_allclose(ours.data if isinstance(ours, backprop.Tensor) else ours, theirs,
                               atol=atol, rtol=1e-5)  # fmt: skip


def _via_files(bp_model, torch_model, tmp_path):
    """backprop -> save_weights -> safetensors.torch.load_file -> torch (strict)."""
    path = tmp_path / "w.safetensors"
    save_weights(bp_model, path)
    torch_model.load_state_dict(st.load_file(str(path)), strict=True)


def _back_via_files(torch_model, bp_model, tmp_path):
    """torch -> safetensors.torch.save_file -> load_weights -> backprop (strict)."""
    path = tmp_path / "t.safetensors"
    st.save_file({k: v.contiguous() for k, v in torch_model.state_dict().items()}, str(path))
    bp_model.load_state_dict(load_weights(path), strict=True)


# ---------------------------------------------------------------------------------- LeNet-5
class TorchLeNet5(tnn.Module):
    def __init__(self):
        super().__init__()
        self.features = tnn.Sequential(OrderedDict(
            conv1=tnn.Conv2d(1, 20, 5, padding=2), relu1=tnn.ReLU(), pool1=tnn.MaxPool2d(2, 2),
            conv2=tnn.Conv2d(20, 50, 5, padding=2), relu2=tnn.ReLU(), pool2=tnn.MaxPool2d(2, 2),
        ))  # fmt: skip
        self.classifier = tnn.Sequential(OrderedDict(
            flatten=tnn.Flatten(), fc1=tnn.Linear(2450, 500), relu3=tnn.ReLU(),
            fc2=tnn.Linear(500, 10),
        ))  # fmt: skip

    def forward(self, x):
        return self.classifier(self.features(x))


def test_lenet5_round_trip(tmp_path):
    backprop.manual_seed(0)
    ours, theirs = models.LeNet5().eval(), TorchLeNet5().eval()
    _via_files(ours, theirs, tmp_path)
    x = np.random.default_rng(0).standard_normal((3, 1, 28, 28)).astype(np.float32)
    with torch.no_grad():
        _close(ours(backprop.Tensor(x)), theirs(torch.from_numpy(x)))
    # and back: fresh torch weights into a fresh backprop model
    theirs2, ours2 = TorchLeNet5().eval(), models.LeNet5().eval()
    _back_via_files(theirs2, ours2, tmp_path)
    with torch.no_grad():
        _close(ours2(backprop.Tensor(x)), theirs2(torch.from_numpy(x)))


# ---------------------------------------------------------------------------------- ResNet-18
class TorchBasicBlock(tnn.Module):
    def __init__(self, inp, planes, stride=1):
        super().__init__()
        self.conv1 = tnn.Conv2d(inp, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU()
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inp != planes:
            self.downsample = tnn.Sequential(tnn.Conv2d(inp, planes, 1, stride, bias=False),
                                             tnn.BatchNorm2d(planes))  # fmt: skip

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class TorchResNet18(tnn.Module):
    """torchvision's resnet18 layout, written out (torchvision is not a dependency)."""

    def __init__(self, num_classes=10, width=64):
        super().__init__()
        self.conv1 = tnn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(width)
        self.relu = tnn.ReLU()
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        planes = width
        for i in range(4):
            out = width * 2**i
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", tnn.Sequential(TorchBasicBlock(planes, out, stride),
                                                          TorchBasicBlock(out, out)))  # fmt: skip
            planes = out
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(planes, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for i in range(4):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def test_resnet18_round_trip_with_trained_batchnorm(tmp_path):
    """Two training-mode forwards move the running statistics and num_batches_tracked; all of
    it travels, and the eval outputs agree both ways."""
    backprop.manual_seed(0)
    ours = models.ResNet18(num_classes=10)
    rng = np.random.default_rng(0)
    ours.train()
    with backprop.no_grad():
        for _ in range(2):
            ours(backprop.Tensor(rng.standard_normal((2, 3, 64, 64)).astype(np.float32)))
    assert int(ours.bn1.num_batches_tracked.data) == 2
    theirs = TorchResNet18()
    _via_files(ours, theirs, tmp_path)
    assert int(theirs.bn1.num_batches_tracked) == 2
    assert theirs.layer2[0].downsample[1].num_batches_tracked.dtype == torch.int64
    _close(ours.layer3[1].bn2.running_var, theirs.layer3[1].bn2.running_var, atol=0)
    ours.eval(), theirs.eval()
    x = rng.standard_normal((2, 3, 64, 64)).astype(np.float32)
    with torch.no_grad():
        _close(ours(backprop.Tensor(x)), theirs(torch.from_numpy(x)), atol=1e-4)
    # torch trains a step of batch norm, then back into backprop
    theirs.train()
    with torch.no_grad():
        theirs(torch.from_numpy(x))
    theirs.eval()
    fresh = models.ResNet18(num_classes=10)
    _back_via_files(theirs, fresh, tmp_path)
    assert int(fresh.bn1.num_batches_tracked.data) == 3
    fresh.eval()
    with torch.no_grad():
        _close(fresh(backprop.Tensor(x)), theirs(torch.from_numpy(x)), atol=1e-4)


def test_batchnorm_buffers_to_torch_in_memory():
    bn = nn.BatchNorm1d(4)
    bn.train()
    bn(backprop.randn(8, 4))
    tbn = tnn.BatchNorm1d(4)
    tbn.load_state_dict(to_torch(bn), strict=True)
    assert int(tbn.num_batches_tracked) == 1
    _close(bn.running_mean, tbn.running_mean, atol=0)


# ---------------------------------------------------------------------------------- recurrent
@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_recurrent_bidirectional_two_layers(cell, tmp_path):
    backprop.manual_seed(0)
    kw = dict(num_layers=2, bidirectional=True, batch_first=True)
    ours = getattr(nn, cell)(5, 7, **kw)
    theirs = getattr(tnn, cell)(5, 7, **kw)
    _via_files(ours, theirs, tmp_path)
    x = np.random.default_rng(1).standard_normal((3, 6, 5)).astype(np.float32)
    out, state = ours(backprop.Tensor(x))
    with torch.no_grad():
        t_out, t_state = theirs(torch.from_numpy(x))
    _close(out, t_out)
    states = state if cell == "LSTM" else (state,)
    t_states = t_state if cell == "LSTM" else (t_state,)
    for s, t in zip(states, t_states):
        _close(s, t)
    # back: torch's own initialisation into backprop
    theirs2, ours2 = getattr(tnn, cell)(5, 7, **kw), getattr(nn, cell)(5, 7, **kw)
    _back_via_files(theirs2, ours2, tmp_path)
    with torch.no_grad():
        _close(ours2(backprop.Tensor(x))[0], theirs2(torch.from_numpy(x))[0])


def test_multihead_attention_round_trip():
    backprop.manual_seed(0)
    ours = nn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True)
    theirs = tnn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True)
    theirs.load_state_dict(to_torch(ours), strict=True)
    x = np.random.default_rng(2).standard_normal((2, 5, 8)).astype(np.float32)
    out, w = ours(backprop.Tensor(x), backprop.Tensor(x), backprop.Tensor(x))
    with torch.no_grad():
        t = torch.from_numpy(x)
        t_out, t_w = theirs(t, t, t)
    _close(out, t_out)
    _close(w, t_w)
    # back: torch's own initialisation (non-zero biases) into backprop
    theirs2 = tnn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True)
    with torch.no_grad():
        theirs2.in_proj_bias.normal_()
    back = nn.MultiheadAttention(8, 2, batch_first=True, add_bias_kv=True)
    back.load_state_dict(from_torch(theirs2.state_dict()), strict=True)
    with torch.no_grad():
        _close(back(backprop.Tensor(x), backprop.Tensor(x), backprop.Tensor(x))[0],
               theirs2(t, t, t)[0])  # fmt: skip


# ---------------------------------------------------------------------------------- edges
def test_tied_weights_written_once_and_restored(tmp_path):
    ae = models.TiedAutoencoder([6, 4])
    path = tmp_path / "ae.safetensors"
    save_weights(ae, path)
    raw = load_file(path)
    assert "encoder.0.weight" in raw and "decoder.0.weight" not in raw
    st.load_file(str(path))  # PyTorch's own reader takes the file
    sd = load_weights(path)
    assert sd["decoder.0.weight"] is sd["encoder.0.weight"]
    fresh = models.TiedAutoencoder([6, 4])
    fresh.load_state_dict(sd, strict=True)
    assert fresh.decoder[0].weight is fresh.encoder[0].weight
    _close(fresh.encoder[0].weight, ae.encoder[0].weight.data, atol=0)
    # torch's tied twin: both names from to_torch share one tensor
    tsd = to_torch(ae)
    assert tsd["decoder.0.weight"] is tsd["encoder.0.weight"]


def test_non_contiguous_arrays(tmp_path):
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    path = tmp_path / "t.safetensors"
    save_weights({"w": a.T, "v": a[:, ::2]}, path)
    sd = load_weights(path)
    np.testing.assert_array_equal(sd["w"], a.T)
    np.testing.assert_array_equal(sd["v"], a[:, ::2])
    assert to_torch({"w": a.T})["w"].is_contiguous()


def test_float16_file_converted_with_a_warning(tmp_path):
    path = tmp_path / "h.safetensors"
    w = torch.randn(3, 2).half()
    st.save_file({"weight": w, "bias": torch.zeros(3).half()}, str(path))
    with pytest.warns(UserWarning, match="2 float16 tensor"):
        sd = load_weights(path)
    assert sd["weight"].dtype == np.float32
    np.testing.assert_array_equal(sd["weight"], w.float().numpy())


def test_bfloat16_file_converted_with_a_warning(tmp_path):
    path = tmp_path / "b.safetensors"
    lin = tnn.Linear(4, 3).to(torch.bfloat16)
    st.save_file(lin.state_dict(), str(path))
    with pytest.warns(UserWarning, match="bfloat16"):
        sd = load_weights(path)
    np.testing.assert_array_equal(sd["weight"], lin.weight.float().detach().numpy())
    ours = nn.Linear(4, 3)
    ours.load_state_dict(sd, strict=True)
    with pytest.warns(UserWarning, match="bfloat16"):
        from_torch(lin.state_dict())


def test_corrupted_bfloat16_file_is_refused(tmp_path):
    path = tmp_path / "b.safetensors"
    st.save_file({"w": torch.zeros(4, 4, dtype=torch.bfloat16)}, str(path))
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(data[:-6]))  # truncated
    with pytest.raises(SerializationError):
        load_weights(path)


def test_prefix_and_nested_checkpoints():
    lin = tnn.Linear(3, 2)
    wrapped = {"module." + k: v for k, v in lin.state_dict().items()}
    ckpt = {"model": wrapped, "optimizer": {"state": {}}, "epoch": 3}
    ours = nn.Linear(3, 2)
    ours.load_state_dict(from_torch(unwrap_state_dict(ckpt)), strict=True)
    _close(ours.weight, lin.weight)
    with pytest.raises(ValueError, match="nested under one of"):
        unwrap_state_dict({"a": {"w": 1}, "b": {"w": 2}})
    assert set(unwrap_state_dict({"a": {"w": 1}, "b": {}}, key="a")) == {"w"}
    assert set(unwrap_state_dict({"module.w": 1, "x": 2})) == {"module.w", "x"}  # mixed: kept


def test_whole_backprop_checkpoint_gives_its_weights(tmp_path):
    net = nn.Linear(3, 2)
    path = tmp_path / "ckpt.safetensors"
    backprop.save({"model": net.state_dict(), "epoch": 4}, path)
    sd = load_weights(path)
    assert set(sd) == {"weight", "bias"}
    np.testing.assert_array_equal(sd["weight"], net.weight.data)


def test_pickles_are_refused_with_the_safe_route(tmp_path):
    path = tmp_path / "w.pth"
    torch.save(tnn.Linear(2, 2).state_dict(), str(path))
    with pytest.raises(SerializationError, match="weights_only=True"):
        load_weights(path)


def test_bad_inputs():
    with pytest.raises(TypeError, match="Module or a state dict"):
        save_weights([1, 2], "x")
    with pytest.raises(TypeError, match="not a Tensor or array"):
        to_torch({"w": [1.0]})
    with pytest.raises(TypeError, match="not a torch.Tensor"):
        from_torch({"w": np.zeros(2)})
