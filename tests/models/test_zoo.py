"""Every zoo model builds, gives the right output shape and overfits one small batch."""

import numpy as np
import pytest

import backprop
from backprop import models, nn, optim

# name -> (kwargs for a small variant, per-sample input shape, classes). Tiny widths keep the
# overfitting steps fast; the full-size tables are checked in test_summary.py.
SMALL = {
    "mlp": (dict(sizes=[12, 32, 3]), (12,), 3),
    "lenet5": (dict(num_classes=4), (1, 28, 28), 4),
    "digits_cnn": (dict(num_classes=4, channels=(8, 16), hidden=32, dropout=0.0), (1, 8, 8), 4),
    "alexnet": (dict(num_classes=4, width=1 / 16, hidden=32, image_size=67, dropout=0.0),
                (3, 67, 67), 4),
    "vgg11": (dict(num_classes=4, width=1 / 16, hidden=32, image_size=32, dropout=0.0),
              (3, 32, 32), 4),
    "vgg13": (dict(num_classes=4, width=1 / 16, hidden=32, image_size=32, batchnorm=True,
                   dropout=0.0), (3, 32, 32), 4),
    "vgg16": (dict(num_classes=4, width=1 / 16, hidden=32, image_size=32, batchnorm=True,
                   dropout=0.0), (3, 32, 32), 4),
    "vgg19": (dict(num_classes=4, width=1 / 16, hidden=32, image_size=32, batchnorm=True,
                   dropout=0.0), (3, 32, 32), 4),
    "resnet18": (dict(num_classes=4, width=4), (3, 32, 32), 4),
    "resnet34": (dict(num_classes=4, width=4), (3, 32, 32), 4),
    "resnet20": (dict(num_classes=4, width=4), (3, 16, 16), 4),
    "sequence_classifier": (dict(input_size=5, hidden_size=16, num_classes=3), (6, 5), 3),
}  # fmt: skip
# Deep plain stacks at tiny width need a larger step to get going within the step budget.
LR = {"vgg13": 5e-3, "vgg16": 5e-3, "vgg19": 5e-3}


def test_every_registered_model_has_a_test():
    covered = set(SMALL) | {"perceptron", "tied_autoencoder", "char_rnn", "seq2seq", "gpt"}
    assert set(models.list_models()) == covered


def test_registry_lookup_and_errors():
    assert isinstance(models.get_model("mlp", sizes=[3, 4, 2]), models.MLP)
    assert models.default_input_shape("lenet5") == (1, 28, 28)
    assert models.default_input_shape("alexnet") == (3, 227, 227)
    assert models.get_model_builder("vgg16") is models.VGG16
    with pytest.raises(ValueError, match="unknown model 'nope'.*lenet5"):
        models.get_model("nope")
    with pytest.raises(TypeError):
        models.get_model("lenet5", bogus=1)
    with pytest.raises(ValueError, match="already registered"):
        models.register_model("mlp")(lambda: None)


def _overfit(model, x, y, max_steps=150, lr=2e-3):
    """Adam on one batch until the training loss is tiny; returns (first loss, final eval loss,
    eval accuracy)."""
    opt = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    first = None
    for _ in range(max_steps):
        loss = loss_fn(model(x), y)
        first = loss.item() if first is None else first
        if loss.item() < 0.02:
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with backprop.no_grad():
        out = model(x)
    return first, loss_fn(out, y).item(), (out.data.argmax(1) == y.data).mean()


@pytest.mark.parametrize("name", sorted(SMALL))
def test_forward_shape_and_overfit_one_batch(name):
    kwargs, shape, classes = SMALL[name]
    model = models.get_model(name, **kwargs)
    x = backprop.randn(6, *shape)
    y = backprop.tensor(np.arange(6) % classes)
    assert model(x).shape == (6, classes)
    first, final, acc = _overfit(model, x, y, lr=LR.get(name, 2e-3))
    assert acc == 1.0, f"{name}: accuracy {acc} after overfitting (loss {first:.3f} -> {final:.3f})"
    assert final < 0.25 * first


def test_mlp_options():
    net = models.MLP([4, 8, 8, 3], activation="tanh", dropout=0.5, input_dropout=0.2,
                     batchnorm=True)  # fmt: skip
    kinds = [type(m).__name__ for m in net]
    assert kinds == ["Flatten", "Dropout", "Linear", "BatchNorm1d", "Tanh", "Dropout", "Linear",
                     "BatchNorm1d", "Tanh", "Dropout", "Linear"]  # fmt: skip
    assert [lin.weight.shape for lin in net.linear_layers()] == [(8, 4), (8, 8), (3, 8)]
    assert net(backprop.randn(5, 2, 2)).shape == (5, 3)  # flattened input
    with pytest.raises(ValueError, match="MLP: sizes"):
        models.MLP([4])
    with pytest.raises(ValueError, match="MLP: dropout"):
        models.MLP([4, 2], dropout=1.0)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        models.MLP([4, 3, 2], activation="swish")


def test_linear_activations_give_a_linear_map():
    # The lectures: "linear activations produce linear decisions irrespective of the network
    # size". A deep MLP with identity activations is x @ A + c for one matrix A.
    net = models.MLP([3, 16, 16, 2], activation="linear")
    x = backprop.randn(10, 3)
    with backprop.no_grad():
        out = net(x).data
        a = net(backprop.eye(3)).data - net(backprop.zeros(1, 3)).data
        c = net(backprop.zeros(1, 3)).data
    np.testing.assert_allclose(out, x.data @ a + c, rtol=1e-4, atol=1e-5)


def test_resnet_blocks_and_shortcuts():
    r18 = models.ResNet18(num_classes=10, width=8)
    assert isinstance(r18.layer2[0].downsample, nn.Sequential)  # projection (option B)
    assert r18.layer1[0].downsample is None
    r20 = models.ResNet20()
    assert sum(p.numel() for p in r20.parameters()) == 269_722
    assert sum(p.numel() for p in models.ResNet20(shortcut="B").parameters()) == 272_474
    assert r20(backprop.randn(2, 3, 32, 32)).shape == (2, 10)
    zero = models.ResNet(layers=[1, 1], width=4, zero_init_residual=True, num_classes=3)
    assert float(abs(zero.layer1[0].bn2.weight).sum().item()) == 0.0
    with pytest.raises(ValueError, match="stem"):
        models.ResNet(stem="tiny")


def test_lenet_and_digits_cnn_defaults():
    assert models.LeNet5()(backprop.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert models.LeNet5(image_size=32, in_channels=3)(backprop.zeros(1, 3, 32, 32)).shape == (
        1,
        10,
    )
    assert models.DigitsCNN()(backprop.zeros(3, 1, 8, 8)).shape == (3, 10)
    with pytest.raises(ValueError, match="VGG: depth"):
        models.VGG(depth=12)
