"""GPT training throughput, backprop against PyTorch, each library in its own fresh process.

The model is examples/gpt_char.py's default GPT (vocabulary 73, block 64, 4 layers, 4 heads,
width 128, batch 32; dropout off, so that both libraries do the same arithmetic): one training
step is forward, mean cross-entropy over every position, backward and an AdamW step. PyTorch's
model is the same network written with torch's own layers and its fused attention
(``F.scaled_dot_product_attention(is_causal=True)``, as nanoGPT writes it), with the same
parameter names, the same weights (each drawn from a NumPy generator seeded by its name) and
the same token windows.

The method is ``run_all.py``'s: for every round and thread count, a fresh interpreter runs
torch's step, then another runs backprop's (alternating: torch, backprop, torch, ...); each child
imports only its own library, has every thread pool capped in its environment before import and
calls ``torch.set_num_threads`` / ``set_num_interop_threads`` or ``backprop.set_num_threads``
with the same n. float32. Each child warms up, times samples of several steps and reports the
median; the parent reports the median over rounds of each library's tokens/s and of the per-round
ratios, and fails if the two libraries' initial losses differ (they must do the same work).

    python benchmarks/bench_gpt.py                     # 1 and 2 threads, 3 rounds
    python benchmarks/bench_gpt.py --threads 2 --rounds 5
    python benchmarks/bench_gpt.py --child '{"lib": "torch", "threads": 1}'   # one child

The parent imports only the standard library (and run_all.py's helpers, which do the same).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run_all import checks_agree, child_env, median_ratio  # noqa: E402

CONFIG = {"vocab": 73, "block": 64, "layers": 4, "heads": 4, "width": 128, "batch": 32}
LR, BETAS, WEIGHT_DECAY = 1e-3, (0.9, 0.99), 0.1
LIBS = ("torch", "backprop")


# ------------------------------------------------------------------------------ the child
def initial_value(name: str, shape: tuple):
    """The starting value of parameter ``name``: layer norms 1 and 0, other biases 0, every
    other tensor N(0, 0.02) from a generator seeded by the name (the same in both libraries)."""
    import numpy as np

    owner = name.split(".")[-2]
    if owner.startswith("ln_"):
        return (np.ones if name.endswith("weight") else np.zeros)(shape, np.float32)
    if name.endswith("bias"):
        return np.zeros(shape, np.float32)
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return (0.02 * rng.standard_normal(shape)).astype(np.float32)


def windows(cfg: dict, count: int):
    """``count`` batches of (ids, targets), int64 ``(batch, block)``, made before timing."""
    import numpy as np

    rng = np.random.default_rng(0)
    stream = rng.integers(0, cfg["vocab"], 200_000)
    out = []
    for _ in range(count):
        s = rng.integers(0, len(stream) - cfg["block"] - 1, cfg["batch"])
        idx = s[:, None] + np.arange(cfg["block"])
        out.append((stream[idx], stream[idx + 1]))
    return out


def torch_gpt(torch, cfg: dict):
    """The GPT in PyTorch: models.GPT's layout and parameter names, torch's layers."""
    tnn, C, H = torch.nn, cfg["width"], cfg["heads"]

    class Attn(tnn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn, self.c_proj = tnn.Linear(C, 3 * C), tnn.Linear(C, C)

        def forward(self, x):
            B, T, _ = x.shape
            qkv = self.c_attn(x).view(B, T, 3, H, C // H).permute(2, 0, 3, 1, 4)
            y = tnn.functional.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=True)
            return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn, self.ln_2 = tnn.LayerNorm(C), Attn(), tnn.LayerNorm(C)
            self.mlp = tnn.Module()
            self.mlp.c_fc, self.mlp.c_proj = tnn.Linear(C, 4 * C), tnn.Linear(4 * C, C)

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            h = self.mlp.c_proj(tnn.functional.gelu(self.mlp.c_fc(self.ln_2(x))))
            return x + h

    class GPT(tnn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = tnn.Embedding(cfg["vocab"], C), tnn.Embedding(cfg["block"], C)
            self.blocks = tnn.ModuleList([Block() for _ in range(cfg["layers"])])
            self.ln_f = tnn.LayerNorm(C)
            self.lm_head = tnn.Linear(C, cfg["vocab"], bias=False)
            self.lm_head.weight = self.wte.weight  # tied, as in models.GPT

        def forward(self, idx, targets):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for b in self.blocks:
                x = b(x)
            logits = self.lm_head(self.ln_f(x))
            return tnn.functional.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))

    return GPT()


def build(lib: str, threads: int, cfg: dict, fresh: bool = True):
    """(training step, initial loss, version) for ``lib``; imports only that library.
    ``fresh=False`` (a test calling this in its own process) leaves torch's inter-op pool."""
    if lib == "backprop":
        import backprop  # before NumPy, as a script would: see backprop.threads
    import numpy as np

    data = windows(cfg, 16)
    if lib == "torch":
        import torch

        torch.set_num_threads(threads)
        if fresh:  # allowed once per process, before any parallel work: a child's first act
            torch.set_num_interop_threads(threads)
        model = torch_gpt(torch, cfg)
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_(torch.from_numpy(initial_value(name, tuple(p.shape))))
        opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, weight_decay=WEIGHT_DECAY)
        batches = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in data]
        version = torch.__version__
    elif lib == "backprop":
        import backprop
        from backprop import models

        backprop.set_num_threads(threads)
        model = models.GPT(cfg["vocab"], block_size=cfg["block"], n_layer=cfg["layers"],
                           n_head=cfg["heads"], n_embd=cfg["width"], dropout=0.0)  # fmt: skip
        for name, p in model.named_parameters():
            p.data[...] = initial_value(name, tuple(p.shape))
        opt = backprop.optim.AdamW(
            model.parameters(), lr=LR, betas=BETAS, weight_decay=WEIGHT_DECAY
        )
        batches = [(backprop.tensor(x), backprop.tensor(y)) for x, y in data]
        version = backprop.__version__
    else:
        raise ValueError(f"bench_gpt: lib must be 'torch' or 'backprop', got {lib!r}")

    def loss_of(x, y):
        return model(x, y)[1] if lib == "backprop" else model(x, y)

    def step(i: int) -> float:
        x, y = batches[i % len(batches)]
        loss = loss_of(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    if lib == "torch":
        with torch.no_grad():
            check = float(loss_of(*batches[0]).item())
    else:
        with backprop.no_grad():
            check = float(loss_of(*batches[0]).item())
    assert np.isfinite(check)
    return step, check, version


def child(spec: dict) -> dict:
    """Warm up, then time ``samples`` samples of ``inner`` steps; the median sample."""
    cfg = {**CONFIG, **spec.get("config", {})}
    step, check, version = build(spec["lib"], spec["threads"], cfg, spec.get("fresh", True))
    warm = spec.get("warmup", 3)
    for i in range(warm):
        step(i)
    inner, samples, times = spec.get("inner", 3), spec.get("samples", 5), []
    i = warm
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(inner):
            step(i)
            i += 1
        times.append((time.perf_counter() - t0) / inner)
    seconds = statistics.median(times)
    return {
        "lib": spec["lib"], "threads": spec["threads"], "version": version, "check": check,
        "seconds": seconds, "tokens_per_s": cfg["batch"] * cfg["block"] / seconds,
        "samples": times,
    }  # fmt: skip


# ------------------------------------------------------------------------------ the parent
def run_child(spec: dict, timeout: float = 600) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    res = subprocess.run(
        cmd, env=child_env(spec["threads"]), capture_output=True, text=True, timeout=timeout
    )
    if res.returncode != 0:
        raise RuntimeError(f"bench_gpt child {spec} failed ({res.returncode}):\n{res.stderr}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--inner", type=int, default=3, help="steps per timed sample")
    parser.add_argument("--samples", type=int, default=5, help="timed samples per process")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return {}
    threads = [int(n) for n in args.threads.split(",")]
    if args.rounds < 1 or any(n < 1 for n in threads):
        raise SystemExit("bench_gpt: --rounds and --threads must be positive")
    cfg = CONFIG
    print(f"GPT training step (vocab {cfg['vocab']}, block {cfg['block']}, {cfg['layers']} "
          f"layers, {cfg['heads']} heads, width {cfg['width']}, batch {cfg['batch']}, float32, "
          f"AdamW): {args.rounds} rounds, each library in its own process", flush=True)  # fmt: skip
    results: dict = {}
    for n in threads:
        runs = {lib: [] for lib in LIBS}
        for r in range(args.rounds):
            for lib in LIBS:  # torch, then backprop, every round
                spec = {"lib": lib, "threads": n, "inner": args.inner, "samples": args.samples}
                runs[lib].append(run_child(spec))
            a, b = runs["torch"][-1]["check"], runs["backprop"][-1]["check"]
            if not checks_agree(a, b):
                raise SystemExit(f"bench_gpt: initial losses differ: torch {a!r}, backprop {b!r}")
            print(f"  {n} thread(s), round {r + 1}: torch "
                  f"{runs['torch'][-1]['tokens_per_s']:,.0f} tok/s, backprop "
                  f"{runs['backprop'][-1]['tokens_per_s']:,.0f} tok/s", flush=True)  # fmt: skip
        tok = {lib: statistics.median(x["tokens_per_s"] for x in runs[lib]) for lib in LIBS}
        ratio = median_ratio([x["seconds"] for x in runs["torch"]],
                             [x["seconds"] for x in runs["backprop"]])  # fmt: skip
        per_round = [t["seconds"] / b["seconds"] for t, b in zip(runs["torch"], runs["backprop"])]
        results[n] = {"tokens_per_s": tok, "ratio": ratio, "per_round": per_round,
                      "initial_loss": runs["torch"][0]["check"],
                      "versions": {lib: runs[lib][0]["version"] for lib in LIBS}}  # fmt: skip
    print("\n| threads | backprop tokens/s | PyTorch tokens/s | ratio bp/torch | per-round |")
    print("|---:|---:|---:|---:|---|")
    for n, r in results.items():
        tok, rounds = r["tokens_per_s"], ", ".join(f"{x:.2f}" for x in r["per_round"])
        print(f"| {n} | {tok['backprop']:,.0f} | {tok['torch']:,.0f} | {r['ratio']:.2f} | "
              f"{rounds} |")  # fmt: skip
    first = next(iter(results.values()))
    print(f"\ninitial loss {first['initial_loss']:.4f} (log V = {math.log(cfg['vocab']):.4f}) "
          f"in both; torch {first['versions']['torch']}, backprop "
          f"{first['versions']['backprop']}")  # fmt: skip
    return results


if __name__ == "__main__":
    main()
