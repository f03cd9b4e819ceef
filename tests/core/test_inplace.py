"""In-place writes and version counters, with torch 2.13 as the oracle.

Each case is one function of the library module (``backprop`` or ``torch``), run in both: torch's
behaviour, a RuntimeError or values, is the expected result.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import backprop as bp

LIBS = {"bp": bp, "torch": torch}


def _np(x):
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return np.asarray(x.data)


def run(case):
    """Run ``case(lib)`` in both; return what each gave: ("raised", message) or ("ok", arrays)."""
    out = {}
    for name, lib in LIBS.items():
        try:
            values = case(lib)
        except RuntimeError as e:
            out[name] = ("raised", str(e))
        else:
            out[name] = ("ok", [_np(v) for v in values])
    return out


def assert_same(case, expect=None):
    out = run(case)
    kind_bp, got = out["bp"]
    kind_t, want = out["torch"]
    assert kind_bp == kind_t, f"backprop {kind_bp} ({got}), torch {kind_t} ({want})"
    if expect is not None:
        assert kind_t == expect, want
    if kind_t == "ok":
        assert len(got) == len(want)
        for g, w in zip(got, want):
            if w is None:
                assert g is None
            else:
                assert g is not None, "backprop gave no gradient where torch has one"
                assert g.shape == w.shape and g.dtype == w.dtype, (g, w)
                np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)
    return out


def leaf(lib, values, dtype=None):
    return lib.tensor(np.asarray(values, dtype=dtype or np.float32), requires_grad=True)


# ----------------------------------------------------------------------------- the rules
def test_inplace_on_a_leaf_that_requires_grad_raises_naming_the_op():
    def case(lib):
        w = leaf(lib, [1.0, 2.0])
        w.mul_(10)
        return [w]

    out = assert_same(case, "raised")
    assert "mul_" in out["bp"][1] and "leaf" in out["bp"][1]


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/="])
def test_inplace_operator_under_no_grad_keeps_identity_and_grad(op):
    # The lectures' gradient-descent step: w must stay the same tensor, requiring grad.
    def case(lib):
        w = leaf(lib, [1.0, 2.0, 3.0])
        (w * w).sum().backward()
        before = w
        with lib.no_grad():
            if op == "+=":
                w += 0.1 * w.grad
            elif op == "-=":
                w -= 0.1 * w.grad
            elif op == "*=":
                w *= 2
            else:
                w /= 2
        assert w is before and w.requires_grad and w.grad is not None
        (w * w).sum().backward()  # the next iteration still trains w
        return [w, w.grad]

    assert_same(case, "ok")


def test_view_of_a_leaf_cannot_be_written_in_grad_mode():
    def case(lib):
        w = leaf(lib, [1.0, 2.0, 3.0])
        w[1:].add_(1)
        return [w]

    assert_same(case, "raised")


def test_setitem_on_a_leaf_that_requires_grad_raises():
    def case(lib):
        w = leaf(lib, [1.0, 2.0, 3.0])
        w[0] = 5.0
        return [w]

    assert_same(case, "raised")


def test_result_must_keep_the_tensors_shape():
    def case(lib):
        a = lib.zeros(3)
        a += lib.ones((2, 3))
        return [a]

    assert_same(case, "raised")


# ----------------------------------------------------------------------------- version checks
def test_modified_saved_input_raises_at_backward():
    def case(lib):
        x = leaf(lib, [1.0, 2.0])
        w = leaf(lib, [3.0, 4.0])
        y = (x * w).sum()
        with lib.no_grad():
            w.mul_(10)
        y.backward()
        return [x.grad]

    out = assert_same(case, "raised")
    msg = out["bp"][1]
    assert "modified by an inplace operation" in msg
    assert "mul" in msg and "(2,)" in msg and "version 1" in msg and "version 0" in msg


def test_setitem_on_a_saved_tensor_raises():
    def case(lib):
        x = leaf(lib, [1.0, 2.0])
        w = leaf(lib, [3.0, 4.0])
        y = (x * w).sum()
        with lib.no_grad():
            w[0] = 7.0
        y.backward()
        return [x.grad]

    assert_same(case, "raised")


def test_write_through_a_views_base_raises():
    def case(lib):
        x = leaf(lib, [1.0, 2.0, 3.0])
        base = lib.tensor(np.array([1.0, 2.0, 3.0], np.float32))
        v = base[1:]
        y = (x[1:] * v).sum()
        base.mul_(2)  # v shares base's memory and version counter
        y.backward()
        return [x.grad]

    assert_same(case, "raised")


def test_write_through_a_view_raises_for_an_op_that_saved_the_base():
    def case(lib):
        x = leaf(lib, [1.0, 2.0, 3.0])
        base = lib.tensor(np.array([1.0, 2.0, 3.0], np.float32))
        y = (x * base).sum()
        base[1:].add_(1)
        y.backward()
        return [x.grad]

    assert_same(case, "raised")


def test_saved_output_modified_raises():
    def case(lib):
        x = leaf(lib, [0.5, -1.0])
        y = x.sigmoid()  # sigmoid saves its output
        y.mul_(2)
        y.sum().backward()
        return [x.grad]

    assert_same(case, "raised")


def test_detach_shares_the_version_counter():
    def case(lib):
        x = leaf(lib, [1.0, 2.0])
        h = x * 1
        y = (h * h).sum()
        h.detach().zero_()
        y.backward()
        return [x.grad]

    assert_same(case, "raised")


def test_optimizer_step_between_forward_and_backward_raises():
    def case(lib):
        lib.manual_seed(0)
        lin = lib.nn.Linear(3, 2)
        opt = lib.optim.SGD(lin.parameters(), lr=0.1)
        x = lib.ones((4, 3), requires_grad=True)  # so that linear saves the weight
        loss = lin(x).pow(2).sum()
        loss.backward(retain_graph=True)
        opt.step()  # modifies the weight that loss's graph saved
        loss.backward()
        return [lin.weight.grad]

    assert_same(case, "raised")


def test_nn_init_on_a_saved_weight_raises():
    def case(lib):
        lin = lib.nn.Linear(3, 2)
        loss = lin(lib.ones((4, 3))).sum()
        lib.nn.init.zeros_(lin.weight)
        loss.backward()
        return [lin.bias.grad]

    # torch's Linear saves the weight for the input's gradient only: make the input need it.
    def case_input_grad(lib):
        lin = lib.nn.Linear(3, 2)
        x = lib.ones((4, 3), requires_grad=True)
        loss = lin(x).sum()
        lib.nn.init.uniform_(lin.weight)
        loss.backward()
        return [x.grad]

    assert_same(case_input_grad, "raised")
    out = run(case)
    assert out["bp"][0] == out["torch"][0]


def test_load_state_dict_between_forward_and_backward_raises():
    def case(lib):
        lin = lib.nn.Linear(3, 2)
        x = lib.ones((4, 3), requires_grad=True)
        loss = lin(x).sum()
        lin.load_state_dict({k: v * 2 for k, v in lin.state_dict().items()})
        loss.backward()
        return [x.grad]

    assert_same(case, "raised")


def test_writes_through_data_are_not_tracked():
    # Documented escape hatch, as in PyTorch: no version bump, no error.
    def case(lib):
        x = leaf(lib, [1.0, 2.0])
        w = leaf(lib, [3.0, 4.0])
        y = (x * w).sum()
        w.data.mul_(10) if lib is torch else w.data.__imul__(10)
        y.backward()
        return [x.grad]

    assert_same(case, "ok")


def test_versions_count_writes_and_views_share_them():
    x = bp.zeros(4)
    v = x[1:3]
    assert x._version == 0
    x.add_(1)
    v.mul_(2)
    x[0] = 3.0
    assert x._version == v._version == 3
    assert x.detach()._version == 3
    tx = torch.zeros(4)
    tv = tx[1:3]
    tx.add_(1)
    tv.mul_(2)
    tx[0] = 3.0
    assert tx._version == 3
    np.testing.assert_array_equal(x.numpy(), tx.numpy())


# ----------------------------------------------------------------------------- legal writes
def test_modified_after_its_last_use_does_not_raise():
    def case(lib):
        x = leaf(lib, [1.0, -2.0, 3.0])
        y = x * 2
        s = y.sum()  # sum saves nothing: y is free to change
        y.mul_(5)
        p = (x * 3).sin()
        q = (p * p).sum()
        q.backward()
        p.add_(1)  # after backward: nothing needs it any more
        s.backward()
        return [y, p, x.grad]

    assert_same(case, "ok")


def test_modified_by_itself_raises_as_in_torch():
    # h.mul_(h): the second operand is h, which the op itself then modifies.
    def case(lib):
        x = leaf(lib, [1.0, -2.0, 3.0])
        h = x * 2
        h.mul_(h)
        h.sum().backward()
        return [x.grad]

    assert_same(case, "raised")


def test_inplace_on_a_non_leaf_chain_gives_torchs_gradient():
    def case(lib):
        x = leaf(lib, [0.5, -1.0, 2.0])
        w = leaf(lib, [1.5, 2.0, -0.5])
        h = x * 1
        h *= w
        h += x
        h -= 1
        h /= w
        h **= 2
        h.add_(x, alpha=2).sub_(w, alpha=0.5)
        h.sum().backward()
        return [h, x.grad, w.grad]

    assert_same(case, "ok")


UNARY = ["neg", "abs", "exp", "log", "sqrt", "rsqrt", "square", "reciprocal", "sin", "cos",
         "sign", "sigmoid", "tanh", "relu", "log1p"]  # fmt: skip


@pytest.mark.parametrize("name", UNARY)
def test_inplace_unary_method_matches_torch(name):
    def case(lib):
        x = leaf(lib, [0.5, 1.0, 2.0])
        h = x * 1
        r = getattr(h, name + "_")()
        assert r is h
        (h * h).sum().backward()
        return [h, x.grad]

    assert_same(case, "ok")


def test_a_saved_result_modified_again_raises():
    # exp_ saves its result; log_ then overwrites it.
    def case(lib):
        x = leaf(lib, [0.5, 1.0])
        h = x * 1
        h.exp_().log_()
        h.sum().backward()
        return [x.grad]

    assert_same(case, "raised")


def test_clamp_in_place_at_the_bounds():
    def case(lib):
        x = leaf(lib, [0.0, 0.2, 0.5, 0.6, 1.0])
        h = x * 1
        h.clamp_(0.2, 0.6)
        (h * h).sum().backward()
        return [h, x.grad]

    assert_same(case, "ok")


def test_a_plain_tensor_joins_the_graph_when_written_from_one():
    def case(lib):
        w = leaf(lib, [1.0, 2.0, 3.0])
        a = lib.zeros(3)
        a += w * 2
        assert a.requires_grad and a.grad_fn is not None
        (a * a).sum().backward()
        return [a, w.grad]

    assert_same(case, "ok")


# ----------------------------------------------------------------------------- views and setitem
def test_write_through_a_slice_reaches_the_base():
    def case(lib):
        x = leaf(lib, np.arange(6.0).reshape(2, 3))
        w = leaf(lib, [2.0, 3.0])
        b = x * 1
        v = b[:, 1]
        v.mul_(w)
        (b * b).sum().backward()
        return [b, x.grad, w.grad]

    assert_same(case, "ok")


def test_write_through_a_transposed_reshaped_view():
    def case(lib):
        x = leaf(lib, np.arange(6.0).reshape(2, 3))
        b = x * 1
        v = b.T.reshape(6)[1:4]
        v += lib.tensor(np.array([10.0, 20.0, 30.0], np.float32))
        v *= 2
        (b**2).sum().backward()
        return [b, x.grad]

    assert_same(case, "ok")


def test_other_views_see_the_new_history():
    def case(lib):
        x = leaf(lib, [1.0, 2.0, 3.0, 4.0])
        b = x * 1
        u = b[2:]  # made before the write
        b[:2].mul_(3)
        b.mul_(2)
        (u * u).sum().backward()
        return [u, x.grad]

    assert_same(case, "ok")


@pytest.mark.parametrize(
    "index",
    [
        (0,),
        (slice(1, None),),
        ([0, 2],),
        (slice(None), 1),
        (np.array([True, False, True]),),
        (Ellipsis, 0),
        ([0, 2], Ellipsis, [1, 1]),  # an empty ... separates nothing (torch's rule)
    ],
    ids=["int", "slice", "list", "column", "mask", "ellipsis", "empty-ellipsis"],
)
def test_setitem_gradients(index):
    def case(lib):
        x = leaf(lib, np.arange(9.0).reshape(3, 3))
        b = x * 1
        idx = tuple(lib.tensor(i) if isinstance(i, np.ndarray) else i for i in index)
        idx = idx[0] if len(idx) == 1 else idx
        region = b[idx]
        v = leaf(lib, np.full(region.shape, 7.0))
        b[idx] = v * 2
        (b * b).sum().backward()
        return [b, x.grad, v.grad]

    assert_same(case, "ok")


def test_setitem_broadcasts_a_value_and_casts_it():
    def case(lib):
        x = leaf(lib, np.arange(6.0).reshape(2, 3))
        v = leaf(lib, [5.0], dtype=np.float64)
        b = x * 1
        b[:, 1:] = v
        (b * b).sum().backward()
        return [b, x.grad, v.grad]

    assert_same(case, "ok")


def test_zero_fill_and_copy_on_non_leaves():
    def case(lib):
        x = leaf(lib, [1.0, 2.0, 3.0])
        s = leaf(lib, [4.0, 5.0, 6.0])
        a = x * 2
        a.zero_()
        b = x * 3
        b.fill_(2.0)
        c = x * 4
        c.copy_(s * s)
        (a + b + c * x).sum().backward()
        return [a, b, c, x.grad, s.grad]

    assert_same(case, "ok")


def test_masked_fill_in_place():
    def case(lib):
        x = leaf(lib, [1.0, -2.0, 3.0])
        h = x * 2
        h.masked_fill_(x.detach() < 0, 0.5)
        (h * h).sum().backward()
        return [h, x.grad]

    assert_same(case, "ok")


def test_expanded_view_cannot_be_written():
    def case(lib):
        x = leaf(lib, [1.0])
        b = x * 1
        e = b.expand(3)
        e.add_(1)
        return [e]

    assert_same(case, "raised")


def test_read_only_memory_is_refused():
    arr = np.ones(3, np.float32)
    arr.flags.writeable = False
    t = bp.tensor(arr)
    if np.shares_memory(t.data, arr):
        with pytest.raises(RuntimeError, match="read-only"):
            t.add_(1)


# ----------------------------------------------------------------------------- dtype rules
DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]
OPERATORS = ["+=", "-=", "*=", "/="]


def _apply(op, a, b):
    if op == "+=":
        a += b
    elif op == "-=":
        a -= b
    elif op == "*=":
        a *= b
    else:
        a /= b
    return a


@given(
    op=st.sampled_from(OPERATORS),
    lhs=st.sampled_from(DTYPES),
    rhs=st.one_of(st.sampled_from(DTYPES), st.sampled_from([2, 1.5, True])),
)
def test_inplace_operator_dtypes_match_torch(op, lhs, rhs):
    values = np.array([1, 0, 3])
    outcome = {}
    for name, lib in LIBS.items():
        a = lib.tensor(values.astype(lhs))
        b = lib.tensor(np.array([1, 1, 2]).astype(rhs)) if isinstance(rhs, str) else rhs
        try:
            with np.errstate(all="ignore"):
                r = _apply(op, a, b)
        except (RuntimeError, TypeError):  # backprop's TypeError for bool arithmetic
            outcome[name] = "raised"
        else:
            assert r is a
            outcome[name] = (str(_np(r).dtype), _np(r).tolist())
    assert outcome["bp"] == outcome["torch"]
