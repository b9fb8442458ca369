"""Follow-ups (回访): after closure (the item's ``follow_up_days``), after every 差评, after a complaint.

Each follow-up has a source key (``closure:<ticket>``, ``rectification:<event>``, ``complaint:<number>``) so
scheduling twice changes nothing. :func:`sweep_closed` is the safety net for tickets closed outside
``workflow.close`` (on-the-spot closures at intake).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Item, Ticket
from hall.models.workflow import FollowUp
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text
from hall.services.calendar.derived import DateRule, derive
from hall.services.storage import ledger
from hall.services.tickets.rules import calendar, permit, today_of

REASONS = {"closure": "办结回访", "poor_rating": "差评回访", "complaint": "投诉回访"}
METHODS = ("电话", "上门", "短信", "当面")


@dataclass(frozen=True)
class FollowUpView:
    id: int
    reason: str
    reason_label: str
    ticket_number: str
    item_name: str
    applicant_name: str
    applicant_phone: str
    window_code: str | None
    due_on: date
    state: str
    overdue: bool
    due_provisional: bool = False  # 暂定: the date is in a year whose calendar is not confirmed


def schedule(session: Session, actor: Actor, source_key: str, reason: str, due_on: date, *,
             ticket_uid: str | None = None, window_code: str | None = None, rectification: str = "",
             complaint: str = "", now: datetime | None = None) -> bool:
    """Schedule one follow-up unless its source already has one; True when written. The hall's oversight
    schedules follow-ups (a clerk must not choose when, or whether, his own work is followed up)."""
    require_supervisor(actor, "安排回访")  # the inspector only records findings (inspection.py)
    return _schedule(session, actor, source_key, reason, due_on, ticket_uid=ticket_uid, window_code=window_code,
                     rectification=rectification, complaint=complaint, now=now)


def _schedule(session: Session, actor: Actor, source_key: str, reason: str, due_on: date, *,
              ticket_uid: str | None = None, window_code: str | None = None, rectification: str = "",
              complaint: str = "", now: datetime | None = None) -> bool:
    if reason not in REASONS:
        raise ValidationError("回访类型", f"应为{'、'.join(REASONS.values())}之一")
    if session.scalars(select(FollowUp.id).where(FollowUp.source_key == source_key)).first() is not None:
        return False
    ledger.append(session, actor, "followup.scheduled", {
        "source_key": source_key, "kind": reason, "due_on": due_on, "window_code": window_code,
        # 暂定 when the date falls in a year whose calendar is not confirmed (re-derived when it is)
        "due_provisional": not calendar(session).is_confirmed(due_on.year),
        "rectification": rectification, "complaint": complaint, "reason": f"{REASONS[reason]}，{due_on} 前",
    }, ticket_uid=ticket_uid, at=now)
    return True


@ledger.projector("followup.scheduled")
def _project_scheduled(session: Session, ev: Event, p: dict[str, Any]) -> None:
    from hall.models.workflow import Complaint, Rectification

    rect = session.scalars(select(Rectification.id).where(Rectification.event_id == p["rectification"])).first() \
        if p["rectification"] else None
    comp = session.scalars(select(Complaint.id).where(Complaint.number == p["complaint"])).first() \
        if p["complaint"] else None
    session.add(FollowUp(source_key=p["source_key"], ticket_uid=ev.ticket_uid, reason=p["kind"],
                         rectification_id=rect, complaint_id=comp, window_code=p["window_code"],
                         due_on=date.fromisoformat(p["due_on"]), state="due",
                         due_provisional=bool(p.get("due_provisional", False))))
    session.flush()


def closure_due(session: Session, t: Ticket, item: Item) -> date | None:
    """``follow_up_days`` natural days after closure, moved to a working day; None when the item has none."""
    if not item.follow_up_days or t.closed_at is None:
        return None
    return derive(calendar(session), t.closed_at.date(), DateRule(item.follow_up_days, "day"))[0]


def schedule_after_closure(session: Session, actor: Actor, t: Ticket, *, now: datetime | None = None) -> bool:
    permit(session, actor, t, "安排办结回访", (now or datetime.now()).date())
    session.flush()
    item = session.get_one(Item, t.item_id)
    due = closure_due(session, t, item)
    if due is None:
        return False
    # The closure follow-up the rules fix (not a date anyone chooses): by whoever may close this ticket.
    return _schedule(session, actor, f"closure:{t.uid}", "closure", due, ticket_uid=t.uid,
                     window_code=t.window_code, now=now)


_NOT_SERVED = ("voided", "withdrawn", "refused")


def closure_window(today: date, lookback_days: int = 60) -> tuple[date | None, date | None]:
    """The closure days :func:`sweep_closed` looks at on ``today``."""
    return today - timedelta(days=lookback_days), None


def _closed_where(since: date):  # type: ignore[no-untyped-def]
    # Correlated (one index probe per ticket), not NOT IN (SELECT …) over every closure follow-up ever.
    have = exists().where(FollowUp.ticket_uid == Ticket.uid, FollowUp.reason == "closure")
    return (Ticket.closed_at >= datetime.combine(since, datetime.min.time()), Ticket.state.not_in(_NOT_SERVED),
            ~have)


def closed_candidates(session: Session, today: date, ranges: Sequence[tuple[date | None, date | None]] = (),
                      touched: Iterable[str] | None = None, *, lookback_days: int = 60) -> list[int]:
    """Ids of the tickets :func:`schedule_closed` may have to schedule on ``today``: the whole window
    (``touched=None``), or its parts in ``ranges`` and the ``touched`` tickets (changed since the last run)."""
    since = closure_window(today, lookback_days)[0]
    assert since is not None
    base = select(Ticket.id).where(*_closed_where(since))
    if touched is None:
        return list(session.scalars(base.order_by(Ticket.id)))
    ids: set[int] = set()
    for lo, hi in ranges:
        stmt = base
        if lo is not None:
            stmt = stmt.where(Ticket.closed_at >= datetime.combine(lo, datetime.min.time()))
        if hi is not None:
            stmt = stmt.where(Ticket.closed_at < datetime.combine(hi, datetime.min.time()))
        ids.update(session.scalars(stmt))
    uids = sorted(set(touched))
    for i in range(0, len(uids), 500):  # bounded IN lists on any database
        ids.update(session.scalars(base.where(Ticket.uid.in_(uids[i:i + 500]))))
    return sorted(ids)


def schedule_closed(session: Session, actor: Actor, today: date, ids: Sequence[int], *, lookback_days: int = 60,
                    now: datetime | None = None) -> int:
    """Schedule the closure follow-up of the tickets of ``ids`` that still have none (re-checked here)."""
    require_supervisor(actor, "安排办结回访")
    since = closure_window(today, lookback_days)[0]
    assert since is not None
    count = 0
    for i in range(0, len(ids), 500):
        stmt = select(Ticket).where(*_closed_where(since), Ticket.id.in_(list(ids[i:i + 500]))).order_by(Ticket.id)
        count += sum(schedule_after_closure(session, actor, t, now=now) for t in session.scalars(stmt).all())
    return count


def sweep_closed(session: Session, actor: Actor, today: date, *, lookback_days: int = 60,
                 now: datetime | None = None) -> int:
    """Schedule the closure follow-up of tickets closed in the last ``lookback_days`` that have none."""
    require_supervisor(actor, "安排办结回访")
    ids = closed_candidates(session, today, lookback_days=lookback_days)
    return schedule_closed(session, actor, today, ids, lookback_days=lookback_days, now=now)


def _due_where(today: date, within_days: int, window_code: str | None) -> list[Any]:
    where = [FollowUp.state == "due", FollowUp.due_on <= today + timedelta(days=within_days)]
    if window_code:
        where.append(FollowUp.window_code == window_code)
    return where


def due(session: Session, today: date, *, within_days: int = 0, window_code: str | None = None,
        limit: int | None = None, offset: int = 0) -> list[FollowUpView]:
    """Follow-ups to make by ``today`` + ``within_days`` (overdue ones included), oldest first; ``limit`` and
    ``offset`` read one page of a long backlog (the dashboard shows the first few, a list pages on)."""
    stmt = select(FollowUp, Ticket).outerjoin(Ticket, Ticket.uid == FollowUp.ticket_uid).where(
        *_due_where(today, within_days, window_code)).order_by(FollowUp.due_on, FollowUp.id)
    if limit is not None:
        stmt = stmt.limit(limit).offset(offset)
    out = []
    for f, t in session.execute(stmt).all():
        out.append(FollowUpView(f.id, f.reason, REASONS[f.reason], t.number if t else "", t.item_name if t else "",
                                t.applicant_name if t else "", t.applicant_phone if t else "", f.window_code,
                                f.due_on, f.state, f.due_on < today, f.due_provisional))
    return out


def count_due(session: Session, today: date, *, within_days: int = 0, window_code: str | None = None) -> int:
    """How many :func:`due` would list (read from ``ix_follow_ups_due`` alone)."""
    return int(session.scalar(select(func.count(FollowUp.id)).where(*_due_where(today, within_days, window_code)))
               or 0)


def record_outcome(session: Session, actor: Actor, followup_id: int, method: str, outcome: str, *,
                   satisfied: bool | None = None, reached: bool = True, now: datetime | None = None) -> None:
    """The follow-up call or visit: how, what the citizen said, satisfied or not (or unreachable)."""
    now = today_of(now)
    f = session.get(FollowUp, followup_id)
    if f is None:
        raise NotFound(f"回访记录 {followup_id} 不存在")
    if not (actor.is_supervisor or (actor.role == "clerk" and actor.window_code == f.window_code)):
        raise PermissionDenied(f"只有{f.window_code or ''}窗口或中心主任可以登记回访")
    if f.state != "due":
        raise ConflictError("该回访已登记结果")
    if method not in METHODS:
        raise ValidationError("回访方式", f"应为{'、'.join(METHODS)}之一")
    said = free_text(outcome, "回访情况", max_len=2000, multiline=True, min_len=2)
    ledger.append(session, actor, "followup.done", {
        "source_key": f.source_key, "method": method, "outcome": said,
        "satisfied": satisfied if reached else None, "state": "done" if reached else "unreachable",
        "on": now.date(), "reason": f"{REASONS[f.reason]}（{method}）：{said[:200]}",
    }, ticket_uid=f.ticket_uid, at=now)


@ledger.projector("followup.done")
def _project_done(session: Session, ev: Event, p: dict[str, Any]) -> None:
    f = session.scalars(select(FollowUp).where(FollowUp.source_key == p["source_key"])).one()
    f.state, f.method, f.outcome, f.satisfied = p["state"], p["method"], p["outcome"], p["satisfied"]
    f.done_on, f.done_by = date.fromisoformat(p["on"]), ev.actor_name


def of_ticket(session: Session, t: Ticket) -> list[FollowUp]:
    return list(session.scalars(select(FollowUp).where(FollowUp.ticket_uid == t.uid).order_by(FollowUp.id)))
