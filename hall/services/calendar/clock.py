"""Deadlines of tickets: the item's rule + the calendar + the ticket's clock events → a derived due date."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.models.calendar import CalendarDay, CalendarYear
from hall.services.calendar.deadlines import ClockEvent, Deadline, LimitRule, compute_due, due_date
from hall.services.calendar.workdays import WorkCalendar

_lock = threading.Lock()
_cache: dict[str, tuple[tuple[Any, ...], WorkCalendar]] = {}
# confirmed_at moves when a year is confirmed again with a corrected notice of the same shape.
_STAMP = select(func.count(CalendarDay.day), func.max(CalendarDay.day),
                select(func.count(CalendarYear.year)).where(CalendarYear.status == "confirmed").scalar_subquery(),
                select(func.max(CalendarYear.confirmed_at)).scalar_subquery())


def calendar_for(session: Session) -> WorkCalendar:
    """The database calendar, rebuilt only when it changed (a cheap stamp query per call)."""
    conn = session.connection()
    stamp = tuple(conn.execute(_STAMP).one())
    key = str(conn.engine.url)
    with _lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] == stamp and hit[1].index is not None:
            return hit[1]
    cal = WorkCalendar.load(session)
    with _lock:
        _cache[key] = (stamp, cal)
    return cal


def forget_calendar() -> None:
    with _lock:
        _cache.clear()


def rule_of(item: Any) -> LimitRule:
    """The limit rule of an item (an ``Item`` row or a catalogue ``ItemView``)."""
    return LimitRule(limit=item.promised_limit, unit=item.limit_unit,  # type: ignore[arg-type]
                     restart_on_supplement=item.restart_on_supplement)


def clock_events(raw: list[dict[str, Any]]) -> list[ClockEvent]:
    return [ClockEvent(kind=e["kind"], on=date.fromisoformat(e["on"]), days=e.get("days", 0),
                       reason=e.get("reason", ""), approver=e.get("approver", "")) for e in raw]


def deadline(calendar: WorkCalendar, item: Any, kind: str, accepted_on: date,
             clock: list[dict[str, Any]] | None = None) -> Deadline:
    return compute_due(calendar, rule_of(item), accepted_on, kind, clock_events(clock or []))


def quick_due(calendar: WorkCalendar, item: Any, kind: str, accepted_on: date,
              clock: list[dict[str, Any]] | None = None) -> tuple[date, bool]:
    return due_date(calendar, rule_of(item), accepted_on, kind, clock_events(clock or []))
