# The quick-start tutorial's loop: Dataset, DataLoader, nn.Sequential, train and test loops.
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

rng = np.random.default_rng(0)
X = rng.normal(size=(256, 1, 8, 8)).astype(np.float32)
y = (X.reshape(256, -1).sum(1) > 0).astype(np.int64) + 2 * (X[:, 0, 0, 0] > 0)
train_data = TensorDataset(torch.from_numpy(X[:192]), torch.from_numpy(y[:192]))
test_data = TensorDataset(torch.from_numpy(X[192:]), torch.from_numpy(y[192:]))
train_dataloader = DataLoader(train_data, batch_size=32)
test_dataloader = DataLoader(test_data, batch_size=32)

for X_b, y_b in test_dataloader:
    print(f"Shape of X [N, C, H, W]: {X_b.shape}")
    print(f"Shape of y: {y_b.shape} {y_b.dtype}")
    break

device = "cuda" if torch.cuda.is_available() else "cpu"
print(f"Using {device} device")


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 4)
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.from_numpy(
                np.random.default_rng(i).normal(0, 0.2, tuple(p.shape)).astype(np.float32)
            )
        )
print(model)

loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)


def train(dataloader, model, loss_fn, optimizer):
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return loss.item()


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    test_loss /= num_batches
    correct /= size
    print(f"Test Error: Accuracy: {(100 * correct):>0.1f}%, Avg loss: {test_loss:>8f}")


for t in range(3):
    last = train(train_dataloader, model, loss_fn, optimizer)
    print(f"Epoch {t + 1} last batch loss {last:.5f}")
    test(test_dataloader, model, loss_fn)
