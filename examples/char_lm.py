"""A character-level language model (an LSTM) trained on examples/data/poems.txt, then sampled.

Training is many-to-many: from 64 characters the model predicts the 64 characters that follow,
each one step ahead (cross-entropy at every position). Generation is one-to-many: from a
prefix, draw the next character from softmax(logits / temperature), feed it back, repeat.

Every tenth block of 1,000 characters (10% of the text) is held out; the loss is reported in bits
per character (a model that knows only the character frequencies needs about 4.5 bits on this
text, a uniform guess log2(73) = 6.2; this LSTM gets to about 2.9).

    python examples/char_lm.py [--steps 1200] [--hidden 256] [--out examples/output]
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import backprop
from backprop import nn, optim
from backprop.data.text import load_char_text, random_windows
from backprop.models import CharRNN
from backprop.nn.utils import clip_grad_norm_

HERE = Path(__file__).resolve().parent
OUT = HERE / "output"
TEXT = HERE / "data" / "poems.txt"


def bits_per_char(model: CharRNN, ids: np.ndarray, seq_len: int) -> float:
    """Mean next-character loss over ``ids``, in bits, reading it in consecutive windows."""
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    model.eval()
    total, count, state = 0.0, 0, None
    with backprop.no_grad():
        for s in range(0, len(ids) - 1, seq_len):
            x, y = ids[s : s + seq_len], ids[s + 1 : s + seq_len + 1]
            x = x[: len(y)]
            logits, state = model(backprop.tensor(x[None]), state)
            total += loss_fn(logits[0], backprop.tensor(y)).item()
            count += len(y)
    model.train()
    return total / count / math.log(2)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1200, help="training steps")
    parser.add_argument("--hidden", type=int, default=256, help="LSTM hidden units")
    parser.add_argument("--seq-len", type=int, default=64, help="characters per training window")
    parser.add_argument("--batch", type=int, default=32, help="windows per step")
    parser.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--sample", type=int, default=300, help="characters to generate")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNG")
    args = parser.parse_args(argv)

    backprop.manual_seed(0)
    corpus = load_char_text(TEXT)  # every tenth block of 1,000 characters held out
    vocab, train_ids, val_ids = corpus.vocab, corpus.train_ids, corpus.val_ids
    unigram = corpus.unigram_bits()
    print(f"text: {len(corpus.text):,} characters, vocabulary {len(vocab)}; unigram model on the "
          f"held-out part: {unigram:.2f} bits/char")  # fmt: skip

    model = CharRNN(len(vocab), hidden_size=args.hidden, cell="lstm")
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(args.steps, 1))
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    curve, evals = [], []
    start = time.perf_counter()
    every = max(args.steps // 10, 1)
    for step in range(1, args.steps + 1):
        x, y = random_windows(train_ids, args.batch, args.seq_len, rng)
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 5.0)  # keeps an occasional exploding step in check
        opt.step()
        sched.step()
        curve.append(loss.item() / math.log(2))
        if step % every == 0 or step == args.steps:
            val = bits_per_char(model, val_ids, 256)
            evals.append((step, val))
            print(f"step {step:5d}  train {np.mean(curve[-every:]):.3f}  held-out {val:.3f} "
                  f"bits/char  ({time.perf_counter() - start:.0f} s)")  # fmt: skip

    prefix = "Shall I compare thee"
    print(f"\nsamples from the prefix {prefix!r}:")
    samples = {}
    for temperature in (0.5, 0.8, 1.0):
        backprop.manual_seed(1)
        out = model.sample(corpus.encode(prefix).tolist(), args.sample, temperature=temperature)
        samples[temperature] = prefix + corpus.decode(out)
        print(f"--- temperature {temperature}\n{samples[temperature]}\n")

    if args.steps > 1:
        from matplotlib.figure import Figure

        fig = Figure(figsize=(7, 4), layout="constrained")
        ax = fig.subplots()
        ax.plot(range(1, len(curve) + 1), curve, color="tab:blue", alpha=0.35, lw=0.8,
                label="training batches")  # fmt: skip
        ax.plot(*zip(*evals), "o-", color="tab:red", label="held-out 10% of the text")
        ax.axhline(unigram, color="0.5", ls="--", lw=1, label="unigram (letter frequencies)")
        ax.set_xlabel("step")
        ax.set_ylabel("bits per character")
        ax.set_title(f"char-level LSTM ({args.hidden} units) on poems.txt")
        ax.legend()
        args.out.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.out / "char_lm.png", dpi=110)
        print(f"wrote {args.out / 'char_lm.png'}")
    return {"val_bits": evals[-1][1] if evals else None, "unigram": unigram, "samples": samples}


if __name__ == "__main__":
    main()
