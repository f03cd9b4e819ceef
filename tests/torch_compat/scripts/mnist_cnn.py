# The official MNIST example's core (on random 28x28 digits): Conv2d, Dropout, max_pool2d,
# flatten, log_softmax + nll_loss, Adadelta with StepLR, train and test functions.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(2304, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def train(model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
    return loss.item()


def test(model, device, test_loader):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    return test_loss, correct


torch.manual_seed(1)
device = torch.device("cpu")
rng = np.random.default_rng(0)
images = rng.normal(size=(96, 1, 28, 28)).astype(np.float32)
labels = rng.integers(0, 10, size=96)
dataset = TensorDataset(torch.from_numpy(images), torch.from_numpy(labels))
train_loader = DataLoader(dataset, batch_size=32, shuffle=True)
test_loader = DataLoader(dataset, batch_size=48)
model = Net().to(device)
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
first, _ = test(model, device, test_loader)
for epoch in range(1, 4):
    train(model, device, train_loader, optimizer, epoch)
    scheduler.step()
last, correct = test(model, device, test_loader)
print("test loss decreased:", last < first)
print("lr after 3 epochs:", round(optimizer.param_groups[0]["lr"], 6))
print(model(torch.zeros(2, 1, 28, 28)).shape, model(torch.zeros(2, 1, 28, 28)).exp().sum(1).shape)
