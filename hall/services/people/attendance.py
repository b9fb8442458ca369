"""Attendance (考勤): who is at their post each day, and which B-post stands in for whom.

A clerk checks themself in (present, today only); the manager marks or overrides anyone on any day. The newest
mark of a day wins (by its time, then its event id: the same whichever node's mark arrives first), and every mark
is a ledger event. Marking someone away starts their B-post's substitution
(services/bposts.py); marking them present again ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hall.models import Event, Staff
from hall.models.workflow import ATTENDANCE, Attendance, Substitution
from hall.services.storage import identity, ledger

AWAY = frozenset({"absent", "leave", "business"})


@dataclass(frozen=True)
class DutyLine:
    staff_id: int
    staff_no: str
    name: str
    role: str
    window_code: str | None
    status: str  # present | absent | leave | business | unmarked
    status_label: str
    source: str  # self | manager | ""
    b_post_name: str
    standing_in_for: tuple[str, ...]  # names of the absent holders this person stands in for
    stood_in_by: str  # the B-post standing in for this person today






@ledger.projector("attendance.marked")
def _project_mark(session: Session, ev: Event, p: dict[str, Any]) -> None:
    day = date.fromisoformat(p["day"])
    person = identity.staff_ref(session, p, "staff_uid", "staff_id")
    mark = ledger.stamp(ev.occurred_at, ev.event_id)
    row = session.scalars(select(Attendance).where(Attendance.staff_id == person, Attendance.day == day)).first()
    if row is None:
        row = Attendance(staff_id=person, day=day)
        session.add(row)
    elif row.stamp > mark:
        return  # a newer mark of that day is already in (told on another node, or imported first)
    row.status, row.source, row.note = p["status"], p["source"], p["note"]
    row.marked_by, row.marked_at, row.stamp = ev.actor_name, ev.occurred_at, mark
    session.flush()


def status_of(session: Session, staff_id: int, day: date) -> str:
    row = session.scalars(select(Attendance.status).where(Attendance.staff_id == staff_id, Attendance.day == day)
                          ).first()
    return row or "unmarked"


def is_away(session: Session, staff_id: int, day: date) -> bool:
    return status_of(session, staff_id, day) in AWAY


def active_substitutions(session: Session, day: date) -> list[Substitution]:
    return list(session.scalars(select(Substitution).where(
        Substitution.started_on <= day, or_(Substitution.ended_on.is_(None), Substitution.ended_on > day),
    ).order_by(Substitution.id)))


def standing_in_for(session: Session, staff_id: int | None, day: date) -> tuple[str, ...]:
    """Windows whose tickets this person may work today as the B-post of an absent holder."""
    if staff_id is None:
        return ()
    rows = session.scalars(select(Substitution.window_code).where(
        Substitution.b_post_id == staff_id, Substitution.started_on <= day,
        or_(Substitution.ended_on.is_(None), Substitution.ended_on > day),
    ))
    return tuple(sorted({w for w in rows if w}))


def on_duty(session: Session, day: date) -> list[DutyLine]:
    """Every active staff member's status that day and who stands in for whom (the dashboard's 考勤 panel)."""
    people = list(session.scalars(select(Staff).where(Staff.active, Staff.role.in_(("clerk", "manager", "village")))
                                  .order_by(Staff.window_code, Staff.staff_no)))
    names = {p.id: p.name for p in session.scalars(select(Staff))}
    marks = {a.staff_id: a for a in session.scalars(select(Attendance).where(Attendance.day == day))}
    subs = active_substitutions(session, day)
    covering: dict[int, list[str]] = {}
    covered_by: dict[int, str] = {}
    for s in subs:
        covering.setdefault(s.b_post_id, []).append(names.get(s.holder_id, ""))
        covered_by[s.holder_id] = names.get(s.b_post_id, "")
    out = []
    for p in people:
        m = marks.get(p.id)
        status = m.status if m else "unmarked"
        out.append(DutyLine(
            staff_id=p.id, staff_no=p.staff_no, name=p.name, role=p.role, window_code=p.window_code,
            status=status, status_label=ATTENDANCE.get(status, "未登记"), source=m.source if m else "",
            b_post_name=names.get(p.b_post_id, "") if p.b_post_id else "",
            standing_in_for=tuple(covering.get(p.id, ())), stood_in_by=covered_by.get(p.id, ""),
        ))
    return out
