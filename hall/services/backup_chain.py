"""The incremental daily backup: a periodic full copy, and each day only the events the day added, compressed.

A full copy of a ledger of 1,000,000 tickets is 4 GB and 22 s; fourteen of them are 56 GB. The events are the one
truth (every table is a projection of them), so a day is backed up by the day's events alone: the rows of
``events`` after the last one the previous file covered, verbatim, as gzip-compressed JSON lines, with the node
heads and the ticket serial counters at that moment. A restore copies the full base and applies each increment in
order — the rows inserted as they were, projected by the installed projectors as the live database projected them
— and the result's ``ledger digest`` equals the live database's when the increment was taken.

Files, in the backups folder:
- ``hall-full-YYYYMMDD.sqlite3`` — a checked, atomic full copy (:func:`hall.services.backups.take_backup`) with
  ``hall-full-YYYYMMDD.sqlite3.json`` beside it (the last event id it holds);
- ``hall-incr-YYYYMMDD.jsonl.gz`` — a header line (its base, the first and last event id, heads, serials, the
  event count), then one line per event.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from hall.errors import DatabaseError
from hall.models import Event, NodeHead
from hall.services import backups, projections
from hall.services.storage import ledger
from hall.services.storage.anchor import HEAD_SIGNED
from hall.services.storage.db import Database, disk_full_error, fsync_dir
from hall.services.tickets import numbering

FULL_EVERY_DAYS = 7  # a new full copy once a week: a restore then applies at most six increments
KEEP_FULLS = 3  # with their increments: at least the last 14 days can always be restored
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


def _covered(folder: Path, exclude: str = "") -> tuple[Path | None, int]:
    """The newest full copy and the last event id covered by it and the increments after it (but ``exclude``)."""
    fulls = sorted(folder.glob("hall-full-*.sqlite3"))
    if not fulls:
        return None, 0
    base = fulls[-1]
    last = int(json.loads(base.with_name(base.name + ".json").read_text(encoding="utf-8"))["last_event_id"])
    for inc in sorted(folder.glob("hall-incr-*.jsonl.gz")):
        head = read_header(inc)
        if head["base"] == base.name and inc.name != exclude:
            last = max(last, int(head["to_id"]))
    return base, last


def read_header(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return dict(json.loads(fh.readline()))


def prune(folder: Path, keep_fulls: int = KEEP_FULLS) -> list[Path]:
    """Remove all but the newest ``keep_fulls`` full copies, with their increments; returns what was removed."""
    removed: list[Path] = []
    fulls = sorted(folder.glob("hall-full-*.sqlite3"))
    gone = {f.name for f in fulls[:-keep_fulls]} if keep_fulls > 0 else set()
    for inc in sorted(folder.glob("hall-incr-*.jsonl.gz")):
        if read_header(inc)["base"] in gone:
            inc.unlink()
            removed.append(inc)
    for full in fulls[:-keep_fulls]:
        for path in (full, full.with_name(full.name + ".json")):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def daily(db: Database, folder: Path, *, today: datetime | None = None,
          full_every: int = FULL_EVERY_DAYS, keep_fulls: int = KEEP_FULLS) -> ChainBackup:
    """Today's backup into ``folder``: a full copy when none is younger than ``full_every`` days, else an
    increment of the events since the last file. Both written atomically; the increment re-read before it counts."""
    import time

    started = time.perf_counter()
    day = (today or datetime.now())
    folder.mkdir(parents=True, exist_ok=True)
    # A second run on one day writes that day's increment again, from where the day before ended (never only the
    # events since the first run: renaming over the first file would lose them).
    base, last = _covered(folder, exclude=f"hall-incr-{day:%Y%m%d}.jsonl.gz")
    age = None if base is None else (day.date() - datetime.strptime(base.name[10:18], "%Y%m%d").date()).days
    if base is None or age is None or age >= full_every:
        out = folder / f"hall-full-{day:%Y%m%d}.sqlite3"
        report = backups.take_backup(db, out)
        copied = sqlite3.connect(f"file:{out.as_posix()}?mode=ro", uri=True)
        try:
            covered = int(copied.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0])  # what it holds
        finally:
            copied.close()
        _write_json(out.with_name(out.name + ".json"), {"last_event_id": covered})
        prune(folder, keep_fulls)  # only once the new base is safely written
        return ChainBackup(out, True, report.events, report.bytes, time.perf_counter() - started)
    out = folder / f"hall-incr-{day:%Y%m%d}.jsonl.gz"
    with db.reading() as session:
        conn = session.connection()
        rows = [dict(r._mapping) for r in conn.execute(
            select(Event.__table__).where(Event.__table__.c.id > last).order_by(Event.__table__.c.id))]
        heads = {h.node_id: [h.seq, h.hash] for h in session.scalars(select(NodeHead))}
        serials = [[p, d, n] for p, d, n in conn.exec_driver_sql("SELECT point, day, last FROM ticket_serials")]
    header = {"base": base.name, "from_id": last, "to_id": rows[-1]["id"] if rows else last, "events": len(rows),
              "heads": heads, "serials": serials, "taken_at": day.isoformat(),
              # The chain heads signed since the last file (hall/services/storage/anchor.py), readable without
              # restoring: what a restored ledger must reach.
              "signed_heads": [json.loads(r["payload"]) for r in rows if r["type"] == HEAD_SIGNED]}
    _write_increment(out, header, rows)
    if read_header(out)["events"] != len(rows):  # read back before it is reported good
        raise DatabaseError(f"增量备份“{out.name}”写入后核对不符，请重试。")
    return ChainBackup(out, False, len(rows), out.stat().st_size, time.perf_counter() - started)


def _json_value(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime) else v


def _write_increment(out: Path, header: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
            gz.write((json.dumps(header, ensure_ascii=False) + "\n").encode())
            for r in rows:
                gz.write((json.dumps([_json_value(r[c]) for c in _EVENT_COLUMNS], ensure_ascii=False) + "\n")
                         .encode())
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


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------------------------------------ restore
def assemble(increment: Path, out: Path) -> Path:
    """The database as it was when ``increment`` was taken: its full base copied to ``out``, then every increment
    of that base up to and including ``increment`` applied in order. ``out`` is checked like any backup."""
    folder = increment.parent
    header = read_header(increment)
    base = folder / header["base"]
    if not base.exists():
        raise DatabaseError(f"增量备份“{increment.name}”所依据的完整备份“{base.name}”不存在，无法恢复。")
    chain = [p for p in sorted(folder.glob("hall-incr-*.jsonl.gz"))
             if read_header(p)["base"] == base.name and p.name <= increment.name]
    backups.copy_consistent(base, out)
    db = projections.install(Database.open(f"sqlite:///{out.as_posix()}", backups_dir=None))
    try:
        for inc in chain:
            _apply(db, inc)
    finally:
        db.dispose()
    conn = sqlite3.connect(out)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
    backups.check_file(out)
    return out


def _apply(db: Database, inc: Path) -> None:
    with gzip.open(inc, "rt", encoding="utf-8") as fh:
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
