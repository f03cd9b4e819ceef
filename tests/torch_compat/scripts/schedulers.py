# Learning-rate schedulers stepped per epoch and per batch; their sequences are printed.
from torch import nn, optim

model = nn.Linear(4, 2)
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
scheds = [
    optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
]
for epoch in range(8):
    opt.step()
    scheds[0].step()
    print(f"step {epoch}: {opt.param_groups[0]['lr']:.6f}")

for name, make in [
    ("onecycle", lambda o: optim.lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=10)),
    ("cosine", lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=0.01)),
    ("warm", lambda o: optim.lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3)),
    ("cyclic", lambda o: optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=2)),
    ("poly", lambda o: optim.lr_scheduler.PolynomialLR(o, total_iters=4, power=2.0)),
    ("exp", lambda o: optim.lr_scheduler.ExponentialLR(o, gamma=0.9)),
    ("lambda", lambda o: optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1))),
]:
    o = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    s = make(o)
    lrs = []
    for _ in range(9):
        o.step()
        s.step()
        lrs.append(round(s.get_last_lr()[0], 8))
    print(name, lrs, round(o.param_groups[0]["momentum"], 6))

o = optim.Adam(model.parameters(), lr=0.01)
plateau = optim.lr_scheduler.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=1)
for val_loss in [1.0, 0.9, 0.95, 0.96, 0.97, 0.5]:
    plateau.step(val_loss)
    print("plateau", o.param_groups[0]["lr"])
