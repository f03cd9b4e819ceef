"""The exporter's contract: the registry, clear refusals, opsets, names, files, lightness."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import pytest

import backprop
from backprop import models, nn

UnsupportedModuleError = backprop.onnx.UnsupportedModuleError

# Modules of backprop.nn that are not exported, and why (docs/interop.md lists them too).
NOT_EXPORTED = {
    "ModuleList": "a container without a forward (its owner's rule walks it)",
    "ModuleDict": "a container without a forward",
    "EmbeddingBag": "offsets and per-sample weights: no ONNX operator; not a zoo layer",
    "MaxUnpool1d": "needs PyTorch's flat max-pool indices, which ONNX MaxPool does not give",
    "MaxUnpool2d": "as MaxUnpool1d",
    "MaxUnpool3d": "as MaxUnpool1d",
    "Unfold": "im2col has no ONNX operator (a gather of shifted slices); not a zoo layer",
    "Fold": "no rule written yet: ONNX Col2Im (opset 18+) could express it; not a zoo layer",
}


def _nn_modules():
    for name in nn.__all__:
        obj = getattr(nn, name)
        if isinstance(obj, type) and issubclass(obj, nn.Module) and obj is not nn.Module:
            yield name, obj


def test_every_nn_layer_has_a_rule_or_a_stated_reason():
    missing = []
    for name, cls in _nn_modules():
        if name.endswith("Loss"):
            continue  # losses are training-time, not part of an exported model
        owner = backprop.onnx.core._owner(cls, backprop.onnx.core._RULES)
        if owner is None and name not in NOT_EXPORTED:
            missing.append(name)
    assert missing == []


def test_unknown_module_is_named_with_the_way_out():
    class Mystery(nn.Module):
        def forward(self, x):
            return x * 2

    net = nn.Sequential(nn.Linear(3, 3), Mystery())
    with pytest.raises(UnsupportedModuleError) as e:
        backprop.onnx.export(net, backprop.randn(2, 3))
    msg = str(e.value)
    assert "Mystery" in msg and "'1'" in msg and "register_rule" in msg


def test_subclass_with_its_own_forward_is_not_exported_by_the_base_rule():
    class Doubled(nn.Linear):
        def forward(self, x):
            return super().forward(x) * 2

    with pytest.raises(UnsupportedModuleError, match="Doubled"):
        backprop.onnx.export(Doubled(3, 2), backprop.randn(2, 3))


def test_registered_rule_for_a_custom_module(onnx_check):
    class Scale(nn.Module):
        def __init__(self, factor):
            super().__init__()
            self.factor = factor

        def forward(self, x):
            return x * self.factor

    @backprop.onnx.register_rule(Scale)
    def _scale(ctx, m, x):
        return ctx.node("Mul", [x.name, ctx.scalar(m.factor, x)])

    net = nn.Sequential(nn.Linear(3, 4), Scale(3.0), nn.ReLU())
    onnx_check(net, lambda n: (np.random.default_rng(n).standard_normal((n, 3), np.float32),),
               (2, 3))  # fmt: skip


def test_register_rule_refuses_a_non_module():
    with pytest.raises(TypeError, match="Module class"):
        backprop.onnx.register_rule(int)


def test_opset_constants_agree():
    assert (backprop.onnx.MIN_OPSET, backprop.onnx.MAX_OPSET) == (
        backprop.onnx.core.MIN_OPSET,
        backprop.onnx.core.MAX_OPSET,
    )


@pytest.mark.parametrize("opset", [16, 23, "20", True])
def test_opset_range(opset):
    with pytest.raises(ValueError, match=r"opset must be an int in \[17, 22\]"):
        backprop.onnx.export(nn.ReLU(), backprop.randn(2, 3), opset=opset)


@pytest.mark.parametrize(
    "module,x,match",
    [
        (nn.MaxPool2d(2, return_indices=True), (1, 2, 4, 4), "return_indices"),
        (nn.Embedding(5, 3, max_norm=1.0), None, "max_norm"),
        (nn.LSTM(3, 4), (5, 3), "batched"),
        (nn.Conv2d(1, 2, 3), (1, 5, 5), "batched"),
        (nn.Upsample(scale_factor=2, mode="bicubic"), (1, 1, 4, 4), "bicubic"),
        (nn.ZeroPad2d(-1), (1, 1, 4, 4), "negative padding"),
    ],
)
def test_settings_without_an_onnx_form_are_refused(module, x, match):
    example = backprop.Tensor(np.zeros((2, 3), np.int64)) if x is None else backprop.randn(*x)
    with pytest.raises(UnsupportedModuleError, match=match):
        backprop.onnx.export(module, example)


def test_names_and_file(tmp_path):
    net = models.MLP([4, 3, 2])
    path = tmp_path / "sub" / "mlp.onnx"
    proto = backprop.onnx.export(net, backprop.randn(2, 4), path, input_names=["x"],
                                 output_names=["logits"])  # fmt: skip
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    assert [i.name for i in loaded.graph.input] == ["x"]
    assert [o.name for o in loaded.graph.output] == ["logits"]
    assert loaded.SerializeToString() == proto.SerializeToString()
    assert loaded.producer_name == "backprop"


def test_bad_names():
    with pytest.raises(ValueError, match="input_names"):
        backprop.onnx.export(nn.ReLU(), backprop.randn(2, 3), input_names=["a", "b"])
    with pytest.raises(ValueError, match="output_names"):
        backprop.onnx.export(nn.ReLU(), backprop.randn(2, 3), input_names=["a"],
                             output_names=["a"])  # fmt: skip
    with pytest.raises(TypeError, match="Module"):
        backprop.onnx.export(lambda x: x, backprop.randn(2, 3))


def test_training_mode_restored():
    net = models.LeNet5(dropout=0.5)
    net.train()
    net.features.eval()
    backprop.onnx.export(net, backprop.randn(1, 1, 28, 28))
    assert net.training and net.classifier.training and not net.features.training


def test_dropout_is_identity_in_the_file():
    proto = backprop.onnx.export(nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.9)),
                                 backprop.randn(2, 3))  # fmt: skip
    assert "Dropout" not in {n.op_type for n in proto.graph.node}


def test_import_backprop_does_not_import_onnx():
    code = "import sys, backprop; print([m for m in ('onnx', 'onnxruntime') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    code = "import sys, backprop.onnx; print('onnx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
