# Watching activations and gradients: forward hooks, tensor hooks, full backward hooks.
import numpy as np
import torch
from torch import nn

model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(
            torch.from_numpy(
                np.random.default_rng(i).normal(0, 0.5, tuple(p.shape)).astype(np.float32)
            )
        )

activations = {}


def save_activation(name):
    def hook(module, inputs, output):
        activations[name] = output.detach()

    return hook


handles = [m.register_forward_hook(save_activation(n)) for n, m in model.named_children()]
grad_norms = []
for n, m in model.named_children():
    handles.append(
        m.register_full_backward_hook(
            lambda mod, gin, gout, n=n: grad_norms.append((n, round(gout[0].norm().item(), 5)))
        )
    )
x = torch.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4), requires_grad=True)
seen = []
x.register_hook(lambda g: seen.append(g.abs().sum().item()))
out = model(x)
out.pow(2).sum().backward()
for n, a in activations.items():
    print(n, tuple(a.shape), round(a.abs().mean().item(), 5))
print(grad_norms)
print(round(seen[0], 5))
for h in handles:
    h.remove()
model(x).sum().backward()
print(len(grad_norms))
