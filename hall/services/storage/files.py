"""Writing files so that a crash, a full disk or a power cut never leaves half a file under the real name; and
whether another program has a SQLite file open (a restore or an encryption must not replace it from under it)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: Path, prefix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; once the body wrote it, it is synced and renamed over ``path``.

    On any error the temporary file is removed and the previous ``path`` (if any) is left as it was.
    """
    fd, tmp = tempfile.mkstemp(prefix=prefix or f".{path.stem}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# SQLite's "dead man switch" byte of the -shm file: every connection to a WAL database holds a shared lock on it
# for as long as it is open (sqlite3.c, UNIX_SHM_DMS = (22 + SQLITE_SHM_NLOCK) * 4 + SQLITE_SHM_NLOCK).
_SHM_DMS = (22 + 8) * 4 + 8


def in_use(path: Path) -> bool:
    """Whether another process has the SQLite database ``path`` open (POSIX: a lock on its ``-shm``). A restore
    must not move a file from under a running program, which would go on writing to the one moved aside. On
    Windows the move itself fails on an open file, with the OS's message."""
    shm = path.with_name(path.name + "-shm")
    if os.name != "posix" or not shm.exists():
        return False
    import fcntl

    try:
        fd = os.open(shm, os.O_RDWR)
    except OSError:
        return False
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS)
        except OSError:
            return True  # someone holds it shared: the database is open
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS)
        return False
    finally:
        os.close(fd)
