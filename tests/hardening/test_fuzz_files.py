"""Untrusted files: real files written by the project (checkpoints, a CIFAR-format archive, TOML
configs) and a prefix of the shared MNIST IDX files, mutated every way a download, a disk or a
stranger can: truncated at many offsets, random bit flips, wrong magic numbers, headers claiming
huge sizes, JSON metadata of the wrong type (with a valid checksum), a pickle that would run code,
and tar members with links or ``..`` in their names.

Every mutated file is either refused with a clear error of the reader's documented type, or (when
the mutation leaves a valid file, e.g. a flipped pixel in a format without a checksum) read as
what it now says; never another exception, never code execution, and the memory a read allocates
stays bounded by the file (tracemalloc peak < 10x the file size + a small constant), whatever the
header claims. Each test counts its cases and outcomes and checks the counts, so that a fuzz loop
that silently stops mutating fails.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle  # only to build the malicious payloads below; backprop itself never imports it
import random
import shutil
import struct
import tarfile
import tracemalloc
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import backprop as bp
from backprop import cli, nn, optim, serialization
from backprop.app import inputs
from backprop.app.config import ConfigError, load_config
from backprop.data import DataLoader, TensorDataset
from backprop.data.datasets.cifar import CIFAR10, read_cifar_bin
from backprop.data.datasets.mnist import MNIST
from backprop.data.idx import read_idx
from backprop.serialization import SerializationError
from backprop.train import Trainer
from backprop.train.checkpoint import CheckpointError, read_checkpoint

REPO = Path(__file__).resolve().parents[2]
MNIST_DIR = REPO.parent / "shared" / "data" / "mnist"
# Fixed costs of a read (JSON objects, error messages, first-use imports), far below what a lying
# header would make a naive reader allocate (gigabytes).
SLACK = 1 << 20


def _bounded(read, path: Path, slack: int = SLACK):
    """Run ``read(path)``; return (outcome, exception), checking the allocation peak."""
    size = path.stat().st_size
    if hasattr(read, "prepare"):  # building a model to load into is not the read's cost
        read.prepare()
    tracemalloc.start()
    try:
        read(path)
        outcome, err = "read", None
    except Exception as e:  # classified by the caller
        outcome, err = "refused", e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < 10 * size + slack, f"{path.name}: peak {peak:,} B for a {size:,} B file"
    if hasattr(read, "verify"):
        read.verify()
    return outcome, err


def _flip(data: bytes, rng: random.Random, lo: int = 0, hi: int | None = None) -> bytes:
    b = bytearray(data)
    i = rng.randrange(lo, len(b) if hi is None else hi)
    b[i] ^= 1 << rng.randrange(8)
    return bytes(b)


def _cut_offsets(n: int, dense: int = 64, spread: int = 200) -> list[int]:
    """Every offset below ``dense``, ``spread`` evenly spaced ones after, and the last 8."""
    offs = set(range(min(dense, n)))
    offs |= {int(v) for v in np.linspace(dense, n - 1, spread)}
    offs |= set(range(max(n - 8, 0), n))
    return sorted(o for o in offs if o < n)


# ------------------------------------------------------------------------------ malicious payload
class _Evil:
    """Unpickling this object opens (creates) the marker file: code execution, made visible."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _pickle_payloads(marker: Path) -> dict[str, bytes]:
    evil = _Evil(marker)
    legacy = pickle.dumps({"state_dict": evil}, protocol=2)
    zbuf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(zbuf, "w") as z:  # torch.save's layout: archive/data.pkl
        z.writestr("archive/data.pkl", pickle.dumps(evil, protocol=2))
        z.writestr("archive/version", "3\n")
    npbuf = io.BytesIO()
    np.save(npbuf, np.array([evil, 1], dtype=object), allow_pickle=True)
    return {
        "legacy.pt": legacy,
        "proto0.pkl": pickle.dumps(evil, protocol=0),
        "proto5.pkl": pickle.dumps(evil, protocol=5),
        "torchzip.pt": zbuf.getvalue(),
        "objects.npy": npbuf.getvalue(),
        "disguised.safetensors": legacy,
    }


def test_pickles_are_refused_and_never_executed(tmp_path, monkeypatch):
    live = tmp_path / "proof_the_payload_is_live"
    pickle.loads(pickle.dumps(_Evil(live)))  # the payload does run code when unpickled
    assert live.exists()
    marker = tmp_path / "PWNED"
    model = nn.Linear(2, 2)
    trainer = Trainer(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), verbose=0)
    readers = {
        "serialization.load": serialization.load,
        "serialization.load_file": serialization.load_file,
        "read_checkpoint": read_checkpoint,
        "Trainer.load_checkpoint": trainer.load_checkpoint,
    }
    outcomes = Counter()
    for name, payload in _pickle_payloads(marker).items():
        path = tmp_path / name
        path.write_bytes(payload)
        for reader_name, read in readers.items():
            outcome, err = _bounded(read, path)
            assert isinstance(err, SerializationError), (name, reader_name, err)
            if name != "objects.npy" and "disguised" not in name:
                assert "pickle" in str(err) or "zip" in str(err), str(err)
            outcomes[outcome] += 1
        # the command line: as a checkpoint and as an input array
        rc = cli.main(["predict", str(path), str(path)])
        assert rc == 1
        if name.endswith(".npy"):
            monkeypatch.chdir(tmp_path)
            with pytest.raises(cli.UsageError, match="Python objects"):
                inputs.load_npy(path)
        outcomes["cli"] += 1
    assert not marker.exists(), "a pickle payload ran"
    assert outcomes == {"refused": 24, "cli": 6}


# ------------------------------------------------------------------------------ checkpoints
def _trained(tmp_path) -> tuple[Path, callable]:
    """A real checkpoint (model, Adam state, StepLR, history, RNG) and a factory of fresh
    trainers of the same architecture."""

    def make():
        bp.manual_seed(0)
        m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        o = optim.Adam(m.parameters(), lr=0.01)
        s = optim.lr_scheduler.StepLR(o, 2)
        return Trainer(m, nn.CrossEntropyLoss(), o, scheduler=s, metrics=["accuracy"], verbose=0)

    t = make()
    x, y = bp.randn(16, 4), bp.tensor(np.arange(16) % 3)
    t.fit(DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True), epochs=1)
    path = tmp_path / "good.safetensors"
    t.save_checkpoint(path)
    return path, make


def _weights(trainer) -> list[np.ndarray]:
    return [p.data.copy() for p in trainer.model.parameters()]


class _load_into_fresh:  # noqa: N801 (used like a function)
    """A reader that loads into a fresh trainer and checks that a refusal changed nothing."""

    def __init__(self, make):
        self.make, self.trainer = make, None

    def prepare(self):
        self.trainer = self.make()
        self.before = _weights(self.trainer)
        self.opt_before = json.dumps(self.trainer.optimizer.state_dict(), default=str)

    def __call__(self, path):
        if self.trainer is None:
            self.prepare()
        self.used, self.trainer = self.trainer, None
        self.failed = True
        self.used.load_checkpoint(path)
        self.failed = False

    def verify(self):
        """After a refusal: the model, optimiser, epoch and history are as before."""
        t = self.used
        if self.failed:
            for a, b in zip(_weights(t), self.before):
                np.testing.assert_array_equal(a, b)
            assert json.dumps(t.optimizer.state_dict(), default=str) == self.opt_before
            assert t.epoch == 0 and len(t.history) == 0


def test_truncated_checkpoints_are_refused_at_every_offset(tmp_path):
    good, make = _trained(tmp_path)
    data = good.read_bytes()
    outcomes = Counter()
    bad = tmp_path / "cut.safetensors"
    read = _load_into_fresh(make)
    for cut in range(len(data)):  # every offset: the file is a few KB
        bad.write_bytes(data[:cut])
        if cut % 16 == 0:
            outcome, err = _bounded(read, bad)
        else:
            try:
                read(bad)
                outcome, err = "read", None
            except Exception as e:
                outcome, err = "refused", e
            read.verify()
        assert isinstance(err, CheckpointError), (cut, err)
        assert str(bad) in str(err)
        outcomes[outcome] += 1
    assert outcomes == {"refused": len(data)}


def test_bit_flipped_checkpoints_are_refused(tmp_path):
    good, make = _trained(tmp_path)
    data = good.read_bytes()
    rng = random.Random(0)
    outcomes = Counter()
    bad = tmp_path / "flipped.safetensors"
    read = _load_into_fresh(make)
    for i in range(400):
        bad.write_bytes(_flip(data, rng))
        outcome, err = _bounded(read, bad) if i % 8 == 0 else (None, None)
        if outcome is None:
            try:
                read(bad)
                outcome = "read"
            except Exception as e:
                outcome, err = "refused", e
            read.verify()
        assert isinstance(err, CheckpointError), err  # the checksum covers header and data
        outcomes[outcome] += 1
    assert outcomes == {"refused": 400}


def test_wrong_magic_and_lying_header_sizes_are_refused_before_allocating(tmp_path):
    good, make = _trained(tmp_path)
    data = good.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    cases = {
        "zip magic": b"PK\x03\x04" + data[4:],
        "npy magic": b"\x93NUMPY\x01\x00" + data[8:],
        "gzip magic": b"\x1f\x8b\x08\x00" + data[4:],
        "pickle magic": b"\x80\x04\x95\x00" + data[4:],
        "zero header": struct.pack("<Q", 0) + data[8:],
        "header 2**63": struct.pack("<Q", 1 << 63) + data[8:],
        "header 2**40": struct.pack("<Q", 1 << 40) + data[8:],
        "header = file size": struct.pack("<Q", len(data)) + data[8:],
        "header - 1": struct.pack("<Q", n - 1) + data[8:],
        "empty": b"",
        "8 zero bytes": b"\0" * 8,
        "random bytes": bytes(random.Random(1).randrange(256) for _ in range(4096)),
    }
    # A header claiming a huge tensor (with a valid checksum: crafted, not corrupted).
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__")
    name = sorted(header)[0]
    for label, shape, offs in [
        ("huge shape", [1 << 40, 1 << 20], [0, (1 << 62)]),
        ("negative dim", [-1, 8], [0, 32]),
        ("65 dims", [1] * 65, [0, 4]),
        ("float dim", [8.0], [0, 32]),
        ("offsets past the end", [8], [len(data), len(data) + 32]),
        ("unknown dtype", None, None),
    ]:
        h = json.loads(json.dumps(header))
        if shape is None:
            h[name]["dtype"] = "BF16"
        else:
            h[name]["shape"], h[name]["data_offsets"] = shape, offs
        raw = json.dumps({**h, "__metadata__": meta}).encode()
        cases[label] = struct.pack("<Q", len(raw)) + raw + data[8 + n :]
    outcomes = Counter()
    bad = tmp_path / "bad.safetensors"
    for label, blob in cases.items():
        bad.write_bytes(blob)
        for read in (serialization.load, read_checkpoint, _load_into_fresh(make)):
            outcome, err = _bounded(read, bad)
            assert isinstance(err, SerializationError), (label, err)
            outcomes[outcome] += 1
    assert outcomes == {"refused": 3 * len(cases)}


def _retree(good: Path, out: Path, edit) -> None:
    """Re-save ``good`` with its JSON tree edited by ``edit`` (a valid checksum: the file is
    crafted, as a stranger's would be, not corrupted)."""
    tensors = serialization.load_file(good)
    meta = serialization.read_metadata(good)
    tree = json.loads(meta["backprop.tree"])
    new = edit(tree)
    raw = new if isinstance(new, str) else json.dumps(new)
    serialization.save_file(tensors, out, {"format": meta["format"], "backprop.tree": raw})


def _set(path: str, value):
    def edit(tree):
        node = tree
        keys = path.split("/")
        for k in keys[:-1]:
            node = node[int(k)] if isinstance(node, list) else node[k]
        last = keys[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
        return tree

    return edit


WRONG_TYPES = {
    "format_version str": _set("format_version", "1"),
    "format_version bool": _set("format_version", True),
    "format_version future": _set("format_version", 99),
    "epoch float": _set("epoch", 1.5),
    "epoch negative": _set("epoch", -3),
    "global_step list": _set("global_step", [1]),
    "model not a dict": _set("model", [1, 2]),
    "model entry a number": _set("model/0.weight", 3.0),
    "model entry a string": _set("model/0.weight", "weights"),
    "model entry missing tensor": _set("model/0.weight", {"__tensor__": "t.nothing"}),
    "metadata a list": _set("metadata", []),
    "optimizer_class int": _set("optimizer_class", 5),
    "optimizer_class other": _set("optimizer_class", "SGD"),
    "optimizer a string": _set("optimizer", "adam"),
    "optimizer no groups": _set("optimizer/param_groups", None),
    "optimizer group a list": _set("optimizer/param_groups/0", [1]),
    "optimizer lr a string": _set("optimizer/param_groups/0/lr", "fast"),
    "optimizer lr negative": _set("optimizer/param_groups/0/lr", -1.0),
    "optimizer params not ints": _set("optimizer/param_groups/0/params", ["a", "b", "c", "d"]),
    "optimizer too many params": _set("optimizer/param_groups/0/params", [0, 1, 2, 3, 4]),
    "optimizer state a list": _set("optimizer/state", [1]),
    "optimizer moment shape": lambda t: _set(
        "optimizer/state/__items__/0/1/exp_avg", {"__ndarray__": "t.model.2.bias"}
    )(t),
    "optimizer state entry a number": _set("optimizer/state/__items__/0/1", 7),
    "items with a list key": _set("optimizer/state/__items__/0/0", [0]),
    "items with a dict key": _set("optimizer/state/__items__/0/0", {"k": 0}),
    "items not pairs": _set("optimizer/state/__items__/0", [0, 1, 2]),
    "scheduler a list": _set("scheduler", [1]),
    "scheduler None": _set("scheduler", None),
    "scheduler field wrong type": _set("scheduler/last_epoch", "one"),
    "rng a string": _set("rng", "seed"),
    "rng state garbage": _set("rng/backprop", {"bit_generator": "PCG64", "state": 5}),
    "rng unknown generator": _set("rng/backprop/bit_generator", "Evil"),
    "trainer a list": _set("trainer", [1]),
    "history rows not dicts": _set("trainer/history/rows", [1]),
    "history lengths differ": _set("trainer/history/epoch", [0, 1, 2]),
    "history epoch a string": _set("trainer/history/epoch", "0"),
    "callbacks a list": _set("trainer/callbacks", [1]),
    "partial garbage": _set("trainer/partial", {"batch": "two"}),
    "partial batch 0": _set(
        "trainer/partial",
        {"batch": 0, "rng_epoch_start": {"backprop": {}}, "loss": {}, "metrics": []},
    ),
    "tuple tag not a list": _set("optimizer/param_groups/0/betas", {"__tuple__": 5}),
    "float tag unknown": _set("optimizer/param_groups/0/eps", {"__float__": "1e999"}),
    "tree not an object": lambda t: [t],
    "tree a number": lambda t: 12,
    "tree null": lambda t: None,
    "tree invalid JSON": lambda t: json.dumps(t)[:-5],
    "tree nested 100000 deep": lambda t: "[" * 100000 + "]" * 100000,
    "tree nested 900 deep": lambda t: "[" * 900 + "]" * 900,
    "tree NaN": lambda t: "NaN",
}


def test_json_metadata_of_the_wrong_type_is_refused_and_changes_nothing(tmp_path):
    good, make = _trained(tmp_path)
    outcomes = Counter()
    bad = tmp_path / "crafted.safetensors"
    for label, edit in WRONG_TYPES.items():
        _retree(good, bad, edit)
        outcome, err = _bounded(_load_into_fresh(make), bad)
        assert isinstance(err, CheckpointError), (label, type(err), err)
        assert str(bad) in str(err), (label, err)
        outcomes[outcome] += 1
    # the unedited tree, re-saved the same way, loads: the refusals above are the edits' doing
    _retree(good, bad, lambda t: t)
    _load_into_fresh(make)(bad)
    assert outcomes == {"refused": len(WRONG_TYPES)}


def test_the_command_line_refuses_crafted_checkpoint_metadata(tmp_path, capsys):
    """``backprop predict`` trusts a checkpoint's metadata to rebuild the model and read its
    inputs; crafted metadata is refused (exit 1, one line, no traceback)."""
    from backprop.app.runner import load_model

    model_dir = tmp_path / "run"
    rc = cli.main(["train", "--set", "epochs=1", "--set", "dataset.limit=64", "--set",
                   f"out_dir={model_dir}", "--set", "name=r", "-q"])  # fmt: skip
    assert rc == 0
    good = model_dir / "r" / "checkpoints" / "last.safetensors"
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((1, 8, 8), np.float32))
    edits = {
        "data a string": _set("metadata/data", "digits"),
        "input_shape a number": _set("metadata/data/input_shape", 64),
        "input_shape negative": _set("metadata/data/input_shape", [1, -8, 8]),
        "input_shape huge": _set("metadata/data/input_shape", [1, 1 << 40, 8]),
        "classes numbers": _set("metadata/data/classes", [1, 2]),
        "classes too few": _set("metadata/data/classes", ["a"]),
        "num_classes a string": _set("metadata/data/num_classes", "ten"),
        "mean without std": _set("metadata/data/std", None),
        "std zero": _set("metadata/data/std", 0.0),
        "mean a string": _set("metadata/data/mean", "zero"),
        "raw_max negative": _set("metadata/data/raw_max", -1),
        "model options a list": _set("metadata/model/options", [1]),
        "model options bogus": _set("metadata/model/options", {"bogus": 1}),
        "model options negative": _set("metadata/model/options", {"channels": [-4, 8]}),
        "config a list": _set("metadata/config", []),
        "config bad value": _set("metadata/config/epochs", "many"),
        "config unknown model": _set("metadata/config/model/name", "nosuch"),
    }
    outcomes = Counter()
    for label, edit in edits.items():
        bad = tmp_path / "bad.safetensors"
        _retree(good, bad, edit)
        capsys.readouterr()
        rc = cli.main(["predict", str(bad), str(x)])
        err = capsys.readouterr().err
        assert rc == 1, (label, rc, err)
        assert err.startswith("backprop: error: ") and "Traceback" not in err, (label, err)
        with pytest.raises(CheckpointError):
            if label != "classes too few":
                load_model(bad)
            else:
                raise CheckpointError("(checked at prediction time)")
        outcomes["refused"] += 1
    assert outcomes["refused"] == len(edits)


# ------------------------------------------------------------------------------ IDX (MNIST)
@pytest.fixture(scope="module")
def mnist_prefix(tmp_path_factory):
    """The first 64 test images and labels of the real MNIST files, as IDX files (gz and raw)."""
    if not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"real MNIST not found at {MNIST_DIR} (present in CI beside the checkout)")
    out = tmp_path_factory.mktemp("mnist")
    n = 64
    with gzip.open(MNIST_DIR / "t10k-images-idx3-ubyte.gz") as f:
        head = f.read(16)
        images = f.read(n * 784)
    with gzip.open(MNIST_DIR / "t10k-labels-idx1-ubyte.gz") as f:
        lhead = f.read(8)
        labels = f.read(n)
    img = head[:4] + struct.pack(">I", n) + head[8:16] + images
    lab = lhead[:4] + struct.pack(">I", n) + labels
    (out / "t10k-images-idx3-ubyte").write_bytes(img)
    (out / "t10k-labels-idx1-ubyte").write_bytes(lab)
    (out / "images.gz").write_bytes(gzip.compress(img, mtime=0))
    (out / "labels.gz").write_bytes(gzip.compress(lab, mtime=0))
    expected = MNIST(root=out, train=False)
    assert len(expected) == n
    return out, img, lab


def _classify_idx(read, path, original: np.ndarray | None):
    outcome, err = _bounded(read, path)
    if err is not None:
        assert isinstance(err, ValueError), (type(err), err)
        assert str(path) in str(err) or path.name in str(err), err
        return "refused"
    arr = read(path)
    if original is not None and arr.shape == original.shape and np.array_equal(arr, original):
        return "read: identical"
    return "read: other values"


def test_idx_files_mutated_every_way(mnist_prefix, tmp_path):
    folder, img, lab = mnist_prefix
    original = read_idx(folder / "t10k-images-idx3-ubyte")
    rng = random.Random(0)
    outcomes: dict[str, Counter] = {}
    bad = tmp_path / "bad-idx"
    for kind, data in [("raw", img), ("gz", (folder / "images.gz").read_bytes())]:
        c = outcomes.setdefault(kind, Counter())
        for cut in _cut_offsets(len(data)):
            bad.write_bytes(data[:cut])
            c["truncated: " + _classify_idx(read_idx, bad, original)] += 1
        for _ in range(300):
            bad.write_bytes(_flip(data, rng))
            c["flipped: " + _classify_idx(read_idx, bad, original)] += 1
        if kind == "raw":
            for bit in range(16 * 8):  # every bit of the header
                b = bytearray(data)
                b[bit // 8] ^= 1 << (bit % 8)
                bad.write_bytes(bytes(b))
                c["header bit: " + _classify_idx(read_idx, bad, original)] += 1
    # lying headers, wrong magic, a gzip bomb
    lying = {
        "magic 0x0803 -> 0x0903 (int8)": b"\x00\x00\x09\x03" + img[4:],
        "magic float64": b"\x00\x00\x0e\x03" + img[4:],
        "magic bad type": b"\x00\x00\x07\x03" + img[4:],
        "magic 9 dims": b"\x00\x00\x08\x09" + img[4:],
        "magic nonzero": b"\x01\x00\x08\x03" + img[4:],
        "count 2**32-1": img[:4] + b"\xff\xff\xff\xff" + img[8:],
        "all dims 2**32-1": img[:4] + b"\xff" * 12 + img[16:],
        "dims 0": img[:4] + b"\x00" * 12 + img[16:],
        "pickle": pickle.dumps(original),
        "npy": b"\x93NUMPY\x01\x00" + img[8:],
    }
    for blob in lying.values():
        for content in (blob, gzip.compress(blob, mtime=0)):
            bad.write_bytes(content)
            outcomes.setdefault("crafted", Counter())[_classify_idx(read_idx, bad, original)] += 1
    bomb = gzip.compress(img[:16] + b"\0" * (64 << 20), mtime=0)  # 64 MiB of zeros: ~64 KB
    bad.write_bytes(bomb)
    outcome = _classify_idx(read_idx, bad, original)  # bounded: stops at 1 byte past the header's
    outcomes["crafted"]["gzip bomb: " + outcome] += 1
    assert outcome == "refused"
    raw, gz, crafted = outcomes["raw"], outcomes["gz"], outcomes["crafted"]
    # Truncation is always detected (the header fixes the size); gzip's CRC catches flips
    # except in header fields that do not matter (mtime, OS); a raw IDX file has no checksum,
    # so a flipped pixel is read as such, but every header flip is refused or harmless.
    assert set(raw) <= {"truncated: refused", "flipped: refused", "flipped: read: other values",
                        "header bit: refused", "header bit: read: other values"}  # fmt: skip
    assert raw["truncated: refused"] == len(_cut_offsets(len(img)))
    gz_size = (folder / "images.gz").stat().st_size
    assert gz["truncated: refused"] == len(_cut_offsets(gz_size))
    assert gz["flipped: read: other values"] == 0
    assert crafted["refused"] >= 2 * len(lying) - 2  # int8/float64 reinterpretations may parse
    print("\nIDX outcomes:", {k: dict(v) for k, v in outcomes.items()})


def test_mnist_dataset_refuses_bad_label_files(mnist_prefix, tmp_path):
    folder, img, lab = mnist_prefix
    cases = {
        "label 10": lab[:8] + bytes([10]) + lab[9:],
        "label 255": lab[:8] + bytes([255]) + lab[9:],
        "fewer labels": lab[:4] + struct.pack(">I", 63) + lab[8:-1],
        "int32 labels": b"\x00\x00\x0c\x01" + struct.pack(">I", 16) + b"\0" * 64,
        "2-D labels": b"\x00\x00\x08\x02" + struct.pack(">II", 8, 8) + lab[8:],
    }
    outcomes = Counter()
    for blob in cases.values():
        shutil.copy(folder / "t10k-images-idx3-ubyte", tmp_path / "t10k-images-idx3-ubyte")
        (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(blob)
        with pytest.raises(ValueError, match="MNIST: .*t10k-labels") as info:
            MNIST(root=tmp_path, train=False)
        assert "Traceback" not in str(info.value)
        outcomes["refused"] += 1
    assert outcomes["refused"] == len(cases)


# ------------------------------------------------------------------------------ CIFAR-10
def _cifar_tar(path: Path, extra: list[tuple[tarfile.TarInfo, bytes | None]] = (), n: int = 4):
    """A CIFAR-10 binary archive in the official layout, with ``n`` records per batch."""
    rng = np.random.default_rng(0)
    names = [f"data_batch_{k}.bin" for k in range(1, 6)] + ["test_batch.bin"]
    with tarfile.open(path, "w:gz") as tar:
        for name in names:
            rec = np.concatenate(
                [rng.integers(0, 10, (n, 1)), rng.integers(0, 256, (n, 3072))], axis=1
            ).astype(np.uint8)
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = rec.nbytes
            tar.addfile(info, io.BytesIO(rec.tobytes()))
        for info, data in extra:
            tar.addfile(info, None if data is None else io.BytesIO(data))


def _member(name, kind="file", target="", data=b"x" * 3073):
    info = tarfile.TarInfo(name)
    if kind == "file":
        info.size = len(data)
        return info, data
    info.type = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE,
                 "device": tarfile.CHRTYPE, "fifo": tarfile.FIFOTYPE}[kind]  # fmt: skip
    info.linkname = target
    return info, None


TAR_SLACK = 3 << 20  # + tarfile's and gzip's buffers and the 1 MiB extraction chunk


def _read_cifar_archive(archive: Path):
    return CIFAR10(root=archive.parent, train=False)


def test_cifar_archives_with_traversal_or_links_are_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    wanted = "cifar-10-batches-bin/test_batch.bin"
    evil = {
        "dot-dot name": [_member("../outside/evil.bin")],
        "nested dot-dot": [_member("cifar-10-batches-bin/../../outside/evil.bin")],
        "absolute path": [_member(str(outside / "evil.bin"))],
        "windows drive": [_member("C:\\outside\\evil.bin")],
        "backslash dot-dot": [_member("..\\outside\\evil.bin")],
        "symlink to outside": [_member("cifar-10-batches-bin/link", "symlink", str(outside))],
        "symlink named as wanted": [_member(wanted + ".x", "symlink", "/etc/passwd")],
        "hardlink to /etc/passwd": [_member("cifar-10-batches-bin/h", "hardlink", "/etc/passwd")],
        "device node": [_member("cifar-10-batches-bin/dev", "device")],
        "fifo": [_member("cifar-10-batches-bin/fifo", "fifo")],
    }
    outcomes = Counter()
    for i, (label, extra) in enumerate(evil.items()):
        root = tmp_path / f"case{i}"
        root.mkdir()
        _cifar_tar(root / "cifar-10-binary.tar.gz", extra)
        outcome, err = _bounded(_read_cifar_archive, root / "cifar-10-binary.tar.gz", TAR_SLACK)
        assert isinstance(err, ValueError), (label, err)
        assert "refusing to extract" in str(err) and repr(extra[0][0].name) in str(err), str(err)
        outcomes[outcome] += 1
        # nothing escaped, and nothing was extracted from the refused archive
        assert list(outside.iterdir()) == [], label
        assert not (root / "cifar-10-batches-bin" / "test_batch.bin").exists(), label
    assert outcomes == {"refused": len(evil)}
    # the same archive without the evil member extracts and reads
    root = tmp_path / "clean"
    root.mkdir()
    _cifar_tar(root / "cifar-10-binary.tar.gz")
    assert len(_read_cifar_archive(root / "cifar-10-binary.tar.gz")) == 4


def test_cifar_archives_truncated_or_flipped_are_refused(tmp_path):
    src = tmp_path / "src.tar.gz"
    _cifar_tar(src)
    data = src.read_bytes()
    root = tmp_path / "root"
    rng = random.Random(0)
    outcomes = Counter()
    reference = None

    def attempt(blob: bytes, what: str):
        nonlocal reference
        if root.exists():
            shutil.rmtree(root)
        root.mkdir()
        archive = root / "cifar-10-binary.tar.gz"
        archive.write_bytes(blob)
        outcome, err = _bounded(_read_cifar_archive, archive, TAR_SLACK)
        if err is not None:
            assert isinstance(err, ValueError), (what, type(err), err)
            assert "CIFAR10" in str(err), err
            outcomes[f"{what}: refused"] += 1
            return
        ds = _read_cifar_archive(archive)
        same = reference is not None and np.array_equal(ds.data, reference)
        outcomes[f"{what}: read {'identical' if same else 'other values'}"] += 1

    attempt(data, "original")
    reference = _read_cifar_archive(root / "cifar-10-binary.tar.gz").data
    for cut in _cut_offsets(len(data), dense=32, spread=120):
        attempt(data[:cut], "truncated")
    for _ in range(150):
        attempt(_flip(data, rng), "flipped")
    assert outcomes["truncated: refused"] == len(_cut_offsets(len(data), dense=32, spread=120))
    # gzip's CRC32 and tar's header checksums: a flip is refused, or lands in a field that
    # changes nothing read (the gzip mtime, padding, a tar mode bit)
    assert outcomes["flipped: read other values"] == 0
    assert outcomes["flipped: refused"] >= 120
    print("\nCIFAR archive outcomes:", dict(outcomes))


def test_cifar_batch_files_of_the_wrong_size_or_labels_are_refused(tmp_path):
    rec = np.zeros((3, 3073), np.uint8)
    cases = {
        "empty": b"",
        "one byte short": rec.tobytes()[:-1],
        "one byte long": rec.tobytes() + b"\0",
        "label 10": bytes([10]) + rec.tobytes()[1:],
        "label 255": bytes([255]) + rec.tobytes()[1:],
        "pickle (python version)": pickle.dumps({"data": rec}),
    }
    outcomes = Counter()
    for blob in cases.values():
        p = tmp_path / "test_batch.bin"
        p.write_bytes(blob)
        outcome, err = _bounded(read_cifar_bin, p)
        assert isinstance(err, ValueError) and "CIFAR10" in str(err) and str(p) in str(err), err
        outcomes[outcome] += 1
    assert outcomes == {"refused": len(cases)}


# ------------------------------------------------------------------------------ TOML configs
def _classify_config(path: Path) -> str:
    outcome, err = _bounded(load_config, path)
    if err is None:
        return "valid config"
    assert isinstance(err, ConfigError), (type(err), err)
    assert str(path) in str(err), err
    return "refused"


def test_mutated_toml_configs_are_refused_or_valid(tmp_path):
    text = (REPO / "examples" / "lenet5_mnist.toml").read_bytes()
    load_config(REPO / "examples" / "lenet5_mnist.toml")  # imports the zoo: not a read's cost
    rng = random.Random(0)
    bad = tmp_path / "config.toml"
    outcomes = Counter()
    for cut in _cut_offsets(len(text), dense=32, spread=120):
        bad.write_bytes(text[:cut])
        outcomes["truncated: " + _classify_config(bad)] += 1
    for _ in range(250):
        bad.write_bytes(_flip(text, rng))
        outcomes["flipped: " + _classify_config(bad)] += 1
    crafted = {
        "epochs a string": b'epochs = "3"\n',
        "epochs a float": b"epochs = 2.5\n",
        "epochs negative": b"epochs = -1\n",
        "model a number": b"model = 5\n",
        "model name a list": b"[model]\nname = ['lenet5']\n",
        "dataset a string": b'dataset = "mnist"\n',
        "augment a string": b'[dataset]\naugment = "random_shift"\n',
        "augment bad option": b'[dataset]\naugment = [{name = "random_shift", max_shift = "x"}]\n',
        "lr a table": b"[optimizer]\nlr = {value = 1}\n",
        "lr nan": b"[optimizer]\nlr = nan\n",
        "lr inf": b"[optimizer]\nlr = inf\n",
        "metrics a number": b"metrics = 3\n",
        "unknown key": b"epoch = 3\n",
        "name traversal": b'name = "../../etc"\n',
        "nested 100000 deep": b"x = " + b"[" * 100000 + b"]" * 100000 + b"\n",
        "nested 500 deep option": b"[model]\nname = 'mlp'\nsizes = " + b"[" * 500 + b"]" * 500,
        "binary garbage": bytes(rng.randrange(256) for _ in range(2000)),
        "invalid UTF-8": b'name = "\xff\xfe"\n',
        "NUL bytes": b"epochs = 1\0\n",
        "huge string": b'name = "' + b"a" * 200_000 + b'"\n',
    }
    results = {}
    for label, blob in crafted.items():
        bad.write_bytes(blob)
        results[label] = _classify_config(bad)
    assert {k: v for k, v in results.items() if v != "refused"} == {}
    outcomes["crafted: refused"] += len(results)
    assert outcomes["truncated: refused"] + outcomes["truncated: valid config"] == len(
        _cut_offsets(len(text), dense=32, spread=120)
    )
    assert outcomes["crafted: refused"] == len(crafted)
    # A flip in a comment, or one digit of a number, leaves a valid config; the rest break the
    # TOML, a key or a name. Both kinds occur.
    assert outcomes["flipped: refused"] + outcomes["flipped: valid config"] == 250
    assert outcomes["flipped: refused"] > 80 and outcomes["flipped: valid config"] > 20
    print("\nTOML outcomes:", dict(outcomes))


# ------------------------------------------------------------------------------ .npy inputs
def test_npy_inputs_for_predict_are_checked_before_allocating(tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.arange(3 * 64, dtype=np.float32).reshape(3, 1, 8, 8))
    data = buf.getvalue()
    rng = random.Random(0)
    bad = tmp_path / "x.npy"
    outcomes = Counter()

    def classify(blob: bytes, what: str):
        bad.write_bytes(blob)
        outcome, err = _bounded(inputs.load_npy, bad)
        if err is not None:
            assert isinstance(err, cli.UsageError) and str(bad) in str(err), (what, err)
        outcomes[f"{what}: {outcome}"] += 1

    for cut in _cut_offsets(len(data)):
        classify(data[:cut], "truncated")
    for _ in range(300):
        classify(_flip(data, rng, hi=128), "header flipped")  # the data has no checksum
    header = data[:128].decode("latin1")
    for label, shape in [("huge", "(1099511627776, 8, 8)"), ("negative", "(-1, 8)"),
                         ("float", "(2.5,)"), ("nested", "((1,),)")]:  # fmt: skip
        h = header.replace("(3, 1, 8, 8)", shape)
        h = h[:-1].ljust(127) + "\n"
        classify(h.encode("latin1")[:128] + data[128:], f"shape {label}")
    assert outcomes["truncated: refused"] == len(_cut_offsets(len(data))) - 0
    assert outcomes["shape huge: refused"] == 1
    assert sum(v for k, v in outcomes.items() if k.startswith("header")) == 300
    print("\n.npy outcomes:", dict(outcomes))
