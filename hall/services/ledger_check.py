"""Rebuilding the projections from the ledger, and checking the live tables against such a rebuild.

``check`` replays every event, in the order the database received them, into a scratch copy (a temporary
SQLite file, or a temporary schema on the same PostgreSQL database), derives the ticket serial counters and the
node heads from the replayed events, and compares every current-state table with the live one by natural key
(:mod:`hall.services.storage.projection_keys`). ``rebuild`` replaces the live projections the same way, in one
transaction, after a backup copy. ``digest`` hashes the current state so two nodes or two replays can be compared.

Events are applied through :func:`hall.services.storage.ledger.project` (each by its projector, a run of one type with
a set-based twin at once), as :func:`~hall.services.storage.ledger.append_events` applies them, so a replay runs
exactly the projectors a save runs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from hall.errors import HallError
from hall.models import Base, Event
from hall.models.legacy import FROZEN_TABLES
from hall.services import projections
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.calendar import workdays as calendar
from hall.services.storage import ledger, projection_keys
from hall.services.storage.db import Database
from hall.services.sync import conflicts as sync_conflicts
from hall.services.sync import peers as sync_peers
from hall.services.tickets import numbering

log = logging.getLogger("hall.ledger_check")

Progress = Callable[[int, int, str], None]
_EVENTS = Event.__table__
# Bookkeeping tables that are not projected but derived from the replayed events, after them.
DERIVED_TABLES = ("ticket_serials", "node_heads")


# ------------------------------------------------------------------------------------------ replay
@dataclass
class ReplayStats:
    events: int = 0
    unprojected: Counter[str] = field(default_factory=Counter)  # event types that change no table


class ReplayError(HallError):
    def __init__(self, ev: dict[str, Any], exc: BaseException) -> None:
        what = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200]
        super().__init__(f"按台账重放失败：第 {ev['id']} 条事件（终端 {ev['node_id']} 第 {ev['seq']} 号，"
                         f"{ev['type']}，{ev['occurred_at']:%Y-%m-%d %H:%M:%S}）无法应用：{what}")
        self.event_id = ev["event_id"]


def count_events(conn: Connection) -> int:
    return int(conn.scalar(select(func.count()).select_from(_EVENTS)) or 0)


def replay(read: Connection, session: Session, *, copy_events: bool, batch: int = 2000,
           progress: Progress | None = None) -> ReplayStats:
    """Apply every event of ``read`` to ``session``'s database, in id order (the order they were applied).

    ``copy_events`` also writes the event rows there (a scratch copy); a rebuild in place leaves them be.
    """
    installed = projections.build()
    # The program's projections, whatever the session was opened with (a scratch engine has none installed).
    session.info[ledger.SESSION_KEY] = installed
    recorded_only = installed.recorded_only
    total = count_events(read)
    gated = sync_conflicts.gated_in_replay(read)
    stats = ReplayStats()
    last = 0
    page = select(_EVENTS).order_by(_EVENTS.c.id).limit(batch)
    while True:
        got = [dict(r) for r in read.execute(page.where(_EVENTS.c.id > last)).mappings()]
        if not got:
            break
        if copy_events:
            session.connection().execute(insert(_EVENTS), got)
        stats.unprojected.update(r["type"] for r in got if r["type"] in recorded_only)
        payloads = []
        for row in got:
            try:
                payloads.append(json.loads(row["payload"]))
            except ValueError as exc:
                raise ReplayError(row, exc) from exc
        # As after each save's commit (settle): the next event starts from an empty unit of work. The events of
        # tickets more than one node acted on pass the sync conflict gate, as their import did.
        start = 0
        for i, row in enumerate(got):
            if row["ticket_uid"] is not None and row["ticket_uid"] in gated:
                ledger.project(session, got[start:i], payloads[start:i], settle=True, failed=ReplayError)
                try:
                    sync_conflicts.admit(session, row, payloads[i])
                except (HallError, sa_exc.SQLAlchemyError, KeyError, ValueError, TypeError) as exc:
                    raise ReplayError(row, exc) from exc
                start = i + 1
        ledger.project(session, got[start:], payloads[start:], settle=True, failed=ReplayError)
        try:
            session.flush()
        except sa_exc.SQLAlchemyError as exc:
            raise ReplayError(got[-1], exc) from exc
        session.expunge_all()  # memory stays flat; the ticket.closed projector's Core path applies again
        stats.events += len(got)
        last = got[-1]["id"]
        if progress is not None:
            progress(stats.events, total, f"按台账重放事件 {stats.events:,}/{total:,}")
    return stats


def derive_bookkeeping(session: Session) -> dict[str, int]:
    """Ticket serial counters and node heads from what was replayed (the serial continues after the highest)."""
    serials = numbering.rebuild_serials(session)
    sync_peers.reapply_floors(session)  # a village laptop continues above the serials its hall had seen
    return {"ticket_serials": serials, "node_heads": ledger.rebuild_heads(session)}


# ------------------------------------------------------------------------------------------ scratch copy
def _scratch_sqlite(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path.as_posix()}", hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi: Any, _record: object) -> None:
        dbapi.isolation_level = None
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "foreign_keys = ON", "cache_size = -200000",
                       "temp_store = MEMORY"):
            dbapi.execute(f"PRAGMA {pragma}")  # a throwaway file: no journal, no fsync

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


@contextlib.contextmanager
def scratch(db: Database) -> Iterator[Engine]:
    """An empty copy of the schema, dropped afterwards: a temporary SQLite file, or a temporary schema on the
    PostgreSQL database (reached through ``search_path``, so every statement of every projector lands there)."""
    if db.is_sqlite:
        # Beside the database, not in the system's temp (often a small tmpfs): the copy is about its size.
        folder = Path(tempfile.mkdtemp(prefix="hall-ledger-check-", dir=Path(db.engine.url.database or ".").parent))
        engine = _scratch_sqlite(folder / "rebuilt.sqlite3")
        try:
            Base.metadata.create_all(engine)
            yield engine
        finally:
            engine.dispose()
            shutil.rmtree(folder, ignore_errors=True)
        return
    schema = f"hall_check_{uuid.uuid4().hex[:12]}"
    try:
        with db.engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except sa_exc.ProgrammingError as exc:  # a role without CREATE on the database
        raise HallError("PostgreSQL 数据库用户无权创建临时模式（CREATE SCHEMA），无法在副本中重建检查。"
                        "请以数据库所有者身份运行，或授予该用户 CREATE 权限。") from exc
    url = db.engine.url
    options = " ".join(filter(None, [url.query.get("options", ""), f"-csearch_path={schema}"]))  # type: ignore[list-item]
    engine = create_engine(url.update_query_dict({"options": options}), hide_parameters=True,
                           connect_args={"connect_timeout": 5})
    try:
        Base.metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with db.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@contextlib.contextmanager
def _snapshot(db: Database) -> Iterator[Connection]:
    """One consistent read of the live database: the events and the tables as of the same moment."""
    if db.is_sqlite:
        conn = db.engine.connect().execution_options(hall_read=True)  # a deferred BEGIN: never blocks a save
    else:
        conn = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    try:
        with conn.begin():
            yield conn
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------ compare
MISSING = "missing"  # the rebuild has the row, the live table does not
EXTRA = "extra"  # the live table has a row the events do not give
VALUE = "value"


@dataclass(frozen=True)
class Difference:
    table: str
    key: tuple[Any, ...]
    kind: str  # missing | extra | value
    column: str = ""
    live: Any = None
    rebuilt: Any = None


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)  # the first ``limit`` of them
    by_table: Counter[str] = field(default_factory=Counter)  # every difference, per table
    rows_live: int = 0
    rows_rebuilt: int = 0
    tables: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_table.values())


def _expected(diff: Difference) -> bool:
    """A difference the ledger allows: a ticket serial counter ahead of the day's highest ticket.

    On PostgreSQL the serial is claimed in a transaction of its own, before the save commits
    (:mod:`hall.services.tickets.numbering`), so a save that failed afterwards leaves its number unused: the live
    counter is ahead of what the tickets give, or there is a counter for a day whose saves all failed. A counter
    BEHIND the tickets would hand out a number twice, and stays a difference (but see the complaint register's)."""
    if diff.table != "ticket_serials":
        return False
    if diff.kind == MISSING and diff.key and diff.key[0] == numbering.COMPLAINT_POINT:
        # A ledger from before the complaint register had a counter: registering the day's next complaint raises
        # it from that day's numbers first (hall.services.registers.complaints), so none is handed out twice.
        return True
    return diff.kind == EXTRA or (diff.kind == VALUE and diff.column == "last" and diff.live > diff.rebuilt)


def compare(live: Connection, rebuilt: Connection, *, limit: int = 20) -> Comparison:
    """Every current-state table of ``live`` against ``rebuilt``, row by row in natural-key order."""
    out = Comparison()
    live_refs, rebuilt_refs = projection_keys.Resolver(live), projection_keys.Resolver(rebuilt)
    for table in projection_keys.state_tables():
        out.tables += 1
        columns = projection_keys.compared_columns(table)
        as_json = projection_keys.json_columns(table)
        a = projection_keys.rows(live, table, live_refs, raw=True)
        b = projection_keys.rows(rebuilt, table, rebuilt_refs, raw=True)
        for diff in _merge(table.name, columns, as_json, a, b, out):
            if _expected(diff):
                continue
            out.by_table[table.name] += 1
            if len(out.differences) < limit:
                out.differences.append(diff)
    return out


_END: Any = None


def _loads(text_: Any) -> Any:
    return json.loads(text_) if isinstance(text_, str) else text_
Row = tuple[tuple[Any, ...], tuple[Any, ...]]


def _merge(name: str, columns: list[str], as_json: set[str], a: Iterator[Row], b: Iterator[Row],
           out: Comparison) -> Iterator[Difference]:
    sort_key = projection_keys._sort_key
    ra, rb = next(a, _END), next(b, _END)
    last_a: Any = None
    last_b: Any = None
    while ra is not _END or rb is not _END:
        ka = sort_key(ra[0]) if ra is not _END else None
        kb = sort_key(rb[0]) if rb is not _END else None
        for k, last in ((ka, last_a), (kb, last_b)):
            if k is not None and last is not None and k < last:  # the database's order is not Python's
                raise RuntimeError(f"{name}: rows not in natural-key order")
        if kb is None or (ka is not None and ka < kb):
            out.rows_live += 1
            yield Difference(name, ra[0], EXTRA)
            last_a, ra = ka, next(a, _END)
        elif ka is None or kb < ka:
            out.rows_rebuilt += 1
            yield Difference(name, rb[0], MISSING)
            last_b, rb = kb, next(b, _END)
        else:
            out.rows_live += 1
            out.rows_rebuilt += 1
            if ra[1] != rb[1]:
                for col, va, vb in zip(columns, ra[1], rb[1], strict=True):
                    if va == vb:
                        continue
                    if col in as_json:  # the same content may be written with its keys in another order
                        va, vb = _loads(va), _loads(vb)
                        if va == vb:
                            continue
                    yield Difference(name, ra[0], VALUE, col, va, vb)
            last_a, last_b = ka, kb
            ra, rb = next(a, _END), next(b, _END)


# ------------------------------------------------------------------------------------------ use cases
@dataclass
class CheckReport:
    events: int
    comparison: Comparison | None
    unprojected: Counter[str]
    seconds: float
    replay_error: str = ""
    unrecorded_calendar: list[int] = field(default_factory=list)  # years an older release seeded outside it

    @property
    def ok(self) -> bool:
        return not self.replay_error and self.comparison is not None and self.comparison.total == 0


def check(db: Database, *, limit: int = 20, progress: Progress | None = None) -> CheckReport:
    """Rebuild every projection from the events in a scratch copy and compare it with the live database."""
    started = time.perf_counter()
    with _snapshot(db) as live, scratch(db) as engine, \
            Session(engine, info={ledger.SESSION_KEY: projections.build()}) as session, session.begin():
        # The meaning of release 1's ids, as the upgrade froze it; a laptop's staff directory, which names the hall's
        # clerks its events name (hall/services/storage/identity.py: directory-only staff rows).
        for name in (*FROZEN_TABLES, "sync_staff_directory"):
            table = Base.metadata.tables[name]
            rows = [dict(r) for r in live.execute(select(table)).mappings()]
            if rows:
                session.connection().execute(insert(table), rows)
        try:
            stats = replay(live, session, copy_events=True, progress=progress)
        except ReplayError as exc:
            return CheckReport(count_events(live), None, Counter(), time.perf_counter() - started, str(exc))
        derive_bookkeeping(session)
        session.flush()
        if progress is not None:
            progress(0, 0, "逐表比较现库与重建结果")
        comparison = compare(live, session.connection(), limit=limit)
        with Session(bind=live) as reader:
            unrecorded = [y for y, _ in calendar.unrecorded_seed(reader)]
    return CheckReport(stats.events, comparison, stats.unprojected, time.perf_counter() - started,
                       unrecorded_calendar=unrecorded)


def digest(db: Database) -> projection_keys.Digest:
    with _snapshot(db) as conn:
        return projection_keys.digest(conn)


@dataclass
class RebuildReport:
    events: int
    backup: Path | None
    before: projection_keys.Digest
    after: projection_keys.Digest
    unprojected: Counter[str]
    seconds: float
    calendar_recorded: list[int] = field(default_factory=list)  # years of an old seeding recorded first


def rebuild(db: Database, actor: Actor, *, progress: Progress | None = None,
            now: datetime | None = None) -> RebuildReport:
    """Replace every projection with a replay of the events, in one transaction, after a backup copy.

    Refused while the hash chain does not verify: rebuilding then would write a tampered history into the
    tables (and the node heads would forget that an event was cut off the end). A calendar seeded by an older
    release outside the ledger is first recorded in it (by ``actor``), so the rebuild keeps it.
    """
    require_admin(actor, "重建台账")
    started = time.perf_counter()
    if db.projections is None:  # a database opened for the rebuild alone: the program's projections
        projections.install(db)
    with db.reading() as s:
        chain = ledger.verify(s, sparse=ledger.held_in_part(s))
    if not chain.ok:
        raise HallError(f"台账哈希链未通过核验（{chain.problem}），不能按它重建。"
                        "请先运行 hall-admin ledger verify 查明原因。")
    backup = None
    if db.is_sqlite and db.backups_dir is not None:
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        backup = db.backup(db.backups_dir / f"hall-before-rebuild-{stamp}.sqlite3")
        log.info("backup before the ledger rebuild: %s", backup)
    tables = projection_keys.state_tables()
    with db.transaction() as session:
        conn = session.connection()
        pg = conn.dialect.name == "postgresql"
        if pg:
            # Every counter waits until the rebuild is committed; nobody can claim a chain head meanwhile.
            names = ", ".join(f'"{t.name}"' for t in [*tables, _EVENTS])
            conn.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
        recorded = calendar.record_unrecorded_seed(session, actor)
        session.flush()
        before = projection_keys.digest(conn)
        if pg:  # identities restart, as in a new database: the ids a replay gives are those of a first run
            listed = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {listed} RESTART IDENTITY"))
        else:
            for t in reversed(Base.metadata.sorted_tables):
                if t.name not in projection_keys.SOURCE_TABLES:
                    conn.execute(t.delete())
        try:
            stats = replay(conn, session, copy_events=False, progress=progress)
        except ReplayError as exc:
            raise HallError(f"{exc}；现库未作任何改动。") from exc
        derive_bookkeeping(session)
        session.flush()
        after = projection_keys.digest(conn)
    from hall.services.calendar import clock

    clock.forget_calendar()  # the cached calendar was read from the tables just replaced
    db.local_ids.clear()  # the rows were renumbered: the cached uid -> row id translations are stale
    return RebuildReport(stats.events, backup, before, after, stats.unprojected, time.perf_counter() - started,
                         recorded)


# ------------------------------------------------------------------------------------------ storage
def quick_check(db: Database, *, full: bool = False) -> list[str] | None:
    """SQLite's own structural check of the file: every b-tree page of every table and index (``quick_check``),
    with ``full`` also each index against its table and the unique constraints (``integrity_check``).

    An empty list when the file is sound, the problems SQLite names otherwise; None on PostgreSQL (the server
    keeps its own storage consistent)."""
    if not db.is_sqlite:
        return None
    pragma = "integrity_check" if full else "quick_check"
    with db.engine.connect().execution_options(hall_read=True) as conn:  # a read: never takes the write lock
        try:
            found = [str(r[0]) for r in conn.exec_driver_sql(f"PRAGMA {pragma}")]
        except sa_exc.DatabaseError as exc:
            return [str(getattr(exc, "orig", exc))]
    return [] if found == ["ok"] else found


# ------------------------------------------------------------------------------------------ messages
# Personal data never goes out whole, not even to the administrator's terminal (a report may be pasted on).
_ID_COLUMNS = frozenset({"id_no", "applicant_id_no"})
_PHONE_COLUMNS = frozenset({"phone", "applicant_phone", "citizen_phone"})
_HIDDEN_COLUMNS = frozenset({"agent", "password_hash"})


def _shown(column: str, value: Any) -> str:
    from hall.services.base.masking import mask_free_text, mask_id_for_clerk, mask_phone

    value = projection_keys.normal(value)  # a date as ISO text whichever database it came from
    if value is None:
        return "（空）"
    if column in _HIDDEN_COLUMNS:
        return "（内容不显示）"
    if column in _ID_COLUMNS and isinstance(value, str):
        return f"“{mask_id_for_clerk(value)}”"
    if column in _PHONE_COLUMNS and isinstance(value, str):
        try:
            return f"“{mask_phone(value)}”"
        except Exception:  # an odd stored value: hide it all rather than fail the report
            return "“****”"
    if isinstance(value, bool):
        return "是" if value else "否"
    # Free text (a result, a reason) may quote an ID number or phone: masked before it is cut, so no half is left.
    if isinstance(value, str):
        value = mask_free_text(value)
        text_ = value if len(value) <= 60 else value[:60] + "…"
        return f"“{text_}”"
    shown = mask_free_text(json.dumps(value, ensure_ascii=False, default=str))
    return shown if len(shown) <= 80 else shown[:80] + "…"


def table_label(name: str) -> str:
    return f"{name}（{projection_keys.KEYS[name].label}）"


def describe(diff: Difference) -> str:
    """One difference in Chinese: the table, the row by natural key, the column, live vs rebuilt value."""
    spec = projection_keys.KEYS[diff.table]
    key = "，".join(f"{label} {_shown(col, value).strip('“”')}"
                   for label, col, value in zip(spec.key_labels, spec.key, diff.key, strict=True))
    where = f"{table_label(diff.table)}［{key}］"
    if diff.kind == EXTRA:
        return f"{where}：现库有此行，按台账重建后没有（台账之外写入的行）"
    if diff.kind == MISSING:
        return f"{where}：按台账应有此行，现库中没有（行被删除）"
    live, rebuilt = _shown(diff.column, diff.live), _shown(diff.column, diff.rebuilt)
    return f"{where} 字段 {diff.column}：现库 {live}，按台账应为 {rebuilt}"
