"""The benchmark suite (``make bench``): backprop against PyTorch CPU on the same work.

Both libraries run in this one process on the same number of threads (NumPy's BLAS threads and
backprop's optimiser threads = ``torch.set_num_threads``; ``--threads`` sets all three), float32,
with warm-up, medians of several repeats, and repeats that alternate the two libraries so that
machine drift hits both. Peak memory is measured in separate subprocesses, one per library.

Workloads (issue 8): MLP 784-512-256-10 and LeNet-5 training steps (nn + CrossEntropyLoss + SGD
momentum) at batch 64 and 128; LeNet-5 inference at batch 1,000; conv2d, max-pool, batch-norm
and LSTM forward+backward; Adam and SGD-momentum steps on ~1M parameters; the per-op overhead of a
chain of 200,000 tiny ops; a scaling sweep (batch 16 -> 512, MLP width 128 -> 4,096) with a
plot; the peak memory of a LeNet-5 training process.

Prints the tables and writes ``benchmarks/RESULTS.md`` and ``benchmarks/scaling.png``.

    python benchmarks/run_all.py                  # the whole suite (a few minutes)
    python benchmarks/run_all.py --only lenet     # workloads whose key contains "lenet"
    python benchmarks/run_all.py --quick          # fewer repeats (a smoke run)
    python benchmarks/run_all.py --profile        # where the training steps' time goes
    python benchmarks/run_all.py --update-readme  # also copy the tables into README.md

The ratio is backprop throughput / PyTorch throughput (PyTorch time / backprop time): above 1,
backprop is faster.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import (  # noqa: E402
    Row,
    blas_threads,
    cpu_model,
    load_average,
    op_profile,
    results_table,
    time_pair,
)

RESULTS = HERE / "RESULTS.md"
PLOT = HERE / "scaling.png"
README = HERE / "README.md"
MARK_BEGIN, MARK_END = "<!-- results:begin -->", "<!-- results:end -->"

# The targets: minimum throughput ratio backprop / PyTorch per workload key.
TARGETS = {
    "mlp64": 1.0,
    "mlp128": 1.0,
    "lenet64": 0.8,
    "lenet_infer": 1.0,
    "chain": 0.5,  # "per-op overhead within 2x of PyTorch"
    "sgd": 1.0,
    "adam": 1.0,
}


class Config:
    """Repeat budgets: seconds of measurement per workload (both libraries together)."""

    def __init__(self, quick: bool):
        self.quick = quick
        self.budget = 0.6 if quick else 4.0
        self.min_repeats = 2 if quick else 5
        self.max_repeats = 5 if quick else 25


def measure(cfg: Config, bp_fn: Callable, torch_fn: Callable, budget: float | None = None):
    """Median seconds per call of each, alternating; the repeat count fits the time budget."""
    bp_fn()  # warm-up: first calls allocate, fill caches, pick kernels
    torch_fn()
    t0 = time.perf_counter()
    bp_fn()
    torch_fn()
    per_pair = max(time.perf_counter() - t0, 1e-6)
    budget = cfg.budget if budget is None else budget
    repeats = int(min(cfg.max_repeats, max(cfg.min_repeats, budget / per_pair)))
    return time_pair(bp_fn, torch_fn, repeats=repeats, warmup=0)


# ---------------------------------------------------------------------------------- models
def mlp_bp(widths):
    from backprop import nn

    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def mlp_torch(torch, widths):
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def lenet_bp():
    """The zoo's LeNet5 (or the same layers as an nn.Sequential where the zoo lacks it)."""
    try:
        from backprop.models import LeNet5

        return LeNet5()
    except ImportError:
        from backprop import nn

        return nn.Sequential(
            nn.Conv2d(1, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(20, 50, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2450, 500), nn.ReLU(), nn.Linear(500, 10),
        )  # fmt: skip


def lenet_torch(torch):
    T = torch.nn
    return T.Sequential(
        T.Conv2d(1, 20, 5, padding=2), T.ReLU(), T.MaxPool2d(2),
        T.Conv2d(20, 50, 5, padding=2), T.ReLU(), T.MaxPool2d(2),
        T.Flatten(), T.Linear(2450, 500), T.ReLU(), T.Linear(500, 10),
    )  # fmt: skip


def copy_params(torch, bp_model, t_model) -> None:
    """Give the torch model the backprop model's weights (same layers, same order)."""
    bps, tps = list(bp_model.parameters()), list(t_model.parameters())
    assert len(bps) == len(tps), (len(bps), len(tps))
    with torch.no_grad():
        for p, q in zip(bps, tps):
            assert tuple(p.shape) == tuple(q.shape), (p.shape, q.shape)
            q.copy_(torch.from_numpy(p.data))


def train_pair(torch, bp_model, t_model, x, y):
    """One SGD-momentum training step of each model on (x, y), after checking both compute
    the same loss from the same weights (so that they do the same work)."""
    import backprop as bp

    copy_params(torch, bp_model, t_model)
    bo = bp.optim.SGD(bp_model.parameters(), lr=0.01, momentum=0.9)
    to = torch.optim.SGD(t_model.parameters(), lr=0.01, momentum=0.9)
    b_loss, t_loss = bp.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    bx, by = bp.tensor(x), bp.tensor(y)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    lb, lt = b_loss(bp_model(bx), by).item(), t_loss(t_model(tx), ty).item()
    if not np.isclose(lb, lt, rtol=1e-3, atol=1e-4):
        raise AssertionError(f"the two models disagree before training: loss {lb} vs {lt}")

    def bp_step():
        bo.zero_grad()
        b_loss(bp_model(bx), by).backward()
        bo.step()

    def torch_step():
        to.zero_grad()
        t_loss(t_model(tx), ty).backward()
        to.step()

    return bp_step, torch_step


def _data(shape, n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, n, shape[0])


# ---------------------------------------------------------------------------------- workloads
def w_mlp(torch, cfg):
    rows = []
    for batch in (64, 128):
        x, y = _data((batch, 784), 10)
        widths = (784, 512, 256, 10)
        b, t = measure(cfg, *train_pair(torch, mlp_bp(widths), mlp_torch(torch, widths), x, y))
        rows.append(
            Row(f"MLP 784-512-256-10 training step, batch {batch}", b, t, batch,
                TARGETS[f"mlp{batch}"])
        )  # fmt: skip
    return rows


def w_lenet(torch, cfg):
    rows = []
    for batch in (64, 128):
        x, y = _data((batch, 1, 28, 28), 10)
        b, t = measure(cfg, *train_pair(torch, lenet_bp(), lenet_torch(torch), x, y))
        target = TARGETS.get(f"lenet{batch}")
        rows.append(Row(f"LeNet-5 training step, batch {batch}", b, t, batch, target))
    return rows


def w_lenet_infer(torch, cfg):
    import backprop as bp

    x, _ = _data((1000, 1, 28, 28), 10)
    bm, tm = lenet_bp(), lenet_torch(torch)
    copy_params(torch, bm, tm)
    bm.eval()
    tm.eval()
    bx, tx = bp.tensor(x), torch.from_numpy(x)

    def bp_fn():
        with bp.no_grad():
            bm(bx)

    def torch_fn():
        with torch.no_grad():
            tm(tx)

    b, t = measure(cfg, bp_fn, torch_fn)
    return [Row("LeNet-5 inference, batch 1,000", b, t, 1000, TARGETS["lenet_infer"])]


def _layer_pair(torch, b_mod, t_mod, x, seed=1):
    """Forward, then backward of <g, output> (g fixed), from cleared gradients, in each library."""
    import backprop as bp

    b_mod.load_state_dict({k: v.detach().numpy().copy() for k, v in t_mod.state_dict().items()})
    bx, tx = bp.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    with torch.no_grad():
        out = t_mod(tx)
    out = out[0] if isinstance(out, tuple) else out
    g = np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(np.float32)
    bg, tg = bp.tensor(g), torch.from_numpy(g)

    def step(mod, xin, gout):
        for p in mod.parameters():
            p.grad = None
        xin.grad = None
        y = mod(xin)
        y = y[0] if isinstance(y, tuple) else y
        y.backward(gout)

    return (lambda: step(b_mod, bx, bg)), (lambda: step(t_mod, tx, tg))


def w_layers(torch, cfg):
    from backprop import nn

    rng = np.random.default_rng(0)
    rows = []
    torch.manual_seed(0)
    cases = [
        ("conv2d 20->50 5x5 pad 2 on (64, 20, 14, 14), fwd+bwd",
         nn.Conv2d(20, 50, 5, padding=2), torch.nn.Conv2d(20, 50, 5, padding=2), (64, 20, 14, 14)),
        ("max-pool 2x2 on (64, 20, 28, 28), fwd+bwd",
         nn.MaxPool2d(2), torch.nn.MaxPool2d(2), (64, 20, 28, 28)),
        ("BatchNorm2d(20) on (64, 20, 28, 28), training, fwd+bwd",
         nn.BatchNorm2d(20), torch.nn.BatchNorm2d(20), (64, 20, 28, 28)),
        ("LSTM 64->128, 50 steps, batch 32, fwd+bwd",
         nn.LSTM(64, 128), torch.nn.LSTM(64, 128), (50, 32, 64)),
    ]  # fmt: skip
    for name, b_mod, t_mod, shape in cases:
        x = rng.standard_normal(shape).astype(np.float32)
        b, t = measure(cfg, *_layer_pair(torch, b_mod, t_mod, x))
        rows.append(Row(name, b, t))
    return rows


# A 784-512-256-10 MLP plus a 256x192x3x3 convolution with its bias: 978,442 parameters.
OPTIM_SHAPES = [(512, 784), (512,), (256, 512), (256,), (10, 256), (10,), (256, 192, 3, 3), (256,)]


def w_optim(torch, cfg):
    import backprop as bp

    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in OPTIM_SHAPES]
    grads = [(rng.standard_normal(s) * 0.01).astype(np.float32) for s in OPTIM_SHAPES]
    n = sum(w.size for w in weights)
    rows = []
    for key, label, name, kwargs in (
        ("sgd", "SGD momentum 0.9", "SGD", {"lr": 0.01, "momentum": 0.9}),
        ("adam", "Adam", "Adam", {"lr": 1e-3}),
    ):
        bps = [bp.tensor(w.copy(), requires_grad=True) for w in weights]
        tps = [torch.tensor(w, requires_grad=True) for w in weights]
        for p, q, g in zip(bps, tps, grads):
            p.grad = bp.tensor(g)
            q.grad = torch.tensor(g)
        ours = getattr(bp.optim, name)(bps, **kwargs)
        theirs = getattr(torch.optim, name)(tps, **kwargs)  # torch's default (CPU: for-loop)

        def bp_fn(o=ours):
            for _ in range(10):
                o.step()

        def torch_fn(o=theirs):
            for _ in range(10):
                o.step()

        b, t = measure(cfg, bp_fn, torch_fn)
        rows.append(Row(f"{label} step, {n:,} params ({len(OPTIM_SHAPES)} tensors)", b / 10,
                        t / 10, None, TARGETS[key]))  # fmt: skip
    return rows


CHAIN_OPS = 200_000


def _chain(lib, n_ops: int):
    """n_ops tiny elementwise ops on a 16-element vector (mul, add, tanh, sub repeated), then
    the backward pass through all of them."""
    x = lib.ones(16, requires_grad=True)
    y = x
    for _ in range(n_ops // 4):
        y = y * 1.0001
        y = y + 0.001
        y = y.tanh()
        y = y - 0.0005
    y.sum().backward()


def w_chain(torch, cfg):
    import backprop as bp

    n = 20_000 if cfg.quick else CHAIN_OPS
    b, t = time_pair(lambda: _chain(bp, n), lambda: _chain(torch, n), repeats=3, warmup=1)
    return [Row(f"per-op overhead: chain of {n:,} tiny ops, fwd+bwd", b, t, None,
                TARGETS["chain"])]  # fmt: skip


# ---------------------------------------------------------------------------------- scaling
BATCHES = (16, 32, 64, 128, 256, 512)
WIDTHS = (128, 256, 512, 1024, 2048, 4096)


def w_scaling(torch, cfg):
    """Images/s of both libraries as the work grows; returns rows and the series to plot."""
    series = {"mlp_batch": [], "lenet_batch": [], "mlp_width": []}
    rows = []
    budget = cfg.budget / 2
    for batch in BATCHES:
        x, y = _data((batch, 784), 10)
        widths = (784, 512, 256, 10)
        b, t = measure(cfg, *train_pair(torch, mlp_bp(widths), mlp_torch(torch, widths), x, y),
                       budget=budget)  # fmt: skip
        series["mlp_batch"].append((batch, batch / b, batch / t))
        rows.append(Row(f"MLP 784-512-256-10 training, batch {batch}", b, t, batch))
    for batch in BATCHES:
        x, y = _data((batch, 1, 28, 28), 10)
        b, t = measure(cfg, *train_pair(torch, lenet_bp(), lenet_torch(torch), x, y),
                       budget=budget)  # fmt: skip
        series["lenet_batch"].append((batch, batch / b, batch / t))
        rows.append(Row(f"LeNet-5 training, batch {batch}", b, t, batch))
    batch = 128
    for width in WIDTHS:
        x, y = _data((batch, 784), 10)
        widths = (784, width, width, 10)
        b, t = measure(cfg, *train_pair(torch, mlp_bp(widths), mlp_torch(torch, widths), x, y),
                       budget=budget)  # fmt: skip
        series["mlp_width"].append((width, batch / b, batch / t))
        rows.append(Row(f"MLP 784-{width}-{width}-10 training, batch {batch}", b, t, batch))
    return rows, series


def plot_scaling(series, path: Path, title: str) -> str:
    """Three panels of images/s (log-log), both libraries; returns a note for the report."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "(matplotlib is not installed: no plot)"
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    panels = [
        ("mlp_batch", "MLP 784-512-256-10 training", "batch size"),
        ("lenet_batch", "LeNet-5 training", "batch size"),
        ("mlp_width", "MLP 784-w-w-10 training, batch 128", "hidden width w"),
    ]
    for ax, (key, name, xlabel) in zip(axes, panels):
        pts = series[key]
        xs = [p[0] for p in pts]
        ax.loglog(xs, [p[1] for p in pts], "o-", label="backprop")
        ax.loglog(xs, [p[2] for p in pts], "s--", label="PyTorch")
        ax.set_xscale("log", base=2)
        ax.set_xticks(xs, [str(v) for v in xs])
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("images / s")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return f"![scaling]({path.name})"


# ---------------------------------------------------------------------------------- memory
def memory_probe(lib: str, batch: int, steps: int, threads: int) -> dict:
    """Run LeNet-5 training steps in this (fresh) process; report its peak RSS in MiB.

    The high-water mark right after the import is the library's share; at the end, the process
    peak. Read from /proc/self/status (VmHWM), which starts afresh at exec; ``ru_maxrss`` is the
    fallback off Linux, but on Linux it carries over the parent's peak across fork + exec.
    """

    def peak_mib():
        try:
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024  # kB
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    x, y = _data((batch, 1, 28, 28), 10)
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
        imported = peak_mib()
        model = lenet_torch(torch)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = torch.nn.CrossEntropyLoss()
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        for _ in range(steps):
            opt.zero_grad()
            loss_fn(model(tx), ty).backward()
            opt.step()
    else:
        import backprop as bp

        bp.set_num_threads(threads)
        imported = peak_mib()
        model = lenet_bp()
        opt = bp.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = bp.nn.CrossEntropyLoss()
        bx, by = bp.tensor(x), bp.tensor(y)
        for _ in range(steps):
            opt.zero_grad()
            loss_fn(model(bx), by).backward()
            opt.step()
    return {"import_mib": imported, "peak_mib": peak_mib()}


def w_memory(threads: int, batch: int = 64, steps: int = 20) -> tuple[list[str], dict]:
    out = {}
    for lib in ("backprop", "torch"):
        cmd = [sys.executable, __file__, "--memory-probe", lib, "--batch", str(batch),
               "--steps", str(steps), "--threads", str(threads)]  # fmt: skip
        res = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out[lib] = json.loads(res.stdout.strip().splitlines()[-1])
    b, t = out["backprop"], out["torch"]
    met = "met" if b["peak_mib"] <= t["peak_mib"] else "MISSED"
    lines = [
        f"Peak memory (resident-set high-water mark, VmHWM) of a process that trains LeNet-5 for "
        f"{steps} steps at batch {batch}, each library in its own subprocess:",
        "",
        "| library | after import | peak | peak - import |",
        "|---|---:|---:|---:|",
    ]
    for name, r in (("backprop", b), ("PyTorch", t)):
        lines.append(
            f"| {name} | {r['import_mib']:.0f} MiB | {r['peak_mib']:.0f} MiB | "
            f"{r['peak_mib'] - r['import_mib']:.0f} MiB |"
        )
    lines += ["", f"Ratio of peaks bp/torch: {b['peak_mib'] / t['peak_mib']:.2f} "
                  f"(target <= 1: {met})."]  # fmt: skip
    return lines, out


# ---------------------------------------------------------------------------------- profile
def profile_steps(threads: int, steps: int = 20) -> str:
    """Where backprop's MLP and LeNet-5 training steps spend their time, op by op."""
    import backprop as bp

    lines = []
    for name, model, shape in (
        ("LeNet-5, batch 64", lenet_bp(), (64, 1, 28, 28)),
        ("MLP 784-512-256-10, batch 64", mlp_bp((784, 512, 256, 10)), (64, 784)),
    ):
        x, y = _data(shape, 10)
        opt = bp.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = bp.nn.CrossEntropyLoss()
        bx, by = bp.tensor(x), bp.tensor(y)

        def step(opt=opt, loss_fn=loss_fn, model=model, bx=bx, by=by):
            opt.zero_grad()
            loss_fn(model(bx), by).backward()
            opt.step()

        for _ in range(3):
            step()
        with op_profile() as stats:
            t0 = time.perf_counter()
            for _ in range(steps):
                step()
            total = (time.perf_counter() - t0) / steps
        ops = sum(stats.values()) / steps
        lines += [f"### {name}: {total * 1e3:.2f} ms per step ({threads} thread(s))", "",
                  "| op | ms per step | share |", "|---|---:|---:|"]  # fmt: skip
        for (op, phase), s in sorted(stats.items(), key=lambda kv: -kv[1]):
            if s / steps >= 1e-5:
                lines.append(f"| {op} {phase} | {s / steps * 1e3:.2f} | {s / steps / total:.0%} |")
        lines += [f"| (outside ops: optimiser, engine, modules) | {(total - ops) * 1e3:.2f} | "
                  f"{(total - ops) / total:.0%} |", ""]  # fmt: skip
    return "\n".join(lines)


# ---------------------------------------------------------------------------------- main
WORKLOADS = {
    "mlp": w_mlp,
    "lenet_train": w_lenet,
    "lenet_infer": w_lenet_infer,
    "layers": w_layers,
    "optim": w_optim,
    "chain": w_chain,
}


def environment(threads: int) -> list[str]:
    import backprop

    try:
        from threadpoolctl import threadpool_info

        blas = next(
            (f"{i.get('internal_api')} {i.get('version')}" for i in threadpool_info()
             if i.get("user_api") == "blas"), "unknown")  # fmt: skip
    except ImportError:
        blas = "unknown"
    torch = sys.modules.get("torch")
    return [
        f"- Machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()}, NumPy {np.__version__} ({blas}), "
        f"PyTorch {getattr(torch, '__version__', 'n/a')}, backprop {backprop.__version__}",
        f"- Threads: {threads} for each library (NumPy BLAS + backprop optimisers; "
        f"torch.set_num_threads({threads})); float32",
    ]


def _update_readme(body: str) -> None:
    text = README.read_text()
    if MARK_BEGIN not in text or MARK_END not in text:
        print(f"README.md has no {MARK_BEGIN} ... {MARK_END} section; not updated")
        return
    head, rest = text.split(MARK_BEGIN, 1)
    _, tail = rest.split(MARK_END, 1)
    README.write_text(f"{head}{MARK_BEGIN}\n{body}\n{MARK_END}{tail}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="threads for both libraries (default: NumPy's BLAS threads)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated workload keys (substrings): "
        + ", ".join([*WORKLOADS, "scaling", "memory"]),
    )
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="op-level profile of backprop's training steps, then exit",
    )
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="copy the tables into benchmarks/README.md's results section",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--memory-probe", choices=("backprop", "torch"), help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=64, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=20, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)  # fmt: skip

    threads = args.threads or blas_threads()
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe, args.batch, args.steps, threads)))
        return 0

    from harness import set_threads, setup_torch

    torch = setup_torch(threads)
    set_threads(threads)
    if args.profile:
        print(profile_steps(threads))
        return 0

    cfg = Config(args.quick)
    only = [k.strip() for k in args.only.split(",") if k.strip()]

    def wanted(key):
        return not only or any(o in key for o in only)

    started = time.perf_counter()
    load_before = load_average()
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    rows: list[Row] = []
    for key, fn in WORKLOADS.items():
        if wanted(key):
            print(f"[{time.perf_counter() - started:6.1f} s] {key} ...", flush=True)
            rows += fn(torch, cfg)
    scaling_rows, series = [], None
    if wanted("scaling"):
        print(f"[{time.perf_counter() - started:6.1f} s] scaling ...", flush=True)
        scaling_rows, series = w_scaling(torch, cfg)
    memory_lines = []
    if wanted("memory"):
        print(f"[{time.perf_counter() - started:6.1f} s] memory ...", flush=True)
        memory_lines, _ = w_memory(threads)
    elapsed = time.perf_counter() - started
    load_after = load_average()

    body = [
        f"Measured {stamp} by `make bench` (`benchmarks/run_all.py`"
        + (" --quick" if args.quick else "")
        + f"), {elapsed:.0f} s.",
        "",
        *environment(threads),
        f"- Load average (1/5/15 min) before: {load_before}; after: {load_after} "
        f"(other processes sharing the cores make both libraries slower and noisier)",
        "",
        "Medians over alternating repeats after warm-up. Ratio = backprop throughput / PyTorch "
        "throughput (= PyTorch time / backprop time): above 1, backprop is faster.",
        "",
    ]
    if rows:
        body += ["### Workloads and targets", "", results_table(rows), ""]
    if scaling_rows:
        note = plot_scaling(series, PLOT, f"backprop vs PyTorch, {threads} thread(s), float32")
        body += ["### Scaling", "", results_table(scaling_rows), "", note, ""]
    if memory_lines:
        body += ["### Peak memory", "", *memory_lines, ""]
    text = "\n".join(body)
    print()
    print(text)
    if not args.no_write:
        RESULTS.write_text("# Benchmark results: backprop vs PyTorch (CPU)\n\n" + text)
        print(f"wrote {RESULTS}")
        if args.update_readme:
            _update_readme(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
