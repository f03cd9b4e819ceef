"""safetensors reading/writing: round trips, interoperability, atomic writes, hostile files."""

import json
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest

import backprop as bp
from backprop import serialization as S
from backprop.serialization import SerializationError


def _tensors():
    return {
        "w": np.arange(12, dtype=np.float32).reshape(3, 4),
        "b": np.array([1.5, -2.0], dtype=np.float64),
        "i": np.array([[1, 2]], dtype=np.int64),
        "u8": np.arange(5, dtype=np.uint8),
        "h": np.ones(3, np.float16),
        "flag": np.array(True),
        "scalar": np.array(3.0, np.float32),
        "empty": np.zeros((0, 4), np.float32),
    }


def test_round_trip_keeps_names_shapes_dtypes_values(tmp_path):
    t = _tensors()
    S.save_file(t, tmp_path / "a.safetensors", {"note": "hi"})
    back = S.load_file(tmp_path / "a.safetensors")
    assert set(back) == set(t)
    for k in t:
        assert back[k].dtype == t[k].dtype and back[k].shape == t[k].shape, k
        np.testing.assert_array_equal(back[k], t[k])
    meta = S.read_metadata(tmp_path / "a.safetensors")
    assert meta["note"] == "hi" and "backprop.sha256" in meta


def test_interoperates_with_the_safetensors_package(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    t = {k: v for k, v in _tensors().items() if v.ndim > 0}  # the package widens 0-d arrays
    S.save_file(t, tmp_path / "ours.safetensors")
    theirs = st.load_file(str(tmp_path / "ours.safetensors"))
    for k in t:
        np.testing.assert_array_equal(theirs[k], t[k])
    st.save_file(t, str(tmp_path / "theirs.safetensors"), metadata={"x": "y"})
    ours = S.load_file(tmp_path / "theirs.safetensors")  # no checksum there: still readable
    for k in t:
        np.testing.assert_array_equal(ours[k], t[k])


def test_nested_objects_keep_their_types(tmp_path):
    obj = {
        "model": {"fc.weight": bp.randn(2, 3), "fc.bias": bp.zeros(2)},
        "optimizer": {
            "state": {0: {"step": np.float32(3), "exp_avg": np.ones(3)}, 1: {"step": 7}},
            "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1]}],
        },
        "best": float("inf"),
        "worst": float("-inf"),
        "missing": None,
        "flags": [True, False],
        "name": "x",
    }
    S.save(obj, tmp_path / "o.safetensors")
    back = S.load(tmp_path / "o.safetensors")
    assert isinstance(back["model"]["fc.weight"], bp.Tensor)
    np.testing.assert_array_equal(back["model"]["fc.weight"].data, obj["model"]["fc.weight"].data)
    state = back["optimizer"]["state"]
    assert set(state) == {0, 1}  # int keys survive
    assert type(state[0]["step"]) is np.float32 and state[0]["step"] == 3
    assert isinstance(state[0]["exp_avg"], np.ndarray)
    assert back["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["best"] == float("inf") and back["worst"] == float("-inf")
    assert back["missing"] is None and back["flags"] == [True, False] and back["name"] == "x"


def test_save_rejects_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="cannot store function"):
        S.save({"f": lambda: 1}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="complex128"):
        S.save_file({"c": np.ones(2, complex)}, tmp_path / "x.safetensors")
    assert not list(tmp_path.iterdir())  # nothing written, no temporary left


def test_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    S.save_file({"w": np.zeros(1000, np.float32)}, path)
    before = path.read_bytes()

    def half_then_crash(f, arrays):
        f.write(b"\x00" * 100)
        raise OSError("disk full (injected)")

    monkeypatch.setattr(S, "_write_data", half_then_crash)
    with pytest.raises(OSError, match="injected"):
        S.save_file({"w": np.ones(1000, np.float32)}, path)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(S.load_file(path)["w"], np.zeros(1000, np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]  # temp removed


def test_failed_rename_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    S.save_file({"w": np.zeros(3, np.float32)}, path)

    def boom(src, dst):
        raise KeyboardInterrupt  # Ctrl-C at the worst moment

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        S.save_file({"w": np.ones(3, np.float32)}, path)
    monkeypatch.undo()
    np.testing.assert_array_equal(S.load_file(path)["w"], np.zeros(3, np.float32))
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.safetensors"]


@pytest.fixture
def good_file(tmp_path):
    path = tmp_path / "good.safetensors"
    S.save_file({"a": np.arange(64, dtype=np.float32), "b": np.ones((4, 4), np.float64)}, path)
    return path


@pytest.mark.parametrize("keep", [0, 4, 8, 20, 100, -1, -100])
def test_truncated_files_are_refused(good_file, keep):
    data = good_file.read_bytes()
    good_file.write_bytes(data[:keep] if keep >= 0 else data[:keep])
    with pytest.raises(SerializationError, match="truncated|not a safetensors"):
        S.load_file(good_file)


def test_every_flipped_bit_is_detected(good_file):
    data = bytearray(good_file.read_bytes())
    (n,) = struct.unpack("<Q", data[:8])
    # One byte in each region: the size prefix, the JSON header (names, offsets, metadata),
    # and the tensor data; a flip anywhere must be noticed.
    for pos in [0, 3, 8 + 2, 8 + n // 2, 8 + n - 2, 8 + n + 1, len(data) - 1]:
        for bit in (0, 3, 7):
            bad = bytearray(data)
            bad[pos] ^= 1 << bit
            good_file.write_bytes(bytes(bad))
            with pytest.raises(SerializationError):
                S.load_file(good_file)


def test_checksum_catches_a_changed_value_with_a_valid_header(good_file):
    data = bytearray(good_file.read_bytes())
    data[-1] ^= 0x01  # last byte of tensor data
    good_file.write_bytes(bytes(data))
    with pytest.raises(SerializationError, match="checksum"):
        S.load_file(good_file)


class _Evil:
    def __reduce__(self):
        return (open, (os.environ["BACKPROP_TEST_MARKER"], "w"))


def test_a_pickle_is_refused_without_being_unpickled(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("BACKPROP_TEST_MARKER", str(marker))
    for proto in (0, 2, 4, 5):
        path = tmp_path / f"evil{proto}.pt"
        path.write_bytes(pickle.dumps({"w": _Evil()}, protocol=proto))
        with pytest.raises(SerializationError, match="pickle|not a safetensors") as e:
            S.load(path)
        if proto >= 2:
            assert "never unpickles" in str(e.value)
    assert not marker.exists()  # the payload never ran


def test_torch_zip_and_npy_files_are_named(tmp_path):
    z = tmp_path / "model.pt"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(SerializationError, match="zip archive"):
        S.load_file(z)
    n = tmp_path / "a.npy"
    np.save(n, np.zeros(3))
    with pytest.raises(SerializationError, match=r"\.npy"):
        S.load_file(n)


def _file(header: dict, data: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


@pytest.mark.parametrize(
    "header, data, match",
    [
        (
            {"a": {"dtype": "F32", "shape": [10**9, 10**9], "data_offsets": [0, 8]}},
            b"\0" * 8,
            "needs",
        ),
        ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 10**12]}}, b"\0" * 8, "outside"),
        ({"a": {"dtype": "BF16", "shape": [1], "data_offsets": [0, 2]}}, b"\0\0", "not supported"),
        ({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\0" * 4, "shape"),
        ({"a": {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]}}, b"\0" * 8, "shape"),
        ({"a": {"dtype": "F32", "shape": [1]}}, b"\0" * 4, "bad entry"),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\0" * 8, "start"),
        ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\0" * 8, "cover"),
        ({"__metadata__": {"k": 1}}, b"", "metadata"),
        ([1, 2, 3], b"", "not a safetensors file"),
    ],
)
def test_malformed_headers_are_refused(tmp_path, header, data, match):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(_file(header, data))
    with pytest.raises(SerializationError, match=match):
        S.load_file(path)


def test_a_huge_header_size_is_refused_before_any_allocation(tmp_path):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(struct.pack("<Q", 2**62) + b"{}")
    with pytest.raises(SerializationError, match="claims"):
        S.load_file(path)


def test_deeply_nested_or_duplicated_json_is_refused(tmp_path):
    path = tmp_path / "bad.safetensors"
    raw = b'{"a": ' + b"[" * 100000 + b"]" * 100000 + b"}"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(SerializationError):
        S.load_file(path)
    raw = b'{"a": {"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}, "a": {}}'
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(SerializationError, match="duplicate"):
        S.load_file(path)


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope"):
        S.load_file(tmp_path / "nope.safetensors")
