"""multinomial, bernoulli, one_hot and Generator objects."""

import numpy as np
import pytest
import torch

import backprop as bp
import backprop.nn.functional as F


def test_multinomial_frequencies_follow_the_weights():
    w = bp.tensor([1.0, 0.0, 3.0, 4.0])
    g = bp.Generator().manual_seed(1)
    draws = bp.multinomial(w, 20000, replacement=True, generator=g).numpy()
    freq = np.bincount(draws, minlength=4) / draws.size
    np.testing.assert_allclose(freq, [0.125, 0.0, 0.375, 0.5], atol=0.015)


def test_multinomial_without_replacement_draws_distinct_indices_in_order():
    w = bp.tensor([[1.0, 2.0, 0.0, 7.0]] * 4000)
    out = bp.multinomial(w, 3, generator=bp.Generator().manual_seed(2)).numpy()
    assert out.shape == (4000, 3) and out.dtype == np.int64
    assert all(len(set(r)) == 3 and 2 not in r for r in out)
    # The first draw has the weights' probabilities.
    np.testing.assert_allclose(
        np.bincount(out[:, 0], minlength=4) / 4000, [0.1, 0.2, 0, 0.7], atol=0.03
    )


def test_multinomial_errors_as_torch():
    for bad, kw in [
        (bp.tensor([1.0, -1.0]), {}),
        (bp.tensor([0.0, 0.0]), {}),
        (bp.tensor([1.0, 0.0]), {"num_samples": 3}),
    ]:
        with pytest.raises(ValueError, match="multinomial"):
            bp.multinomial(bad, kw.get("num_samples", 1))
        with pytest.raises(RuntimeError):
            torch.multinomial(torch.tensor(bad.numpy()), kw.get("num_samples", 1))


def test_generators_are_independent_and_reproducible():
    a = bp.multinomial(bp.ones(10), 5, generator=bp.Generator().manual_seed(7))
    bp.manual_seed(123)
    b = bp.multinomial(bp.ones(10), 5, generator=bp.Generator().manual_seed(7))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g = bp.Generator().manual_seed(5)
    state = g.get_state()
    x = bp.bernoulli(bp.full((8,), 0.5), generator=g)
    y = bp.bernoulli(bp.full((8,), 0.5), generator=g.set_state(state))
    np.testing.assert_array_equal(x.numpy(), y.numpy())
    with pytest.raises(TypeError, match="generator"):
        bp.multinomial(bp.ones(3), 1, generator=torch.Generator())


def test_bernoulli_rate():
    x = bp.bernoulli(bp.full((20000,), 0.3), generator=bp.Generator().manual_seed(0))
    assert x.dtype == bp.float32 and abs(x.numpy().mean() - 0.3) < 0.015


@pytest.mark.parametrize("num_classes", [-1, 5])
def test_one_hot_matches_torch(num_classes):
    idx = np.array([[0, 3], [2, 1]])
    got = F.one_hot(bp.tensor(idx), num_classes).numpy()
    want = torch.nn.functional.one_hot(torch.tensor(idx), num_classes).numpy()
    np.testing.assert_array_equal(got, want)
    assert got.dtype == want.dtype


def test_one_hot_refuses_bad_input():
    with pytest.raises(ValueError, match="smaller than num_classes"):
        F.one_hot(bp.tensor([3]), 2)
    with pytest.raises(TypeError, match="int64"):
        F.one_hot(bp.tensor([1.0]))
