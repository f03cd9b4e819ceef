"""Pictures of models: conv filter grids and decision boundaries."""

import numpy as np
import pytest

from backprop import models, nn
from backprop.data import make_moons
from backprop.viz import decision_grid, filter_grid, plot_decision_boundary, plot_filters


def test_filter_grid_layout_and_scaling():
    w = np.arange(6 * 1 * 2 * 3, dtype=np.float32).reshape(6, 1, 2, 3)
    g = filter_grid(w, ncols=3, pad=1)
    assert g.shape == (2 * (2 + 1) + 1, 3 * (3 + 1) + 1)
    assert g.min() == 0.0 and g.max() == 1.0
    np.testing.assert_allclose(g[1:3, 1:4], np.linspace(0, 1, 6).reshape(2, 3))  # each scaled
    rgb = filter_grid(np.random.default_rng(0).normal(size=(4, 3, 5, 5)))
    assert rgb.shape == (13, 13, 3)
    shared = filter_grid(w, normalize="all")
    assert shared[1, 1] == 0.0 and shared.max() == 1.0
    with pytest.raises(ValueError, match=r"expected \(out, in, kh, kw\)"):
        filter_grid(np.zeros((3, 3)))


def test_decision_grid_of_a_linear_rule():
    x = np.array([[-1.0, -1.0], [1.0, 1.0]])
    xx, yy, labels = decision_grid(lambda p: (p[:, 0] + p[:, 1] > 0).astype(int), x, resolution=11)
    assert labels.shape == (11, 11)
    assert labels[0, 0] == 0 and labels[-1, -1] == 1


def test_plots_write_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    plot_filters(models.LeNet5().features.conv1.weight, path=tmp_path / "f.png", title="conv1")
    assert (tmp_path / "f.png").stat().st_size > 0
    x, y = make_moons(60, seed=0)
    net = models.MLP([2, 8, 2])
    fig = plot_decision_boundary(net, x, y, title="moons", path=tmp_path / "b.png", resolution=30)
    assert (tmp_path / "b.png").stat().st_size > 0 and fig.axes
    p = models.Perceptron(2)
    p.fit(x, y, max_epochs=2, warn=False)
    plot_decision_boundary(p, x, y, path=tmp_path / "p.png", resolution=20)  # uses predict
    single = nn.Linear(2, 1)  # one logit: class 1 where it is positive
    plot_decision_boundary(single, x, y, path=tmp_path / "s.png", resolution=20)
    assert (tmp_path / "s.png").exists()
