"""detect_anomaly names the op and the user line that produced a NaN or Inf."""

import numpy as np
import pytest

import backprop as bp
from backprop.autograd import AnomalyError, detect_anomaly, is_anomaly_enabled


def test_forward_nan_names_op_and_line():
    x = bp.tensor([-1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        assert is_anomaly_enabled()
        with pytest.raises(AnomalyError, match=r"op 'log'.*test_anomaly.py") as info:
            x.log()
    assert info.value.op == "log" and "test_anomaly.py" in info.value.where
    assert not is_anomaly_enabled()


def test_backward_inf_names_op_and_creation_line():
    x = bp.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = x.sqrt()  # finite forward, infinite gradient at 0
        with pytest.raises(
            AnomalyError, match=r"backward of op 'sqrt'.*created at .*test_anomaly.py"
        ):
            y.sum().backward()


def test_no_anomaly_passes_through():
    x = bp.randn(3, requires_grad=True)
    with detect_anomaly():
        (x * 2).exp().sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
