"""Demo data (演示数据): a realistic township ledger, fast enough for a million tickets.

Every ticket is a real ledger event chain, exactly as the services write it (:mod:`hall.demo.tickets` plans them:
the payloads of intake and of the ticket actions), on one chain per node — the hall on this node, each village
proxy point on its own node. Nothing here writes a table: the events go through
:func:`hall.services.storage.ledger.append_events` — one hash chain per node, executemany inserts — and the
registered projectors build the tickets and applicants from them (set-based where a projector has a twin), so the
demo ledger is what replaying its events gives and ``hall-admin ledger check`` on it is meaningful. The ticket
serial counters are derived from the tickets afterwards, as a rebuild derives them.

Speed comes from batches inside one transaction (a half-written demo ledger would not verify): on SQLite the
generator's own connection runs with ``synchronous=OFF`` and a large page cache, restored afterwards.

Staff and intake points are created through the real services (:mod:`hall.demo.people`), since they are few.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from hall.demo.people import VILLAGES, People, ensure_points_and_staff, village_node_id
from hall.demo.tickets import Item, Planner, accumulate, daily_counts, pick
from hall.errors import HallError, ValidationError
from hall.models import CatalogVersion, Event, Staff, TicketSerial
from hall.services.base.actor import Actor
from hall.services.calendar import clock
from hall.services.catalog import items as catalog
from hall.services.storage import ledger, settings
from hall.services.storage.db import Database
from hall.services.storage.node import NodeIdentity
from hall.services.tickets import numbering

__all__ = ["MAX_TICKETS", "VILLAGES", "DemoDataExists", "DemoReport", "default_span", "generate", "village_node_id"]

BATCH = 5000  # events per append: one executemany each, and the projectors' runs
MAX_TICKETS = 20_000_000
HALL_SHARE = 0.80  # the rest is shared evenly by the village proxy points
TYPICAL_PER_DAY = 400  # a busy hall with its villages; sets the default date span


@dataclass(frozen=True)
class DemoReport:
    tickets: int
    events: int
    applicants: int
    staff_added: int
    seconds: float
    first_day: date
    last_day: date
    by_state: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Tickets per second."""
        return self.tickets / self.seconds if self.seconds > 0 else 0.0


class DemoDataExists(HallError):
    """The same demo tickets are in the ledger already (the same seed on the same ledger)."""

    def __init__(self, seed: int) -> None:
        super().__init__(f"已有演示数据：本数据库已用随机种子 {seed} 生成过这些演示办件，本次未写入任何内容。"
                         "如需更多演示办件，请换一个随机种子（--seed）")


def default_span(tickets: int, end: date) -> tuple[date, date]:
    """A period that gives a busy hall's daily volume: at least two months, at most ten years."""
    days = int(max(60, min(3650, tickets / TYPICAL_PER_DAY * 7 / 5)))
    return end - timedelta(days=days), end


def generate(db: Database, node: NodeIdentity, tickets: int, *, seed: int = 1, start: date | None = None,
             end: date | None = None, progress: Callable[[int, int], None] | None = None) -> DemoReport:
    """Append ``tickets`` demo tickets received between ``start`` and ``end`` (both included).

    The ledger is as of the end of ``end``: follow-up events after it have not happened, so recent tickets
    are open and some of them overdue. The hall's tickets go on ``node``'s chain, each village point's on its
    own node. The same seed on the same database state gives the same tickets; the same seed again on the
    ledger it filled is refused (:class:`DemoDataExists`), another seed adds more.
    """
    if not 0 <= tickets <= MAX_TICKETS:
        raise ValidationError("办件数量", f"应为 0 至 {MAX_TICKETS} 之间的整数")
    today = date.today()
    end = end or today - timedelta(days=1)
    start = start or default_span(tickets, end)[0]
    if start > end:
        raise ValidationError("日期范围", f"开始日期 {start} 晚于结束日期 {end}")
    if end >= today:
        raise ValidationError("结束日期", "应早于今天（演示数据不能有将来或今天尚未发生的时间）")
    started = time.perf_counter()
    rng = random.Random(seed)
    system = Actor.system(node.node_id, node.intake_point)
    staff_added = ensure_points_and_staff(db, system, rng)

    with db.transaction() as session:
        cal = clock.calendar_for(session)
        all_settings = settings.get_all(session)
        version_uid = session.scalars(select(CatalogVersion.uid).where(CatalogVersion.is_current)).one()
        items = [
            Item(it.code, it.name, it.window_code, it.default_kind, clock.rule_of(it),
                 tuple({"count": m["count"], "form": m["form"], "name": m["name"]} for m in it.materials),
                 tuple(bool(m.get("tolerable")) for m in it.materials), version_uid,
                 [{"count": m["count"], "form": m["form"], "name": m["name"], "status": "received"}
                  for m in it.materials])
            for it in catalog.current_items(session)
        ]
        clerks, villagers = _actors(session, node, items)
        first_day, last_day = start.strftime("%Y%m%d"), end.strftime("%Y%m%d")
        serials = {(s.point, s.day): s.last for s in session.scalars(
            select(TicketSerial).where(TicketSerial.day >= first_day, TicketSerial.day <= last_day))}

    names = all_settings["village_names"]
    village_places = [names.get(p, f"代办点{p}").removesuffix("代办点") for p in VILLAGES]
    people = People(rng, tickets, start, village_places)
    planner = Planner(rng, cal, items, people, all_settings["township_code"], clerks, villagers,
                      datetime.combine(end, datetime.max.time()))
    counts = daily_counts(rng, cal, start, end, tickets)
    points = ["000", *VILLAGES]
    point_cum = accumulate([HALL_SHARE] + [(1 - HALL_SHARE) / len(VILLAGES)] * len(VILLAGES))

    applicants: set[str] = set()
    by_state: Counter[str] = Counter()
    done = 0
    writer = _Writer(db, seed)
    with writer:
        for day, n in counts:
            if n:
                times = sorted((planner.office_time(day), points[pick(point_cum, rng.random())]) for _ in range(n))
                key = day.strftime("%Y%m%d")
                for at, point in times:
                    serial = serials.get((point, key), 0) + 1
                    serials[(point, key)] = serial
                    plan = planner.ticket(at, point, f"{planner.township}-{point}-{key}-{serial:04d}")
                    by_state[plan.state] += 1
                    applicants.add(plan.applicant)
                    done += 1
            if writer.add(planner.due_by(datetime.combine(day, datetime.max.time()))) and progress is not None:
                progress(done, tickets)
        writer.add(planner.due_by(datetime.max))  # safety only: every kept event falls on a working day up to end
        writer.finish()
    if progress is not None:
        progress(done, tickets)
    return DemoReport(done, writer.events, len(applicants), staff_added, time.perf_counter() - started,
                      start, end, dict(by_state))


def _actors(session: Session, node: NodeIdentity, items: list[Item]) -> tuple[dict[str, list[Actor]],
                                                                              dict[str, Actor]]:
    """Who writes the events: the clerks of each window on the hall's node, each village's proxy-staff on its
    own node."""
    clerks: dict[str, list[Actor]] = {}
    villagers: dict[str, Actor] = {}
    village_nodes = {p: village_node_id(node.node_id, p) for p in VILLAGES}
    for p in session.scalars(select(Staff).where(Staff.active)).all():
        if p.role == "clerk" and p.window_code:
            clerks.setdefault(p.window_code, []).append(
                Actor(p.id, p.name, "clerk", node.node_id, node.intake_point, p.window_code, p.uid))
        elif p.role == "village" and p.intake_point in village_nodes and p.intake_point not in villagers:
            villagers[p.intake_point] = Actor(p.id, p.name, "village", village_nodes[p.intake_point],
                                              p.intake_point, None, p.uid)
    missing_windows = {it.window_code for it in items} - set(clerks)
    if missing_windows:
        raise ValidationError("窗口工作人员", f"窗口 {'、'.join(sorted(missing_windows))} 没有在岗工作人员")
    return clerks, villagers


class _Writer:
    """Appends the planned events in batches through the ledger, on one connection, inside one transaction."""

    def __init__(self, db: Database, seed: int) -> None:
        self.db = db
        self.seed = seed
        self.events = 0
        self._pending: list[ledger.Draft] = []
        self._saved: dict[str, Any] = {}
        self._conn: Connection | None = None
        self._session: Session | None = None

    def __enter__(self) -> _Writer:
        self._conn = conn = self.db.engine.connect()
        if self.db.is_sqlite:
            raw = conn.connection.driver_connection
            assert raw is not None
            # Only this connection, only for the run (set before its transaction: SQLite refuses inside one): a
            # crash loses the demo data, never real data (the generator's transaction is all-or-nothing).
            for pragma in ("synchronous", "cache_size"):
                self._saved[pragma] = raw.execute(f"PRAGMA {pragma}").fetchone()[0]
            raw.execute("PRAGMA synchronous = OFF")
            raw.execute("PRAGMA cache_size = -400000")  # 400 MB: the random-key indexes stay in memory
        self._session = self.db.session(bind=conn)
        self._session.begin()
        return self

    def add(self, drafts: list[ledger.Draft]) -> bool:
        """Queue ``drafts``; True when a batch was written."""
        self._pending.extend(drafts)
        if len(self._pending) < BATCH:
            return False
        while len(self._pending) >= BATCH:
            self._append(self._pending[:BATCH])
            del self._pending[:BATCH]
        return True

    def _append(self, drafts: list[ledger.Draft]) -> None:
        session = self._session
        assert session is not None
        if not self.events:
            ids = [d.event_id for d in drafts]
            if session.scalars(select(Event.id).where(Event.event_id.in_(ids)).limit(1)).first() is not None:
                # The same seed's stream again: its first events are in the ledger already (another seed, or
                # another number of tickets or dates, draws other ids).
                raise DemoDataExists(self.seed)
        # Only ticket events of intake and record, whose projectors commute between tickets: projected by type.
        ledger.append_events(session, drafts, batch=BATCH, settle=True, per_ticket=True)
        self.events += len(drafts)

    def finish(self) -> None:
        session = self._session
        assert session is not None
        if self._pending:
            self._append(self._pending)
            self._pending = []
        # The serial counters continue after the highest number, derived from the tickets as a rebuild does.
        numbering.rebuild_serials(session)
        session.commit()
        conn = self._conn
        assert conn is not None
        if self.db.is_sqlite:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("ANALYZE")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        session, conn = self._session, self._conn
        assert session is not None and conn is not None
        session.close()  # rolls back what was not committed
        if self.db.is_sqlite and self._saved:
            raw = conn.connection.driver_connection
            assert raw is not None
            for pragma, value in self._saved.items():
                raw.execute(f"PRAGMA {pragma} = {int(value)}")
        conn.close()
        self._session = self._conn = None
