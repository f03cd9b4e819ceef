"""Run under ``mpiexec -n 2 python _train_worker.py CASE OUT [ARGS...]``: the Trainer and the
command line in a job of several processes. Rank 0 writes what the test checks into OUT (JSON).

Cases:
    trainer   the library: epoch metrics over all ranks, one rank's stop or NaN stopping every
              rank at the same batch, set_epoch, a checkpoint of another world size refused.
    cli       ``backprop.cli.main(ARGS)`` runs once per ``--`` separated command line; the run's
              final weights of every rank and its history are recorded after each.
"""

import json
import os
import signal
import sys

import numpy as np

import backprop as bp
import backprop.distributed as dist
from backprop.data import DataLoader, TensorDataset
from backprop.train import Callback, LambdaCallback, Trainer
from backprop.train.callbacks import NonFiniteLossError
from backprop.train.checkpoint import CheckpointError
from backprop.train.metrics import PrecisionRecallF1

CASE, OUT, ARGS = sys.argv[1], sys.argv[2], sys.argv[3:]


def digest(model) -> str:
    return "".join(p.numpy().tobytes().hex()[:64] for p in model.parameters())


def dataset(n=48):
    g = np.random.default_rng(7)
    return TensorDataset(bp.tensor(g.normal(size=(n, 5))), bp.tensor(g.integers(0, 3, size=n)))


def trainer_for(ds, lr=0.0, callbacks=(), loss_fn=None, epochs_seed=0):
    bp.manual_seed(0)
    model = dist.DistributedDataParallel(bp.nn.Linear(5, 3))
    opt = bp.optim.SGD(model.parameters(), lr=lr)
    sampler = dist.DistributedSampler(ds, seed=epochs_seed)
    loader = DataLoader(ds, batch_size=8, sampler=sampler)
    trainer = Trainer(
        model, loss_fn or bp.nn.CrossEntropyLoss(), opt, callbacks=list(callbacks), verbose=0,
        metrics=["accuracy", PrecisionRecallF1(3)],
    )  # fmt: skip
    return trainer, loader, sampler


def case_trainer() -> dict:
    r = dist.rank()
    ds = dataset()
    out = {}
    # Metrics over all ranks: with lr = 0 the weights stay put, so the epoch's training metrics
    # are the initial model's over the whole dataset (48 = 2 ranks x 3 batches x 8: no padding).
    seen = []
    sizes = LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs["size"]))
    trainer, loader, sampler = trainer_for(ds, callbacks=[sizes])
    val = DataLoader(ds, batch_size=16, sampler=dist.DistributedSampler(ds, shuffle=False))
    trainer.fit(loader, val, epochs=2)
    bare = Trainer(trainer.model.module, bp.nn.CrossEntropyLoss(), metrics=trainer.metrics)
    out["history"] = dist.all_gather_object(trainer.history.history)
    out["single"] = bare.evaluate(DataLoader(ds, batch_size=48))
    out["sampler_epoch"] = sampler.epoch
    out["batch_sizes"] = seen
    out["examples_per_epoch"] = trainer.examples_per_epoch
    # A Ctrl-C (request_interrupt) on rank 1 after its second batch stops both ranks there.
    holder = {}

    def interrupt(batch, logs):
        if r == 1 and batch == 1:
            holder["t"].request_interrupt()

    stopper = LambdaCallback(on_train_batch_end=interrupt)
    trainer, loader, _ = trainer_for(ds, lr=0.1, callbacks=[stopper])
    holder["t"] = trainer
    trainer.fit(loader, epochs=3)
    out["interrupt"] = dist.all_gather_object(
        {"interrupted": trainer.interrupted, "step": trainer.global_step, "epoch": trainer.epoch,
         "weights": digest(trainer.model)}
    )  # fmt: skip
    # A NaN loss on rank 1 at its second batch stops both ranks before that step.
    ce = bp.nn.CrossEntropyLoss()
    box = {}

    def nan_on_rank1(output, y):
        loss = ce(output, y)
        return loss * float("nan") if r == 1 and box["t"].global_step == 1 else loss

    trainer, loader, _ = trainer_for(ds, lr=0.1, loss_fn=nan_on_rank1)
    box["t"] = trainer
    try:
        trainer.fit(loader, epochs=1)
        raised = None
    except NonFiniteLossError as e:
        raised = str(e)
    out["nan"] = dist.all_gather_object(
        {"raised": raised, "step": trainer.global_step, "weights": digest(trainer.model)}
    )
    # A checkpoint of one process is refused by a job of two (and the message says why).
    path = os.path.join(os.path.dirname(OUT), "single.safetensors")
    if r == 0:
        bp.manual_seed(0)
        m = bp.nn.Linear(5, 3)
        Trainer(m, ce, bp.optim.SGD(m.parameters(), lr=0.0), verbose=0).save_checkpoint(path)
    dist.barrier()
    trainer, _, _ = trainer_for(ds)
    try:
        trainer.load_checkpoint(path)
        refused = None
    except CheckpointError as e:
        refused = str(e)
    out["refused"] = dist.all_gather_object(refused)
    return out


class CtrlC(Callback):
    """A real SIGINT to this process after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch):
        self.at = (epoch, batch)

    def on_train_batch_end(self, batch, logs=None):
        if (self.trainer.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGINT)


def case_cli() -> dict:
    """Each ``--``-separated command line through backprop.cli.main, in this job; record the
    exit code and every rank's final weights (from the RunResult the CLI got)."""
    import backprop.app.runner as runner
    import backprop.cli as cli

    results = []
    captured = {}
    real_train_run = runner._train_run  # what rank 0's train_run and the other ranks call

    def capture(*a, **k):
        captured["r"] = real_train_run(*a, **k)
        return captured["r"]

    runner._train_run = capture
    runner_callbacks = runner._run_callbacks

    def with_signal(cfg, run_dir, meta, verbose, overfit):
        cbs, ckpt = runner_callbacks(cfg, run_dir, meta, verbose, overfit)
        at = os.environ.get("SIGINT_AT")  # "epoch,batch": rank 1 gets a real Ctrl-C there
        if at and dist.rank() == 1:
            cbs.append(CtrlC(*map(int, at.split(","))))
        return cbs, ckpt

    runner._run_callbacks = with_signal
    commands, current = [], []
    for a in ARGS:
        if a == "--":
            commands.append(current)
            current = []
        else:
            current.append(a)
    commands.append(current)
    for argv in commands:
        env, argv = (argv[0][4:], argv[1:]) if argv[0].startswith("env:") else ("", argv)
        os.environ.pop("SIGINT_AT", None)
        if env:
            os.environ["SIGINT_AT"] = env
        captured.clear()
        code = cli.main(argv)
        res = captured.get("r")
        model = res.trainer.model if res is not None and res.trainer is not None else None
        results.append({
            "argv": argv, "code": code,
            "ranks": dist.all_gather_object({
                "weights": None if model is None else digest(model),
                "history": None if res is None else res.history,
                "interrupted": None if res is None else res.interrupted,
                "rank": dist.rank(),
            }),
        })  # fmt: skip
    return {"runs": results}


def main():
    dist.init()
    out = {"trainer": case_trainer, "cli": case_cli}[CASE]()
    if dist.is_main_process():
        with open(OUT, "w") as f:
            json.dump(out, f)


main()
