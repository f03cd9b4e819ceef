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


# --------------------------------------------------------------------------- the kernels switch
import inspect  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

from backprop.backend import kernels  # noqa: E402

_HAS_NUMBA = True
try:
    import numba  # noqa: F401
except ImportError:  # pragma: no cover
    _HAS_NUMBA = False
needs_numba = pytest.mark.skipif(not _HAS_NUMBA, reason="numba is not installed")


def _run(code: str, **env) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_backprop_does_not_import_numba():
    code = (
        "import sys, backprop, backprop.optim, backprop.nn\n"
        "print('numba' in sys.modules, backprop.backend.kernels._numba_kernels is None)"
    )
    assert _run(code, BACKPROP_KERNELS="auto") == "False True"


@needs_numba
def test_numba_is_imported_on_the_first_kernel_call_only():
    code = (
        "import sys, backprop as bp\n"
        "p = bp.ones(3, requires_grad=True); opt = bp.optim.SGD([p], lr=0.1)\n"
        "a = 'numba' in sys.modules; p.grad = bp.ones(3); opt.step()\n"
        "print(a, 'numba' in sys.modules, p.tolist())"
    )
    assert _run(code, BACKPROP_KERNELS="numba") == f"False True {[0.8999999761581421] * 3}"


def test_the_environment_variable_chooses_the_kernels():
    code = "from backprop.backend import kernels; print(kernels.kernels_in_use())"
    assert _run(code, BACKPROP_KERNELS="numpy") == "numpy"
    if _HAS_NUMBA:
        assert _run(code, BACKPROP_KERNELS="numba") == "numba"
        assert _run(code, BACKPROP_KERNELS="auto") == "numba"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "BACKPROP_KERNELS": "cuda"},
    )
    assert out.returncode != 0 and "BACKPROP_KERNELS must be" in out.stderr


def test_set_kernels_validates_and_returns_the_previous_choice():
    with pytest.raises(ValueError, match="expected 'numpy', 'numba' or None"):
        kernels.set_kernels("fortran")
    previous = kernels.set_kernels("numpy")
    try:
        assert kernels.kernels_in_use() == "numpy" and not kernels.fused_kernels_enabled()
        assert kernels.set_kernels(previous) == "numpy"
        assert kernels.kernels_in_use() == previous
    finally:
        kernels.set_kernels(previous)


@needs_numba
def test_every_fused_twin_takes_its_numpy_kernels_arguments_in_order():
    from backprop.backend import numba_kernels
    from backprop.optim import adadelta, adagrad, adam, rmsprop, sgd

    found = [
        k
        for mod in (sgd, adam, rmsprop, adagrad, adadelta)
        for k in vars(mod).values()
        if isinstance(k, kernels.Kernel)
    ]
    assert len(found) == 6
    for k in found:
        numpy_params = inspect.signature(k.numpy_fn).parameters.values()
        arrays = [p.name for p in numpy_params if p.kind is p.POSITIONAL_OR_KEYWORD]
        fused = list(inspect.signature(getattr(numba_kernels, k.name).py_func).parameters)
        assert len(fused) == len(arrays) + len(k.scalar_names), k
        assert tuple(fused[len(arrays) :]) == k.scalar_names, k


def test_set_num_threads_governs_the_kernels_too():
    previous = kernels.get_num_threads()
    try:
        bp.set_num_threads(1)
        assert kernels.get_num_threads() == 1 and bp.get_num_threads() == 1
        with pytest.raises(ValueError, match="positive int"):
            kernels.set_num_threads(0)
    finally:
        bp.set_num_threads(previous)


@needs_numba
def test_numba_uses_the_thread_count_set():
    code = (
        "import backprop as bp, numba\n"
        "bp.set_num_threads(1)\n"
        "p = bp.zeros(100_000, requires_grad=True); p.grad = bp.ones(100_000)\n"
        "bp.optim.SGD([p], lr=0.1, momentum=0.9).step()\n"
        "print(numba.get_num_threads())"
    )
    assert _run(code, BACKPROP_KERNELS="numba") == "1"


@needs_numba
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_child_falls_back_to_numpy_and_keeps_working():
    # GNU OpenMP aborts a forked child that starts a parallel region once its parent has.
    code = (
        "import os, backprop as bp\n"
        "from backprop.backend import kernels\n"
        "p = bp.zeros(100_000, requires_grad=True); p.grad = bp.ones(100_000)\n"
        "opt = bp.optim.SGD([p], lr=0.5); opt.step()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    opt.step(); print(kernels.kernels_in_use(), float(p.data[0]), flush=True)\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0); print(kernels.kernels_in_use(), float(p.data[0]))"
    )
    assert _run(code, BACKPROP_KERNELS="numba").split("\n") == ["numpy -1.0", "numba -0.5"]
