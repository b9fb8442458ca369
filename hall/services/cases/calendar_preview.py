"""What a calendar change would do, before it is made: the dates whose working status changes and the open
tickets whose due date moves (管理 → 节假日与调休设置 shows it before the administrator confirms).

Nothing is written: the calendar after the change is built in memory from the stored days and the notice by the
same rules the change's projector applies (:mod:`hall.services.calendar.workdays`), and the open tickets are
re-derived against it by the same functions :func:`hall.services.cases.recalc.recompute_open` uses. So the
preview and the change cannot disagree (a test compares them). Other derived dates (补正, 整改, 回访 …) are
re-derived too when the change is made; they are not counted here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models import CalendarDay, CalendarYear, Item
from hall.services.calendar import workdays
from hall.services.calendar.deadlines import LimitRule
from hall.services.calendar.workdays import DayException, WorkCalendar, YearNotice
from hall.services.cases import recalc


@dataclass(frozen=True)
class CalendarPreview:
    changed: tuple[date, ...]  # dates whose working status would change
    moved: tuple[tuple[str, date, date], ...]  # (ticket number, due now, due after) of moving due dates
    unprovisional: int  # open tickets whose due date stays but stops being provisional


def _stored(session: Session) -> tuple[dict[date, DayException], set[int]]:
    days = {r[0]: DayException(*r) for r in session.execute(
        select(CalendarDay.day, CalendarDay.is_workday, CalendarDay.kind, CalendarDay.name))}
    confirmed = set(session.scalars(select(CalendarYear.year).where(CalendarYear.status == "confirmed")))
    return days, confirmed


def _tickets(session: Session, after: WorkCalendar, since: date) -> tuple[tuple[tuple[str, date, date], ...], int]:
    conn = session.connection()
    rules = {row.id: LimitRule(row.promised_limit, row.limit_unit,  # type: ignore[arg-type]
                               row.restart_on_supplement)
             for row in conn.execute(select(Item.id, Item.promised_limit, Item.limit_unit,
                                            Item.restart_on_supplement))}
    changes = sorted(recalc._moved(after, rules, conn.execute(recalc._candidates(since)).all()))
    moved = tuple((number, old, new) for _id, _uid, number, old, new, _op, _np, _v in changes if old != new)
    return moved, len(changes) - len(moved)


def preview_year(session: Session, year: int, notice: YearNotice) -> CalendarPreview:
    """What confirming ``year`` from ``notice`` would change (the notice is checked as the change checks it)."""
    workdays.validate_notice(notice, year)
    holidays = [{"name": h.name, "start": h.start.isoformat(), "end": h.end.isoformat()} for h in notice.holidays]
    makeups = [{"date": m.on.isoformat(), "name": m.name} for m in notice.makeup_days]
    new = workdays._notice_days(holidays, makeups)
    first = min([date(year, 1, 1), *new])
    last = max([date(year, 12, 31), *new])
    before = workdays._status(session, first, last)
    after_status = workdays._status_after(session, first, last, year, new)
    changed = tuple(d for d in sorted(after_status) if after_status[d] != before[d])
    days, confirmed = _stored(session)
    # As the projector writes it: the year's statutory days replaced, the notice's days win over any other.
    kept = {d: e for d, e in days.items()
            if not (d.year == year and e.kind in ("holiday", "makeup")) and d not in new}
    kept.update({d: DayException(d, work, kind, name) for d, (work, kind, name) in new.items()})
    after = WorkCalendar(kept.values(), confirmed | {year})
    moved, unprovisional = _tickets(session, after, min(changed) if changed else date(year, 1, 1))
    return CalendarPreview(changed, moved, unprovisional)


def preview_local_holiday(session: Session, start: date, name: str, end: date | None = None) -> CalendarPreview:
    """What adding the local holiday would change (its dates checked as :func:`workdays.add_local_holiday` does)."""
    end = end or start
    if start > end:
        from hall.errors import ValidationError

        raise ValidationError("地方节假日日期", f"开始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}")
    span = [start + timedelta(days=i) for i in range(min((end - start).days, 30) + 1)]
    days, confirmed = _stored(session)
    taken = [d for d in span if d in days]
    if taken:
        from hall.errors import ValidationError

        raise ValidationError("地方节假日日期", f"{taken[0].isoformat()} 已是{days[taken[0]].name}")
    changed = tuple(d for d in span if d.weekday() < 5)
    days.update({d: DayException(d, False, "local", name) for d in span})
    moved, unprovisional = _tickets(session, WorkCalendar(days.values(), confirmed), start)
    return CalendarPreview(changed, moved, unprovisional)
