"""Safe file writes: every writer of the library goes through :func:`atomic_write`.

A write never exposes a half-written file under its final name and never follows a planted
symlink:

1. the bytes go to a temporary file in the target's own folder (so the rename stays on one file
   system), created exclusively under a random name (``O_CREAT | O_EXCL | O_NOFOLLOW``, mode
   ``0o600``): a file or symlink an attacker planted under a guessable name is never opened;
2. the file is given the permissions an ordinary ``open(path, "w")`` would give it (``0o666`` less
   the umask), fsynced, and renamed over the final name (``os.replace``, atomic on POSIX). A
   symlink at the final name is *replaced* by the new file, never written through;
3. the folder is fsynced, so that the rename itself survives a power cut.

The temporary is created relative to one open descriptor of the folder (``openat``), so a folder
swapped for a symlink half-way cannot redirect the write. With ``within=root``, every folder between
``root`` and the target must be a real folder, not a symlink (a run folder whose ``plots/`` was
replaced by a link to ``/etc`` is refused with a :class:`UnsafePathError`).

A process killed with ``kill -9`` mid-write leaves the previous file intact and a temporary
``.NAME.PID-RANDOM.bptmp`` behind; :func:`remove_stale_temporaries` deletes those of processes
that are gone (it matches nothing else).

Only the standard library is used, so every layer (data, serialization, train, viz) can import it.

Example:
    >>> with atomic_write("runs/a/config.toml", "w", within="runs/a") as f:
    ...     f.write(text)
    >>> write_atomic("runs/a/results.json", json.dumps(results))
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import secrets
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = [
    "TEMP_SUFFIX",
    "UnsafePathError",
    "atomic_write",
    "write_atomic",
    "remove_stale_temporaries",
    "is_temporary",
]

TEMP_SUFFIX = ".bptmp"
# .<name, at most 100 characters>.<writer pid>-<16 hex digits>.bptmp; nothing else is ever removed.
_TEMP_RE = re.compile(r"^\.(?P<stem>.{1,100})\.(?P<pid>[0-9]{1,10})-[0-9a-f]{16}\.bptmp\Z", re.S)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation on the raw descriptor
_DIR_FD = os.open in os.supports_dir_fd and os.name == "posix"
_ATTEMPTS = 8  # fresh random names to try when one is already taken


class UnsafePathError(OSError):
    """A write would go through a symlinked folder (or a non-folder) below its trusted root."""

    def __init__(self, code: int, message: str, filename: str) -> None:
        super().__init__(code, message, filename)
        self.message = message

    def __str__(self) -> str:  # the message alone, without "[Errno N] ...: 'path'"
        return self.message


# ---------------------------------------------------------------------------------- helpers
_umask_lock = threading.Lock()
_umask_cache: int | None = None


def _umask() -> int:
    """The process umask, read without changing it where the system allows (Linux), else once."""
    global _umask_cache
    if _umask_cache is not None:
        return _umask_cache
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    with _umask_lock:  # os.umask can only be read by setting it: do it once, under a lock
        if _umask_cache is None:
            old = os.umask(0o077)
            os.umask(old)
            _umask_cache = old
    return _umask_cache


def _temp_name(name: str) -> str:
    return f".{name[:100]}.{os.getpid()}-{secrets.token_hex(8)}{TEMP_SUFFIX}"


def is_temporary(name: str) -> bool:
    """Whether ``name`` (a file name, not a path) is one of :func:`atomic_write`'s temporaries."""
    return _TEMP_RE.match(name) is not None


def _open_folder(folder: Path, within: Path | None, create: bool = True) -> int:
    """An open descriptor of ``folder``; below ``within``, no component may be a symlink."""
    flags = os.O_RDONLY | _DIRECTORY | _CLOEXEC
    if within is None:
        return os.open(folder, flags)
    root, parts = _below(folder, within)
    if create:
        root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root, flags)
    try:
        for i, part in enumerate(parts):
            try:
                new = _open_child(part, fd, flags | _NOFOLLOW, create)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    raise _unsafe(root.joinpath(*parts[: i + 1]), within, e.errno) from None
                raise
            os.close(fd)
            fd = new
    except BaseException:
        os.close(fd)
        raise
    return fd


def _below(folder: Path, within: Path) -> tuple[Path, tuple[str, ...]]:
    """``within`` as an absolute path, and the components that lead from it to ``folder``."""
    root = Path(os.path.abspath(within))
    try:
        return root, Path(os.path.abspath(folder)).relative_to(root).parts
    except ValueError:
        raise UnsafePathError(
            errno.EINVAL, f"atomic_write: {folder} is not inside {within}", str(folder)
        ) from None


def _unsafe(where: Path, within: Path, code: int) -> UnsafePathError:
    return UnsafePathError(
        code,
        f"atomic_write: refusing to write through {where}: it is a symlink or not a folder "
        f"(below {within}, every folder must be a real one)",
        str(where),
    )


def _open_child(part: str, fd: int, flags: int, create: bool) -> int:
    """Open (creating it if missing) the folder ``part`` inside the open folder ``fd``."""
    try:
        return os.open(part, flags, dir_fd=fd)
    except FileNotFoundError:
        if not create:
            raise
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            os.mkdir(part, 0o777, dir_fd=fd)
        return os.open(part, flags, dir_fd=fd)


def _check_no_links(folder: Path, within: Path) -> None:
    """Without ``openat`` (Windows): the same refusal, checked by path (racy but better)."""
    root, parts = _below(folder, within)
    for i in range(len(parts)):
        where = root.joinpath(*parts[: i + 1])
        if where.is_symlink() or (where.exists() and not where.is_dir()):
            raise _unsafe(where, within, errno.ELOOP)
    folder.mkdir(parents=True, exist_ok=True)


def _fsync_dir(dfd: int) -> None:
    with contextlib.suppress(OSError):  # some file systems cannot fsync a folder
        os.fsync(dfd)


def _unlink(name: str, dfd: int | None, folder: Path) -> None:
    with contextlib.suppress(OSError):
        if dfd is not None:
            os.unlink(name, dir_fd=dfd)
        else:
            os.unlink(folder / name)


def _create_temporary(name: str, folder: Path, dfd: int | None) -> tuple[str, int]:
    """Create a fresh temporary for ``name``: (its name, an open descriptor)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC | _BINARY
    for attempt in range(_ATTEMPTS):
        tmp = _temp_name(name)
        try:
            if dfd is not None:
                return tmp, os.open(tmp, flags, 0o600, dir_fd=dfd)
            return tmp, os.open(folder / tmp, flags, 0o600)
        except FileExistsError:
            # 64 random bits taken already: something was planted there. Never open it; draw
            # another name, and give up after a few (the folder is under attack).
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------- writing
@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike,
    mode: str = "wb",
    *,
    within: str | os.PathLike | None = None,
    encoding: str = "utf-8",
    newline: str | None = None,
) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing; on success it replaces ``path``.

    The body of the ``with`` writes to the returned file object; when the body ends without an
    exception the file is flushed, fsynced, renamed over ``path`` and the folder fsynced. On an
    exception (Ctrl-C included) the temporary is removed and ``path`` is left as it was.

    Args:
        path: the final file. Its folder is created if missing.
        mode: ``"wb"`` (bytes) or ``"w"`` (text).
        within: a trusted root folder (e.g. the run folder): every folder from it down to
            ``path``'s must be a real folder, not a symlink. None: the folder path is taken as
            given (symlinked folders are followed, as ``open`` does).
        encoding: for text mode.
        newline: for text mode, as in :func:`open`.

    Yields:
        The open temporary file.

    Raises:
        UnsafePathError: (an OSError) a symlinked folder below ``within``, or ``path`` outside it.
        OSError: the folder cannot be written (permissions, disk full...); nothing is changed.

    Example:
        >>> with atomic_write("runs/a/config.toml", "w") as f:
        ...     f.write(text)
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    folder, name = path.parent, path.name
    if not name or name in (".", ".."):
        raise ValueError(f"atomic_write: {path} does not name a file")
    within = None if within is None else Path(within)
    if within is None:
        folder.mkdir(parents=True, exist_ok=True)
    elif not _DIR_FD:
        _check_no_links(folder, within)
    dfd = _open_folder(folder, within) if _DIR_FD else None
    try:
        try:
            tmp, fd = _create_temporary(name, folder, dfd)
        except FileExistsError:
            raise  # every random name taken (planted): the message names the one tried last
        except OSError as e:  # a read-only folder or file system: name the file, not our temporary
            e.filename = str(path)
            raise
        try:
            raw = os.fdopen(fd, "wb")
            f = raw if mode == "wb" else io.TextIOWrapper(raw, encoding=encoding, newline=newline)
            with f:
                yield f
                f.flush()
                if hasattr(os, "fchmod"):
                    os.fchmod(raw.fileno(), 0o666 & ~_umask())
                os.fsync(raw.fileno())
            # By path: should the folder be swapped for a link meanwhile, both names resolve in
            # the new place, where our temporary is absent, and the rename fails harmlessly.
            os.replace(folder / tmp, path)
        except BaseException as e:
            _unlink(tmp, dfd, folder)
            if isinstance(e, OSError) and e.errno is not None and e.filename is None:
                e.filename = str(path)  # a failed write (a full disk) names the file it was for
            raise
        if dfd is not None:
            _fsync_dir(dfd)
    finally:
        if dfd is not None:
            os.close(dfd)


def write_atomic(
    path: str | os.PathLike,
    data: bytes | bytearray | memoryview | str | Callable[[IO[Any]], object],
    *,
    within: str | os.PathLike | None = None,
    encoding: str = "utf-8",
) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`).

    Args:
        path: the final file.
        data: bytes, a str (written as ``encoding``), or a callable that writes to the open
            binary file it is given (e.g. ``lambda f: fig.savefig(f, format="png")``).
        within: a trusted root folder, as for :func:`atomic_write`.
        encoding: for a str.
    """
    with atomic_write(path, "wb", within=within) as f:
        if callable(data):
            data(f)
        elif isinstance(data, str):
            f.write(data.encode(encoding))
        else:
            f.write(data)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process (or unknowable): leave its file alone
    return True


def remove_stale_temporaries(
    folder: str | os.PathLike, *, within: str | os.PathLike | None = None
) -> list[str]:
    """Delete the temporaries that crashed writers left in ``folder``; returns their names.

    Only names :func:`atomic_write` makes (``.NAME.PID-RANDOM.bptmp``) are considered, and only
    when the process that made them is gone (a live writer's file is never pulled from under it).
    Regular files and symlinks are unlinked (a symlink is removed, never followed); folders are
    left alone. Subfolders are not visited. A missing folder removes nothing.
    """
    folder = Path(folder)
    try:
        within = None if within is None else Path(within)
        dfd = _open_folder(folder, within, create=False) if _DIR_FD else None
    except FileNotFoundError:
        return []
    removed = []
    try:
        names = os.listdir(dfd if dfd is not None else folder)
        for name in sorted(names):
            m = _TEMP_RE.match(name)
            if m is None or _alive(int(m["pid"])):
                continue
            try:
                st = (
                    os.stat(name, dir_fd=dfd, follow_symlinks=False)
                    if dfd is not None
                    else (os.lstat(folder / name))
                )
            except FileNotFoundError:
                continue
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                continue
            try:
                if dfd is not None:
                    os.unlink(name, dir_fd=dfd)
                else:
                    os.unlink(folder / name)
            except FileNotFoundError:
                continue
            removed.append(name)
        if removed and dfd is not None:
            _fsync_dir(dfd)
    finally:
        if dfd is not None:
            os.close(dfd)
    return removed
