"""Data-parallel scaling on one machine: 1 process x 2 threads against 2 processes x 1 thread.

LeNet-5 and the MLP 784-512-256-10 (the harness's models and weights, ``workloads.py``) train
with SGD + momentum at a fixed *global* batch (128 by default): one process with two BLAS/kernel
threads takes the whole batch; two MPI processes (``mpiexec -n 2``) with one thread each take 64
each and average their gradients with backprop's DistributedDataParallel after every backward.

    python benchmarks/bench_scaling.py                      # 3 rounds, both models
    python benchmarks/bench_scaling.py --rounds 5 --batch 256 --only lenet
    python benchmarks/bench_scaling.py --markdown out.md    # also write the table

Every (model, layout) runs in fresh processes, the two layouts alternating within each round;
each process warms up, then times samples of whole steps (the ranks start each sample together
at a barrier, and a sample's time is the slowest rank's). Reported, as medians over the rounds
of each process's median: images per second (global batch / step time), the step time, the time
per step inside the gradient all-reduce (DistributedDataParallel.synchronize_gradients: copying
the gradients into flat buckets, MPI_Allreduce, copying the means back; this includes waiting
for the slower rank to arrive, which on a busy machine is most of it) and, apart, one bare
MPI_Allreduce of a buffer of the model's gradient size (after a barrier: the transfer alone).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAYOUTS = (("1 process x 2 threads", 1, 2), ("2 processes x 1 thread", 2, 1))
MODELS = ("lenet", "mlp")


# --------------------------------------------------------------------------- child (one job)
def child(spec: dict) -> None:
    import backprop  # before NumPy (see workloads.py)
    import backprop.distributed as dist

    sys.path.insert(0, str(HERE))
    import numpy as np
    import workloads as w

    dist.init()
    world, rank = dist.world_size(), dist.rank()
    lib = w.Lib("backprop", spec["threads"])
    model = w.lenet(lib.nn) if spec["model"] == "lenet" else w.mlp(lib.nn)
    w.init_params(lib, model)
    shape = (1, 28, 28) if spec["model"] == "lenet" else (784,)
    batch = spec["batch"]
    x, y = w.data((batch, *shape))
    per = batch // world
    bx, by = (
        lib.tensor(x[rank * per : (rank + 1) * per]),
        lib.tensor(y[rank * per : (rank + 1) * per]),
    )
    sync = [0.0]
    if world > 1:
        model = dist.DistributedDataParallel(model)
        inner_sync = model.synchronize_gradients

        def timed_sync():
            t = time.perf_counter()
            inner_sync()
            sync[0] += time.perf_counter() - t

        model.synchronize_gradients = timed_sync
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(bx), by).backward()
        opt.step()

    def slowest(v: float) -> float:
        return float(dist.all_reduce(np.array([v]), "max")[0])

    # Warm-up: at least 3 steps and 0.3 s; then `inner` steps per sample for ~0.25 s a sample,
    # the same count on every rank (each step is a collective).
    t0, n = time.perf_counter(), 0
    while n < 3 or time.perf_counter() - t0 < 0.3:
        step()
        n += 1
    per_step = slowest((time.perf_counter() - t0) / n)
    inner = max(1, int(0.25 / per_step))
    steps, syncs = [], []
    for _ in range(spec["samples"]):
        dist.barrier()
        sync[0] = 0.0
        t = time.perf_counter()
        for _ in range(inner):
            step()
        steps.append(slowest((time.perf_counter() - t) / inner))
        syncs.append(slowest(sync[0] / inner))
    bare = []
    if world > 1:
        n_params = sum(p.data.size for p in model.parameters())
        buf = np.zeros(n_params, np.float32)
        comm = dist._mpi.comm()
        MPI = dist._mpi.mpi()
        for _ in range(20):
            comm.Barrier()
            t = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            bare.append(slowest(time.perf_counter() - t))
    if rank == 0:
        step_s = statistics.median(steps)
        print(json.dumps({
            "step_ms": 1e3 * step_s, "img_s": batch / step_s,
            "allreduce_ms": 1e3 * statistics.median(syncs),
            "bare_allreduce_ms": 1e3 * statistics.median(bare) if bare else 0.0,
            "inner": inner, "world": world, "threads": spec["threads"],
            "backprop": backprop.__version__,
        }), flush=True)  # fmt: skip


# --------------------------------------------------------------------------- parent
def _mpiexec() -> str:
    found = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which(
        "mpiexec"
    )
    if found is None:
        raise SystemExit("bench_scaling: mpiexec not found (pip install 'backprop[distributed]')")
    return found


def run_one(model: str, world: int, threads: int, batch: int, samples: int) -> dict:
    spec = {"model": model, "threads": threads, "batch": batch, "samples": samples}
    env = dict(os.environ)
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[k] = str(threads)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    if world > 1:
        cmd = [_mpiexec(), "-n", str(world), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"bench_scaling: {' '.join(cmd)} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def table(results: dict, batch: int, rounds: int, loads: tuple) -> str:
    lines = [
        f"Global batch {batch}, SGD + momentum, float32; medians of {rounds} rounds "
        f"(load average {loads[0]:.2f} at the start, {loads[1]:.2f} at the end).",
        "",
        "| model | layout | images/s | step (ms) | in all-reduce (ms/step) | share | "
        "bare MPI_Allreduce (ms) | vs 1 x 2 |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model in results:
        base = None
        for name, _, _ in LAYOUTS:
            runs = results[model][name]
            med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "backprop"}
            base = base or med["img_s"]
            share = med["allreduce_ms"] / med["step_ms"]
            lines.append(
                f"| {model} | {name} | {med['img_s']:,.0f} | {med['step_ms']:.2f} | "
                f"{med['allreduce_ms']:.2f} | {share:.0%} | {med['bare_allreduce_ms']:.2f} | "
                f"{med['img_s'] / base:.2f} |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch", type=int, default=128, help="the global batch (default 128)")
    p.add_argument("--samples", type=int, default=7, help="timed samples per process")
    p.add_argument("--only", default=",".join(MODELS), help="lenet, mlp or both")
    p.add_argument("--markdown", metavar="FILE", help="also write the table to FILE")
    p.add_argument("--child", metavar="SPEC", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child(json.loads(args.child))
        return 0
    models = [m for m in args.only.split(",") if m]
    if any(m not in MODELS for m in models) or args.batch % 2 or args.rounds < 1:
        p.error(f"--only takes {', '.join(MODELS)}; --batch must be even; --rounds >= 1")
    results = {m: {name: [] for name, _, _ in LAYOUTS} for m in models}
    start = os.getloadavg()[0]
    for r in range(args.rounds):
        for model in models:
            layouts = LAYOUTS if r % 2 == 0 else LAYOUTS[::-1]  # alternate which goes first
            for name, world, threads in layouts:
                out = run_one(model, world, threads, args.batch, args.samples)
                results[model][name].append(out)
                print(f"round {r + 1} {model:5} {name}: {out['img_s']:,.0f} img/s, "
                      f"all-reduce {out['allreduce_ms']:.2f} ms/step", flush=True)  # fmt: skip
    text = table(results, args.batch, args.rounds, (start, os.getloadavg()[0]))
    print("\n" + text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
