"""Ticket numbers: {township 9}-{intake point 3}-{YYYYMMDD}-{daily serial 4}, unique with concurrent writers.

The serial comes from one atomic upsert of the (point, day) counter row (:class:`~hall.models.TicketSerial`).

- **SQLite** (one PC, a village laptop): in the save's own transaction. SQLite has one writer at a time anyway,
  so this costs nothing, and a save that rolls back takes its number back with it: no number is ever skipped.
- **PostgreSQL** (the hall LAN): in a tiny transaction of its own, on a second connection, committed before the
  save goes on. Claimed inside the save, the row stayed locked from numbering until the save's commit — the event
  append, the hash chain, the projections and the commit's disk flush — and the eleven counters queued behind it
  (bench_lan: 80 % of the counters' server time was spent waiting for that row). Apart, the row is locked for
  one statement executed on the server, with no round trip to the counter in between. What that costs: a save
  that fails after its number was claimed (the server went away, a crash) leaves that number unused. The
  domain rules ask for unique numbers in this format, not for gapless ones; every ticket that was saved keeps
  its number for ever (nothing is deleted, a voided ticket keeps it), so a skipped number never names a ticket
  and numbers are never re-used while the counter row stands. ``ledger check`` accepts a counter ahead of the
  day's highest ticket for the same reason (:func:`hall.services.ledger_check.compare`).

An offline village laptop numbers under its own point code, so the two never collide.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, Integer, bindparam, cast, delete, func, insert, literal, select
from sqlalchemy.orm import Session

from hall.errors import ValidationError
from hall.models import Ticket, TicketSerial
from hall.models.workflow import Complaint
from hall.services.base.validators import parse_key
from hall.services.storage.db import upsert_insert

NUMBER_RE = re.compile(r"^(\d{9})-(\d{3})-(\d{8})-(\d{4,})$", re.ASCII)


_NEXT: dict[str, Any] = {}


def _upsert(dialect: str, point: Any, day: Any) -> Any:
    """``INSERT … ON CONFLICT (point, day) DO UPDATE SET last = last + 1 RETURNING last``."""
    table = TicketSerial.__table__
    return upsert_insert(dialect)(table).values(point=point, day=day, last=1).on_conflict_do_update(
        index_elements=[table.c.point, table.c.day], set_={"last": table.c.last + 1}
    ).returning(table.c.last)


def _claim_statement(dialect: str) -> Any:
    stmt = _NEXT.get(dialect)
    if stmt is None:  # built once: constructing it costs more than executing it
        stmt = _NEXT[dialect] = _upsert(dialect, bindparam("point"), bindparam("day"))
    return stmt


COMPLAINT_POINT = "TS"  # the complaint register's daily counter, beside the intake points' (3 digits each)


def claim_in_transaction(session: Session, point: str, key: str) -> int:
    """The next serial of ``point``'s day ``key`` (YYYYMMDD), claimed in the caller's transaction on every
    database (the row stays locked until it commits: for the registers' rare numbers, not the counter's saves)."""
    conn = session.connection()
    return int(conn.execute(_claim_statement(conn.dialect.name), {"point": point, "day": key}).scalar_one())


def next_number(session: Session, township: str, point: str, day: date) -> str:
    """The next number of ``point``'s day. Call it once everything that can refuse the save has been checked (a
    form refused before numbering never uses up a number), and just before the number is needed."""
    key = day.strftime("%Y%m%d")
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        serial = _claim_apart(conn.engine, point, key)
    else:
        serial = conn.execute(_claim_statement(conn.dialect.name), {"point": point, "day": key}).scalar_one()
    return f"{township}-{point}-{key}-{serial:04d}"


def _claim_apart(engine: Engine, point: str, key: str) -> int:
    """PostgreSQL: claim the serial in a transaction of its own (see the module), committed when this returns.

    One simple-protocol query holding two statements, which PostgreSQL runs as one implicit transaction: the
    upsert, then ``SET LOCAL synchronous_commit TO off`` for that transaction only. So the row's lock lasts the
    upsert's execution on the server, and its commit does not wait for a disk flush of its own — which is safe:
    the save that uses the number commits durably after it, and flushing the WAL up to the save's commit flushes
    this earlier commit too. If the server crashes before that, the save is lost as well and the number was never
    on a saved ticket, so handing it out again after the restart duplicates nothing."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as side:
        return int(side.exec_driver_sql(_claim_sql(point, key)).scalar_one())


@lru_cache(maxsize=64)  # one per intake point and day: compiling the statement costs more than running it
def _claim_sql(point: str, key: str) -> str:
    # Literal values, because a query of several statements cannot carry bound parameters; SQLAlchemy quotes them
    # (and both are validated digits anyway: a 3-digit point code, a formatted date).
    from sqlalchemy.dialects import postgresql

    compiled = _upsert("postgresql", point, key).compile(dialect=postgresql.dialect(),
                                                         compile_kwargs={"literal_binds": True})
    return f"{compiled}; SET LOCAL synchronous_commit TO off"


_NUMBER_SHAPE = "格式应为 乡镇代码9位-受理点3位-日期8位-序号4位，如 320581101-000-20260305-0012"


def parse_number(text: str) -> tuple[str, str, date, int]:
    m = NUMBER_RE.match(parse_key(text, "办件编号"))
    if not m:
        raise ValidationError("办件编号", _NUMBER_SHAPE)
    township, point, day, serial = m.groups()
    try:
        on = date(int(day[:4]), int(day[4:6]), int(day[6:]))
    except ValueError:
        raise ValidationError("办件编号", f"日期部分“{day}”不是有效日期") from None
    return township, point, on, int(serial)


def rebuild_serials(session: Session) -> int:
    """Set every (point, day) counter to the highest serial among the tickets, so numbering continues after them.

    The counters are the numbering's own state, claimed by :func:`next_number`; they are not a projection. A
    rebuild replays the tickets from the ledger first and then derives the counters here from their numbers
    (which the ``ticket.received`` events carry). A counter that was ahead (numbers claimed by saves that
    failed, PostgreSQL) comes back to the highest ticket: those numbers were never on a ticket, so handing them
    out again duplicates nothing. Returns the counters written.
    """
    t, table = Ticket.__table__, TicketSerial.__table__
    point, day = func.substr(t.c.number, 11, 3), func.substr(t.c.number, 15, 8)
    serial = func.max(cast(func.substr(t.c.number, 24), Integer))
    session.execute(delete(table))
    rows = (select(point, day, serial)
            .where(t.c.number.like("_________-___-________-____%"))  # the shape next_number writes
            .group_by(point, day))
    session.execute(insert(table).from_select(["point", "day", "last"], rows))
    # The complaint register's counter, from its numbers (TS-YYYYMMDD-NNN), so a rebuild never reissues one.
    c = Complaint.__table__
    complaint_day = func.substr(c.c.number, 4, 8)  # one object in SELECT and GROUP BY: PostgreSQL matches them
    complaint_rows = (select(literal(COMPLAINT_POINT), complaint_day,
                             func.max(cast(func.substr(c.c.number, 13), Integer)))
                      .where(c.c.number.like("TS-________-%")).group_by(complaint_day))
    session.execute(insert(table).from_select(["point", "day", "last"], complaint_rows))
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def raise_serials(session: Session, floors: dict[tuple[str, str], int]) -> int:
    """Raise each (point, day) counter to at least ``floors[(point, day)]`` (``day`` as YYYYMMDD), so numbering
    continues after numbers issued elsewhere — by the database a restore replaced. Never lowers a counter.
    Returns how many counters were raised or created."""
    table = TicketSerial.__table__
    current = {(p, d): last for p, d, last in session.execute(select(table.c.point, table.c.day, table.c.last))}
    raised = 0
    for (point, day), floor in sorted(floors.items()):
        if floor <= current.get((point, day), 0):
            continue
        stmt = upsert_insert(session.connection().dialect.name)(table).values(point=point, day=day, last=floor)
        session.execute(stmt.on_conflict_do_update(index_elements=[table.c.point, table.c.day],
                                                   set_={"last": floor}))
        raised += 1
    return raised
