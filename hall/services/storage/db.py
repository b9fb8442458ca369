"""Opening the database: SQLite (default, one PC or a village laptop) or PostgreSQL (the hall LAN).

Everything that can go wrong on open becomes a ``DatabaseError`` with a Chinese message: a newer schema, a locked
or corrupt file, SQLite on a network share, a full disk. Migrations run here, after a backup copy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from hall.errors import DatabaseError, HallError, ServerUnavailable
from hall.services.storage import at_rest, identity
from hall.services.storage.dburl import server_label
from hall.services.storage.ledger import SESSION_KEY, Projections

log = logging.getLogger("hall.db")

SQLITE_MAGIC = b"SQLite format 3\x00"
NETWORK_FS = {
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "fuse.sshfs", "davfs",
    "fuse.davfs2", "fuse.gvfsd-fuse", "fuse.rclone", "lustre", "gpfs", "ncpfs", "coda",
}


BUSY_TIMEOUT_MS = 5000
WRITE_LOCK_POLL_S = 0.001  # how often a waiting writer tries the write lock again
WRITE_LOCK_POLL_FOR_S = 2.0  # then SQLite's own busy handler, for the rest of BUSY_TIMEOUT_MS


def normalise_url(url: str) -> str:
    """Accept the URLs an administrator types (postgresql://…) and pick our driver."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_network_path(path: Path) -> bool:
    """SQLite on a network share corrupts under concurrent use; detect the share before opening it."""
    text = str(path)
    if sys.platform == "win32":
        # A symlink (or junction) onto \\server\share is judged by where it leads.
        text = os.path.realpath(text)
        if text.startswith(("\\\\", "//")):
            return True
        import ctypes

        drive = os.path.splitdrive(os.path.abspath(text))[0] + "\\"
        return ctypes.windll.kernel32.GetDriveTypeW(drive) == 4  # DRIVE_REMOTE
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    # The file itself is resolved first: a database file that is a symlink onto a share lives on the share, even
    # when the folder holding the link is local (resolving only the folder let such a link through).
    resolved = os.path.realpath(path)
    target = resolved if os.path.isdir(resolved) else os.path.dirname(resolved)
    best, best_type = "", ""
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        mount_point = parts[1].replace("\\040", " ")
        if (target == mount_point or target.startswith(mount_point.rstrip("/") + "/")) and len(
            mount_point
        ) >= len(best):
            best, best_type = mount_point, parts[2]
    return best_type in NETWORK_FS


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: object) -> None:
    # Transactions are begun explicitly (BEGIN IMMEDIATE below) so two writers never deadlock on upgrade.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA foreign_keys = ON")
    # A printed receipt must survive a power cut: every commit reaches the disk.
    cur.execute("PRAGMA synchronous = FULL")
    # Checkpoints run in the Checkpointer thread, not inside whichever clerk's commit crosses 1000 pages.
    cur.execute("PRAGMA wal_autocheckpoint = 0")
    cur.close()


class Checkpointer:
    """Copies the WAL back into the database four times a second on its own connection, off the save path.

    Often, so the WAL stays short: folding it back is work done beside the program's (the thread waits on the
    disk, not on the interpreter) instead of at close — a daily run at 1M waited 1.2 s at exit for the WAL a
    2 s interval had left. A round with nothing to copy costs a connection and a read of the WAL index."""

    def __init__(self, path: Path, interval: float = 0.25, key: at_rest.DataKey | None = None) -> None:
        import threading

        self.path, self.interval, self.key = path, interval, key
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hall-wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.checkpoint("PASSIVE")

    def checkpoint(self, mode: str = "PASSIVE", timeout: float = 1.0) -> bool:
        """One checkpoint; True when it copied the whole WAL back (False: busy — the next round tries again)."""
        try:
            conn = at_rest.connect(self.path, key=self.key, timeout=timeout)
            try:
                busy, _log, _done = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
                return busy == 0
            finally:
                conn.close()
        except at_rest.SQLITE_ERRORS as exc:  # busy or gone
            log.debug("checkpoint skipped: %s", exc)
            return False

    def stop(self) -> None:
        self._stop.set()
        # No timeout: a PASSIVE round over a large WAL (a bulk import) may take a while, and a TRUNCATE started
        # beside it would find the database busy and leave the WAL behind.
        self._thread.join()
        for _ in range(3):
            if self.checkpoint("TRUNCATE", timeout=10):
                return
        log.warning("the WAL could not be folded back at close (another program has the database open)")


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # Writers take the write lock up front (no deadlock on upgrade); readers never take it, so a screen
    # reading the queue does not hold up a counter saving a ticket.
    if conn.get_execution_options().get("hall_read"):
        conn.exec_driver_sql("BEGIN")
        return
    # SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … ms between tries, so a save arriving while the
    # daily rules hold the lock for 15 ms would wait ~33 ms. Polling every millisecond, the save waits for the
    # lock to be free and not a moment longer (the background jobs commit in short batches for exactly that).
    raw = conn.connection.driver_connection
    # A re-derivable batch (Database.transaction(durable=False)) commits without waiting for the disk; the next
    # durable commit on the file flushes it too. Changed only when it differs from the connection's last setting.
    want = "NORMAL" if conn.get_execution_options().get("hall_lazy_commit") else "FULL"
    info = conn.connection.info
    if info.get("hall_synchronous", "FULL") != want:
        raw.execute(f"PRAGMA synchronous = {want}")
        info["hall_synchronous"] = want
    raw.execute("PRAGMA busy_timeout = 0")
    try:
        give_up = time.monotonic() + WRITE_LOCK_POLL_FOR_S
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except at_rest.OPERATIONAL_ERRORS as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > give_up:
                    break
                time.sleep(WRITE_LOCK_POLL_S)
    finally:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.exec_driver_sql("BEGIN IMMEDIATE")  # still locked: SQLite waits the rest, and its error is translated


def upsert_insert(dialect_name: str):  # type: ignore[no-untyped-def]
    """The dialect's INSERT that has ON CONFLICT … DO UPDATE (SQLite ≥ 3.24 and PostgreSQL both do)."""
    from sqlalchemy.dialects import postgresql, sqlite

    return postgresql.insert if dialect_name == "postgresql" else sqlite.insert


# What psycopg and SQLAlchemy say when the server cannot be reached, went away, or is restarting.
_SERVER_GONE = (
    "could not connect", "connection refused", "connection timed out", "timeout expired", "no route to host",
    "server closed the connection", "terminating connection", "connection to server", "the database system is",
    "connection is closed", "connection is lost", "connection reset", "consuming input failed",
    "ssl connection has been closed", "broken pipe", "cannot reconnect", "can't reconnect", "name or service not known",
    "could not translate host name", "network is unreachable", "connection not open",
)


def translate(exc: BaseException, where: str | None = None) -> HallError | None:
    """A database failure as a message a clerk can act on, or None when it is not one we recognise. ``where`` names
    the hall server (``server/hall``) in the messages about it."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "database or disk is full" in text or "no space left" in text:
        return DatabaseError("磁盘已满：本次操作未保存。请清理磁盘空间后重试（已保存的内容不受影响）。")
    if "database is locked" in text or "database table is locked" in text:
        return DatabaseError("数据库正被另一个程序占用（已锁定）：请关闭其他正在使用该数据文件的 Hall 后重试。")
    if "file is not a database" in text or "malformed" in text or "disk i/o error" in text:
        return DatabaseError(
            "数据库文件已损坏或不是 Hall 的数据文件：请从最近的备份恢复。", backup_hint="latest"
        )
    if "readonly" in text or "read-only" in text:
        return DatabaseError("数据库文件为只读：请检查文件权限。")
    server = f"数据库服务器 {where}" if where else "数据库服务器"
    if "password authentication failed" in text or "no password supplied" in text:
        return DatabaseError(f"{server} 拒绝登录：数据库用户名或密码不对。")
    if "does not exist" in text and "database" in text:
        return DatabaseError(f"{server} 上没有这个数据库：请检查地址中的数据库名。")
    if (isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated) or any(s in text for s in _SERVER_GONE):
        return ServerUnavailable(f"无法连接{server}：本次操作未保存。请检查网络和服务器；"
                                 "服务器恢复后程序会自动重新连接，再操作一次即可。")
    return None


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (POSIX; Windows has no directory handles to flush)."""
    if sys.platform == "win32":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def disk_full_error(exc: BaseException, where: Path) -> DatabaseError | None:
    """The Chinese message for a write that found the disk full (or over a file-size limit), else None."""
    import errno

    text = str(getattr(exc, "orig", exc)).lower()
    full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
    full = full or "database or disk is full" in text or "no space left" in text or "file too large" in text
    short_write = "disk i/o error" in text or "unable to open" in text
    if not full and isinstance(exc, at_rest.OPERATIONAL_ERRORS) and short_write:
        # SQLite reports a short write as an I/O error; a target folder with (almost) no room left is the cause.
        with contextlib.suppress(OSError):
            import shutil

            full = shutil.disk_usage(where.parent).free < 1024 * 1024
    if not full:
        return None
    return DatabaseError(f"磁盘空间不足：无法写入“{where}”，本次备份未完成，未留下不完整的文件。"
                         "请清理该磁盘或换一个有足够空间的位置后重试（数据库本身不受影响）。")


@contextlib.contextmanager
def _translated(where: str | None = None) -> Iterator[None]:
    """Database failures a clerk can act on become their Chinese message; anything else passes unchanged."""
    try:
        yield
    except sa_exc.SQLAlchemyError as exc:
        translated = translate(exc, where)
        if translated is not None:
            raise translated from exc
        raise


class Database:
    """An open, migrated database. One per process; sessions are cheap and one per user action."""

    def __init__(self, engine: Engine, backups_dir: Path | None = None, *, checkpoints: bool = True,
                 key: at_rest.DataKey | None = None) -> None:
        self.engine = engine
        # The SQLCipher key of an encrypted file (hall.services.storage.at_rest); None for a plain one.
        self.key = key
        self.backups_dir = backups_dir
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(engine.execution_options(hall_read=True), expire_on_commit=False)
        self.projections: Projections | None = None
        # Stable ids -> this database's row ids, shared by every session (see hall.services.storage.identity).
        self.local_ids = identity.LocalIds()
        for maker in (self._sessions, self._read_sessions):
            maker.configure(info={identity.SESSION_KEY: self.local_ids})
        # The hall server as messages name it ("server/hall"); never the password.
        self.where: str | None = server_label(str(engine.url)) if engine.dialect.name == "postgresql" else None
        self._checkpointer: Checkpointer | None = None
        # The schema revision this process upgraded the database from (None: it was current, or new).
        self.upgraded_from: str | None = None
        if engine.dialect.name == "postgresql":
            from hall.services.storage.live import install_notify

            install_notify(self._sessions)  # the other counters hear of every commit that appended events
        # ``checkpoints=False``: a helper process reading the program's file (an export) leaves the WAL to the
        # program — no rounds of its own, and no TRUNCATE at close that would wait for the program's writers.
        if checkpoints and engine.dialect.name == "sqlite" and engine.url.database:
            self._checkpointer = Checkpointer(Path(engine.url.database), key=key)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @classmethod
    def open(cls, url: str, *, backups_dir: Path | None = None, migrate: bool = True,
             reader: bool = False) -> Database:
        """``reader``: for another process that only reads the program's database (an Excel export) — no
        migration, no checkpoints of its own, and opened without waiting for the write lock."""
        url = normalise_url(url)
        parsed = make_url(url)
        key = None
        if parsed.get_backend_name() == "sqlite":
            engine, key = _open_sqlite(parsed.database or "")
        elif parsed.get_backend_name() == "postgresql":
            # hide_parameters: an error's message never carries the bound values (an ID number, a phone, the
            # payload of a save) into the log or a crash report (hall/logging_setup.py).
            engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5},
                                   hide_parameters=True)
        else:
            raise DatabaseError(f"不支持的数据库地址：{parsed.get_backend_name()}（仅支持 SQLite 文件或 PostgreSQL）")
        db = cls(engine, backups_dir, checkpoints=not reader, key=key)
        try:
            with (engine.execution_options(hall_read=True) if reader else engine).connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            if migrate and not reader:
                from hall.services.storage.migrate import upgrade_if_needed

                upgrade_if_needed(db)
        except sa_exc.SQLAlchemyError as exc:
            db.dispose()
            raise (translate(exc, db.where) or DatabaseError(f"无法打开数据库：{exc.__class__.__name__}")) from exc
        except HallError:
            db.dispose()
            raise
        return db

    def install(self, projections: Projections) -> None:
        """Every session of this database projects events through ``projections`` (see
        :func:`hall.services.projections.install`); without it, appending an event raises."""
        self.projections = projections
        for maker in (self._sessions, self._read_sessions):
            maker.configure(info={SESSION_KEY: projections, identity.SESSION_KEY: self.local_ids})

    def session(self, bind: Connection | None = None) -> Session:
        """A session of this database (``bind``: on a connection the caller set up, such as a bulk writer's)."""
        return self._sessions() if bind is None else self._sessions(bind=bind)

    @contextlib.contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error, database failures translated.

        ``durable=False`` is for work that is re-derived when lost — the daily rules' batches, whose sweeps
        re-check every candidate: the commit does not wait for the disk (SQLite ``synchronous = NORMAL`` in WAL
        mode, PostgreSQL ``synchronous_commit = off``). A power cut may then lose the last such commits — never
        a part of one, and never one that a later durable commit followed, since that commit's flush takes the
        log up to itself. The daily run ends on a durable commit (its marks), so once it returns all of it is
        on disk. Anything a person did or was given a paper for is always durable."""
        session = self._sessions()
        try:
            with _translated(self.where), session.begin():
                if not durable:
                    conn = session.connection(execution_options={"hall_lazy_commit": True})
                    if conn.dialect.name == "postgresql":
                        conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
                yield session
        finally:
            session.close()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A consistent read-only look (a deferred transaction on SQLite): never blocks a saving counter."""
        session = self._read_sessions()
        try:
            with _translated(self.where):
                session.begin()
                yield session
        finally:
            session.rollback()  # a read keeps nothing (anything written by mistake is discarded)
            session.close()

    def backup(self, out: Path, *, check: Callable[[Path], object] | None = None) -> Path:
        """An online, consistent copy (SQLite backup API); writers may go on meanwhile.

        Written under a hidden temporary name beside ``out``, made a self-contained file (rollback journal, no
        ``-wal`` to lose), flushed to the disk, handed to ``check`` (which raises to refuse it) and only then
        renamed to ``out``: a crash, a full disk or a failed check leaves no half file, no ``.part``, and the
        previous ``out`` as it was. A full disk is a ``DatabaseError`` with its Chinese message."""
        if not self.is_sqlite:
            raise HallError("PostgreSQL 数据库请在服务器上使用 pg_dump 备份。")
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            raw = self.engine.raw_connection()
            try:
                # An encrypted ledger's copy is encrypted under the same key, wherever it is written.
                # SQLCipher's backup API copies pages between files of one layout: the copy takes the live
                # file's HMAC (an older ledger's SHA-512 stays SHA-512 in its backups).
                hmac = (raw.driver_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA cipher_hmac_algorithm").fetchone()[0] if self.key is not None else None)
                target = at_rest.connect(tmp, key=self.key, profile=hmac)
                try:
                    raw.driver_connection.backup(target)  # type: ignore[union-attr]
                    # The copy carries the live file's WAL flag; as a rollback-journal file it is whole by itself.
                    target.execute("PRAGMA journal_mode = DELETE")
                finally:
                    target.close()
            finally:
                raw.close()
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            if check is not None:
                check(tmp)
            os.replace(tmp, out)
            fsync_dir(out.parent)
        except BaseException as exc:
            for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
            full = disk_full_error(exc, out)
            if full is not None:
                raise full from exc
            raise
        return out

    def backup_before_upgrade(self, revision: str | None) -> Path | None:
        if not self.is_sqlite or self.backups_dir is None:
            return None
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return self.backup(self.backups_dir / f"hall-before-upgrade-{revision or 'empty'}-{stamp}.sqlite3")

    def latest_backup(self) -> Path | None:
        if self.backups_dir is None or not self.backups_dir.exists():
            return None
        files = sorted(self.backups_dir.glob("*.sqlite3"), key=lambda p: p.stat().st_mtime)
        return files[-1] if files else None

    def dispose(self) -> None:
        self.engine.dispose()
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None


def _open_sqlite(database: str) -> tuple[Engine, at_rest.DataKey | None]:
    if database in ("", ":memory:"):
        raise DatabaseError("Hall 的台账必须保存在文件中，不能使用内存数据库。")
    path = Path(database)
    if is_network_path(path):
        raise DatabaseError(
            f"数据文件位于网络共享目录（{path.parent}）：SQLite 在网络共享上会损坏数据，不受支持。"
            "多个窗口共用请在大厅服务器上使用 PostgreSQL（hall --db postgresql://…）。"
        )
    key: at_rest.DataKey | None = None
    at_rest.unlock_beside(path)  # a ledger in an encrypted data folder: that folder's key, from this PC
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            head = fh.read(16)
        if head != SQLITE_MAGIC:
            if at_rest.key_for_new(path) is None and at_rest.read_config(path.parent) is None:
                raise DatabaseError(
                    f"数据文件已损坏或不是 Hall 的数据文件：{path}。请从最近的备份恢复。", backup_hint="latest"
                )
            key = at_rest.key_for_file(path)  # an encrypted ledger: the key that opens it, or a Chinese refusal
    else:
        key = at_rest.key_for_new(path)  # a new ledger in an encrypted data folder is encrypted from the start
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path.as_posix()}"
    if key is None:
        engine = create_engine(url, connect_args={"timeout": 5}, hide_parameters=True)
    else:
        opened_with = key

        def keyed() -> object:
            return at_rest.connect(path, key=opened_with, timeout=5, check_same_thread=False)

        engine = create_engine(url, creator=keyed, module=at_rest.sqlcipher, hide_parameters=True)
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine, key
