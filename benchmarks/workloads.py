"""The benchmark workloads, one library per process: the child side of ``run_all.py``.

``run_all.py`` starts this file once per (workload, library, thread count, round) in a fresh
interpreter whose environment already caps every thread pool (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS``, ``NUMBA_NUM_THREADS``). This process imports only
its own library (backprop never imports torch, and the torch child never imports backprop), sets
its thread count (``torch.set_num_threads`` and ``torch.set_num_interop_threads``, or
``backprop.set_num_threads``), builds the workload from data made in NumPy with fixed seeds,
warms it up, times it and prints one JSON line::

    python benchmarks/workloads.py '{"workload": "mlp", "lib": "torch", "threads": 2}'

Every workload is written once against a small adapter (:class:`Lib`), so that both libraries
build the same model with the same shapes, the same weights and the same data; the JSON carries
a ``check`` value (a loss or a sum of squares) that ``run_all.py`` compares across libraries.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
import zlib

# backprop's child imports backprop before NumPy, as a script starting with `import backprop`
# does: backprop.threads shortens OpenBLAS's idle spinning, which only works before NumPy loads.
if __name__ == "__main__" and '"backprop"' in "".join(sys.argv[1:2]):
    import backprop  # noqa: F401

import numpy as np  # noqa: E402

# --------------------------------------------------------------------------- shapes and flops
MLP_WIDTHS = (784, 512, 256, 10)
BATCH = 64
# A 784-512-256-10 MLP plus a 256x192x3x3 convolution with its bias: 978,442 parameters.
OPTIM_SHAPES = [(512, 784), (512,), (256, 512), (256,), (10, 256), (10,), (256, 192, 3, 3), (256,)]
CHAIN_OPS = 2_000
OPTIM_INNER = 10  # optimiser steps per timed call (one step is well under a millisecond)


def mlp_gemms(batch: int = BATCH) -> list[tuple[str, int, int, int]]:
    """The matrix products of one MLP training step as (kind, M, K, N): C(M, N) = A(M, K) B(K, N).

    Forward ``y = x W^T``, weight gradient ``gW = gy^T x``, input gradient ``gx = gy W`` (not for
    the first layer: the data needs no gradient, and neither library computes it)."""
    out = []
    for i, (a, b) in enumerate(zip(MLP_WIDTHS[:-1], MLP_WIDTHS[1:])):
        out.append(("fwd", batch, a, b))
        out.append(("wgrad", b, batch, a))
        if i > 0:
            out.append(("xgrad", batch, b, a))
    return out


def lenet_gemms(batch: int = BATCH) -> list[tuple[str, int, int, int]]:
    """LeNet-5's training-step products in the im2col lowering of its convolutions, (kind, M, K, N).

    conv1 1->20 5x5 on 28x28 (pad 2): ``W (20, 25) @ cols (25, B*784)``; conv2 20->50 5x5 on
    14x14: ``W (50, 500) @ cols (500, B*196)``; weight gradients ``gy @ cols^T``; conv2's input
    gradient ``W^T @ gy`` (col2im form); then the two fully connected layers as in the MLP. The
    multiply-adds are those of any direct convolution too."""
    p1, p2 = batch * 28 * 28, batch * 14 * 14
    return [
        ("conv1 fwd", 20, 25, p1),
        ("conv1 wgrad", 20, p1, 25),
        ("conv2 fwd", 50, 500, p2),
        ("conv2 wgrad", 50, p2, 500),
        ("conv2 xgrad", 500, 50, p2),
        ("fc1 fwd", batch, 2450, 500),
        ("fc1 wgrad", 500, batch, 2450),
        ("fc1 xgrad", batch, 500, 2450),
        ("fc2 fwd", batch, 500, 10),
        ("fc2 wgrad", 10, batch, 500),
        ("fc2 xgrad", batch, 10, 500),
    ]


def step_flops(gemms) -> int:
    """Floating-point operations of a list of products: 2 per multiply-add."""
    return sum(2 * m * k * n for _, m, k, n in gemms)


PEAK_SIZES = (1024, 2048)


# --------------------------------------------------------------------------- the two libraries
_interop_set: dict = {}  # torch.set_num_interop_threads may be called once per process


class Lib:
    """What a workload needs from a library, spelt the same way for both."""

    def __init__(self, name: str, threads: int, pool: bool = True):
        self.name = name
        if name == "torch":
            import torch

            torch.set_num_threads(threads)
            if _interop_set.get("threads") is None:
                # Allowed once per process, before any parallel work (the harness makes one Lib
                # per process; a test that builds several in one process sets it once).
                torch.set_num_interop_threads(threads)
                _interop_set["threads"] = threads
            elif _interop_set["threads"] != threads:
                raise ValueError(
                    f"workloads: torch's inter-op threads are already {_interop_set['threads']} "
                    f"in this process, cannot use {threads}"
                )
            self.mod = torch
            self.version = torch.__version__
            self.info = {"torch_threads": torch.get_num_threads()}
        elif name == "backprop":
            import backprop

            backprop.set_num_threads(threads)
            self.mod = backprop
            self.version = backprop.__version__
            self.info = {"blas_threads": backprop.get_num_threads(), "numpy": np.__version__}
            try:
                from threadpoolctl import threadpool_info

                blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
                if blas:
                    self.info["blas"] = f"{blas[0].get('internal_api')} {blas[0].get('version')}"
            except ImportError:  # threadpoolctl comes with backprop[full]; the name is optional
                pass
            try:
                from backprop.backend import kernels

                self.info["kernels"] = kernels.kernels_in_use()
            except ImportError:  # a build without the kernels switch point
                self.info["kernels"] = "numpy"
            self.info["pool"] = _set_pool(pool)
        else:
            raise ValueError(f"workloads: lib must be 'torch' or 'backprop', got {name!r}")
        self.nn = self.mod.nn
        self.optim = self.mod.optim

    def tensor(self, a: np.ndarray, requires_grad: bool = False):
        if self.name == "torch":
            t = self.mod.from_numpy(a)
            return t.requires_grad_() if requires_grad else t
        return self.mod.tensor(a, requires_grad=requires_grad)

    def no_grad(self):
        return self.mod.no_grad()

    def numpy(self, t) -> np.ndarray:
        return t.detach().numpy()

    def set_values(self, p, a: np.ndarray) -> None:
        """Overwrite parameter ``p`` with ``a`` (outside autograd)."""
        if self.name == "torch":
            with self.mod.no_grad():
                p.copy_(self.mod.from_numpy(a))
        else:
            p.data[...] = a


def _set_pool(on: bool) -> str:
    """Switch backprop's buffer pool (``autograd.function.buffer_pool``) on or off.

    The pool has no switch of its own; it hands out pooled arrays only at or above its
    ``min_bytes``, so raising that above any array size makes every request a fresh ``empty``
    (its documented behaviour below the threshold). Returns what this process runs with."""
    try:
        from backprop.autograd.function import buffer_pool
    except ImportError:
        return "absent"
    if not on:
        buffer_pool.min_bytes = sys.maxsize
        buffer_pool.clear()
    return "on" if on else "off"


def init_params(lib: Lib, model, skip_1d: bool = False) -> None:
    """The same weights in both libraries: each parameter drawn from a generator seeded by its
    name, uniform in +-1/sqrt(fan_in) (+-0.05 for biases); ``skip_1d`` keeps 1-D parameters at
    the library's initial values (batch norm's ones and zeros, the same in both)."""
    for name, p in model.named_parameters():
        shape = tuple(p.shape)
        if len(shape) == 1 and skip_1d:
            continue
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        bound = 1.0 / math.sqrt(math.prod(shape[1:])) if len(shape) > 1 else 0.05
        lib.set_values(p, rng.uniform(-bound, bound, shape).astype(np.float32))


def data(shape, classes: int = 10, seed: int = 0):
    """float32 standard-normal inputs of ``shape`` and int64 labels in [0, classes)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    return x, rng.integers(0, classes, shape[0]).astype(np.int64)


def mlp(nn):
    layers = []
    for a, b in zip(MLP_WIDTHS[:-1], MLP_WIDTHS[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def lenet(nn):
    """LeNet-5 (20-50-500, pad 2): the zoo's ``LeNet5`` layers, as a Sequential in both."""
    return nn.Sequential(
        nn.Conv2d(1, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2450, 500), nn.ReLU(), nn.Linear(500, 10),
    )  # fmt: skip


# --------------------------------------------------------------------------- workloads
# Each builder returns (fn, items, check, extra): fn() runs one timed call; items is what one
# call processes (images, for a throughput) or None (report a time); check is a float both
# libraries must agree on; extra goes into the JSON as it is.


def _train_step(lib: Lib, model, x, y, check: bool = True):
    """One SGD-momentum step of ``model`` on (x, y); with ``check``, also the initial loss."""
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()
    bx, by = lib.tensor(x), lib.tensor(y)
    if check:
        with lib.no_grad():
            check = float(loss_fn(model(bx), by).item())

    def step():
        opt.zero_grad()
        loss_fn(model(bx), by).backward()
        opt.step()

    return step, check


def w_mlp(lib: Lib, quick: bool):
    model = mlp(lib.nn)
    init_params(lib, model)
    step, check = _train_step(lib, model, *data((BATCH, 784)))
    return step, BATCH, check, {"flops": step_flops(mlp_gemms())}


def w_lenet(lib: Lib, quick: bool):
    model = lenet(lib.nn)
    init_params(lib, model)
    step, check = _train_step(lib, model, *data((BATCH, 1, 28, 28)))
    return step, BATCH, check, {"flops": step_flops(lenet_gemms())}


def w_lenet_infer(lib: Lib, quick: bool):
    model = lenet(lib.nn)
    init_params(lib, model)
    model.eval()
    x = lib.tensor(data((1000, 1, 28, 28))[0])

    def infer():
        with lib.no_grad():
            return model(x)

    check = float(np.mean(lib.numpy(infer()) ** 2))
    return infer, 1000, check, {}


def _optim(lib: Lib, name: str, kwargs: dict):
    rng = np.random.default_rng(0)
    params = []
    for s in OPTIM_SHAPES:
        p = lib.tensor((rng.standard_normal(s) * 0.05).astype(np.float32), requires_grad=True)
        p.grad = lib.tensor((rng.standard_normal(s) * 0.01).astype(np.float32))
        params.append(p)
    # Each library's default implementation (torch on CPU: the per-tensor for-loop).
    opt = getattr(lib.optim, name)(params, **kwargs)
    opt.step()
    check = float(np.sum(lib.numpy(params[0]).astype(np.float64) ** 2))

    def steps():
        for _ in range(OPTIM_INNER):
            opt.step()

    return steps, None, check, {"per_call": OPTIM_INNER, "params": sum(p.numel() for p in params)}


def w_sgd(lib: Lib, quick: bool):
    return _optim(lib, "SGD", {"lr": 0.01, "momentum": 0.9})


def w_adam(lib: Lib, quick: bool):
    return _optim(lib, "Adam", {"lr": 1e-3})


def _layer(lib: Lib, module, shape, skip_1d: bool = False):
    """Forward, then backward of <g, output> with a fixed g, from cleared gradients."""
    init_params(lib, module, skip_1d=skip_1d)
    x = lib.tensor(data(shape)[0], requires_grad=True)
    with lib.no_grad():
        out = module(x)
    out = out[0] if isinstance(out, tuple) else out
    check = float(np.mean(lib.numpy(out).astype(np.float64) ** 2))
    g = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)).astype(np.float32))
    params = list(module.parameters())

    def fwd_bwd():
        for p in params:
            p.grad = None
        x.grad = None
        y = module(x)
        y = y[0] if isinstance(y, tuple) else y
        y.backward(g)

    return fwd_bwd, None, check, {}


def w_conv(lib: Lib, quick: bool):
    return _layer(lib, lib.nn.Conv2d(20, 50, 5, padding=2), (BATCH, 20, 14, 14))


def w_lstm(lib: Lib, quick: bool):
    return _layer(lib, lib.nn.LSTM(64, 128), (50, 32, 64))


def w_batchnorm(lib: Lib, quick: bool):
    return _layer(lib, lib.nn.BatchNorm2d(20), (BATCH, 20, 28, 28), skip_1d=True)


def w_chain(lib: Lib, quick: bool):
    """CHAIN_OPS tiny ops (mul, add, tanh, sub, repeated) on a 16-element vector, then backward."""
    holder = {}

    def chain():
        x = lib.tensor(np.ones(16, np.float32), requires_grad=True)
        y = x
        for _ in range(CHAIN_OPS // 4):
            y = y * 1.0001
            y = y + 0.001
            y = y.tanh()
            y = y - 0.0005
        y.sum().backward()
        holder["x"] = x

    chain()
    check = float(np.sum(lib.numpy(holder["x"].grad).astype(np.float64)))
    return chain, None, check, {"ops": CHAIN_OPS}


WORKLOADS = {
    "mlp": w_mlp,
    "lenet": w_lenet,
    "lenet_infer": w_lenet_infer,
    "sgd": w_sgd,
    "adam": w_adam,
    "conv": w_conv,
    "lstm": w_lstm,
    "batchnorm": w_batchnorm,
    "chain": w_chain,
}


# --------------------------------------------------------------------------- timing
def time_call(fn, quick: bool, budget: float = 1.2) -> dict:
    """Median seconds per call of ``fn`` after a warm-up.

    Warm-up: at least 3 calls and 0.3 s (first calls allocate, fill caches, pick or compile
    kernels). Then samples of ``inner`` calls each, ``inner`` chosen so that a sample lasts about
    50 ms (timer resolution and one-off hiccups matter less), as many samples as fit in
    ``budget`` seconds (5 to 25). ``quick``: one warm-up call and two one-call samples."""
    if quick:
        fn()
        samples = []
        for _ in range(2):
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
        return {"seconds": statistics.median(samples), "samples": samples, "inner": 1}
    calls, t0 = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - t0 < 0.3:
        fn()
        calls += 1
    per = (time.perf_counter() - t0) / calls
    inner = max(1, round(0.05 / per))
    repeats = int(min(25, max(5, budget / (inner * per))))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t0) / inner)
    return {"seconds": statistics.median(samples), "samples": samples, "inner": inner}


# --------------------------------------------------------------------------- GEMM peak
def _matmul_case(lib: Lib, kind: str, m: int, k: int, n: int, rng):
    """A product C(M, N) = A(M, K) B(K, N) with the operand layout the step uses: forward
    ``x @ W.T`` (W stored (N, K)), weight gradient ``gy.T @ x`` (gy stored (K, M)), the rest
    plain C-ordered operands (input gradients ``gy @ W``, im2col products, the square sizes)."""
    if kind.endswith("fwd") and not kind.startswith("conv"):
        a, b = rng.standard_normal((m, k)), rng.standard_normal((n, k))
        a, b = lib.tensor(a.astype(np.float32)), lib.tensor(b.astype(np.float32))
        return lambda: a @ b.T
    if kind.endswith("wgrad") and not kind.startswith("conv"):
        a, b = rng.standard_normal((k, m)), rng.standard_normal((k, n))
        a, b = lib.tensor(a.astype(np.float32)), lib.tensor(b.astype(np.float32))
        return lambda: a.T @ b
    a = lib.tensor(rng.standard_normal((m, k)).astype(np.float32))
    b = lib.tensor(rng.standard_normal((k, n)).astype(np.float32))
    return lambda: a @ b


def w_gemm(threads: int, lib_name: str, quick: bool) -> dict:
    """float32 matrix products alone, in the library's own matmul: NumPy's (backprop's BLAS,
    called on raw arrays) or torch's, at the square peak sizes and at each step's shapes."""
    rng = np.random.default_rng(0)
    lib = Lib(lib_name, threads)
    if lib_name == "backprop":
        # backprop's products are NumPy's: time them without the autograd wrapper.
        lib = _RawNumPy(lib)
    out: dict = {"peak": {}, "steps": {}}
    for s in PEAK_SIZES:
        fn = _matmul_case(lib, "square", s, s, s, rng)
        out["peak"][str(s)] = time_call(fn, quick, budget=0.4)["seconds"]
    for step, gemms in (("mlp", mlp_gemms()), ("lenet", lenet_gemms())):
        parts = []
        for kind, m, k, n in gemms:
            fn = _matmul_case(lib, kind, m, k, n, rng)
            parts.append(time_call(fn, quick, budget=0.3)["seconds"])
        out["steps"][step] = {"seconds": sum(parts), "flops": step_flops(gemms), "parts": parts}
    return out


class _RawNumPy:
    """A ``Lib`` whose tensors are plain NumPy arrays (backprop's BLAS without its autograd)."""

    def __init__(self, lib: Lib):
        self.name, self.info, self.version = "numpy", lib.info, np.__version__

    def tensor(self, a: np.ndarray, requires_grad: bool = False):
        return a


# --------------------------------------------------------------------------- peak memory
def rss_hwm_mib() -> float:
    """This process's resident-set high-water mark in MiB: ``VmHWM`` from /proc/self/status.

    That is the figure ``getrusage().ru_maxrss`` reports, except that ru_maxrss also carries the
    parent's peak across the fork + exec that started this process; off Linux, ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024**2 if sys.platform == "darwin" else peak / 1024  # bytes there, KiB here


def w_memory(threads: int, lib_name: str, quick: bool, steps: int = 20) -> dict:
    """Peak memory of LeNet-5 training at batch 64: the high-water mark after the import, after
    the set-up (data, model, optimiser: the same bytes in both libraries), and after ``steps``
    training steps; the training's own memory is the last minus the set-up."""
    lib = Lib(lib_name, threads)
    imported = rss_hwm_mib()
    model = lenet(lib.nn)
    init_params(lib, model)
    step, _ = _train_step(lib, model, *data((BATCH, 1, 28, 28)), check=False)
    setup = rss_hwm_mib()
    for _ in range(2 if quick else steps):
        step()
    return {"import_mib": imported, "setup_mib": setup, "peak_mib": rss_hwm_mib(), "info": lib.info}


# --------------------------------------------------------------------------- in-process (biased)
def w_inprocess(threads: int, quick: bool) -> dict:
    """The old method, kept only to show its bias: both libraries' LeNet-5 steps built in this one
    process and timed call by call, alternating (``bp, torch, bp, torch, ...``)."""
    bp_lib = Lib("backprop", threads)
    t_lib = Lib("torch", threads)
    steps = {}
    for lib in (bp_lib, t_lib):
        model = lenet(lib.nn)
        init_params(lib, model)
        steps[lib.name] = _train_step(lib, model, *data((BATCH, 1, 28, 28)))[0]
    for _ in range(1 if quick else 3):
        steps["backprop"]()
        steps["torch"]()
    times: dict = {"backprop": [], "torch": []}
    for _ in range(2 if quick else 15):
        for name in ("backprop", "torch"):
            t0 = time.perf_counter()
            steps[name]()
            times[name].append(time.perf_counter() - t0)
    return {
        "seconds": {k: statistics.median(v) for k, v in times.items()},
        "items": BATCH,
        "info": {**bp_lib.info, **t_lib.info},
    }


# --------------------------------------------------------------------------- entry point
def run(spec: dict) -> dict:
    """Run one workload described by ``spec`` (workload, lib, threads, quick, pool)."""
    workload, lib_name = spec["workload"], spec.get("lib", "")
    threads, quick = int(spec["threads"]), bool(spec.get("quick", False))
    if workload == "gemm":
        return w_gemm(threads, lib_name, quick)
    if workload == "memory":
        return w_memory(threads, lib_name, quick)
    if workload == "inprocess":
        return w_inprocess(threads, quick)
    if workload not in WORKLOADS:
        raise ValueError(
            f"workloads: unknown workload {workload!r}; expected one of "
            f"{', '.join([*WORKLOADS, 'gemm', 'memory', 'inprocess'])}"
        )
    lib = Lib(lib_name, threads, pool=spec.get("pool", True))
    fn, items, check, extra = WORKLOADS[workload](lib, quick)
    timing = time_call(fn, quick)
    per_call = extra.pop("per_call", 1)
    return {
        "seconds": timing["seconds"] / per_call,
        "samples": [s / per_call for s in timing["samples"]],
        "inner": timing["inner"],
        "items": items,
        "check": check,
        "info": lib.info,
        "version": lib.version,
        **extra,
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: workloads.py '<json spec>'", file=sys.stderr)
        return 2
    spec = json.loads(argv[0])
    result = run(spec)
    result["env_threads"] = os.environ.get("OMP_NUM_THREADS")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
