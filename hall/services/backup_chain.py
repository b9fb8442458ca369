"""The daily backup in proportion to change: one rolling base copy, and each day only the events the day added.

A full copy of a ledger of 1,000,000 tickets is 4 GB and 22 s; fourteen of them are 56 GB. The events are the one
truth (every table is a projection of them), so a day is backed up by the day's events alone: the rows of
``events`` after the last one the base holds, verbatim, as gzip-compressed JSON lines (sealed too when the data
folder is encrypted), with the node heads and the ticket serial counters at that moment.

The **base** is one checked full copy, made once, and rolled forward every day by applying that day's increment
to it in one transaction — the same rows inserted, projected by the installed projectors as the live database
projected them — so it always equals the live database as of the newest increment, and 14 days cost one copy
plus fourteen small files (about 4.1 GB at 1M instead of 56 GB). Restoring:

- the newest point: the base itself (checked, then restored like any full copy);
- an older day D: the base copied, the events after D's last one removed, the heads set back to D's and every
  projection rebuilt from the events that remain (``ledger_check.rebuild``; minutes at 1M, and only for this
  rare case), then the serial counters raised to D's; its ``ledger digest`` is the live one of day D;
- numbering after a restore continues after every number either ledger issued (``backups.restore``).

A crash at any step leaves a consistent folder: the increment is written (atomically) before the base is rolled,
the base rolls in one SQLite transaction, and the base's own last event id — never a side file — says what it
holds; an increment whose events the base already holds is simply a restore point.

Files, in the backups folder: ``hall-base.sqlite3`` and ``hall-incr-YYYYMMDD-HHMMSS.jsonl.gz`` (a header line:
its base, the first and last event id, heads, serials, the event count; then one line per event). Folders written
by the previous scheme (``hall-full-YYYYMMDD.sqlite3`` weekly copies with their ``hall-incr-YYYYMMDD.jsonl.gz``,
the program's ``hall-daily-*.sqlite3`` copies) still restore, and age out after the days kept.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from hall.errors import DatabaseError
from hall.models import Event, NodeHead
from hall.services import backups, projections
from hall.services.storage import at_rest, ledger
from hall.services.storage.anchor import HEAD_SIGNED
from hall.services.storage.db import Database, disk_full_error, fsync_dir
from hall.services.tickets import numbering

log = logging.getLogger("hall.backup")
BASE = "hall-base.sqlite3"
KEEP_DAYS = 14  # restore points kept: any of the last 14 days can be restored
_EVENT_COLUMNS = tuple(c.name for c in Event.__table__.columns)


@dataclass(frozen=True)
class ChainBackup:
    path: Path
    full: bool  # a new full copy (else an increment)
    events: int  # events in the file (all of them for a full copy)
    bytes: int
    seconds: float


def _last_event_id(conn: Any) -> int:
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM events").scalar_one())


def _open_increment(path: Path) -> io.TextIOWrapper:
    """An increment's lines, unsealed first when the ledger it belongs to is encrypted."""
    data = at_rest.read_file(path, f"增量备份“{path.name}”")
    return io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(data)), encoding="utf-8")


def read_header(path: Path) -> dict[str, Any]:
    with _open_increment(path) as fh:
        return dict(json.loads(fh.readline()))


def prune(folder: Path, today: datetime, keep_days: int = KEEP_DAYS) -> list[Path]:
    """Remove restore points older than ``keep_days`` (the base is kept: it is the newest one); returns them.
    The previous scheme's weekly copies and the program's old daily copies age out the same way, once a base
    exists."""
    removed: list[Path] = []
    cutoff = (today.date().toordinal() - keep_days)

    def old(name: str, at: int) -> bool:
        try:
            return datetime.strptime(name[at:at + 8], "%Y%m%d").date().toordinal() < cutoff
        except ValueError:
            return False

    for path in sorted(folder.glob("hall-incr-*.jsonl.gz")):
        if old(path.name, 10):
            path.unlink(missing_ok=True)
            removed.append(path)
    if (folder / BASE).exists():
        for pattern, at in (("hall-full-*.sqlite3", 10), ("hall-daily-*.sqlite3", 11)):
            for path in sorted(folder.glob(pattern)):
                if old(path.name, at):
                    for gone in (path, path.with_name(path.name + ".json")):
                        if gone.exists():
                            gone.unlink()
                            removed.append(gone)
    return removed


def daily(db: Database, folder: Path, *, today: datetime | None = None, keep_days: int = KEEP_DAYS) -> ChainBackup:
    """Back up what changed since the last run into ``folder``: the first time a checked base copy, then the
    day's increment, with the base rolled forward to it. Restore points older than ``keep_days`` are removed."""
    import time

    started = time.perf_counter()
    day = today or datetime.now()
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / BASE
    made = None
    if not base.exists():
        made = backups.take_backup(db, base)
    last = _base_last_id(base)
    out = folder / f"hall-incr-{day:%Y%m%d-%H%M%S}.jsonl.gz"
    while out.exists():  # two runs within one second (a scheduled task and the program): never one over another
        day += timedelta(seconds=1)
        out = folder / f"hall-incr-{day:%Y%m%d-%H%M%S}.jsonl.gz"
    with db.reading() as session:
        conn = session.connection()
        rows = [dict(r._mapping) for r in conn.execute(
            select(Event.__table__).where(Event.__table__.c.id > last).order_by(Event.__table__.c.id))]
        heads = {h.node_id: [h.seq, h.hash] for h in session.scalars(select(NodeHead))}
        serials = [[p, d, n] for p, d, n in conn.exec_driver_sql("SELECT point, day, last FROM ticket_serials")]
    header = {"base": BASE, "from_id": last, "to_id": rows[-1]["id"] if rows else last, "events": len(rows),
              "heads": heads, "serials": serials, "taken_at": day.isoformat(),
              # The chain heads signed since the last file (hall/services/storage/anchor.py), readable without
              # restoring: what a restored ledger must reach.
              "signed_heads": [json.loads(r["payload"]) for r in rows if r["type"] == HEAD_SIGNED]}
    _write_increment(out, header, rows, db.key)
    if read_header(out)["events"] != len(rows):  # read back before it is reported good
        raise DatabaseError(f"增量备份“{out.name}”写入后核对不符，请重试。")
    if rows:
        _roll(base, out)
    prune(folder, day, keep_days)
    if made is not None:  # the base, with the day's restore point (the events the copy did not catch, if any)
        return ChainBackup(base, True, made.events, made.bytes, time.perf_counter() - started)
    return ChainBackup(out, False, len(rows), out.stat().st_size, time.perf_counter() - started)


def daily_if_due(db: Database, *, today: datetime | None = None) -> ChainBackup | None:
    """The program's and the daily task's backup: once a day into the data folder's backups (SQLite only;
    a PostgreSQL hall backs up on the server with pg_dump)."""
    if not db.is_sqlite or db.backups_dir is None:
        return None
    day = today or datetime.now()
    folder = db.backups_dir
    if (folder / BASE).exists() and any(folder.glob(f"hall-incr-{day:%Y%m%d}-*.jsonl.gz")):
        return None  # today's restore point is written
    done = daily(db, folder, today=day)
    log.info("daily backup: %s (%d events)", done.path.name, done.events)
    return done


def _base_last_id(base: Path) -> int:
    conn = at_rest.connect(base, readonly=True)
    try:
        return int(conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])
    finally:
        conn.close()


def _open_copy(path: Path) -> Database:
    # A backup file of this release's schema (an older one is upgraded, like any database it opens).
    return projections.install(Database.open(f"sqlite:///{path.as_posix()}", backups_dir=None))


def _self_contained(path: Path) -> None:
    """A backup file with no -wal beside it (rollback-journal mode): whole by itself on a USB stick."""
    conn = at_rest.connect(path)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


def _roll(base: Path, increment: Path) -> None:
    """The base brought up to ``increment`` (one transaction; the base must hold exactly what precedes it)."""
    db = _open_copy(base)
    try:
        _apply(db, increment)
    finally:
        db.dispose()
    _self_contained(base)


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _write_increment(out: Path, header: dict[str, Any], rows: list[dict[str, Any]],
                     key: at_rest.DataKey | None = None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        packed = io.BytesIO()
        with gzip.GzipFile(fileobj=packed, mode="wb", compresslevel=6, mtime=0) as gz:
            gz.write((json.dumps(header, ensure_ascii=False) + "\n").encode())
            for r in rows:
                gz.write((json.dumps([_json_value(r[c]) for c in _EVENT_COLUMNS], ensure_ascii=False) + "\n")
                         .encode())
        # An encrypted ledger's increment is sealed under its key (compressed first: sealed bytes do not shrink).
        Path(tmp).write_bytes(at_rest.seal(packed.getvalue(), key) if key is not None else packed.getvalue())
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        full = disk_full_error(exc, out)
        if full is not None:
            raise full from exc
        raise


# ------------------------------------------------------------------------------------------------ restore
def assemble(increment: Path, out: Path) -> Path:
    """The database as it was when ``increment`` was taken, written to ``out`` and checked like any backup."""
    folder = increment.parent
    header = read_header(increment)
    base = folder / header["base"]
    if not base.exists():
        raise DatabaseError(f"增量备份“{increment.name}”所依据的完整备份“{base.name}”不存在，无法恢复。")
    backups.copy_consistent(base, out)
    db = _open_copy(out)
    try:
        if header["base"] == BASE:
            _to_point(db, folder, header, increment)
        else:  # the previous scheme: a weekly full copy and its increments up to this one, applied in order
            for inc in sorted(folder.glob("hall-incr-*.jsonl.gz")):
                if read_header(inc)["base"] == base.name and inc.name <= increment.name:
                    _apply(db, inc)
    finally:
        db.dispose()
    _self_contained(out)
    backups.check_file(out)
    return out


def _to_point(db: Database, folder: Path, header: dict[str, Any], increment: Path) -> None:
    """``db`` (a copy of the rolling base) brought to the moment ``header`` was taken."""
    to_id = int(header["to_id"])
    with db.reading() as s:
        last = _last_event_id(s.connection())
    if last < to_id:
        # The base was not rolled to this increment (a crash between the two): the increments supply the rest.
        for inc in sorted(folder.glob("hall-incr-*-*.jsonl.gz")):
            head = read_header(inc)
            if head["base"] == BASE and int(head["from_id"]) == last and int(head["to_id"]) <= to_id:
                _apply(db, inc)
                last = int(head["to_id"])
        if last != to_id:
            raise DatabaseError(f"增量备份“{increment.name}”与完整备份不衔接（缺少中间的增量），无法恢复到该时刻。")
        return
    if last == to_id:
        return
    # An older day: the later events removed, the heads set back, every projection rebuilt from what remains.
    from hall.services import ledger_check
    from hall.services.base.actor import Actor

    with db.transaction() as session:
        conn = session.connection()
        conn.execute(Event.__table__.delete().where(Event.__table__.c.id > to_id))
        heads = NodeHead.__table__
        conn.execute(heads.delete())
        for node_id, (seq, digest) in header["heads"].items():
            conn.execute(insert(heads).values(node_id=node_id, seq=seq, hash=digest))
    ledger_check.rebuild(db, Actor.system("backup-restore"))
    with db.transaction() as session:
        numbering.raise_serials(session, {(p, d): int(n) for p, d, n in header["serials"]})


def _apply(db: Database, inc: Path) -> None:
    with _open_increment(inc) as fh:
        header = json.loads(fh.readline())
        rows = []
        for line in fh:
            r = dict(zip(_EVENT_COLUMNS, json.loads(line), strict=True))
            r["occurred_at"] = datetime.fromisoformat(r["occurred_at"])
            rows.append(r)
    with db.transaction() as session:
        conn = session.connection()
        if _last_event_id(conn) != int(header["from_id"]):
            raise DatabaseError(f"增量备份“{inc.name}”与前一个备份不衔接（缺少中间某天的增量），无法恢复。")
        table = Event.__table__
        for start in range(0, len(rows), 5000):
            conn.execute(insert(table), rows[start:start + 5000])
        ledger.project(session, rows, [json.loads(r["payload"]) for r in rows])
        heads = NodeHead.__table__
        for node_id, (seq, digest) in header["heads"].items():
            updated = conn.execute(heads.update().where(heads.c.node_id == node_id).values(seq=seq, hash=digest))
            if updated.rowcount == 0:
                conn.execute(insert(heads).values(node_id=node_id, seq=seq, hash=digest))
        numbering.raise_serials(session, {(p, d): int(n) for p, d, n in header["serials"]})


def restore_any(backup: Path, target: Path, **options: Any) -> backups.RestoreReport:
    """:func:`hall.services.backups.restore` from a full copy, or from an increment (its chain assembled first,
    beside the target, then restored like a full copy and removed)."""
    backup = Path(backup)
    if not backup.name.endswith(".jsonl.gz"):
        return backups.restore(backup, target, **options)
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    work = Path(target).with_name(f".{Path(target).name}.assembled-{os.getpid()}.sqlite3")
    try:
        assemble(backup, work)
        return backups.restore(work, target, **options)
    finally:
        for leftover in [work, *backups.side_files(work)]:
            with contextlib.suppress(OSError):
                leftover.unlink()
