# Saving and loading: state dicts, a checkpoint dict with the optimiser and scheduler, a
# tensor, and loading into a fresh model (torch.save / torch.load).
import os
import sys
import tempfile

import numpy as np
import torch
from torch import nn

model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
opt = torch.optim.Adam(model.parameters(), lr=0.01)
sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
x = torch.tensor(np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32))
for _ in range(3):
    opt.zero_grad()
    model(x).pow(2).mean().backward()
    opt.step()
    sched.step()

folder = tempfile.mkdtemp()
path = os.path.join(folder, "model.pt")
torch.save(model.state_dict(), path)
model2 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
model2.load_state_dict(torch.load(path))
model2.eval()
print(torch.allclose(model(x), model2(x)))

ckpt = os.path.join(folder, "ckpt.pt")
torch.save(
    {
        "epoch": 3,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "loss": 0.25,
        "name": "run-1",
        "history": [1.0, 0.5],
    },
    ckpt,
)
state = torch.load(ckpt, weights_only=True)
print(state["epoch"], state["loss"], state["name"], state["history"])
model3 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
opt3 = torch.optim.Adam(model3.parameters(), lr=0.01)
sched3 = torch.optim.lr_scheduler.StepLR(opt3, step_size=1, gamma=0.5)
model3.load_state_dict(state["model_state_dict"])
opt3.load_state_dict(state["optimizer_state_dict"])
sched3.load_state_dict(state["scheduler"])
print(opt3.param_groups[0]["lr"], sched3.last_epoch)
for o in (opt, opt3):
    o.zero_grad()
(model(x).sum()).backward()
(model3(x).sum()).backward()
opt.step()
opt3.step()
print(all(torch.equal(a, b) for a, b in zip(model.parameters(), model3.parameters())))

t = torch.arange(6).reshape(2, 3)
torch.save(t, os.path.join(folder, "t.pt"))
print(torch.load(os.path.join(folder, "t.pt")))
sys.stdout.flush()
