"""Fixtures for the data tests: the real MNIST folder, and a local HTTP server that misbehaves on
request (never the internet)."""

from __future__ import annotations

import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest

from backprop.data import download

MNIST_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "mnist"
MNIST_FILES = [
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The shared real-MNIST folder (skips with the reason when it is absent)."""
    if not all((MNIST_DIR / f).is_file() for f in MNIST_FILES):
        pytest.skip(f"real MNIST not found in {MNIST_DIR} (it ships with CI, not with a clone)")
    return MNIST_DIR


@pytest.fixture(autouse=True)
def _no_retry_wait(monkeypatch):
    """Retries in tests must not sleep."""
    monkeypatch.setattr(download, "RETRY_DELAY", 0.0)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves files of ``server.folder`` under a mode prefix: /good/, /corrupt/, /drop/,
    /flaky/ (a 503 on the first request of each file, then good) and /missing/ (404)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):  # noqa: N802 (the http.server name)
        _, mode, name = self.path.split("/", 2)
        self.server.hits.append(self.path)
        path = self.server.folder / name
        if mode == "missing" or not path.is_file():
            self.send_error(404)
            return
        if mode == "flaky" and self.server.hits.count(self.path) == 1:
            self.send_error(503)
            return
        body = path.read_bytes()
        if mode == "corrupt":
            body = body[:100] + bytes([body[100] ^ 0xFF]) + body[101:]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode == "drop":
            # Promise the whole file, send half, then hang up.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


class LocalServer:
    def __init__(self, folder: Path):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.folder = Path(folder)
        self.httpd.hits = []
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def hits(self) -> list[str]:
        return self.httpd.hits

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.port}/{mode}/"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    """``serve(folder)`` starts a local server for ``folder``; all are stopped at teardown."""
    servers = []

    def start(folder) -> LocalServer:
        s = LocalServer(folder)
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.close()


@pytest.fixture
def dead_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/good/"


@pytest.fixture
def mnist_copy(tmp_path, mnist_dir) -> Path:
    """A writable copy of the MNIST folder."""
    dst = tmp_path / "src"
    dst.mkdir()
    for f in MNIST_FILES:
        shutil.copy(mnist_dir / f, dst / f)
    return dst
