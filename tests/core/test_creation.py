"""Tensor creation against PyTorch: values convert once, straight to the requested dtype; the
default dtypes follow torch.tensor's rules; data with no backprop dtype is refused clearly."""

import datetime
import re

import numpy as np
import pytest
import torch

import backprop as bp

DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]


def _same(b, t):
    assert str(b.dtype) == str(t.dtype).removeprefix("torch."), (b.dtype, t.dtype)
    assert b.shape == tuple(t.shape)
    np.testing.assert_array_equal(b.data, t.numpy())


@pytest.mark.parametrize(
    "value",
    [0.1, 1e40, -1e-300, 1 / 3, 2.0**-1074, 2**53 + 1, 2**62 + 1, 123456789.123456789],
)
def test_float64_scalar_is_exact(value):
    b = bp.tensor(value, dtype=bp.float64)
    assert b.item() == value if isinstance(value, float) else float(value)
    _same(b, torch.tensor(value, dtype=torch.float64))


def test_the_issue_examples():
    assert bp.tensor(0.1, dtype=bp.float64).item() == 0.1
    assert np.isfinite(bp.tensor(1e40, dtype=bp.float64).item())
    assert bp.tensor([0.1, 0.2], dtype=bp.float64).data.tolist() == [0.1, 0.2]
    assert bp.tensor([[0.1], [1e40]], dtype=bp.float64).data.tolist() == [[0.1], [1e40]]
    assert bp.as_tensor([0.1], dtype=bp.float64).item() == 0.1
    assert bp.full((2,), 0.1, dtype=bp.float64).data.tolist() == [0.1, 0.1]


DATA = [
    0.1,
    7,
    True,
    [0.1, 0.7, 1e40],
    [1, 2, 3],
    [True, False],
    [[0.1, 2], [3, 4.5]],
    [[1, 2], [3, 4]],
    [True, 2],
    [True, 2.5],
    (1, 2.5),
    [[[0.3]], [[1e-8]]],
    [2**62 + 1, -(2**62) - 3],
    [-7.9, 7.9, 0.5],
    [],
    [[], []],
]


@pytest.mark.parametrize("data", DATA, ids=repr)
@pytest.mark.parametrize("dtype", [None, *DTYPES])
def test_python_data_matches_torch(data, dtype):
    kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    try:
        t = torch.tensor(data, **kw)
    except (RuntimeError, ValueError, OverflowError):
        with pytest.raises(ValueError):
            bp.tensor(data, **({} if dtype is None else {"dtype": getattr(bp, dtype)}))
        return
    b = bp.tensor(data, **({} if dtype is None else {"dtype": getattr(bp, dtype)}))
    _same(b, t)


@pytest.mark.parametrize(
    "data",
    [
        [np.float64(0.1)],
        [np.float64(0.1), 1.0],
        [np.int32(1), np.int32(2)],
        [np.int32(1), 2],
        [np.int32(1), 2.0],
        [np.int64(1), np.float16(2.0)],
        [np.uint8(1), np.int8(2)],
        np.float16(0.1),
        np.array(0.1),
        np.array([[1, 2]], dtype=np.int16),
        np.array([0.1, 1e40]),
    ],
    ids=repr,
)
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "int64"])
def test_numpy_leaves_keep_their_dtype_or_convert_once(data, dtype):
    kw = {} if dtype is None else {"dtype": getattr(torch, dtype)}
    try:
        t = torch.tensor(data, **kw)
    except TypeError:  # torch will not put a NumPy float scalar in a list into an int tensor
        leaves = data if isinstance(data, list) else [data]
        assert dtype == "int64" and any(isinstance(v, np.floating) for v in leaves)
        assert bp.tensor(data, dtype=bp.int64).dtype == np.int64  # backprop converts: a superset
        return
    b = bp.tensor(data, **({} if dtype is None else {"dtype": getattr(bp, dtype)}))
    _same(b, t)


def test_tensors_inside_lists_and_tensor_input():
    x64 = bp.tensor(0.1, dtype=bp.float64)
    _same(bp.tensor([x64, x64]), torch.tensor([torch.tensor(0.1, dtype=torch.float64)] * 2))
    assert bp.tensor(x64).item() == 0.1
    assert bp.tensor(x64, dtype=bp.float32).dtype == np.float32
    assert bp.tensor(np.float32(0.1), dtype=bp.float64).item() == float(np.float32(0.1))


def test_float32_overflow_is_inf_as_in_torch():
    _same(bp.tensor(1e40), torch.tensor(1e40))
    _same(bp.tensor(np.array([1e40]), dtype=bp.float32), torch.tensor([1e40], dtype=torch.float32))


@pytest.mark.parametrize(
    "data",
    [2**63, [1, 2**63]],
    ids=repr,
)
def test_int_out_of_range_raises_value_error(data):
    with pytest.raises(ValueError):
        torch.tensor(data)
    with pytest.raises(ValueError, match="does not fit"):
        bp.tensor(data)
    # as a float it fits
    _same(bp.tensor(data, dtype=bp.float64), torch.tensor(data, dtype=torch.float64))


REFUSED = [
    (np.array([1 + 2j]), "complex"),
    (np.array([1 + 2j], dtype=np.complex64), "complex"),
    (1 + 2j, "complex"),
    ([1.0, 2j], "complex"),
    (np.array(["a"]), "string"),
    (np.array([b"a"]), "bytes"),
    (np.array([1], dtype=object), "object"),
    (np.array(["2020-01-01"], dtype="datetime64[D]"), "datetime"),
    (np.array([1], dtype="timedelta64[s]"), "timedelta"),
    (np.zeros(2, dtype=[("a", "f4")]), "structured"),
    (np.datetime64("2020-01-01"), "datetime"),
    ("1.5", "str"),
    (b"1", "bytes"),
    (["1.5"], "str"),
    ([1, None], "NoneType"),
    ([datetime.date(2020, 1, 1)], "date"),
]


@pytest.mark.parametrize("data, name", REFUSED, ids=lambda v: repr(v)[:30])
@pytest.mark.parametrize("dtype", [None, "float32"])
def test_refused_data_raises_type_error_naming_it(data, name, dtype):
    kw = {} if dtype is None else {"dtype": getattr(bp, dtype)}
    with pytest.raises(TypeError, match=name):
        bp.tensor(data, **kw)
    if isinstance(data, np.ndarray):
        with pytest.raises(TypeError, match=name):
            bp.as_tensor(data)
        with pytest.raises(TypeError, match=name):
            bp.from_numpy(data)


def test_complex_numpy_is_refused_though_torch_accepts_it():
    # torch makes complex128 tensors; backprop has no complex dtype, so it says so.
    assert torch.tensor(np.array([1 + 2j])).dtype == torch.complex128
    with pytest.raises(TypeError, match="complex128"):
        bp.tensor(np.array([1 + 2j]))


@pytest.mark.parametrize("dtype", [np.complex64, np.str_, object, "datetime64[s]"])
def test_factories_refuse_unsupported_dtypes(dtype):
    for make in (
        lambda: bp.zeros(2, dtype=dtype),
        lambda: bp.ones(2, dtype=dtype),
        lambda: bp.empty(2, dtype=dtype),
        lambda: bp.full((2,), 1, dtype=dtype),
        lambda: bp.arange(3, dtype=dtype),
        lambda: bp.tensor([1], dtype=dtype),
    ):
        with pytest.raises(TypeError, match=re.escape(str(np.dtype(dtype)))):
            make()


@pytest.mark.parametrize(
    "fill, dtype",
    [
        (0.1, "float64"),
        (0.1, None),
        (1e40, "float64"),
        (3, None),
        (True, None),
        (2**53 + 1, "int64"),
    ]
    + [(np.int32(3), None), (np.float64(0.1), None), (7, "float16"), (2.5, "int32")],
    ids=repr,
)
def test_full_matches_torch(fill, dtype):
    t = torch.full((2, 3), fill, **({} if dtype is None else {"dtype": getattr(torch, dtype)}))
    b = bp.full((2, 3), fill, **({} if dtype is None else {"dtype": getattr(bp, dtype)}))
    _same(b, t)


def test_full_refuses_what_torch_refuses():
    with pytest.raises(RuntimeError):
        torch.full((2,), 1e40)  # float32 overflow
    with pytest.raises(ValueError, match="overflows dtype float32"):
        bp.full((2,), 1e40)
    with pytest.raises(TypeError):
        torch.full((2,), "1")
    with pytest.raises(TypeError, match="real number"):
        bp.full((2,), "1")


@pytest.mark.parametrize(
    "args, dtype",
    [((0, 1, 0.1), "float64"), ((0, 1, 0.1), None), ((10,), None), ((-3, 3, 2), "float64")]
    + [((0.5, 4), None), ((0, 1, 1 / 3), "float64")],
    ids=repr,
)
def test_arange_matches_torch(args, dtype):
    t = torch.arange(*args, **({} if dtype is None else {"dtype": getattr(torch, dtype)}))
    b = bp.arange(*args, **({} if dtype is None else {"dtype": getattr(bp, dtype)}))
    _same(b, t)


def test_linspace_float64_is_exact_at_the_ends_and_matches_torch():
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    b = bp.linspace(0, 1, 11, dtype=bp.float64)
    np.testing.assert_allclose(b.data, t.numpy(), rtol=2e-16, atol=0)  # torch may use FMA
    assert b.data[1] == 0.1 and b.data[-1] == 1.0


def test_as_tensor_shares_memory_when_it_can():
    a = np.arange(3.0)
    assert bp.as_tensor(a).data is a
    assert bp.as_tensor(a, dtype=bp.float32).dtype == np.float32
    b = bp.tensor([1.0])
    assert bp.as_tensor(b) is b
