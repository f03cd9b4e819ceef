"""Real data: a small CNN trained for one epoch on the MNIST subset reaches >= 97% on the official
test set (skipped, with the reason, when ../shared/data/mnist is absent)."""

import backprop
from backprop import nn, optim
from backprop.data import MNIST, DataLoader
from backprop.data import transforms as T
from backprop.models import summary


def small_cnn() -> nn.Sequential:
    """Two conv 5x5 + max-pool stages (16 and 32 filters) and one linear layer: 28,938
    parameters, 2.8 M multiply-adds per image."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )  # fmt: skip


def test_small_cnn_one_epoch_on_real_mnist(mnist_dir):
    norm = T.Normalize([0.1307], [0.3081])
    train = MNIST(mnist_dir, train=True, transform=norm)
    test = MNIST(mnist_dir, train=False, transform=norm)
    assert (len(train), len(test)) == (20_000, 10_000)
    model = small_cnn()
    assert summary(model, (1, 28, 28)).total_params == 28_938
    opt = optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    for x, y in DataLoader(train, batch_size=64, shuffle=True):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    correct = 0
    with backprop.no_grad():
        for x, y in DataLoader(test, batch_size=1000):
            correct += int((model(x).data.argmax(1) == y.data).sum())
    accuracy = correct / len(test)
    assert accuracy >= 0.97, f"test accuracy {accuracy:.4f} after one epoch"
