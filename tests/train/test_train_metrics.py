"""Metrics against scikit-learn, streaming vs whole-data results, and their errors."""

import numpy as np
import pytest

import backprop as bp
from backprop.train import metrics as M


@pytest.fixture
def scores(rng):
    logits = rng.normal(size=(200, 5)).astype(np.float32)
    target = rng.integers(0, 5, size=200)
    return logits, target


def test_accuracy_and_confusion_match_sklearn(scores):
    skm = pytest.importorskip("sklearn.metrics")
    logits, target = scores
    pred = logits.argmax(1)
    assert M.accuracy(bp.tensor(logits), bp.tensor(target)) == pytest.approx(
        skm.accuracy_score(target, pred)
    )
    cm = M.confusion_matrix(logits, target, 5)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(target, pred, labels=range(5)))
    prf = M.precision_recall_f1(cm)
    p, r, f, s = skm.precision_recall_fscore_support(target, pred, labels=range(5), zero_division=0)
    np.testing.assert_allclose(prf["precision"], p)
    np.testing.assert_allclose(prf["recall"], r)
    np.testing.assert_allclose(prf["f1"], f)
    np.testing.assert_array_equal(prf["support"], s)
    for avg in ("macro", "weighted", "micro"):
        got = M.precision_recall_f1(cm, average=avg)
        want = skm.precision_recall_fscore_support(
            target, pred, labels=range(5), average=avg, zero_division=0
        )
        assert got["f1"] == pytest.approx(want[2]) and got["precision"] == pytest.approx(want[0])


def test_top_k_matches_sklearn(scores):
    skm = pytest.importorskip("sklearn.metrics")
    logits, target = scores
    for k in (1, 2, 4):
        want = skm.top_k_accuracy_score(target, logits, k=k, labels=range(5))
        assert M.top_k_accuracy(logits, target, k) == pytest.approx(want)


def test_streaming_equals_whole_data(scores):
    logits, target = scores
    acc, top, cm, prf = (
        M.Accuracy(),
        M.TopKAccuracy(3),
        M.ConfusionMatrix(5),
        M.PrecisionRecallF1(5),
    )
    for i in range(0, 200, 37):  # uneven batches
        for m in (acc, top, cm, prf):
            m.update(logits[i : i + 37], target[i : i + 37])
    assert acc.compute() == pytest.approx(M.accuracy(logits, target))
    assert top.compute() == pytest.approx(M.top_k_accuracy(logits, target, 3))
    np.testing.assert_array_equal(cm.compute(), M.confusion_matrix(logits, target, 5))
    assert prf.compute()["f1"] == pytest.approx(
        M.precision_recall_f1(M.confusion_matrix(logits, target, 5), "macro")["f1"]
    )
    state = acc.state_dict()
    fresh = M.Accuracy()
    fresh.load_state_dict(state)
    assert fresh.compute() == acc.compute()


def test_binary_soft_and_sequence_targets():
    assert M.accuracy(np.array([2.0, -1.0, 0.5]), np.array([1.0, 0.0, 0.0])) == pytest.approx(2 / 3)
    probs = np.array([0.9, 0.2])
    assert M.accuracy(probs, np.array([1, 1]), threshold=0.5) == 0.5
    onehot = np.eye(3)[[0, 2]]
    assert M.accuracy(np.array([[5.0, 0, 0], [0, 9.0, 0]]), onehot) == 0.5
    seq = np.zeros((2, 3, 4))  # (N, C, L) scores with (N, L) targets, as cross_entropy
    seq[:, 1] = 1.0
    assert M.accuracy(seq, np.ones((2, 4), np.int64)) == 1.0


def test_regression_metrics():
    out, tgt = np.array([[1.0], [2.0], [4.0]]), np.array([1.0, 3.0, 2.0])
    assert M.mean_absolute_error(out, tgt) == pytest.approx(1.0)
    assert M.mean_squared_error(out, tgt) == pytest.approx(5 / 3)
    mse = M.MeanSquaredError()
    mse.update(out[:1], tgt[:1])
    mse.update(out[1:], tgt[1:])
    assert mse.compute() == pytest.approx(5 / 3)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="does not match target shape"):
        M.accuracy(np.zeros((4, 3)), np.zeros(5, np.int64))
    with pytest.raises(TypeError, match="must be integers"):
        M.accuracy(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="k must be in"):
        M.top_k_accuracy(np.zeros((4, 3)), np.zeros(4, np.int64), 5)
    with pytest.raises(ValueError, match="outside"):
        M.confusion_matrix(np.array([0, 1]), np.array([0, 7]), 3)
    with pytest.raises(ValueError, match="unknown metric 'acuracy'"):
        M.get_metric("acuracy")
    assert M.get_metric("top3").name == "top3_accuracy"
