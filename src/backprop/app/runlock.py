"""One process per run folder: an advisory lock, and run folders named atomically.

``train``, ``resume`` and every search trial hold the lock of their run folder for the whole
run; a second process that tries to work in the same folder is refused at once with a
:class:`RunLockedError` that names the holder's PID (the command line prints it on one line and
exits 2)::

    with RunLock(run_dir, "resume"):
        ...                           # nobody else writes here meanwhile

The lock is ``fcntl.flock`` on the file ``<run>/.lock``, which holds the holder's PID and
command while it is held (empty otherwise). The kernel releases a flock when its process ends,
however it ends (``kill -9`` included): a crashed run never leaves a stale lock behind, and the
file itself is harmless. A lock is per process and re-entrant (``resume`` holds it and calls
:func:`~backprop.app.runner.train_run`, which takes it again). In an MPI job only rank 0 locks
(it alone writes the run's files). Where ``fcntl`` does not exist (Windows) the lock does
nothing.

:func:`allocate_run_dir` creates a new folder with one ``os.mkdir`` per candidate name: two
processes that ask for the same name at the same moment get different folders (``NAME``,
``NAME-2``...), never the same one and never a ``FileExistsError``.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from pathlib import Path

from .errors import UsageError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "RunFolderError", "RunLockedError", "RunLock", "allocate_run_dir"]

LOCK_NAME = ".lock"
MAX_SUFFIX = 10_000  # NAME-2 ... NAME-10000: beyond that the folder is full of runs of one name

_held: dict[str, list] = {}  # real path of the run folder -> [descriptor, depth] (this process)
_held_guard = threading.Lock()


class RunFolderError(UsageError):
    """A run folder that cannot be used as asked (locked, of another run, edited): exit 2."""


class RunLockedError(RunFolderError):
    """Another process holds the run folder's lock.

    Attributes:
        run_dir: the run folder.
        pid: the holder's process id (None when it could not be read).
    """

    def __init__(self, run_dir: Path, pid: int | None, command: str = "") -> None:
        self.run_dir, self.pid = run_dir, pid
        who = f"process {pid}" if pid is not None else "another process (PID unknown)"
        doing = f" (backprop {command})" if command else ""
        super().__init__(
            f"{run_dir} is in use by {who}{doing}: one process per run folder; wait for it to "
            f"finish or stop it, then try again"
        )


def _secondary_rank() -> bool:
    """Whether this process is an MPI rank other than 0 (which alone writes the run's files)."""
    from ..distributed import _mpi

    if not _mpi.launched_by_mpi():
        return False
    from .. import distributed

    return distributed.rank() != 0


def _read_holder(fd: int) -> tuple[int | None, str]:
    """The PID and command written in the lock file (the holder writes them right after it
    locks, so an empty file is read again a few times)."""
    for _ in range(20):
        try:
            text = os.pread(fd, 200, 0).decode("ascii", "replace")
        except OSError:
            break
        pid, _, command = text.strip().partition(" ")
        if pid.isdigit():
            return int(pid), command.strip()[:40]
        time.sleep(0.01)
    return None, ""


def _open_lock_file(run_dir: Path) -> int:
    """Open (creating it) ``run_dir/.lock``: never through a symlink, never a hard link to a
    file elsewhere, only a regular file."""
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    where = run_dir / LOCK_NAME
    try:
        fd = os.open(where, flags, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise RunFolderError(f"{where} is a symlink: refusing to use it as the lock") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(fd)
        raise RunFolderError(
            f"{where} is not a plain file of this folder (a hard link or a device): refusing to "
            f"use it as the lock; remove it"
        )
    return fd


class RunLock:
    """The exclusive lock of one run folder, for this process (re-entrant).

    Args:
        run_dir: the run folder (it must exist).
        command: what the holder does (``"train"``, ``"resume"``...), shown to a refused process.

    Raises:
        RunLockedError: (on enter) another process holds it.
        RunFolderError: ``.lock`` is a symlink, a hard link or not a file.
    """

    def __init__(self, run_dir: str | os.PathLike, command: str = "") -> None:
        self.run_dir = Path(run_dir)
        self.command = command
        self._key: str | None = None

    def acquire(self) -> RunLock:
        if self._key is not None:
            raise RuntimeError(f"RunLock({self.run_dir}): already acquired by this object")
        if fcntl is None or _secondary_rank():
            self._key = ""
            return self
        key = os.path.realpath(self.run_dir)
        with _held_guard:
            if key in _held:
                _held[key][1] += 1
                self._key = key
                return self
            fd = _open_lock_file(self.run_dir)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as e:
                if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                pid, command = _read_holder(fd)
                os.close(fd)
                raise RunLockedError(self.run_dir, pid, command) from None
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()} {self.command}\n".encode("ascii", "replace"), 0)
            except OSError:
                pass  # a full disk: the lock holds all the same, only the PID goes unnamed
            _held[key] = [fd, 1]
            self._key = key
        return self

    def release(self) -> None:
        key, self._key = self._key, None
        if not key:
            return
        with _held_guard:
            entry = _held.get(key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del _held[key]
            fd = entry[0]
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            finally:
                os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def allocate_run_dir(parent: str | os.PathLike, name: str) -> Path:
    """Create and return a new folder ``parent/name`` (``name-2``, ``name-3``... when taken).

    Each candidate is created with one ``os.mkdir``, which fails if the name exists: the
    folder returned is this call's own, even when other processes ask for the same name at
    the same moment.

    Raises:
        RunFolderError: every name up to ``name-10000`` is taken.
        OSError: ``parent`` cannot be created or written.
    """
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    for k in range(1, MAX_SUFFIX + 1):
        path = parent / (name if k == 1 else f"{name}-{k}")
        try:
            os.mkdir(path)
        except FileExistsError:
            continue
        return path
    raise RunFolderError(
        f"{parent}: the names {name}, {name}-2 ... {name}-{MAX_SUFFIX} are all taken; choose "
        f"another --name"
    )
