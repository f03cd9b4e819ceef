"""models.GPT: shapes, causality, the tied head, parity with a torch GPT built here from torch's
primitives with the same weights, generate() (seeded, top_k, temperature 0, mode kept), argument
errors, the zoo registration, and a tiny overfit."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

import backprop
from backprop import models, nn, optim

V, T, L, H, C = 11, 8, 2, 2, 16  # vocab, block, layers, heads, width: every test stays fast


def _gpt(**kw) -> models.GPT:
    return models.GPT(**{"vocab_size": V, "block_size": T, "n_layer": L, "n_head": H,
                         "n_embd": C, **kw})  # fmt: skip


def _ids(shape, seed=0, high=V) -> backprop.Tensor:
    return backprop.tensor(np.random.default_rng(seed).integers(0, high, shape))


# ----------------------------------------------------------------------------- shapes, errors
def test_shapes_loss_and_parameter_count():
    model = _gpt()
    assert model(_ids((3, T))).shape == (3, T, V)
    assert model(_ids((2, 3))).shape == (2, 3, V)  # shorter than block_size
    logits, loss = model(_ids((3, 5)), _ids((3, 5), seed=1))
    assert logits.shape == (3, 5, V) and loss.shape == ()
    # A fresh model predicts close to uniformly: the loss starts near log(V).
    assert abs(loss.item() - math.log(V)) < 0.1
    per_block = (
        2 * 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + (C * 4 * C + 4 * C) + (4 * C * C + C)
    )
    total = V * C + T * C + L * per_block + 2 * C  # lm_head adds nothing: it is wte
    assert model.num_parameters(non_embedding=False) == total
    assert model.num_parameters() == total - T * C
    assert "tied head" in repr(model)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match=r"n_head \(3\) must divide n_embd \(16\)"):
        _gpt(n_head=3)
    with pytest.raises(ValueError, match="GPT: vocab_size must be a positive int, got 0"):
        _gpt(vocab_size=0)
    with pytest.raises(ValueError, match="GPT: n_layer must be a positive int, got 2.0"):
        _gpt(n_layer=2.0)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.0"):
        _gpt(dropout=1.0)
    model = _gpt()
    with pytest.raises(ValueError, match="sequence length 9 exceeds block_size 8"):
        model(_ids((1, 9)))
    with pytest.raises(ValueError, match=r"shape \(N, T\), got \(8,\)"):
        model(_ids((8,)))
    with pytest.raises(TypeError, match="integer token ids, got dtype float32"):
        model(backprop.zeros(1, 4))
    with pytest.raises(TypeError, match="Tensor of token ids, got list"):
        model([[1, 2]])
    with pytest.raises(ValueError, match="at least one token"):
        model(_ids((2, 0)))
    with pytest.raises(ValueError, match=r"targets must be a Tensor of shape \(2, 4\)"):
        model(_ids((2, 4)), _ids((2, 3)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(temperature=-0.5), "temperature must be a finite float >= 0, got -0.5"),
        (dict(temperature=float("nan")), "temperature must be a finite float >= 0, got nan"),
        (dict(temperature=None), "temperature must be a finite float >= 0, got None"),
        (dict(top_k=0), "top_k must be a positive int or None, got 0"),
        (dict(top_k=2.5), "top_k must be a positive int or None, got 2.5"),
        (dict(top_k=True), "top_k must be a positive int or None, got True"),
        (dict(max_new_tokens=-1), "max_new_tokens must be >= 0, got -1"),
    ],
)
def test_generate_rejects_bad_arguments(kwargs, match):
    kwargs = {"max_new_tokens": 2, **kwargs}
    with pytest.raises(ValueError, match=f"GPT.generate: {match}"):
        _gpt().generate(_ids((1, 2)), **kwargs)


def test_generate_rejects_bad_ids_and_counts():
    model = _gpt()
    with pytest.raises(TypeError, match="GPT.generate: max_new_tokens must be an int, got 2.0"):
        model.generate(_ids((1, 2)), 2.0)
    with pytest.raises(ValueError, match=r"GPT.generate: idx must have shape \(N, T\)"):
        model.generate(_ids((3,)), 2)
    with pytest.raises(TypeError, match="GPT.generate: idx must hold integer token ids"):
        model.generate(backprop.zeros(1, 2), 2)


# ----------------------------------------------------------------------------- causality
def test_a_future_token_does_not_change_earlier_logits():
    backprop.manual_seed(0)
    model = _gpt()
    ids = _ids((2, T)).data.copy()
    with backprop.no_grad():
        before = model(backprop.tensor(ids)).data
        for t in (0, 3, T - 1):
            changed = ids.copy()
            changed[:, t] = (changed[:, t] + 1) % V
            after = model(backprop.tensor(changed)).data
            np.testing.assert_allclose(after[:, :t], before[:, :t], rtol=0, atol=1e-6)
            # ... while position t and later do see it (so the check above could fail).
            assert np.abs(after[:, t:] - before[:, t:]).max(axis=-1).min() > 1e-4


# ----------------------------------------------------------------------------- weight tying
def test_head_and_embedding_share_one_parameter_and_its_gradient():
    backprop.manual_seed(0)
    model = _gpt()
    assert model.lm_head.weight is model.wte.weight
    assert sum(p is model.wte.weight for p in model.parameters()) == 1
    assert "lm_head.weight" not in dict(model.named_parameters())
    ids, tgt = _ids((2, 6)), _ids((2, 6), seed=1)
    model(ids, tgt)[1].backward()
    tied_grad = model.wte.weight.grad.data.copy()

    # The same weights untied: the head gets its own copy. The tied gradient must be the sum
    # of the embedding's and the head's gradients (both uses accumulate into one .grad).
    untied = _gpt()
    untied.load_state_dict(model.state_dict())
    untied.lm_head.weight = nn.Parameter(backprop.tensor(model.wte.weight.data.copy()))
    assert untied.lm_head.weight is not untied.wte.weight
    untied(ids, tgt)[1].backward()
    g_emb, g_head = untied.wte.weight.grad.data, untied.lm_head.weight.grad.data
    assert np.abs(g_emb).max() > 0 and np.abs(g_head).max() > 0
    np.testing.assert_allclose(tied_grad, g_emb + g_head, rtol=1e-5, atol=1e-7)

    # A state dict round trip keeps the tie (both keys are written, as torch writes them).
    assert {"wte.weight", "lm_head.weight"} <= set(model.state_dict())
    fresh = _gpt()
    fresh.load_state_dict(model.state_dict())
    assert fresh.lm_head.weight is fresh.wte.weight


def test_gpt2_initialisation():
    backprop.manual_seed(0)
    model = models.GPT(vocab_size=64, block_size=64, n_layer=4, n_head=4, n_embd=64)
    blk = model.blocks[0]
    assert abs(model.wte.weight.data.std() - 0.02) < 0.002
    assert abs(blk.attn.c_attn.weight.data.std() - 0.02) < 0.002
    scaled = 0.02 / math.sqrt(2 * 4)
    for w in (blk.attn.c_proj.weight, blk.mlp.c_proj.weight):
        assert abs(w.data.std() - scaled) < 0.15 * scaled
    assert (blk.ln_1.weight.data == 1).all() and (blk.ln_1.bias.data == 0).all()
    assert (blk.mlp.c_fc.bias.data == 0).all() and (model.ln_f.bias.data == 0).all()


# ----------------------------------------------------------------------------- torch parity
def _torch_gpt(torch, n_embd, n_head, n_layer, vocab, block):
    """A GPT written here with torch's primitives (explicit causal softmax, not torch's fused
    attention), with the same module names as models.GPT so that weights copy by name."""
    tnn = torch.nn

    class Attn(tnn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = tnn.Linear(n_embd, 3 * n_embd)
            self.c_proj = tnn.Linear(n_embd, n_embd)

        def forward(self, x):
            B, S, E = x.shape
            q, k, v = self.c_attn(x).split(E, dim=2)
            q, k, v = (t.view(B, S, n_head, E // n_head).transpose(1, 2) for t in (q, k, v))
            att = q @ k.transpose(-2, -1) / math.sqrt(E // n_head)
            causal = torch.ones(S, S, dtype=torch.bool).tril()
            att = att.masked_fill(~causal, float("-inf")).softmax(dim=-1)
            return self.c_proj((att @ v).transpose(1, 2).reshape(B, S, E))

    class MLP(tnn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc, self.c_proj = tnn.Linear(n_embd, 4 * n_embd), tnn.Linear(4 * n_embd, n_embd)

        def forward(self, x):
            return self.c_proj(tnn.functional.gelu(self.c_fc(x)))

    class Block(tnn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn = tnn.LayerNorm(n_embd), Attn()
            self.ln_2, self.mlp = tnn.LayerNorm(n_embd), MLP()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(tnn.Module):
        def __init__(self):
            super().__init__()
            self.wte, self.wpe = tnn.Embedding(vocab, n_embd), tnn.Embedding(block, n_embd)
            self.blocks = tnn.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = tnn.LayerNorm(n_embd)
            self.lm_head = tnn.Linear(n_embd, vocab, bias=False)
            self.lm_head.weight = self.wte.weight

        def forward(self, idx):
            x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
            for b in self.blocks:
                x = b(x)
            return self.lm_head(self.ln_f(x))

    return GPT()


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-8), ("float32", 1e-4)])
def test_logits_and_every_gradient_match_torch(dtype, tol):
    torch = pytest.importorskip("torch")
    backprop.manual_seed(0)
    model = _gpt().double() if dtype == "float64" else _gpt()
    ref = _torch_gpt(torch, C, H, L, V, T).to(getattr(torch, dtype))
    params = dict(model.named_parameters())
    ref_params = dict(ref.named_parameters())
    assert set(params) == set(ref_params)  # the same names, the tied matrix once in both
    with torch.no_grad():
        for name, p in params.items():
            ref_params[name].copy_(torch.from_numpy(p.data.copy()))

    ids, tgt = _ids((3, T - 1)), _ids((3, T - 1), seed=1)
    logits, loss = model(ids, tgt)
    ref_logits = ref(torch.from_numpy(ids.data))
    ref_loss = torch.nn.functional.cross_entropy(
        ref_logits.reshape(-1, V), torch.from_numpy(tgt.data).reshape(-1)
    )
    scale = np.abs(ref_logits.detach().numpy()).max()
    np.testing.assert_allclose(logits.data, ref_logits.detach().numpy(), rtol=tol, atol=tol * scale)
    np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=tol)
    loss.backward()
    ref_loss.backward()
    for name, p in params.items():
        g_ref = ref_params[name].grad.numpy()
        assert p.grad.dtype == np.dtype(dtype), name
        np.testing.assert_allclose(
            p.grad.data, g_ref, rtol=tol, atol=tol * max(np.abs(g_ref).max(), 1e-3), err_msg=name
        )


# ----------------------------------------------------------------------------- generate
def test_generate_is_repeatable_with_a_seeded_generator():
    backprop.manual_seed(0)
    model = _gpt()
    prefix = _ids((2, 3))

    def draw(seed):
        return model.generate(prefix, 12, generator=backprop.Generator().manual_seed(seed)).data

    a, b, c = draw(5), draw(5), draw(6)
    assert a.shape == (2, 15) and a.dtype == np.int64
    np.testing.assert_array_equal(a[:, :3], prefix.data)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert ((a >= 0) & (a < V)).all()
    # The library's generator, seeded, repeats too.
    backprop.manual_seed(3)
    d = model.generate(prefix, 5).data
    backprop.manual_seed(3)
    np.testing.assert_array_equal(d, model.generate(prefix, 5).data)
    assert model.generate(prefix, 0).data.tolist() == prefix.data.tolist()


def test_generate_longer_than_the_block_reads_the_last_block_size_tokens():
    backprop.manual_seed(0)
    model = _gpt()
    out = model.generate(_ids((1, T + 3)), 4, temperature=0)
    assert out.shape == (1, T + 7)
    # Greedy: each new token is the argmax of the model on the last T tokens before it.
    for j in range(T + 3, T + 7):
        with backprop.no_grad():
            logits = model(out[:, j - T : j]).data[0, -1]
        assert out.data[0, j] == logits.argmax()


def test_top_k_draws_only_among_the_k_most_likely_tokens():
    backprop.manual_seed(0)
    model = _gpt()
    prefix = backprop.tensor(np.tile(np.array([[1, 4, 2]]), (300, 1)))  # 300 draws in one batch
    with backprop.no_grad():
        logits = model(prefix[:1]).data[0, -1]
    top3 = set(np.argsort(logits)[-3:].tolist())
    gen = backprop.Generator().manual_seed(0)
    # A high temperature flattens the distribution, so that without top_k many tokens come up.
    free = model.generate(prefix, 1, temperature=20.0, generator=gen).data[:, -1]
    assert len(set(free.tolist())) > 6
    k3 = model.generate(prefix, 1, temperature=20.0, top_k=3, generator=gen).data[:, -1]
    assert set(k3.tolist()) == top3
    k1 = model.generate(prefix[:2], 5, top_k=1, generator=gen).data
    np.testing.assert_array_equal(k1, model.generate(prefix[:2], 5, temperature=0).data)
    # top_k at or above the vocabulary size keeps every token: the same draws as without it.
    a = model.generate(prefix[:4], 6, top_k=V, generator=backprop.Generator().manual_seed(1))
    b = model.generate(prefix[:4], 6, generator=backprop.Generator().manual_seed(1))
    np.testing.assert_array_equal(a.data, b.data)


def test_generate_runs_in_eval_mode_and_restores_the_mode():
    backprop.manual_seed(0)
    model = _gpt(dropout=0.5)
    prefix = _ids((2, 3))
    model.eval()
    greedy = model.generate(prefix, 6, temperature=0).data
    model.train()
    # With dropout live, greedy decoding would differ from call to call.
    np.testing.assert_array_equal(model.generate(prefix, 6, temperature=0).data, greedy)
    assert model.training and all(m.training for m in model.modules())


# ----------------------------------------------------------------------------- zoo, training
def test_registered_in_the_zoo(capsys):
    assert "gpt" in models.list_models()
    assert models.get_model_builder("gpt") is models.GPT
    assert models.default_input_shape("gpt") == (128,)
    model = models.get_model("gpt", vocab_size=V, block_size=T, n_layer=1, n_head=2, n_embd=8)
    s = models.summary(model, (T,))  # int64 ids, from GPT.input_dtype
    assert s.total_params == model.num_parameters(non_embedding=False)
    att = next(r for r in s.rows if r.name == "blocks.0.attn")
    assert att.macs == 2 * T * T * 8


def test_overfits_one_short_sequence():
    backprop.manual_seed(0)
    text = "to be or not to be"
    vocab = sorted(set(text))
    ids = np.array([[vocab.index(ch) for ch in text]])
    x, y = backprop.tensor(ids[:, :-1]), backprop.tensor(ids[:, 1:])
    model = models.GPT(len(vocab), block_size=32, n_layer=2, n_head=2, n_embd=32)
    opt = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    losses = []
    for _ in range(60):
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.05 * losses[0], losses[::10]
    model.eval()
    with backprop.no_grad():
        pred = model(x).data.argmax(-1)
    assert (pred == y.data).mean() == 1.0


# ----------------------------------------------------------------------------- example, bench
ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"gpt_test_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_gpt_char_example_runs_tiny(capsys):
    ex = _load(ROOT / "examples" / "gpt_char.py")
    out = ex.main(["--steps", "3", "--layers", "1", "--heads", "2", "--width", "16",
                   "--block", "16", "--batch", "4", "--hidden", "8", "--sample", "12"])  # fmt: skip
    assert out["gpt"]["steps"] == out["rnn"]["steps"] == 3
    assert 0 < out["gpt"]["val_bits"] < 7 and 0 < out["rnn"]["val_bits"] < 7
    for r in (out["gpt"], out["rnn"]):  # the best of the evaluations, the final one included
        assert r["best_val_bits"] <= r["val_bits"] and 1 <= r["best_step"] <= 3
    assert all(len(s) == len(ex.PREFIX) + 12 for s in out["samples"].values())
    assert "held-out bits per character" in capsys.readouterr().out


def test_gpt_char_scores_every_held_out_character_once():
    ex = _load(ROOT / "examples" / "gpt_char.py")
    backprop.manual_seed(0)
    model = _gpt()
    ids = np.random.default_rng(0).integers(0, V, 50)
    bits = ex.gpt_bits_per_char(model, ids, T)  # asserts internally that 49 are scored
    # A block-long window by hand: the same loss for the first T predictions.
    with backprop.no_grad():
        logits = model(backprop.tensor(ids[None, :T])).data[0].astype(np.float64)
    z = logits - logits.max(-1, keepdims=True)
    nll = np.log(np.exp(z).sum(-1)) - z[np.arange(T), ids[1 : T + 1]]
    assert abs(bits - math.log2(V)) < 0.2  # near-uniform at initialisation
    first = ex.gpt_bits_per_char(model, ids[: T + 1], T)
    assert abs(first - nll.mean() / math.log(2)) < 1e-6
    with pytest.raises(ValueError, match="need more than block"):
        ex.gpt_bits_per_char(model, ids[:T], T)


def test_bench_gpt_does_the_same_work_in_both_libraries():
    pytest.importorskip("torch")
    bench = _load(ROOT / "benchmarks" / "bench_gpt.py")
    cfg = {**bench.CONFIG, "block": 8, "layers": 1, "width": 16, "batch": 2}
    spec = {"threads": 1, "config": cfg, "warmup": 1, "inner": 1, "samples": 1, "fresh": False}
    a, b = (bench.child({**spec, "lib": lib}) for lib in ("torch", "backprop"))
    assert bench.checks_agree(a["check"], b["check"])
    assert abs(a["check"] - math.log(cfg["vocab"])) < 0.1
    step_t, _, _ = bench.build("torch", 1, cfg, fresh=False)
    step_b, _, _ = bench.build("backprop", 1, cfg, fresh=False)
    # Step after AdamW step the losses agree: the same update rule on the same weights.
    for i in range(3):
        lt, lb = step_t(i), step_b(i)
        assert abs(lt - lb) < 1e-4 * abs(lt), (i, lt, lb)
