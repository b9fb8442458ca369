"""One holder at a time, across processes and PCs, for a job that must not run twice at once on one ledger.

On a hall server the claim is a PostgreSQL session advisory lock on a connection of its own; on a SQLite ledger it
is an OS lock on a small file beside the database (``flock`` on POSIX, ``msvcrt.locking`` on Windows) — the file is
always on a local disk (a network share is refused when the ledger is opened), so every program on the PC sees it.
Either is let go by the server or the OS when the holder's process dies, so a PC switched off mid-run never
leaves a stale claim behind.

The holder writes who it is (PC name, process, since when) where the others can read it: the advisory lock
connection's ``application_name``, or the lock file's first bytes. A job that finds the claim taken is told that,
so it can skip and say who runs it instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger("hall.runlock")

_WINDOWS_LOCK_OFFSET = 1 << 20  # msvcrt locks a byte range: one far past the holder's note, so the note stays
#                                 readable by the others while the lock is held


@dataclass(frozen=True)
class Holder:
    """Who holds a claim: the PC's name, its process id and since when (as far as the claim tells)."""

    host: str
    pid: int | None = None
    since: datetime | None = None

    def describe(self) -> str:
        """For a person: "电脑 主任室（09:02 起）"."""
        when = f"（{self.since:%H:%M} 起）" if self.since is not None else ""
        return f"电脑 {self.host or '（未知）'}{when}"

    def note(self, what: str) -> str:
        """One line, host last: PostgreSQL keeps 63 bytes of an application_name, so a long name is cut there."""
        since = self.since.isoformat(timespec="minutes") if self.since else ""
        return f"hall-{what}|{self.pid or ''}|{since}|{self.host}"

    @classmethod
    def from_note(cls, raw: str) -> Holder | None:
        parts = raw.strip().split("|", 3)
        if len(parts) != 4 or not parts[0].startswith("hall-"):
            return None
        pid, since, host = parts[1:]
        try:
            return cls(host, int(pid) if pid else None, datetime.fromisoformat(since) if since else None)
        except ValueError:
            return None


@dataclass
class Claim:
    """The outcome of :func:`exclusive`: ``held`` when this process has it, else ``holder`` (if known)."""

    held: bool
    holder: Holder | None = None


def me() -> Holder:
    return Holder(socket.gethostname(), os.getpid(), datetime.now().replace(microsecond=0))


@contextlib.contextmanager
def exclusive(engine: Engine, name: str, key: int) -> Iterator[Claim]:
    """Try to claim ``name`` (``key``: its 63-bit advisory lock number on PostgreSQL) without waiting; the claim
    lasts until the block ends. Yields a :class:`Claim` — check ``held`` before doing the work."""
    if engine.dialect.name == "postgresql":
        with _pg_claim(engine, name, key) as claim:
            yield claim
    elif engine.dialect.name == "sqlite" and engine.url.database:
        with _file_claim(Path(engine.url.database).with_name(Path(engine.url.database).name + f".{name}.lock"),
                         name) as claim:
            yield claim
    else:  # pragma: no cover - only SQLite files and PostgreSQL are ever opened
        yield Claim(True)


@contextlib.contextmanager
def _pg_claim(engine: Engine, name: str, key: int) -> Iterator[Claim]:
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        if not got:
            holder = _pg_holder(conn, key)
            conn.commit()
            yield Claim(False, holder)
            return
        # Who holds it, for the others to read in pg_stat_activity (this connection's name, until it is closed).
        conn.execute(text("SELECT set_config('application_name', :n, false)"), {"n": me().note(name)})
        conn.commit()
        try:
            yield Claim(True)
        finally:
            with contextlib.suppress(Exception):  # a lost connection has let the lock go already
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.execute(text("SELECT set_config('application_name', '', false)"))
                conn.commit()


def _pg_holder(conn: Any, key: int) -> Holder | None:
    """The holder of advisory lock ``key``: its connection's note, else the address it connected from."""
    hi, lo = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    row = conn.execute(text(
        "SELECT a.application_name, host(a.client_addr), a.backend_start FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
        "AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1 AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1"), {"hi": hi, "lo": lo}).first()
    if row is None:
        return None
    # application_name is cut at 63 bytes: the note may be partial, then the host it came from tells.
    return Holder.from_note(row[0] or "") or Holder(row[1] or "", None, None)


@contextlib.contextmanager
def _file_claim(path: Path, name: str) -> Iterator[Claim]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(path, "a+b")  # noqa: SIM115 - held open for the whole claim
    try:
        if not _try_lock(fh):
            fh.seek(0)
            holder = Holder.from_note(fh.read(4096).decode("utf-8", "replace").split("\n", 1)[0])
            yield Claim(False, holder)
            return
        try:
            fh.seek(0)
            fh.truncate()
            fh.write((me().note(name) + "\n").encode("utf-8"))
            fh.flush()
            yield Claim(True)
        finally:
            with contextlib.suppress(OSError):
                fh.seek(0)
                fh.truncate()
                fh.flush()
            _unlock(fh)
    finally:
        fh.close()


def _try_lock(fh: IO[bytes]) -> bool:
    if os.name == "nt":
        import msvcrt

        fh.seek(_WINDOWS_LOCK_OFFSET)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unlock(fh: IO[bytes]) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":
            import msvcrt

            fh.seek(_WINDOWS_LOCK_OFFSET)
            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
