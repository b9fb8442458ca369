"""Recompute open deadlines after the calendar changed, so nobody's promise moves silently.

Each ticket whose due date or 暂定 flag changes gets a "ticket.deadline_changed" event (old, new, why).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hall.models import Event, Item, Ticket
from hall.services import clock, ledger
from hall.services.actor import Actor
from hall.services.tickets import _by_uid, _touch


def recompute_open(session: Session, actor: Actor, *, since: date, why: str) -> list[tuple[str, date, date]]:
    """Open tickets due on or after ``since`` (or provisional) are re-derived; returns (number, old, new)."""
    clock.forget_calendar()
    calendar = clock.calendar_for(session)
    items: dict[int, Item] = {}
    changed: list[tuple[str, date, date]] = []
    rows = session.scalars(
        select(Ticket).where(Ticket.is_open, Ticket.accepted_on.is_not(None), Ticket.due_date.is_not(None),
                             or_(Ticket.due_date >= since, Ticket.due_provisional))
        .order_by(Ticket.id)
    ).all()
    for t in rows:
        item = items.get(t.item_id) or items.setdefault(t.item_id, session.get_one(Item, t.item_id))
        assert t.accepted_on is not None and t.due_date is not None
        due, provisional = clock.quick_due(calendar, item, t.kind, t.accepted_on, t.clock)
        if due == t.due_date and provisional == t.due_provisional:
            continue
        old = t.due_date
        ledger.append(session, actor, "ticket.deadline_changed", {
            "old": old, "new": due, "old_provisional": t.due_provisional, "new_provisional": provisional,
            "why": why,
        }, ticket_uid=t.uid)
        changed.append((t.number, old, due))
    return changed


@ledger.projector("ticket.deadline_changed")
def _project(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = _by_uid(session, ev.ticket_uid)
    t.due_date, t.due_provisional = date.fromisoformat(p["new"]), p["new_provisional"]
    _touch(t, ev)


def confirm_year(session: Session, actor: Actor, year: int,
                 notice: Any) -> tuple[list[date], list[tuple[str, date, date]]]:
    """Confirm a year from the State Council notice and re-derive every open deadline it touches, in one unit."""
    from hall.services import calendar as calendar_service
    from hall.services.permissions import require_admin

    require_admin(actor, "确认节假日安排")
    changed = calendar_service.set_year(session, actor, year, notice)
    since = min(changed) if changed else date(year, 1, 1)
    why = f"确认{year}年节假日安排（{notice.reference or '未填文号'}）"
    return changed, recompute_open(session, actor, since=since, why=why)


def add_local_holiday(session: Session, actor: Actor, start: date, name: str,
                      end: date | None = None) -> tuple[list[date], list[tuple[str, date, date]]]:
    from hall.services import calendar as calendar_service
    from hall.services.permissions import require_admin

    require_admin(actor, "添加地方节假日")
    changed = calendar_service.add_local_holiday(session, actor, start, name, end=end)
    return changed, recompute_open(session, actor, since=start, why=f"地方节假日“{name.strip()}”")
