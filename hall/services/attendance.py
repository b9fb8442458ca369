"""Attendance (考勤): who is at their post each day, and which B-post stands in for whom.

A clerk checks themself in (present, today only); the manager marks or overrides anyone on any day. The latest
mark of a day wins, and every mark is a ledger event. Marking someone away starts their B-post's substitution
(services/bposts.py); marking them present again ends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hall.errors import PermissionDenied, ValidationError
from hall.models import Event, Staff
from hall.models.workflow import ATTENDANCE, Attendance, Substitution
from hall.services import ledger
from hall.services.actor import Actor
from hall.services.staff import by_number
from hall.services.validators import free_text

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


def mark(session: Session, actor: Actor, staff_no: str, status: str, *, day: date | None = None, note: str = "",
         now: datetime | None = None) -> None:
    """Mark one day's attendance. Self check-in: a staff member marks themself present today. Anything else
    (absence, leave, another person, another day, overriding a mark) is the manager's."""
    now = now or datetime.now()
    day = day or now.date()
    if status not in ATTENDANCE:
        raise ValidationError("考勤状态", f"应为{'、'.join(ATTENDANCE.values())}之一")
    person = by_number(session, staff_no)
    if actor.is_supervisor:
        source = "manager"
    elif actor.staff_id == person.id and status == "present" and day == now.date():
        source = "self"
    elif actor.staff_id == person.id:
        raise PermissionDenied("本人只能签到（当日在岗）；请假、缺勤或补登须由中心主任登记")
    else:
        raise PermissionDenied("只有中心主任可以登记或更改他人的考勤")
    note = free_text(note, "考勤备注", max_len=200, required=False)
    ledger.append(session, actor, "attendance.marked", {
        "staff_id": person.id, "day": day, "status": status, "source": source, "note": note,
    }, at=now)
    from hall.services import bposts  # bposts builds on this module

    bposts.sweep(session, actor if actor.is_supervisor else _system_like(actor), day, now=now)


def _system_like(actor: Actor) -> Actor:
    # A self check-in that ends a substitution is recorded as done by the program on the clerk's node.
    return Actor.system(actor.node_id, actor.intake_point)


@ledger.projector("attendance.marked")
def _project_mark(session: Session, ev: Event, p: dict[str, Any]) -> None:
    day = date.fromisoformat(p["day"])
    row = session.scalars(select(Attendance).where(Attendance.staff_id == p["staff_id"], Attendance.day == day)
                          ).first()
    if row is None:
        row = Attendance(staff_id=p["staff_id"], day=day)
        session.add(row)
    row.status, row.source, row.note = p["status"], p["source"], p["note"]
    row.marked_by, row.marked_at = ev.actor_name, ev.occurred_at
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
