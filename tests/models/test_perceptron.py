"""The perceptron: convergence within Novikoff's bound, and its failure on XOR."""

import numpy as np
import pytest

import backprop
from backprop.models import ConvergenceWarning, Perceptron


def _separable(rng, n=200, margin=0.1):
    """Points in the unit square labelled by a unit separator (w*, b*) in the augmented space,
    with the points inside the margin removed."""
    w_star = np.array([3.0, -2.0, 1.0])  # the lecture's line 1 + 3 x1 - 2 x2, (w, b) augmented
    w_star /= np.linalg.norm(w_star)
    x = rng.uniform(-1, 1, size=(4 * n, 2))
    aug = np.c_[x, np.ones(len(x))]
    s = aug @ w_star
    keep = np.abs(s) >= margin
    x, s, aug = x[keep][:n], s[keep][:n], aug[keep][:n]
    y = np.where(s > 0, 1, -1)
    gamma = np.min(y * s)
    r = np.max(np.linalg.norm(aug, axis=1))
    return x, y, (r / gamma) ** 2


@pytest.mark.parametrize("lr", [1.0, 0.01])
def test_converges_within_novikoff_bound(lr):
    x, y, bound = _separable(np.random.default_rng(1))
    p = Perceptron(2, lr=lr)
    fit = p.fit(x, y, max_epochs=1000)
    assert fit.converged
    assert fit.mistakes_per_epoch[-1] == 0
    assert 0 < fit.updates <= bound, (fit.updates, bound)
    assert (p.predict(x) == y).all()


def test_zero_one_labels_and_tensors():
    x, y, _ = _separable(np.random.default_rng(2))
    y01 = (y > 0).astype(np.int64)
    p = Perceptron(2)
    fit = p.fit(backprop.tensor(x.astype(np.float32)), backprop.tensor(y01))
    assert fit.converged
    np.testing.assert_array_equal(p.predict(x), y01)
    # forward gives the raw score w.x + b
    assert p(backprop.tensor(x[:3].astype(np.float32))).shape == (3, 1)


def test_xor_does_not_converge_and_says_so():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    p = Perceptron(2)
    with pytest.warns(ConvergenceWarning, match="not converged after 50 epochs"):
        fit = p.fit(x, y, max_epochs=50)
    assert not fit.converged
    assert fit.epochs == 50
    assert min(fit.mistakes_per_epoch) > 0  # never a clean epoch: no line separates XOR
    assert (p.predict(x) == y).mean() < 1.0


def test_multiclass_rule():
    rng = np.random.default_rng(3)
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    y = rng.integers(0, 3, size=150)
    x = centres[y] + rng.normal(0, 0.5, size=(150, 2))
    p = Perceptron(2, num_classes=3)
    fit = p.fit(x, y, max_epochs=100)
    assert fit.converged
    assert p.weight.shape == (3, 2)
    assert (p.predict(x) == y).all()
    # String labels are mapped through classes_.
    names = np.array(["a", "b", "c"])[y]
    q = Perceptron(2, num_classes=3)
    assert q.fit(x, names).converged
    assert (q.predict(x) == names).all()


def test_errors():
    with pytest.raises(ValueError, match="num_classes"):
        Perceptron(2, num_classes=1)
    p = Perceptron(2)
    with pytest.raises(ValueError, match=r"x must be \(N, 2\)"):
        p.fit(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="3 distinct labels"):
        p.fit(np.zeros((3, 2)), np.array([0, 1, 2]))
