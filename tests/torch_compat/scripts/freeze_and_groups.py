# Fine-tuning idioms: freeze a backbone with requires_grad_(False), parameter groups with their
# own learning rates, zero_grad(set_to_none=True), gradient clipping.
import numpy as np
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(6, 8), nn.ReLU())
        self.head = nn.Linear(8, 2)

    def forward(self, x):
        return self.head(self.backbone(x))


model = Net()
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.from_numpy(
                np.random.default_rng(i).normal(0, 0.3, tuple(p.shape)).astype(np.float32)
            )
        )
for p in model.backbone.parameters():
    p.requires_grad_(False)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
before = model.backbone[0].weight.clone()
opt = torch.optim.SGD(
    [{"params": model.backbone.parameters(), "lr": 1e-3}, {"params": model.head.parameters()}],
    lr=1e-1,
    momentum=0.9,
)
print([g["lr"] for g in opt.param_groups])
x = torch.tensor(np.random.default_rng(9).normal(size=(16, 6)).astype(np.float32))
y = torch.tensor(np.random.default_rng(10).integers(0, 2, 16))
for step in range(5):
    opt.zero_grad(set_to_none=True)
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    total = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    opt.step()
    print(step, round(loss.item(), 5), round(float(total), 5))
print(torch.equal(before, model.backbone[0].weight), model.backbone[0].weight.grad is None)
for p in model.backbone.parameters():
    p.requires_grad_(True)
print(sum(p.numel() for p in model.parameters() if p.requires_grad))
