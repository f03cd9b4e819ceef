"""Downloading dataset files safely: mirrors in order, retries, checksums, bounded, atomic writes.

A file is streamed through :func:`backprop.fileio.atomic_write` into a temporary file *in the
destination folder* (created exclusively under a random name, never through a symlink), its
checksum is verified, it is flushed to disk (fsync), and only then renamed over the final name
(``os.replace``). An interrupted, truncated or corrupted download therefore never leaves a file
under the final name that a later run would load; the temporary file is removed on every failure
path, including Ctrl-C (a ``kill -9`` leaves one that :func:`backprop.fileio.
remove_stale_temporaries` deletes).

Every download is bounded by ``max_bytes`` (default :data:`MAX_DOWNLOAD_BYTES`, 4 GiB): a
``Content-Length`` above it is refused before a byte is written, and a body that runs past it
(or past its own ``Content-Length``) is cut off and refused.

Only the standard library's ``urllib`` is used; tqdm draws a progress bar when it is installed and
stderr is a terminal.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..fileio import atomic_write

__all__ = [
    "MAX_DOWNLOAD_BYTES",
    "DownloadError",
    "default_root",
    "download_url",
    "check_integrity",
    "file_digest",
]

_CHUNK = 1 << 20
_USER_AGENT = "backprop-data/0.1 (+urllib)"
# The largest file download_url accepts unless told otherwise (CIFAR-10's archive is 163 MB).
MAX_DOWNLOAD_BYTES = 4 << 30
# Seconds to wait before retry k (k = 0, 1, ...) is RETRY_DELAY * 2**k; tests set it to 0.
RETRY_DELAY = 1.0


class DownloadError(RuntimeError):
    """No URL gave a good copy of a file (offline, server down, bad checksum...)."""


class _Refused(Exception):
    """A copy that is certainly bad (checksum, size): not worth a retry on the same URL."""


def default_root() -> Path:
    """The cache folder for datasets: ``$BACKPROP_DATA`` if set, else ``~/.cache/backprop``."""
    env = os.environ.get("BACKPROP_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "backprop"


def file_digest(path: str | os.PathLike, algorithm: str = "md5") -> str:
    """The hex digest of a file (``"md5"``, ``"sha256"``...), read in 1 MiB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def check_integrity(
    path: str | os.PathLike, md5: str | None = None, sha256: str | None = None
) -> bool:
    """Whether ``path`` exists and matches every checksum given (True if none is given)."""
    path = Path(path)
    if not path.is_file():
        return False
    if md5 is not None and file_digest(path, "md5") != md5.lower():
        return False
    return sha256 is None or file_digest(path, "sha256") == sha256.lower()


def _is_transient(err: BaseException) -> bool:
    """Errors worth retrying on the same URL (as opposed to moving on to the next mirror)."""
    if isinstance(err, urllib.error.HTTPError):
        return err.code in (408, 425, 429) or err.code >= 500
    if isinstance(err, urllib.error.URLError):
        err = err.reason  # the socket-level error behind it
    if isinstance(err, (ConnectionRefusedError, socket.gaierror)):
        return False  # nothing listens there / unknown host (offline): fail fast, next mirror
    return isinstance(err, (TimeoutError, ConnectionError, http.client.HTTPException))


def _progress_bar(total: int | None, desc: str, enabled: bool | None):
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm  # optional; imported only when a bar is wanted
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, leave=False)


def _fetch(
    url: str, tmp, hashers, timeout: float, desc: str, progress: bool | None, max_bytes: int
) -> int:
    """Stream ``url`` into the open file ``tmp``; returns the byte count. Raises on any failure."""
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        length = resp.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise _Refused(
                f"the server announces {total:,} bytes, more than max_bytes={max_bytes:,}"
            )
        bar = _progress_bar(total, desc, progress)
        n = 0
        try:
            while chunk := resp.read(_CHUNK):
                n += len(chunk)
                if n > max_bytes:
                    raise _Refused(f"the body runs past max_bytes={max_bytes:,}")
                tmp.write(chunk)
                for h in hashers.values():
                    h.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if total is not None and n != total:
        raise http.client.IncompleteRead(b"", total - n)
    return n


def download_url(
    urls: str | Sequence[str],
    folder: str | os.PathLike,
    filename: str,
    *,
    md5: str | None = None,
    sha256: str | None = None,
    retries: int = 2,
    timeout: float = 30.0,
    progress: bool | None = None,
    max_bytes: int | None = None,
) -> Path:
    """Download one file to ``folder/filename``, trying each URL in order.

    Each URL is tried up to ``1 + retries`` times when the failure looks transient (timeouts,
    dropped connections, HTTP 5xx/429), with exponential back-off; a permanent failure (HTTP 404,
    unknown host, a checksum mismatch) moves on to the next URL at once. The data goes to a
    temporary file in ``folder`` that is verified, fsync'ed and atomically renamed, so the final
    name only ever holds a complete, verified file.

    Args:
        urls: the URL, or URLs tried in order (official source first, then mirrors).
        folder: destination folder (created if missing).
        filename: the final file name in ``folder``.
        md5: expected hex md5 of the file (as published), or None.
        sha256: expected hex sha256, or None.
        retries: extra attempts per URL on transient errors.
        timeout: socket timeout in seconds.
        progress: draw a tqdm bar (None: only when stderr is a terminal).
        max_bytes: the largest file accepted (None: :data:`MAX_DOWNLOAD_BYTES`); a larger one is
            refused from its ``Content-Length`` or cut off when it runs past.

    Returns:
        The path of the downloaded file.

    Raises:
        DownloadError: every URL failed; the message lists each URL with its error and says
            where to put the file by hand.
    """
    if isinstance(urls, str):
        urls = [urls]
    if not urls:
        raise ValueError(f"download_url: no URL given for {filename!r}")
    if retries < 0:
        raise ValueError(f"download_url: retries must be >= 0, got {retries}")
    max_bytes = MAX_DOWNLOAD_BYTES if max_bytes is None else max_bytes
    if max_bytes < 0:
        raise ValueError(f"download_url: max_bytes must be >= 0, got {max_bytes}")
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / filename
    expected = {k: v.lower() for k, v in (("md5", md5), ("sha256", sha256)) if v is not None}
    failures: list[str] = []
    for url in urls:
        for attempt in range(retries + 1):
            try:
                hashers = {k: hashlib.new(k) for k in expected}
                with atomic_write(final) as tmp:
                    _fetch(url, tmp, hashers, timeout, filename, progress, max_bytes)
                    bad = [k for k, h in hashers.items() if h.hexdigest() != expected[k]]
                    if bad:  # raised inside the block: the temporary is dropped, not renamed
                        got = ", ".join(
                            f"{k} {hashers[k].hexdigest()} != {expected[k]}" for k in bad
                        )
                        raise _Refused(f"checksum mismatch ({got})")
                return final
            except _Refused as err:
                failures.append(f"{url}: {err}")
                break  # a corrupt copy is not transient: try the next mirror
            except Exception as err:
                transient = _is_transient(err)
                if not transient or attempt == retries:
                    failures.append(f"{url}: {type(err).__name__}: {err}")
                    break
                time.sleep(RETRY_DELAY * 2**attempt)
    tried = "\n  ".join(failures)
    raise DownloadError(
        f"download_url: could not download {filename!r}; tried:\n  {tried}\n"
        f"If you are offline, download the file by hand from one of these URLs and put it in "
        f"{folder}"
    )
