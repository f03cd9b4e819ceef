"""A small GPT trained on examples/data/poems.txt, against the LSTM CharRNN on the same split and
the same training time, then sampled.

Both models read the text through ``backprop.data.text`` (the split of examples/char_lm.py:
every tenth block of 1,000 characters held out) and train for the same number of seconds:
each first times a few steps, turns the budget into a step count, then trains exactly that many
steps with a cosine learning rate (so a run is repeatable for a given count: ``--steps`` fixes
it). Evaluation time is not counted. The held-out loss is in bits per character:

- CharRNN (char_lm.py's recipe: 256 LSTM units, windows of 64, Adam 3e-3, clipping at 5) reads
  the held-out text in one pass, carrying its state: its context is everything before.
- GPT reads windows of ``block`` characters sliding by ``block / 2`` and scores the second half
  of each (all of the first), so every character is predicted from at least ``block / 2`` and at
  most ``block`` characters before it.

    python examples/gpt_char.py [--budget 150] [--block 64] [--layers 4] [--width 128] ...
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import backprop
from backprop import models, nn, optim
from backprop.data.text import CharText, load_char_text, random_windows
from backprop.nn.utils import clip_grad_norm_

HERE = Path(__file__).resolve().parent
TEXT = HERE / "data" / "poems.txt"
PREFIX = "Shall I compare thee"


def gpt_bits_per_char(model: models.GPT, ids: np.ndarray, block: int) -> float:
    """Mean next-character loss over ``ids`` in bits, from windows of ``block`` sliding by
    ``block // 2`` (see the module docstring); the windows go through in one batch."""
    if len(ids) <= block:
        raise ValueError(f"gpt_bits_per_char: {len(ids)} ids, need more than block = {block}")
    stride = max(block // 2, 1)
    starts = list(range(0, max(len(ids) - 1 - block, 0) + 1, stride))
    if starts[-1] + block < len(ids) - 1:
        starts.append(len(ids) - 1 - block)  # the tail, so that every character is scored
    x = np.stack([ids[s : s + block] for s in starts])
    y = np.stack([ids[s + 1 : s + block + 1] for s in starts])
    was_training = model.training
    model.eval()
    with backprop.no_grad():
        logits = model(backprop.tensor(x)).data.astype(np.float64)  # (W, block, V)
    model.train(was_training)
    z = logits - logits.max(-1, keepdims=True)
    nll = np.log(np.exp(z).sum(-1)) - np.take_along_axis(z, y[..., None], -1)[..., 0]
    scored, total, done = 0, 0.0, 0  # done: the first position of ids not yet scored
    for w, s in enumerate(starts):
        first = max(done - s, 0)  # skip what an earlier window already scored
        total += nll[w, first:].sum()
        scored += block - first
        done = s + block
    assert scored == len(ids) - 1, (scored, len(ids))
    return float(total / scored / math.log(2))


def rnn_bits_per_char(model: models.CharRNN, ids: np.ndarray, seq_len: int = 256) -> float:
    """char_lm.py's evaluation: one pass over ``ids`` in consecutive windows, state carried."""
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    model.eval()
    total, count, state = 0.0, 0, None
    with backprop.no_grad():
        for s in range(0, len(ids) - 1, seq_len):
            y = ids[s + 1 : s + seq_len + 1]
            x = ids[s : s + len(y)]
            logits, state = model(backprop.tensor(x[None]), state)
            total += loss_fn(logits[0], backprop.tensor(y)).item()
            count += len(y)
    model.train()
    return total / count / math.log(2)


def train(name, model, loss_of, opt, corpus, *, seconds, steps, batch, seq_len, warmup, clip,
          evaluate, rng) -> dict:  # fmt: skip
    """Train ``model`` for ``steps`` steps, or (``steps`` None) for as many as fit in
    ``seconds``, timed from a few calibration steps that count as training. Returns the run's
    figures. The learning rate warms up linearly over ``warmup`` steps, then follows a cosine
    from each group's base rate down to a tenth of it."""
    base = [g["lr"] for g in opt.param_groups]

    def step(i: int, total: int) -> float:
        f = min(i / total, 1.0)
        scale = min((i + 1) / warmup, 1.0) if warmup else 1.0
        scale *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * f))
        for g, lr in zip(opt.param_groups, base):
            g["lr"] = lr * scale
        x, y = random_windows(corpus.train_ids, batch, seq_len, rng)
        loss = loss_of(x, y)
        opt.zero_grad()
        loss.backward()
        if clip:
            clip_grad_norm_(model.parameters(), clip)
        opt.step()
        return loss.item() / math.log(2)

    model.train()
    curve, t0, calib = [], time.perf_counter(), 5
    if steps is None:
        # Calibrate on a guessed total (these steps are in the warm-up, where the cosine has
        # not moved yet); the first step is left out of the timing (allocations, kernel loads).
        for i in range(calib):
            curve.append(step(i, 1000))
            if i == 0:
                t1 = time.perf_counter()
        per_step = (time.perf_counter() - t1) / (calib - 1)
        steps = max(calib, int((seconds - (t1 - t0)) / per_step) + 1)
    # Ten evaluations along the way: on a text this small a model can overfit within the budget
    # (the LSTM does), so the run reports the best held-out figure (what early stopping on the
    # held-out loss would keep) beside the final one.
    every, best = max(steps // 10, 1), (math.inf, 0)
    for i in range(len(curve), steps):
        curve.append(step(i, steps))
        if (i + 1) % every == 0 and i + 1 < steps:
            pause = time.perf_counter()
            val = evaluate(model)
            best = min(best, (val, i + 1))
            print(f"  {name} step {i + 1:5d}/{steps}  train {np.mean(curve[-every:]):.3f}  "
                  f"held-out {val:.3f} bits/char  ({pause - t0:.0f} s)", flush=True)  # fmt: skip
            t0 += time.perf_counter() - pause  # evaluation is not training time
    elapsed = time.perf_counter() - t0
    val = evaluate(model)
    best = min(best, (val, steps))
    print(f"  {name} done: {steps} steps in {elapsed:.0f} s, held-out {val:.3f} bits/char "
          f"(best {best[0]:.3f} at step {best[1]})")  # fmt: skip
    return {"steps": steps, "seconds": elapsed, "val_bits": val, "best_val_bits": best[0],
            "best_step": best[1], "tokens_per_s": steps * batch * seq_len / elapsed,
            "curve": curve}  # fmt: skip


def gpt_optimizer(model: models.GPT, lr: float, weight_decay: float) -> optim.Optimizer:
    """AdamW with GPT-2's grouping: weight decay on the matrices (2-D: linear weights, the tied
    embedding, the position table), none on biases and layer-norm gains."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    rest = [p for p in model.parameters() if p.ndim < 2]
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": rest, "weight_decay": 0.0},
    ]
    return optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


def sample(model: models.GPT, corpus: CharText, n: int, temperature: float, top_k, seed: int):
    gen = backprop.Generator().manual_seed(seed)
    idx = backprop.tensor(corpus.encode(PREFIX)[None])
    out = model.generate(idx, n, temperature=temperature, top_k=top_k, generator=gen)
    return corpus.decode(out[0])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--budget", type=float, default=150.0, help="training seconds per model")
    add("--steps", type=int, default=None, help="fixed steps per model instead of a budget")
    add("--block", type=int, default=64, help="GPT context length (block_size)")
    add("--layers", type=int, default=4, help="GPT blocks")
    add("--heads", type=int, default=4, help="attention heads")
    add("--width", type=int, default=128, help="GPT width n_embd")
    add("--dropout", type=float, default=0.2, help="GPT dropout")
    add("--batch", type=int, default=32, help="windows per step (both models)")
    add("--lr", type=float, default=2e-3, help="GPT AdamW peak learning rate")
    add("--weight-decay", type=float, default=0.1, help="GPT AdamW weight decay (matrices)")
    add("--hidden", type=int, default=256, help="CharRNN LSTM units")
    add("--threads", type=int, default=None, help="backprop.set_num_threads (default: as is)")
    add("--no-rnn", action="store_true", help="train the GPT only")
    add("--sample", type=int, default=300, help="characters to generate")
    args = parser.parse_args(argv)
    if args.threads:
        backprop.set_num_threads(args.threads)

    corpus = load_char_text(TEXT)
    V = corpus.vocab_size
    print(f"text: {len(corpus.text):,} characters, vocabulary {V}; train "
          f"{len(corpus.train_ids):,}, held out {len(corpus.val_ids):,}; unigram "
          f"{corpus.unigram_bits():.2f} bits/char; "
          f"budget {args.steps or args.budget} {'steps' if args.steps else 's'} per model, "
          f"{backprop.get_num_threads()} BLAS thread(s)")  # fmt: skip
    budget = dict(seconds=args.budget, steps=args.steps, batch=args.batch)
    results = {"unigram": corpus.unigram_bits()}

    backprop.manual_seed(0)
    gpt = models.GPT(V, block_size=args.block, n_layer=args.layers, n_head=args.heads,
                     n_embd=args.width, dropout=args.dropout)  # fmt: skip
    print(f"\nGPT: {args.layers} layers, {args.heads} heads, width {args.width}, block "
          f"{args.block}, dropout {args.dropout}: {gpt.num_parameters():,} parameters "
          f"(+{gpt.wpe.weight.numel():,} positions)")  # fmt: skip
    results["gpt"] = train(
        "GPT", gpt, lambda x, y: gpt(x, y)[1], gpt_optimizer(gpt, args.lr, args.weight_decay),
        corpus, seq_len=args.block, warmup=20, clip=1.0, rng=np.random.default_rng(0),
        evaluate=lambda m: gpt_bits_per_char(m, corpus.val_ids, args.block), **budget,
    )  # fmt: skip

    if not args.no_rnn:
        backprop.manual_seed(0)
        rnn = models.CharRNN(V, hidden_size=args.hidden, cell="lstm")
        loss_fn = nn.CrossEntropyLoss()
        n_rnn = sum(p.numel() for p in rnn.parameters())
        print(f"\nCharRNN: LSTM {args.hidden} units, windows of 64: {n_rnn:,} parameters")
        results["rnn"] = train(
            "CharRNN", rnn, lambda x, y: loss_fn(rnn(x)[0].reshape(-1, V), y.reshape(-1)),
            optim.Adam(rnn.parameters(), lr=3e-3), corpus, seq_len=64, warmup=0, clip=5.0,
            rng=np.random.default_rng(0), evaluate=lambda m: rnn_bits_per_char(m, corpus.val_ids),
            **budget,
        )  # fmt: skip

    same = f"the same {args.steps} steps" if args.steps else "the same training time"
    print(f"\nheld-out bits per character (the same split, {same}): best, final")
    print(f"  unigram            {results['unigram']:.3f}")
    for key, label in (("gpt", "GPT"), ("rnn", "CharRNN (LSTM)")):
        if key in results:
            r = results[key]
            print(f"  {label:<18} {r['best_val_bits']:.3f} (step {r['best_step']}), "
                  f"{r['val_bits']:.3f}   ({r['steps']} steps, {r['seconds']:.0f} s, "
                  f"{r['tokens_per_s']:,.0f} training tokens/s)")  # fmt: skip

    results["samples"] = {}
    for temperature, top_k in ((0.8, None), (0.5, 10)):
        text = sample(gpt, corpus, args.sample, temperature, top_k, seed=1)
        results["samples"][(temperature, top_k)] = text
        print(f"\n--- GPT sample, temperature {temperature}, top_k {top_k}\n{text}")
    return results


if __name__ == "__main__":
    main()
