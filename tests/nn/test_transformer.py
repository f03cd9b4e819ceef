"""Attention and Transformer layers against torch with copied weights: outputs, input gradients
and every parameter gradient (1e-8 in float64, 1e-4 in float32), with bool and float masks, key
padding masks and ``is_causal``; parameter names and order as torch's; float64 gradcheck of the
fused attention op, dropout included (re-seeded)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import backprop as bp
import backprop.nn.functional as BF

TOL = {np.float64: (1e-8, 1e-10), np.float32: (1e-4, 1e-5)}
TDT = {np.float64: torch.float64, np.float32: torch.float32}
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])

torch.set_num_threads(1)


def _nn(lib):
    return lib.nn


def _np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.data)


def _copy(b_mod, t_mod):
    """Copy backprop's parameters into torch's; the names and their order must be torch's."""
    b_names = [n for n, _ in b_mod.named_parameters()]
    t_names = [n for n, _ in t_mod.named_parameters()]
    assert b_names == t_names
    t_state = t_mod.state_dict(keep_vars=True)
    assert set(b_mod.state_dict()) == set(t_state)
    with torch.no_grad():
        for k, v in b_mod.state_dict().items():
            t_state[k].copy_(torch.from_numpy(np.array(v.data)))


def _parity(make, arrays, call, dtype, *, train=True, seed=0):
    """Build the layer in both libraries (``make(lib)``), copy the weights, run
    ``call(lib, mod, *tensors)`` on ``arrays`` (float arrays become differentiable inputs) and
    compare outputs, input gradients and every parameter gradient."""
    rtol, atol = TOL[dtype]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes on nested tensors and fast paths
        bm, tm = make(bp), make(torch)
    bm.to(dtype)
    tm.to(TDT[dtype])
    _copy(bm, tm)
    bm.train(train)
    tm.train(train)
    outs, ins = [], []
    for lib, mod in ((bp, bm), (torch, tm)):
        ts = [lib.tensor(np.asarray(a, dtype=dtype), requires_grad=True) for a in arrays]
        out = call(lib, mod, *ts)
        out = [o for o in (out if isinstance(out, tuple) else (out,)) if o is not None]
        rng = np.random.default_rng(seed)
        loss = 0
        for o in out:
            u = rng.standard_normal(tuple(o.shape)).astype(dtype)
            loss = loss + (o * lib.tensor(u)).sum()
        loss.backward()
        outs.append(out)
        ins.append(ts)
    assert len(outs[0]) == len(outs[1])
    for k, (b, t) in enumerate(zip(*outs)):
        assert b.shape == tuple(t.shape), f"output {k}: shape {b.shape} vs {tuple(t.shape)}"
        assert str(b.dtype) == str(t.dtype).removeprefix("torch.")
        np.testing.assert_allclose(_np(b), _np(t), rtol=rtol, atol=atol, err_msg=f"output {k}")
    for k, (b, t) in enumerate(zip(*ins)):
        tg = t.grad.numpy() if t.grad is not None else np.zeros(t.shape)
        bg = b.grad.data if b.grad is not None else np.zeros(b.shape)
        np.testing.assert_allclose(bg, tg, rtol=rtol, atol=atol, err_msg=f"input {k} grad")
    t_params = dict(tm.named_parameters())
    for name, p in bm.named_parameters():
        tg = t_params[name].grad
        tg = np.zeros(p.shape) if tg is None else tg.numpy()
        bg = np.zeros(p.shape) if p.grad is None else p.grad.data
        if p.grad is not None:
            assert p.grad.dtype == p.dtype
        np.testing.assert_allclose(bg, tg, rtol=rtol, atol=atol, err_msg=name)
    return bm, tm


def _mask(lib, a, dtype=None):
    """A mask array as a tensor (bool stays bool, a float one takes ``dtype``)."""
    a = np.asarray(a)
    return lib.tensor(a if a.dtype == bool else a.astype(dtype))


R = np.random.default_rng(0)


def _randn(*shape):
    return R.standard_normal(shape)


# ------------------------------------------------------------------ MultiheadAttention
MHA_CASES = {
    "self": ({}, {}),
    "batch_first": ({"batch_first": True}, {}),
    "no_weights": ({}, {"need_weights": False}),
    "per_head_weights": ({}, {"average_attn_weights": False}),
    "no_bias": ({"bias": False}, {"need_weights": False}),
    "bias_kv": ({"add_bias_kv": True}, {}),
    "zero_attn": ({"add_zero_attn": True, "batch_first": True}, {"need_weights": False}),
    "bias_kv_zero_attn_masks": (
        {"add_bias_kv": True, "add_zero_attn": True},
        {"need_weights": False, "masks": ("bool2d", "kpm_bool")},
    ),
    "bool_mask": ({}, {"need_weights": False, "masks": ("bool2d",)}),
    "bool_mask_weights": ({}, {"masks": ("bool2d",)}),
    "float_mask": ({"batch_first": True}, {"need_weights": False, "masks": ("float2d",)}),
    "mask3d": ({}, {"need_weights": False, "masks": ("float3d",)}),
    "mask3d_weights": ({}, {"masks": ("bool3d",)}),
    "kpm": ({"batch_first": True}, {"need_weights": False, "masks": ("kpm_bool",)}),
    "kpm_weights": ({}, {"masks": ("kpm_bool",)}),
    "kpm_float": ({}, {"need_weights": False, "masks": ("kpm_float",)}),
    "both_bool": ({}, {"need_weights": False, "masks": ("bool2d", "kpm_bool")}),
    "both_mixed": ({"batch_first": True}, {"need_weights": False,
                                           "masks": ("float3d", "kpm_bool")}),
    "causal": ({"batch_first": True}, {"need_weights": False, "masks": ("causal",),
                                       "is_causal": True}),
    "causal_kpm": ({}, {"need_weights": False, "masks": ("causal", "kpm_bool"),
                        "is_causal": True}),
    "causal_weights": ({}, {"masks": ("causal",), "is_causal": True}),
}  # fmt: skip

E, H, L, S, N = 8, 2, 4, 5, 3


def _mha_masks(lib, names, dtype, L, S):
    kw = {}
    rng = np.random.default_rng(5)
    for name in names:
        if name == "bool2d":
            m = rng.random((L, S)) > 0.6
            m[:, 0] = False  # every query keeps a key (a fully masked row is NaN with weights)
            kw["attn_mask"] = _mask(lib, m)
        elif name == "bool3d":
            m = rng.random((N * H, L, S)) > 0.6
            m[..., 0] = False
            kw["attn_mask"] = _mask(lib, m)
        elif name == "float2d":
            kw["attn_mask"] = _mask(lib, rng.standard_normal((L, S)), dtype)
        elif name == "float3d":
            kw["attn_mask"] = _mask(lib, rng.standard_normal((N * H, L, S)), dtype)
        elif name == "causal":
            kw["attn_mask"] = _mask(lib, np.triu(np.full((L, S), -np.inf), 1), dtype)
        elif name == "kpm_bool":
            m = np.zeros((N, S), bool)
            m[0, -2:] = True
            m[2, 1] = True
            kw["key_padding_mask"] = _mask(lib, m)
        elif name == "kpm_float":
            kw["key_padding_mask"] = _mask(lib, rng.standard_normal((N, S)), dtype)
    return kw


@DTYPES
@pytest.mark.parametrize("case", list(MHA_CASES))
def test_mha_self_attention_matches_torch(case, dtype):
    ctor, opts = MHA_CASES[case]
    opts = dict(opts)
    masks = opts.pop("masks", ())
    bf = ctor.get("batch_first", False)
    x = _randn(N, L, E) if bf else _randn(L, N, E)

    def call(lib, mod, x):
        return mod(x, x, x, **opts, **_mha_masks(lib, masks, dtype, L, L))

    _parity(lambda lib: _nn(lib).MultiheadAttention(E, H, **ctor), [x], call, dtype)


@DTYPES
@pytest.mark.parametrize("bf", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("shared_kv", [False, True], ids=["kv", "shared_kv"])
@pytest.mark.parametrize("need_weights", [False, True], ids=["sdpa", "weights"])
def test_mha_cross_attention_matches_torch(bf, shared_kv, need_weights, dtype):
    q = _randn(N, L, E) if bf else _randn(L, N, E)
    k = _randn(N, S, E) if bf else _randn(S, N, E)
    v = _randn(*k.shape)

    def call(lib, mod, q, k, v):
        kw = _mha_masks(lib, ("bool2d", "kpm_bool"), dtype, L, S)
        return mod(q, k, k if shared_kv else v, need_weights=need_weights, **kw)

    _parity(lambda lib: _nn(lib).MultiheadAttention(E, H, batch_first=bf), [q, k, v], call, dtype)


@DTYPES
@pytest.mark.parametrize("need_weights", [False, True], ids=["sdpa", "weights"])
def test_mha_kdim_vdim_matches_torch(need_weights, dtype):
    q, k, v = _randn(N, L, E), _randn(N, S, 3), _randn(N, S, 6)

    def call(lib, mod, q, k, v):
        kw = _mha_masks(lib, ("float2d", "kpm_bool"), dtype, L, S)
        return mod(q, k, v, need_weights=need_weights, **kw)

    def make(lib):
        return _nn(lib).MultiheadAttention(E, H, kdim=3, vdim=6, batch_first=True)

    bm, _ = _parity(make, [q, k, v], call, dtype)
    assert bm.in_proj_weight is None and bm.k_proj_weight.shape == (E, 3)


@DTYPES
@pytest.mark.parametrize("need_weights", [False, True], ids=["sdpa", "weights"])
def test_mha_unbatched_matches_torch(need_weights, dtype):
    x, mem = _randn(L, E), _randn(S, E)
    kpm = np.zeros(S, bool)
    kpm[1] = True
    am = _randn(H, L, S)

    def call(lib, mod, x, mem):
        return mod(x, mem, mem, key_padding_mask=_mask(lib, kpm), need_weights=need_weights,
                   attn_mask=_mask(lib, am, dtype))  # fmt: skip

    _parity(lambda lib: _nn(lib).MultiheadAttention(E, H), [x, mem], call, dtype)


def test_mha_fully_masked_rows_match_torch():
    # With need_weights=False, torch goes through SDPA: zero weights, so out_proj's bias alone.
    x = _randn(N, L, E)
    kpm = np.zeros((N, L), bool)
    kpm[1] = True

    def call(lib, mod, x):
        return mod(x, x, x, key_padding_mask=_mask(lib, kpm), need_weights=False)

    bm, _ = _parity(lambda lib: _nn(lib).MultiheadAttention(E, H, batch_first=True), [x], call,
                    np.float64)  # fmt: skip
    # With the weights, both compose softmax: NaN in those rows, as torch.
    with np.errstate(all="ignore"):
        out, w = bm(bp.tensor(x), bp.tensor(x), bp.tensor(x), key_padding_mask=bp.tensor(kpm))
    assert np.isnan(w.data[1]).all() and not np.isnan(w.data[0]).any()


def test_mha_parameters_and_state_dict_as_torch():
    b = bp.nn.MultiheadAttention(12, 3, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(12, 3, add_bias_kv=True)
    assert [(n, p.shape) for n, p in b.named_parameters()] == [
        (n, tuple(p.shape)) for n, p in t.named_parameters()
    ]
    b.load_state_dict({k: bp.tensor(v.numpy()) for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(b.in_proj_weight.data, t.in_proj_weight.detach().numpy())
    # torch's initialisation: zero biases, Xavier-uniform packed projection
    assert not bp.nn.MultiheadAttention(12, 3).in_proj_bias.data.any()
    bound = np.sqrt(6 / (12 + 36))
    w = bp.nn.MultiheadAttention(12, 3).in_proj_weight.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound


def test_mha_errors():
    with pytest.raises(ValueError, match="divisible"):
        bp.nn.MultiheadAttention(10, 3)
    m = bp.nn.MultiheadAttention(8, 2)
    x = bp.randn(4, 2, 8)
    with pytest.raises(ValueError, match="is_causal"):
        m(x, x, x, is_causal=True)
    with pytest.raises(ValueError, match="attn_mask of shape"):
        m(x, x, x, attn_mask=bp.zeros((3, 4)))
    with pytest.raises(ValueError, match="key_padding_mask of shape"):
        m(x, x, x, key_padding_mask=bp.zeros((4, 2)).bool())
    with pytest.raises(TypeError, match="only bool and floating"):
        m(x, x, x, attn_mask=bp.zeros((4, 4)).long())


# ------------------------------------------------------------------ encoder and decoder layers
def _causal(lib, n, dtype):
    return _nn(lib).Transformer.generate_square_subsequent_mask(n, dtype=TDT[dtype] if lib is
                                                                torch else dtype)  # fmt: skip


ENC = {
    "post_norm": ({}, {}),
    "pre_norm_gelu": ({"norm_first": True, "activation": "gelu"}, {"mask": "causal"}),
    "batch_first_kpm": ({"batch_first": True}, {"kpm": True}),
    "causal_flag": ({"batch_first": True}, {"mask": "causal", "is_causal": True}),
    "causal_kpm": ({"norm_first": True}, {"mask": "causal", "is_causal": True, "kpm": True}),
    "bool_mask": ({"bias": False}, {"mask": "bool"}),
    "eps": ({"layer_norm_eps": 1e-3}, {"mask": "float"}),
}  # fmt: skip


def _enc_masks(lib, opts, dtype, n):
    kw = {}
    if opts.get("mask") == "causal":
        kw["src_mask"] = _causal(lib, n, dtype)
    elif opts.get("mask") == "bool":
        m = np.random.default_rng(3).random((n, n)) > 0.6
        m[:, 0] = False
        kw["src_mask"] = _mask(lib, m)
    elif opts.get("mask") == "float":
        kw["src_mask"] = _mask(lib, np.random.default_rng(3).standard_normal((n, n)), dtype)
    if opts.get("kpm"):
        m = np.zeros((N, n), bool)
        m[1, -2:] = True
        kw["src_key_padding_mask"] = _mask(lib, m)
    if opts.get("is_causal"):
        kw["is_causal"] = True
    return kw


@DTYPES
@pytest.mark.parametrize("case", list(ENC))
def test_encoder_layer_matches_torch(case, dtype):
    ctor, opts = ENC[case]
    bf = ctor.get("batch_first", False)
    x = _randn(N, 6, E) if bf else _randn(6, N, E)

    def make(lib):
        return _nn(lib).TransformerEncoderLayer(E, H, dim_feedforward=16, dropout=0.0, **ctor)

    _parity(make, [x], lambda lib, mod, x: mod(x, **_enc_masks(lib, opts, dtype, 6)), dtype)


@DTYPES
def test_encoder_layer_callable_activation_and_unbatched(dtype):
    x = _randn(6, E)

    def make(lib):
        return _nn(lib).TransformerEncoderLayer(E, H, 16, 0.0, activation=_nn(lib).functional.silu)

    _parity(make, [x], lambda lib, mod, x: mod(x, src_mask=_causal(lib, 6, dtype)), dtype)

    def make_module(lib):
        return _nn(lib).TransformerEncoderLayer(E, H, 16, 0.0, activation=_nn(lib).Tanh())

    _parity(make_module, [x], lambda lib, mod, x: mod(x), dtype)


@DTYPES
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
def test_encoder_stack_matches_torch(norm_first, dtype):
    x = _randn(N, 6, E)

    def make(lib):
        layer = _nn(lib).TransformerEncoderLayer(E, H, 16, 0.0, batch_first=True,
                                                 norm_first=norm_first)  # fmt: skip
        return _nn(lib).TransformerEncoder(layer, 3, norm=_nn(lib).LayerNorm(E))

    def call(lib, mod, x):
        kw = _enc_masks(lib, {"mask": "causal", "kpm": True}, dtype, 6)
        return mod(x, mask=kw["src_mask"], src_key_padding_mask=kw["src_key_padding_mask"])

    bm, _ = _parity(make, [x], call, dtype)
    assert bm.layers[0].linear1.weight is not bm.layers[1].linear1.weight


DEC = {
    "post_norm": ({}, {"tgt_mask": "causal"}),
    "pre_norm": ({"norm_first": True, "activation": "gelu"},
                 {"tgt_mask": "causal", "tgt_is_causal": True}),
    "all_masks": ({"batch_first": True}, {"tgt_mask": "causal", "memory_mask": True,
                                          "tgt_kpm": True, "memory_kpm": True}),
    "no_masks": ({"bias": False}, {}),
}  # fmt: skip
T_LEN = 5


def _dec_masks(lib, opts, dtype, t, s):
    kw = {}
    rng = np.random.default_rng(7)
    if opts.get("tgt_mask"):
        kw["tgt_mask"] = _causal(lib, t, dtype)
    if opts.get("memory_mask"):
        kw["memory_mask"] = _mask(lib, rng.standard_normal((t, s)), dtype)
    if opts.get("tgt_kpm"):
        m = np.zeros((N, t), bool)
        m[0, -1] = True
        kw["tgt_key_padding_mask"] = _mask(lib, m)
    if opts.get("memory_kpm"):
        m = np.zeros((N, s), bool)
        m[2, :2] = True
        kw["memory_key_padding_mask"] = _mask(lib, m)
    if opts.get("tgt_is_causal"):
        kw["tgt_is_causal"] = True
    return kw


@DTYPES
@pytest.mark.parametrize("case", list(DEC))
def test_decoder_layer_matches_torch(case, dtype):
    ctor, opts = DEC[case]
    bf = ctor.get("batch_first", False)
    tgt = _randn(N, T_LEN, E) if bf else _randn(T_LEN, N, E)
    mem = _randn(N, 6, E) if bf else _randn(6, N, E)

    def make(lib):
        return _nn(lib).TransformerDecoderLayer(E, H, dim_feedforward=16, dropout=0.0, **ctor)

    def call(lib, mod, tgt, mem):
        return mod(tgt, mem, **_dec_masks(lib, opts, dtype, T_LEN, 6))

    _parity(make, [tgt, mem], call, dtype)


@DTYPES
def test_decoder_stack_matches_torch(dtype):
    tgt, mem = _randn(N, T_LEN, E), _randn(N, 6, E)

    def make(lib):
        layer = _nn(lib).TransformerDecoderLayer(E, H, 16, 0.0, batch_first=True)
        return _nn(lib).TransformerDecoder(layer, 2, norm=_nn(lib).LayerNorm(E))

    def call(lib, mod, tgt, mem):
        opts = {"tgt_mask": True, "memory_kpm": True, "tgt_kpm": True}
        return mod(tgt, mem, **_dec_masks(lib, opts, dtype, T_LEN, 6))

    _parity(make, [tgt, mem], call, dtype)


# ------------------------------------------------------------------ the whole Transformer
@DTYPES
@pytest.mark.parametrize("bf", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post", "pre"])
def test_transformer_matches_torch(bf, norm_first, dtype):
    src = _randn(N, 6, E) if bf else _randn(6, N, E)
    tgt = _randn(N, T_LEN, E) if bf else _randn(T_LEN, N, E)

    def make(lib):
        return _nn(lib).Transformer(E, H, 2, 2, 16, dropout=0.0, batch_first=bf,
                                    norm_first=norm_first, activation="gelu")  # fmt: skip

    def call(lib, mod, src, tgt):
        skpm = np.zeros((N, 6), bool)
        skpm[1, -3:] = True
        return mod(src, tgt, tgt_mask=_causal(lib, T_LEN, dtype),
                   src_key_padding_mask=_mask(lib, skpm),
                   memory_key_padding_mask=_mask(lib, skpm))  # fmt: skip

    _parity(make, [src, tgt], call, dtype)


@pytest.mark.parametrize("dtype", [np.float64])
def test_transformer_eval_mode_turns_dropout_off(dtype):
    src, tgt = _randn(6, N, E), _randn(T_LEN, N, E)

    def make(lib):
        return _nn(lib).Transformer(E, H, 1, 1, 16, dropout=0.3)

    def call(lib, mod, src, tgt):
        return mod(src, tgt, tgt_mask=_causal(lib, T_LEN, dtype))

    _parity(make, [src, tgt], call, dtype, train=False)


def test_transformer_init_and_mask():
    m = bp.nn.Transformer(16, 2, 1, 1, 32)
    names = [n for n, _ in m.named_parameters()]
    t_names = [n for n, _ in torch.nn.Transformer(16, 2, 1, 1, 32).named_parameters()]
    assert names == t_names
    w = m.encoder.layers[0].linear1.weight.data  # Xavier uniform (32, 16)
    assert np.abs(w).max() <= np.sqrt(6 / 48)
    b = bp.nn.Transformer.generate_square_subsequent_mask(4)
    t = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert b.dtype == np.float32
    np.testing.assert_array_equal(b.data, t.numpy())
    with pytest.raises(ValueError, match="activation"):
        bp.nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="batch number"):
        m(bp.randn(3, 2, 16), bp.randn(3, 4, 16))


# ------------------------------------------------------------------ the fused op
def _sdpa_inputs(*shapes):
    rng = np.random.default_rng(11)
    return [bp.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"is_causal": True},
        {"attn_mask": "bool"},
        {"attn_mask": "float"},
        {"enable_gqa": True},
        {"scale": 0.3, "is_causal": True},
    ],
    ids=["plain", "causal", "bool", "float", "gqa", "scale_causal"],
)
def test_sdpa_gradcheck_float64(kw):
    kw = dict(kw)
    q, k, v = _sdpa_inputs((2, 4, 3, 3), (2, 2 if kw.get("enable_gqa") else 4, 5, 3),
                           (2, 2 if kw.get("enable_gqa") else 4, 5, 2))  # fmt: skip
    inputs = [q, k, v]
    mask = kw.pop("attn_mask", None)
    if mask == "bool":
        m = np.random.default_rng(2).random((3, 5)) > 0.5
        m[:, 1] = True
        kw["attn_mask"] = bp.tensor(m)
    elif mask == "float":
        inputs.append(bp.tensor(np.random.default_rng(2).standard_normal((4, 1, 5)),
                                requires_grad=True))  # fmt: skip

    def fn(q, k, v, *m):
        return BF.scaled_dot_product_attention(q, k, v, *m, **kw)

    assert bp.gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3)


def test_sdpa_dropout_gradcheck_and_determinism():
    q, k, v = _sdpa_inputs((2, 4, 3), (2, 6, 3), (2, 6, 4))

    def fn(q, k, v):
        bp.manual_seed(3)  # the same dropout mask at every evaluation
        return BF.scaled_dot_product_attention(q, k, v, dropout_p=0.4, is_causal=True)

    assert bp.gradcheck(fn, [q, k, v], eps=1e-6, atol=1e-5, rtol=1e-3)
    a, b = fn(q, k, v), fn(q, k, v)
    np.testing.assert_array_equal(a.data, b.data)
    plain = BF.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert not np.allclose(a.data, plain.data)
    zero = BF.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert not zero.data.any()


def test_sdpa_dropout_is_unbiased():
    # E[dropout(P)] = P: the mean over many draws approaches the no-dropout output.
    bp.manual_seed(0)
    q, k, v = (bp.tensor(np.random.default_rng(i).standard_normal((1, 1, 4, 3)))
               for i in range(3))  # fmt: skip
    out = BF.scaled_dot_product_attention(q.expand(4000, 1, 4, 3), k, v, dropout_p=0.5)
    ref = BF.scaled_dot_product_attention(q, k, v)
    np.testing.assert_allclose(out.data.mean(0), ref.data[0], atol=0.1)


def test_sdpa_float32_stays_float32_and_keeps_one_LS_array():
    q, k, v = (bp.randn(2, 2, 8, 4, requires_grad=True) for _ in range(3))
    y = BF.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert y.dtype == np.float32
    saved = y._ctx.saved_tensors
    ls = [a for a in saved if a is not None and a.shape[-2:] == (8, 8)]
    assert len(ls) == 1  # the probabilities, once
    y.sum().backward()
    assert q.grad.dtype == np.float32


def test_sdpa_errors():
    q = bp.randn(2, 3, 4)
    with pytest.raises(ValueError, match="not both"):
        BF.scaled_dot_product_attention(q, q, q, attn_mask=bp.ones((3, 3)).bool(), is_causal=True)
    with pytest.raises(TypeError, match="attn_mask must be bool"):
        BF.scaled_dot_product_attention(q, q, q, attn_mask=bp.ones((3, 3)).long())
    with pytest.raises(ValueError, match="enable_gqa"):
        BF.scaled_dot_product_attention(bp.randn(1, 6, 3, 4), bp.randn(1, 4, 3, 4),
                                        bp.randn(1, 4, 3, 4), enable_gqa=True)  # fmt: skip
    with pytest.raises(ValueError, match="last dim"):
        BF.scaled_dot_product_attention(q, bp.randn(2, 3, 5), q)
    with pytest.raises(ValueError, match="do not broadcast"):
        BF.scaled_dot_product_attention(q, bp.randn(3, 3, 4), bp.randn(3, 3, 4))
