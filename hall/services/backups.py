"""Backup and restore of the SQLite ledger (`hall-admin backup|restore`; the GUI calls the same functions).

A backup is reported good only after it was checked: SQLite's ``integrity_check`` of the copy and the hash chain
of its ledger re-verified (:func:`check_file`). It is written atomically (:meth:`Database.backup`).

A restore (:func:`restore`) never trusts the file it is given, and never lets the replaced database's state leak
into the restored one or get lost:

- the backup is copied into a hidden temporary file in the data folder and checked there (header, schema version,
  ``integrity_check``, hash chain; an older schema is upgraded on the copy first, as at every start);
- numbering continues after every number *either* ledger issued: the replaced database's ticket serials (its
  counters and the numbers on its tickets) are read first, and the restored counters are raised to them — an
  older backup would otherwise hand out again numbers already printed on receipts;
- the current database is moved aside *together with* its ``-wal`` and ``-shm`` (a stale ``-wal`` left beside a
  restored file is replayed by SQLite over it: the old data reappears, and both checks pass);
- the copy is renamed into place and reopened, and its ``ledger digest`` compared with the backup's.

SQLite only: a PostgreSQL hall backs up and restores on the server (pg_dump / pg_restore). Every program using the
database must be closed first (the caller says so to the person).
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hall.errors import DatabaseError, HallError
from hall.services import ledger_check, projections
from hall.services.storage import at_rest, ledger
from hall.services.storage.db import SQLITE_MAGIC, Database, disk_full_error, fsync_dir
from hall.services.storage.files import in_use  # the rule's owner is one floor down (encryption uses it)
from hall.services.tickets import numbering

log = logging.getLogger("hall.backup")

SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class FileCheck:
    """What :func:`check_file` found in a backup file."""

    events: int
    nodes: int


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    events: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    restored_from: Path
    moved_aside: tuple[Path, ...]  # the replaced database and its -wal/-shm, under their new names
    events: int
    digest_backup: str  # ``ledger digest`` of the backup (after any schema upgrade of the copy)
    digest_restored: str  # ``ledger digest`` of the database now in place: equal to the above
    serials_raised: int  # (point, day) counters raised past numbers the replaced database had issued
    notes: list[str] = field(default_factory=list)


def _refused(path: Path, why: str) -> DatabaseError:
    return DatabaseError(f"备份文件“{path.name}”未通过检查：{why}。未做任何改动。")


def check_file(path: Path) -> FileCheck:
    """Raise a ``DatabaseError`` unless ``path`` is a sound Hall database: SQLite header, ``integrity_check``
    (every page, every index against its table) and the ledger's hash chain. Opens the file read-only."""
    try:
        with path.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise DatabaseError(f"无法读取备份文件“{path}”：{exc.strerror or exc}") from None
    key = None
    if head != SQLITE_MAGIC:
        if not head:
            raise _refused(path, "不是 SQLite 数据文件（文件头不符，可能已损坏或不完整）")
        try:  # an encrypted backup: a key of this PC must open it
            key = at_rest.key_for_file(path)
        except at_rest.EncryptionError:
            raise _refused(path, "不是 SQLite 数据文件（文件头不符），也不能用本机的数据密钥打开："
                                 "可能已损坏或不完整，或是另一台电脑的加密备份") from None
    try:
        conn = at_rest.connect(path, key=key, readonly=True)
        try:
            found = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
            if found != ["ok"]:
                raise _refused(path, "文件结构已损坏（SQLite integrity_check：" + "；".join(found[:3]) + "）")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except at_rest.DATABASE_ERRORS as exc:
        raise _refused(path, f"文件已损坏（{exc}）") from None
    if not {"events", "node_heads"} <= tables:
        raise _refused(path, "不是 Hall 的数据文件（没有台账）")
    chain = _verify_chain(path)
    if not chain.ok:
        raise _refused(path, f"台账哈希链不符（{chain.problem}）")
    return FileCheck(chain.events, chain.nodes)


def _verify_chain(path: Path) -> ledger.ChainReport:
    from sqlalchemy.orm import Session

    engine = at_rest.readonly_engine(path)
    try:
        with Session(engine) as session:
            return ledger.verify(session, sparse=ledger.held_in_part(session))
    except Exception as exc:  # an older schema without today's columns: checked again after its upgrade
        log.info("chain of %s not verified before the upgrade: %s", path.name, type(exc).__name__)
        return ledger.ChainReport(0, 0, None)
    finally:
        engine.dispose()


def take_backup(db: Database, out: Path) -> BackupReport:
    """A checked, atomic backup of ``db`` to ``out`` (``hall-admin backup --out``)."""
    import time

    started = time.perf_counter()
    found: list[FileCheck] = []
    db.backup(out, check=lambda tmp: found.append(check_file(tmp)))
    return BackupReport(out, out.stat().st_size, found[0].events, time.perf_counter() - started)


# ------------------------------------------------------------------------------------------------ restore
def issued_serials(path: Path) -> dict[tuple[str, str], int]:
    """The highest serial per (intake point, day) that the database at ``path`` issued: its counters and the
    numbers on its tickets, whichever is higher. Read with its ``-wal`` (what it really holds). Empty when the
    file is missing; a ``DatabaseError`` when it cannot be read at all (the caller decides)."""
    if not path.exists():
        return {}
    out: dict[tuple[str, str], int] = {}
    try:
        conn = at_rest.connect(path, readonly=True)
        try:
            for point, day, last in conn.execute("SELECT point, day, last FROM ticket_serials"):
                out[(point, day)] = max(out.get((point, day), 0), int(last))
            rows = conn.execute(
                "SELECT substr(number, 11, 3), substr(number, 15, 8), max(CAST(substr(number, 24) AS INTEGER)) "
                "FROM tickets WHERE number LIKE '_________-___-________-____%' GROUP BY 1, 2")
            for point, day, last in rows:
                out[(point, day)] = max(out.get((point, day), 0), int(last or 0))
            # The complaint register's numbers too (TS-YYYYMMDD-NNN): a restored older ledger must not reissue one.
            rows = conn.execute(
                "SELECT substr(number, 4, 8), max(CAST(substr(number, 13) AS INTEGER)) FROM complaints "
                "WHERE number LIKE 'TS-________-%' GROUP BY 1")
            for day, last in rows:
                key = (numbering.COMPLAINT_POINT, day)
                out[key] = max(out.get(key, 0), int(last or 0))
        finally:
            conn.close()
    except at_rest.DATABASE_ERRORS as exc:
        full = disk_full_error(exc, path)
        if full is not None:
            raise DatabaseError(f"磁盘空间不足：无法在“{path.parent}”读取现有数据库（需要少量空间），"
                                "现有数据库未做任何改动。请清理磁盘后重试。") from exc
        raise DatabaseError(f"无法读取现有数据库中已发出的办件编号（{exc}）") from None
    return out


def chain_heads(path: Path) -> dict[str, int]:
    """Each chain's last sequence number in the SQLite ledger at ``path`` (empty when missing or unreadable)."""
    if not path.exists():
        return {}
    try:
        conn = at_rest.connect(path, readonly=True)
        try:
            return {str(n): int(q) for n, q in conn.execute("SELECT node_id, seq FROM node_heads")}
        finally:
            conn.close()
    except (*at_rest.DATABASE_ERRORS, DatabaseError):
        return {}


def _chains_cut_back(target: Path, backup: Path) -> list[str]:
    """What a restore of an older backup takes off the end of a chain, said plainly: those sequence numbers are
    written again with different events, which a hall or laptop that already received them refuses as a fork."""
    before, after = chain_heads(target), chain_heads(backup)
    notes = []
    for node, seq in sorted(before.items()):
        kept = after.get(node, 0)
        if seq > kept:
            notes.append(f"终端 {node[:8]}… 的台账第 {kept + 1}–{seq} 号事件写在这份备份之后，恢复后不在台账中；"
                         "若它们已同步到中心或其他电脑，本机今后写入的同号事件会被对方作为“分叉”拒绝。"
                         "恢复后请先与中心核对这段时间的办件（见 docs/backup.md）")
    return notes


def side_files(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in SIDE_FILES]


def restore(backup: Path, target: Path, *, now: datetime | None = None,
            force_unreadable_current: bool = False) -> RestoreReport:
    """Put the checked ``backup`` in place of the SQLite database ``target`` (see the module).

    ``force_unreadable_current``: the current database cannot even be read (the reason to restore): go on without
    its numbers — the restored counters then continue only after the backup's own, and the report says so.
    """
    backup, target = Path(backup), Path(target)
    notes: list[str] = []
    if backup.resolve() == target.resolve():
        raise HallError("备份文件就是当前数据库本身：请选择备份文件夹中的文件。")
    check_file(backup)  # before anything is touched
    if in_use(target):
        raise DatabaseError("数据库正被另一个程序使用（Hall 窗口、每日任务或导出）：请先关闭所有使用该数据库的 Hall，"
                            "再恢复。未做任何改动。")
    try:
        floors = issued_serials(target)
    except DatabaseError as exc:
        if "磁盘空间不足" in str(exc):
            raise
        log.warning("current database unreadable before a restore: %s", exc)
        if not force_unreadable_current:
            raise DatabaseError("现有数据库无法读取，不能确认它已发出的办件编号。若确认要恢复，请加 --force："
                                "恢复后的编号只从备份中已有的编号之后继续，请人工核对当天已发出的纸质回执。") from None
        floors = {}
        notes.append("现有数据库无法读取：编号只从备份中已有的编号之后继续，请核对当天已发出的回执")
    notes += _chains_cut_back(target, backup)
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.with_name(f".{target.name}.restore-{os.getpid()}.tmp")
    try:
        prepared = _prepare(backup, work)
        raised = _raise_serials(work, floors)
        _seal(work)
    except BaseException as exc:
        for leftover in [work, *side_files(work)]:
            with contextlib.suppress(OSError):
                leftover.unlink()
        full = disk_full_error(exc, work)
        if full is not None:
            raise DatabaseError(f"磁盘空间不足：无法在“{target.parent}”准备恢复的数据库，"
                                "现有数据库未做任何改动。请清理磁盘后重试。") from exc
        raise
    moved = _move_aside(target, stamp)
    os.replace(work, target)
    fsync_dir(target.parent)
    restored = _digest_of(target)
    if restored.sha256 != prepared.sha256:
        # Never expected (the same file, renamed); said plainly rather than reported as a success.
        raise DatabaseError(f"恢复后的数据库摘要与备份不符（{restored.sha256[:12]} ≠ {prepared.sha256[:12]}）："
                            f"原数据库已保存在 {moved[0] if moved else '（无）'}，请联系技术支持。")
    log.info("restored %s over %s (%d files moved aside, %d serials raised)", backup.name, target.name,
             len(moved), raised)
    return RestoreReport(backup, tuple(moved), prepared_events(target), prepared.sha256, restored.sha256, raised,
                         notes)


def copy_consistent(source: Path, out: Path, out_key: at_rest.DataKey | str | None = "same") -> None:
    """Copy a SQLite file with its backup API, read-only: a consistent copy even of a file in WAL mode (an
    encrypted one under its key, or re-encrypted under ``out_key``)."""
    at_rest.copy_database(source, out, out_key=out_key)


def _prepare(backup: Path, work: Path):  # type: ignore[no-untyped-def]
    """Copy ``backup`` to ``work`` (SQLite backup API: a consistent copy even of a file in WAL mode), upgrade its
    schema when it is older, check it again and return its digest."""
    # The restored ledger is encrypted when its data folder is, whatever the backup was.
    folder_key = at_rest.unlock_beside(work)
    copy_consistent(backup, work, out_key=folder_key if folder_key is not None else "same")
    db = projections.install(Database.open(f"sqlite:///{work.as_posix()}", backups_dir=None))
    try:
        with db.reading() as session:
            chain = ledger.verify(session, sparse=ledger.held_in_part(session))
        if not chain.ok:
            raise _refused(backup, f"台账哈希链不符（{chain.problem}）")
        return ledger_check.digest(db)
    finally:
        db.dispose()


def _raise_serials(work: Path, floors: dict[tuple[str, str], int]) -> int:
    if not floors:
        return 0
    db = projections.install(Database.open(f"sqlite:///{work.as_posix()}", backups_dir=None, migrate=False))
    try:
        with db.transaction() as session:
            return numbering.raise_serials(session, floors)
    finally:
        db.dispose()


def _seal(work: Path) -> None:
    """``work`` as one self-contained file on the disk: WAL folded in and gone, then flushed."""
    conn = at_rest.connect(work)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
    for leftover in side_files(work):
        leftover.unlink(missing_ok=True)
    with open(work, "rb+") as fh:
        os.fsync(fh.fileno())


def _move_aside(target: Path, stamp: str) -> list[Path]:
    """The current database and its -wal/-shm/-journal, renamed together to ``*.before-restore-<stamp>*``."""
    moved: list[Path] = []
    aside = target.with_name(f"{target.name}.before-restore-{stamp}")
    for path, suffix in [(target, ""), *zip(side_files(target), SIDE_FILES, strict=True)]:
        if path.exists():
            dest = aside.with_name(aside.name + suffix)
            os.replace(path, dest)
            moved.append(dest)
    fsync_dir(target.parent)
    return moved


def _digest_of(path: Path):  # type: ignore[no-untyped-def]
    db = projections.install(Database.open(f"sqlite:///{path.as_posix()}", backups_dir=None))
    try:
        return ledger_check.digest(db)
    finally:
        db.dispose()


def prepared_events(path: Path) -> int:
    conn = at_rest.connect(path, readonly=True)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()
