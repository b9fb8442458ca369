"""Ticket numbers: {township 9}-{intake point 3}-{YYYYMMDD}-{daily serial 4}, unique with concurrent writers.

The serial comes from one atomic upsert per (point, day): on PostgreSQL the row lock serialises eleven counters,
on SQLite the write transaction does; an offline village laptop numbers under its own point code.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import Integer, bindparam, cast, delete, func, insert, select
from sqlalchemy.orm import Session

from hall.errors import ValidationError
from hall.models import Ticket, TicketSerial
from hall.services.base.validators import parse_key
from hall.services.storage.db import upsert_insert

NUMBER_RE = re.compile(r"^(\d{9})-(\d{3})-(\d{8})-(\d{4,})$", re.ASCII)


_NEXT: dict[str, Any] = {}


def next_number(session: Session, township: str, point: str, day: date) -> str:
    key = day.strftime("%Y%m%d")
    conn = session.connection()
    stmt = _NEXT.get(conn.dialect.name)
    if stmt is None:
        table = TicketSerial.__table__
        stmt = _NEXT[conn.dialect.name] = upsert_insert(conn.dialect.name)(table).values(
            point=bindparam("point"), day=bindparam("day"), last=1
        ).on_conflict_do_update(
            index_elements=[table.c.point, table.c.day], set_={"last": table.c.last + 1}
        ).returning(table.c.last)
    serial = conn.execute(stmt, {"point": point, "day": key}).scalar_one()
    return f"{township}-{point}-{key}-{serial:04d}"


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

    The counters are the numbering's own lock, claimed by :func:`next_number` in the save's transaction; they
    are not a projection. A rebuild replays the tickets from the ledger first and then derives the counters
    here from their numbers (which the ``ticket.received`` events carry). Returns the counters written.
    """
    t, table = Ticket.__table__, TicketSerial.__table__
    point, day = func.substr(t.c.number, 11, 3), func.substr(t.c.number, 15, 8)
    serial = func.max(cast(func.substr(t.c.number, 24), Integer))
    session.execute(delete(table))
    rows = (select(point, day, serial)
            .where(t.c.number.like("_________-___-________-____%"))  # the shape next_number writes
            .group_by(point, day))
    session.execute(insert(table).from_select(["point", "day", "last"], rows))
    return int(session.scalar(select(func.count()).select_from(table)) or 0)
