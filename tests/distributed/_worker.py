"""Run under ``mpiexec -n W python _worker.py CASE OUT``: one case of the distributed tests.
Rank 0 writes its results into OUT (an .npz or .json); a failing check raises (and, through
backprop.distributed's abort hook, ends the whole job with a non-zero code)."""

import json
import sys

import numpy as np

import backprop as bp
import backprop.distributed as dist

CASE, OUT = sys.argv[1], sys.argv[2]


def mlp(dtype):
    bp.manual_seed(0)
    return bp.nn.Sequential(bp.nn.Linear(5, 8), bp.nn.Tanh(), bp.nn.Linear(8, 3)).to(dtype)


def data(dtype, n=12):
    g = np.random.default_rng(1)
    return g.normal(size=(n, 5)).astype(dtype), g.integers(0, 3, size=n)


def params(model):
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}


def check_ranks_identical(model):
    digests = dist.all_gather_object([p.numpy().tobytes() for p in model.parameters()])
    assert all(d == digests[0] for d in digests), "ranks' parameters differ"


def train(dtype, steps):
    """Global batch 12, split evenly over the ranks; rank 0 saves the parameters per step."""
    W, r = dist.world_size(), dist.rank()
    model = dist.DistributedDataParallel(mlp(dtype))
    opt = bp.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = data(dtype)
    per = len(x) // W
    xs, ys = bp.tensor(x[r * per : (r + 1) * per]), bp.tensor(y[r * per : (r + 1) * per])
    saved = {}
    for step in range(1, steps + 1):
        opt.zero_grad()
        bp.nn.functional.cross_entropy(model(xs), ys).backward()
        opt.step()
        check_ranks_identical(model)
        if step in (1, steps):
            saved.update({f"{step}/{k}": v for k, v in params(model.module).items()})
    if dist.is_main_process():
        np.savez(OUT, **saved)


class TwoHeads(bp.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = bp.nn.Linear(2, 2), bp.nn.Linear(2, 2)

    def forward(self, x, use_b):
        return self.a(x) + self.b(x) if use_b else self.a(x)


def main():
    dist.init()
    if CASE == "train64":
        train(np.float64, 100)
    elif CASE == "train32":
        train(np.float32, 1)
    elif CASE == "collectives":
        r, W = dist.rank(), dist.world_size()
        t = bp.tensor(np.full(4, r + 1.0))
        results = {
            "sum": dist.all_reduce(t * 1, "sum").tolist(),
            "mean": dist.all_reduce(t * 1, "mean").tolist(),
            "max": dist.all_reduce(np.full(2, float(r)), "max").tolist(),
            "min": dist.all_reduce(np.full(2, float(r)), "min").tolist(),
            "bcast": dist.broadcast(np.full(3, float(r)), src=W - 1).tolist(),
            "gather": dist.all_gather_object({"rank": r}),
            "world": W,
        }
        dist.barrier()
        if dist.is_main_process():
            json.dump(results, open(OUT, "w"))
    elif CASE == "sampler":
        out = {}
        for shuffle, drop_last, n in ((True, False, 10), (False, False, 11), (True, True, 11)):
            s = dist.DistributedSampler(range(n), shuffle=shuffle, seed=3, drop_last=drop_last)
            epochs = []
            for epoch in range(2):
                s.set_epoch(epoch)
                epochs.append(dist.all_gather_object(list(s)))
            out[f"{shuffle}-{drop_last}-{n}"] = epochs
        if dist.is_main_process():
            json.dump(out, open(OUT, "w"))
    elif CASE == "raise_on_rank1":
        if dist.rank() == 1:
            raise RuntimeError("deliberate failure on rank 1")
        dist.barrier()  # rank 0 would wait here forever without the abort hook
    elif CASE == "mismatch":
        bp.manual_seed(0)
        out = 2 if dist.rank() == 0 else 3
        dist.DistributedDataParallel(bp.nn.Linear(4, out))
    elif CASE == "unused_and_no_sync":
        r = dist.rank()
        bp.manual_seed(0)
        model = dist.DistributedDataParallel(TwoHeads())
        x = bp.ones((1, 2)) * (r + 1)
        # rank 0 uses only head a, the others a and b: b's gradient is averaged with zeros
        model(x, use_b=r != 0).sum().backward()
        grads = {k: model.module.get_submodule(k).weight.grad.tolist() for k in ("a", "b")}
        with model.no_sync():
            model(x, use_b=False).sum().backward()  # accumulates locally
        local = model.module.a.weight.grad.tolist()
        out = dist.all_gather_object({"grads": grads, "local": local})
        if dist.is_main_process():
            json.dump(out, open(OUT, "w"))
    else:
        raise SystemExit(f"unknown case {CASE}")


main()
