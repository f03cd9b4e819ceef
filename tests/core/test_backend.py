"""The backend switch point: ops run on the array module of their inputs."""

import numpy as np
import pytest

import backprop as bp
from backprop.backend import Backend, backend_of, backends, get_backend, register_backend


def test_numpy_is_registered_and_default():
    assert "numpy" in backends()
    assert backend_of([np.zeros(2), 1.0, None]).xp is np
    assert backend_of([]) is get_backend("numpy")


def test_unknown_array_type_is_a_type_error():
    with pytest.raises(TypeError, match="no backend owns"):
        backend_of([object()])


class _FakeArray(np.ndarray):
    """An ndarray subclass standing in for another library's array type."""


def test_a_new_backend_is_one_registration_and_mixing_backends_raises():
    fake = Backend("fake", np, lambda a: isinstance(a, _FakeArray))
    register_backend(fake)
    try:
        a = np.zeros(3).view(_FakeArray)
        assert backend_of([a]) is fake
        with pytest.raises(TypeError, match="mixed backends"):
            backend_of([a, np.zeros(3)])
        # An op picks it up with no change to the op: ctx.xp is the backend's module.
        t = bp.Tensor._make(a, False, None)
        assert (t + 1).tolist() == [1.0, 1.0, 1.0]
    finally:
        from backprop.backend import _BACKENDS

        _BACKENDS.pop("fake")


def test_get_backend_unknown_name():
    with pytest.raises(ValueError, match="unknown backend"):
        get_backend("cupy-not-installed")
