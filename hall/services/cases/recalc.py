"""Recompute open deadlines after the calendar changed, so nobody's promise moves silently.

Each ticket whose due date or 暂定 flag changes gets a "ticket.deadline_changed" event (old, new, why); tickets
whose dates stay as they are get nothing.

The work is set-based, because a hall may have 100,000 open tickets: the deadline inputs of the open tickets
are read in one pass as plain tuples (no ORM objects), the due dates come from the deadline engine's
working-day index (:func:`hall.services.calendar.deadlines.recompute`), and only the changes are written — their events
appended in bulk (:func:`hall.services.storage.ledger.append_many`, the same rows and hashes as one by one) and the
tickets updated by one executemany (the bulk projector below).

**One transaction, not batches.** A calendar change and the deadlines it moves are committed together, by the
caller's one unit of work. Batched commits would leave a window (or, after a crash, a lasting state) where the
calendar says one thing and the open tickets' due dates another, and would need a durable "recompute pending"
record and a resume step at every start to close it. The single transaction is cheap enough not to need that:
with 108,000 open tickets of which 11,000 move it holds the write lock for 2–4 s on a shared 2-core machine
(1.4–2.3 s for the same reads and writes done bare; ``benchmarks/bench_deadlines.py``), at a million-ticket
ledger with its 3,000 open tickets 0.4 s — once per calendar change, a few times a year. A counter saving at
that moment waits that long (SQLite's busy timeout is 5 s, beyond it the clerk is told the ledger is busy and
nothing is lost; on PostgreSQL only saves on the moved tickets wait). Interrupted at any point, nothing of it is
written.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Text, bindparam, cast, func, or_, select, update
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound
from hall.models import Event, Item, Ticket
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.base.validators import free_text
from hall.services.calendar import clock
from hall.services.calendar.deadlines import ClockEvent, LimitRule, recompute
from hall.services.calendar.workdays import WorkCalendar
from hall.services.cases import rederive
from hall.services.storage import ledger
from hall.services.tickets import lineage
from hall.services.tickets.record import PARENT, PARENT_HEAD, by_uid, frozen_uids, touch

Progress = Callable[[int, int, str], None]  # (done, total, what is being done), as hall.ui.background reports it

CHUNK = 10_000  # tickets computed between two progress reports (and rows fetched per round trip)
WRITE_CHUNK = 2_000  # moved tickets written between two progress reports (a few tenths of a second)
DEADLINE_CHANGED = "ticket.deadline_changed"

_TICKETS = Ticket.__table__
_SET_DUE_ANY = (update(_TICKETS).where(_TICKETS.c.uid == bindparam("b_uid"))
                .values(due_date=bindparam("b_due"), due_provisional=bindparam("b_prov"),
                        version=_TICKETS.c.version + 1, updated_at=bindparam("b_at")))
# The compare-and-set on the version each event was based on (hall.services.tickets.record.touch, set-based).
_SET_DUE = _SET_DUE_ANY.where(_TICKETS.c.version == bindparam("b_parent"))


def _no_progress(_done: int, _total: int, _what: str) -> None:
    pass


def _candidates(since: date) -> Any:
    """The open tickets a change from ``since`` on can move: due on or after it, or provisional."""
    t = _TICKETS.c
    # The clock is read as its JSON text: almost every ticket's is "[]", which needs no parsing at all.
    # No ORDER BY: sorted by id, SQLite walks the whole table by rowid instead of the open tickets' index
    # (1.6 s instead of 20 ms at a million tickets with 3,000 open); the few changes are sorted in Python.
    return (select(t.id, t.uid, t.number, t.item_id, t.kind, t.accepted_on, t.due_date, t.due_provisional,
                   cast(t.clock, Text), t.version)
            .where(t.is_open, t.accepted_on.is_not(None), t.due_date.is_not(None),
                   or_(t.due_date >= since, t.due_provisional)))


# ticket id, uid, number, old, new, old/new provisional, the version the change is based on
Change = tuple[int, str, str, date, date, bool, bool, int]


def _moved(calendar: WorkCalendar, rules: dict[int, LimitRule], rows: Sequence[Any]) -> list[Change]:
    """The rows (of :func:`_candidates`) whose due date or provisional flag the calendar changes."""
    jobs = [(rules[r[3]], r[5], r[4], _clock_events(r[8])) for r in rows]
    return [(r[0], r[1], r[2], r[6], due, r[7], provisional, r[9])
            for r, (due, provisional) in zip(rows, recompute(calendar, jobs), strict=True)
            if due != r[6] or provisional != r[7]]


def _locked_and_current(conn: Any, calendar: WorkCalendar, rules: dict[int, LimitRule], since: date,
                        changes: list[Change]) -> list[Change]:
    t = _TICKETS.c
    out: list[Change] = []
    for start in range(0, len(changes), 1000):
        ids = [c[0] for c in changes[start:start + 1000]]
        rows = conn.execute(_candidates(since).where(t.id.in_(ids)).order_by(t.id).with_for_update()).all()
        out += _moved(calendar, rules, rows)
    return out


def _clock_events(raw: Any) -> tuple[ClockEvent, ...]:
    if raw is None or raw == "[]":
        return ()
    entries = json.loads(raw) if isinstance(raw, str) else raw
    return tuple(clock.clock_events(entries))


def recompute_open(session: Session, actor: Actor, *, since: date, why: str,
                   progress: Progress | None = None) -> list[tuple[str, date, date]]:
    """Open tickets due on or after ``since`` (or provisional) are re-derived; returns (number, old, new) of
    those whose due date or provisional flag changed, in ticket order. The caller owns the transaction."""
    require_admin(actor, "重算在办办件期限")
    report = progress or _no_progress
    session.flush()  # the calendar change just recorded must be in the tables the calendar is read from
    clock.forget_calendar()
    calendar = clock.calendar_for(session)
    conn = session.connection()
    rules = {row.id: LimitRule(row.promised_limit, row.limit_unit,  # type: ignore[arg-type]
                               row.restart_on_supplement)
             for row in conn.execute(select(Item.id, Item.promised_limit, Item.limit_unit,
                                            Item.restart_on_supplement))}
    report(0, 0, "读取在办件")
    changes: list[Change] = []
    done = 0
    # Per statement (Connection.execution_options would stream every later statement of the session too).
    result = conn.execute(_candidates(since), execution_options={"yield_per": CHUNK})
    for rows in result.partitions():
        changes += _moved(calendar, rules, rows)
        done += len(rows)
        report(done, 0, f"已重新计算 {done:,} 件在办件的期限")
    if conn.dialect.name != "sqlite":
        # PostgreSQL reads what was committed when each statement began, and another counter may have changed
        # one of these tickets since (a pause, an extension): lock the ones about to move and derive them
        # again from what they hold now, so no clock change made meanwhile is overwritten. (SQLite needs none
        # of this: BEGIN IMMEDIATE keeps every other writer out for the whole transaction.)
        changes = _locked_and_current(conn, calendar, rules, since, sorted(changes))
    frozen = frozen_uids(session)
    if frozen:  # a ticket frozen by a sync conflict keeps its dates until the manager has resolved it
        changes = [c for c in changes if c[1] not in frozen]
    changes.sort()  # ticket order, as one event after another has always been written
    total = len(changes)
    report(0, total, "记录期限变化")
    # A village ticket's event also names its parent by hash, as every action's does (tickets/lineage.py).
    named = lineage.open_heads(conn, [c[1] for c in changes])
    for start in range(0, total, WRITE_CHUNK):
        part = changes[start:start + WRITE_CHUNK]
        ledger.append_many(session, actor, DEADLINE_CHANGED, [
            ({"old": old, "new": new, "old_provisional": old_prov, "new_provisional": new_prov, "why": why,
              PARENT: parent, **({PARENT_HEAD: named[uid]} if uid in named else {})}, uid)
            for _id, uid, _number, old, new, old_prov, new_prov, parent in part
        ])
        report(start + len(part), total, "记录期限变化")
    return [(number, old, new) for _id, _uid, number, old, new, _op, _np, _parent in changes]


@ledger.projector(DEADLINE_CHANGED)
def _project(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    t.due_date, t.due_provisional = date.fromisoformat(p["new"]), p["new_provisional"]
    touch(session, t, ev, p)


@ledger.bulk_projector(DEADLINE_CHANGED)
def _project_many(session: Session, rows: list[dict[str, Any]], payloads: list[dict[str, Any]]) -> None:
    """What :func:`_project` does for each event, as one executemany."""
    params = [{"b_uid": r["ticket_uid"], "b_due": date.fromisoformat(p["new"]), "b_prov": p["new_provisional"],
               "b_at": r["occurred_at"], "b_parent": p.get(PARENT)} for r, p in zip(rows, payloads, strict=True)]
    conn = session.connection()
    # Runs of events with a parent and without (written before parents were recorded), each in order.
    for has_parent, run in itertools.groupby(params, key=lambda q: q["b_parent"] is not None):
        part = list(run)
        updated = conn.execute(_SET_DUE if has_parent else _SET_DUE_ANY, part).rowcount
        if updated != len(part):
            uids = list({q["b_uid"] for q in part})
            found = conn.scalar(select(func.count()).select_from(_TICKETS).where(_TICKETS.c.uid.in_(uids)))
            if found != len(uids):
                raise NotFound(f"台账事件指向的办件中有 {len(uids) - (found or 0)} 件不存在")
            raise ConflictError(f"重新计算期限期间有 {len(part) - updated} 件办件被其他窗口修改，请重试")
    # Ticket objects this session already holds would still show the old dates: have them read again.
    uids = {r["ticket_uid"] for r in rows}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Ticket) and obj.uid in uids:
            session.expire(obj)


def confirm_year(session: Session, actor: Actor, year: int, notice: Any, *,
                 progress: Progress | None = None) -> tuple[list[date], list[tuple[str, date, date]]]:
    """Confirm a year from the State Council notice and re-derive every open deadline it touches, in one unit."""
    from hall.services.base.permissions import require_admin
    from hall.services.calendar import workdays as calendar_service

    require_admin(actor, "确认节假日安排")
    changed = calendar_service.set_year(session, actor, year, notice)
    since = min(changed) if changed else date(year, 1, 1)
    why = f"确认{year}年节假日安排（{notice.reference or '未填文号'}）"
    moved = recompute_open(session, actor, since=since, why=why, progress=progress)
    rederive.rederive_all(session, actor, why=why)  # every other derived date, one event each that moves
    return changed, moved


def add_local_holiday(session: Session, actor: Actor, start: date, name: str, end: date | None = None, *,
                      progress: Progress | None = None) -> tuple[list[date], list[tuple[str, date, date]]]:
    from hall.services.base.permissions import require_admin
    from hall.services.calendar import workdays as calendar_service

    require_admin(actor, "添加地方节假日")
    changed = calendar_service.add_local_holiday(session, actor, start, name, end=end)
    name = free_text(name, "地方节假日名称", max_len=100)  # as the calendar stored it (it passed just now)
    moved = recompute_open(session, actor, since=start, why=f"地方节假日“{name}”", progress=progress)
    rederive.rederive_all(session, actor, why=f"地方节假日“{name}”")
    return changed, moved

