"""The lectures' momentum rule next to PyTorch's: exactly when they give the same path.

Four ways to write "gradient descent with momentum" (g_t the gradient at step t, lr_t the
learning rate at step t, m the momentum):

1. PyTorch (``optim.SGD(momentum=m)``, and the Larochelle deck's ``grad_bar_t = g_t + m *
   grad_bar_{t-1}``): ``v_t = m v_{t-1} + g_t`` (v_1 = g_1), ``w_{t+1} = w_t - lr_t v_t``.
2. Sutskever et al. (2013): ``u_t = m u_{t-1} - lr_t g_t``, ``w_{t+1} = w_t + u_t``.
3. Polyak's heavy ball, the lectures' rule read with the previous *step*:
   ``w_{t+1} = w_t - lr_t g_t + m (w_t - w_{t-1})``.
4. The lectures' rule read literally, with the previous *gradient* (the Groves deck):
   ``w_{t+1} = w_t - lr_t g_t - m lr_t g_{t-1}`` (no previous gradient on the first step).

Unrolled, the step each takes is

    PyTorch       w_{t+1} - w_t = -lr_t * sum_k m^k g_{t-k}
    Sutskever     w_{t+1} - w_t = -sum_k m^k lr_{t-k} g_{t-k}       (= heavy ball, always)
    literal       w_{t+1} - w_t = -lr_t * (g_t + m g_{t-1})

so (a) PyTorch, Sutskever and the heavy ball trace the same path exactly when the learning rate
is constant (or m = 0): with a schedule, PyTorch applies today's rate to the whole velocity,
the other two keep each past gradient at the rate it was taken with. (b) The literal rule keeps
only the first two terms of the sum: it agrees with the others on the first two steps and
differs from the third on (by lr m^2 g_1 there), for any learning rate, unless m = 0. It is a
different optimiser, not a different notation: along a constant gradient it steps (1 + m) lr g
against lr g / (1 - m) for the others (1.9 against 10 times lr g at m = 0.9).

The script runs all four on a ravine, once with a constant learning rate and once halving it
every 10 steps, prints how far each path is from PyTorch's, and writes ``momentum_forms.png``.

    python examples/momentum_forms.py [--steps 60] [--out examples/output]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import backprop as bp
from backprop import nn, optim

OUT = Path(__file__).resolve().parent / "output"
START = (-8.0, 1.5)
LR, MOMENTUM = 0.1, 0.9


def ravine(w: bp.Tensor) -> bp.Tensor:
    """0.5 * (0.1 x^2 + 2 y^2): 20 times more curved across the valley than along it."""
    return 0.5 * (0.1 * w[0] ** 2 + 2.0 * w[1] ** 2)


def grad(w: np.ndarray) -> np.ndarray:
    """The gradient of ``ravine`` at ``w``, by backprop's autograd."""
    t = bp.tensor(w, dtype=bp.float64, requires_grad=True)
    ravine(t).backward()
    return t.grad.numpy().copy()


def rates(steps: int, schedule: bool) -> list[float]:
    """lr_t for t = 1..steps: constant, or halved every 10 steps (StepLR's sequence)."""
    return [LR * (0.5 ** ((t - 1) // 10) if schedule else 1.0) for t in range(1, steps + 1)]


def pytorch_form(steps: int, schedule: bool) -> np.ndarray:
    """Form 1, run by backprop's own ``optim.SGD`` (PyTorch's rule) and ``StepLR``."""
    w = nn.Parameter(bp.tensor(START, dtype=bp.float64))
    opt = optim.SGD([w], lr=LR, momentum=MOMENTUM)
    sched = optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5 if schedule else 1.0)
    path = [w.numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        ravine(w).backward()
        opt.step()
        sched.step()
        path.append(w.numpy().copy())
    return np.array(path)


def sutskever_form(steps: int, schedule: bool) -> np.ndarray:
    w, u = np.array(START), np.zeros(2)
    path = [w.copy()]
    for lr in rates(steps, schedule):
        u = MOMENTUM * u - lr * grad(w)
        w = w + u
        path.append(w.copy())
    return np.array(path)


def heavy_ball_form(steps: int, schedule: bool) -> np.ndarray:
    w_prev = w = np.array(START)
    path = [w.copy()]
    for lr in rates(steps, schedule):
        w, w_prev = w - lr * grad(w) + MOMENTUM * (w - w_prev), w
        path.append(w.copy())
    return np.array(path)


def literal_form(steps: int, schedule: bool) -> np.ndarray:
    w, g_prev = np.array(START), np.zeros(2)
    path = [w.copy()]
    for lr in rates(steps, schedule):
        g = grad(w)
        w = w - lr * g - MOMENTUM * lr * g_prev
        g_prev = g
        path.append(w.copy())
    return np.array(path)


FORMS = {
    "PyTorch: v = m v + g; w -= lr v": pytorch_form,
    "Sutskever: u = m u - lr g; w += u": sutskever_form,
    "heavy ball: w -= lr g - m (w - w_prev)": heavy_ball_form,
    "literal: w -= lr g(t) + m lr g(t-1)": literal_form,
}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    args = parser.parse_args(argv)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 8), layout="constrained")
    axes = fig.subplots(2, 2)
    xs, ys = np.meshgrid(np.linspace(-9, 3, 200), np.linspace(-2.2, 2.2, 200))
    zs = 0.5 * (0.1 * xs**2 + 2.0 * ys**2)
    results: dict = {}
    for row, schedule in enumerate((False, True)):
        label = "lr halved every 10 steps" if schedule else f"constant lr = {LR}"
        print(f"\n{label}, momentum {MOMENTUM}: distance from PyTorch's path")
        paths = {name: form(args.steps, schedule) for name, form in FORMS.items()}
        reference = paths[next(iter(FORMS))]
        ax_path, ax_dist = axes[row]
        ax_path.contour(xs, ys, zs, levels=15, colors="0.85", linewidths=0.7)
        for i, (name, path) in enumerate(paths.items()):
            dist = np.linalg.norm(path - reference, axis=1)
            results[(schedule, name)] = dist
            first = int(np.argmax(dist > 1e-12)) if (dist > 1e-12).any() else None
            where = "never" if first is None else f"from step {first}"
            print(f"  {name:<42} max {dist.max():9.2e}   differs {where}")
            style = {"ls": ["-", "--", ":", "-"][i], "lw": [3, 2, 2, 1.5][i]}
            ax_path.plot(path[:, 0], path[:, 1], marker=".", ms=3, label=name, **style)
            if i:
                ax_dist.semilogy(np.maximum(dist, 1e-17), label=name, **style)
        ax_path.set(title=f"paths ({label})", xlabel="x", ylabel="y")
        ax_path.legend(fontsize=7, frameon=False, loc="lower right")
        ax_dist.set(title="distance from PyTorch's path (1e-17 = identical)", xlabel="step",
                    ylim=(1e-18, 1e2))  # fmt: skip
        ax_dist.legend(fontsize=7, frameon=False)
    fig.suptitle("Momentum: PyTorch's form, Sutskever's, the heavy ball and the literal rule")
    args.out.mkdir(parents=True, exist_ok=True)
    out = args.out / "momentum_forms.png"
    fig.savefig(out, dpi=110)
    print(f"\nwrote {out}")
    return results


if __name__ == "__main__":
    main()
