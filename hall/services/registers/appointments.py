"""Appointments (点名约访) and circuit visits (巡回下访).

- A citizen books a named staff member for a working day; the staff member (or the manager) records whether it
  was kept, and links the ticket it produced.
- A circuit visit takes staff to a village, often on market day; tickets taken there are tagged with the visit
  (a tag is its own event after intake, so intake stays as it is).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Staff, Ticket
from hall.models.workflow import Appointment, CircuitVisit, VisitTicket
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_supervisor
from hall.services.base.validators import free_text, parse_key, parse_person_name, parse_phone
from hall.services.people.attendance import is_away
from hall.services.storage import identity, ledger
from hall.services.tickets import record as tickets
from hall.services.tickets.rules import calendar, today_of

OUTCOMES = {"kept": "已接待", "missed": "未到", "cancelled": "已取消"}


@dataclass(frozen=True)
class AppointmentView:
    id: int
    on_day: date
    slot: str
    staff_name: str
    citizen_name: str
    citizen_phone: str
    purpose: str
    state: str
    ticket_number: str


def _staff(session: Session, staff_no: str) -> Staff:
    staff_no = parse_key(staff_no, "约访工作人员", max_len=20)
    person = session.scalars(select(Staff).where(Staff.staff_no == staff_no, Staff.active)).first()
    if person is None:
        raise ValidationError("约访工作人员", f"工号“{staff_no}”不存在或已停用")
    return person


def book(session: Session, actor: Actor, staff_no: str, on_day: date, citizen_name: str, *, phone: str = "",
         purpose: str = "", slot: str = "", now: datetime | None = None) -> Appointment:
    """点名约访: book a named staff member for a working day (not one they are known to be away)."""
    if actor.role not in ("clerk", "manager", "admin", "village", "system"):
        raise PermissionDenied("当前身份不能登记约访")
    now = today_of(now)
    person = _staff(session, staff_no)
    if on_day < now.date():
        raise ValidationError("约访日期", "不能早于今天")
    if not calendar(session).is_workday(on_day):
        raise ValidationError("约访日期", f"{on_day} 不是工作日")
    if is_away(session, person.id, on_day):
        raise ConflictError(f"{person.name}在 {on_day} 不在岗，请改约日期或约其B岗")
    ev = ledger.append(session, actor, "appointment.booked", {
        "staff_uid": person.uid, "on_day": on_day, "slot": free_text(slot, "时段", max_len=20, required=False),
        "on_day_provisional": not calendar(session).is_confirmed(on_day.year),  # 暂定: year not confirmed
        "citizen_name": parse_person_name(citizen_name, "约访人姓名"),
        "citizen_phone": parse_phone(phone, "约访人电话") if (phone or "").strip() else "",
        "purpose": free_text(purpose, "约访事由", max_len=500, multiline=True, required=False),
    }, at=now)
    return session.scalars(select(Appointment).where(Appointment.event_id == ev.event_id)).one()


@ledger.projector("appointment.booked")
def _project_booked(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(Appointment(event_id=ev.event_id, staff_id=identity.staff_ref(session, p, "staff_uid", "staff_id"),
                            on_day=date.fromisoformat(p["on_day"]), slot=p["slot"], citizen_name=p["citizen_name"],
                            citizen_phone=p["citizen_phone"], purpose=p["purpose"], state="booked",
                            on_day_provisional=bool(p.get("on_day_provisional", False))))
    session.flush()


def record_outcome(session: Session, actor: Actor, appointment_id: int, outcome: str, *,
                   ticket_number: str | None = None, note: str = "", now: datetime | None = None) -> None:
    """Kept (with the ticket it produced, if any), missed or cancelled — by the named staff or the manager."""
    now = today_of(now)
    a = session.get(Appointment, appointment_id)
    if a is None:
        raise NotFound(f"约访记录 {appointment_id} 不存在")
    if not (actor.is_supervisor or actor.staff_id == a.staff_id):
        raise PermissionDenied("只有被约访的工作人员或中心主任可以登记约访结果")
    if a.state != "booked":
        raise ConflictError(f"该约访已登记为“{OUTCOMES[a.state]}”")
    if outcome not in OUTCOMES:
        raise ValidationError("约访结果", f"应为{'、'.join(OUTCOMES.values())}之一")
    uid = None
    if ticket_number:
        if outcome != "kept":
            raise ValidationError("关联办件", "只有已接待的约访可以关联办件")
        uid = tickets.get(session, ticket_number).uid
    ledger.append(session, actor, "appointment.kept" if uid else "appointment.closed", {
        "appointment": a.event_id, "state": outcome, "note": free_text(note, "备注", max_len=500, required=False),
        "reason": f"点名约访：{OUTCOMES[outcome]}",
    }, ticket_uid=uid, at=now)


@ledger.projector("appointment.kept")
@ledger.projector("appointment.closed")
def _project_outcome(session: Session, ev: Event, p: dict[str, Any]) -> None:
    a = session.scalars(select(Appointment).where(Appointment.event_id == p["appointment"])).one()
    a.state, a.note, a.ticket_uid = p["state"], p["note"], ev.ticket_uid


def for_day(session: Session, day: date, *, staff_id: int | None = None) -> list[AppointmentView]:
    stmt = select(Appointment).where(Appointment.on_day == day)
    if staff_id is not None:
        stmt = stmt.where(Appointment.staff_id == staff_id)
    rows = session.scalars(stmt.order_by(Appointment.slot, Appointment.id)).all()
    names = {p.id: p.name for p in session.scalars(select(Staff))}
    uids = [a.ticket_uid for a in rows if a.ticket_uid]
    numbers = dict(session.execute(select(Ticket.uid, Ticket.number).where(Ticket.uid.in_(uids))).all()) \
        if uids else {}
    return [AppointmentView(a.id, a.on_day, a.slot, names.get(a.staff_id, ""), a.citizen_name, a.citizen_phone,
                            a.purpose, a.state, numbers.get(a.ticket_uid, "")) for a in rows]


# ------------------------------------------------------------------------------------- circuit visits
def plan_visit(session: Session, actor: Actor, on_day: date, village: str, staff_nos: list[str], *,
               place: str = "", market_day: bool = False, now: datetime | None = None) -> CircuitVisit:
    """巡回下访: the manager sends staff to a village on a day (market day noted)."""
    require_supervisor(actor, "安排巡回下访")
    now = today_of(now)
    if not staff_nos:
        raise ValidationError("下访人员", "至少安排一名工作人员")
    people = [_staff(session, no) for no in staff_nos]
    ev = ledger.append(session, actor, "visit.planned", {
        "on_day": on_day, "village": free_text(village, "下访村", max_len=80),
        "place": free_text(place, "地点", max_len=120, required=False),
        "market_day": market_day, "staff_uids": [p.uid for p in people],
    }, at=now)
    return session.scalars(select(CircuitVisit).where(CircuitVisit.event_id == ev.event_id)).one()


@ledger.projector("visit.planned")
def _project_planned(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(CircuitVisit(event_id=ev.event_id, on_day=date.fromisoformat(p["on_day"]), village=p["village"],
                             place=p["place"], market_day=p["market_day"],
                             staff_ids=identity.staff_refs(session, p, "staff_uids", "staff_ids"),
                             state="planned"))
    session.flush()


def _visit(session: Session, visit_id: int) -> CircuitVisit:
    v = session.get(CircuitVisit, visit_id)
    if v is None:
        raise NotFound(f"巡回下访记录 {visit_id} 不存在")
    return v


def tag_ticket(session: Session, actor: Actor, visit_id: int, number: str, *, now: datetime | None = None) -> None:
    """Tag a ticket taken during the visit (received that day, by someone on the visit or the manager)."""
    now = today_of(now)
    v = _visit(session, visit_id)
    if not (actor.is_supervisor or actor.staff_id in v.staff_ids):
        raise PermissionDenied("只有参加本次下访的工作人员或中心主任可以标记下访办件")
    if v.state == "cancelled":
        raise ConflictError("该次下访已取消")
    t = tickets.get(session, number)
    if t.received_at.date() != v.on_day:
        raise ValidationError("下访办件", f"办件 {t.number} 不是 {v.on_day} 下访当天收件")
    if session.scalars(select(VisitTicket.id).where(VisitTicket.ticket_uid == t.uid)).first() is not None:
        raise ConflictError(f"办件 {t.number} 已标记为下访办件")
    ledger.append(session, actor, "visit.ticket_tagged", {
        "visit": v.event_id, "reason": f"{v.on_day} {v.village}巡回下访" + ("（逢集日）" if v.market_day else ""),
    }, ticket_uid=t.uid, at=now)


@ledger.projector("visit.ticket_tagged")
def _project_tagged(session: Session, ev: Event, p: dict[str, Any]) -> None:
    v = session.scalars(select(CircuitVisit).where(CircuitVisit.event_id == p["visit"])).one()
    session.add(VisitTicket(visit_id=v.id, ticket_uid=ev.ticket_uid, tagged_by=ev.actor_name))
    session.flush()


def finish_visit(session: Session, actor: Actor, visit_id: int, summary: str, *, cancelled: bool = False,
                 now: datetime | None = None) -> None:
    require_supervisor(actor, "登记巡回下访结果")
    v = _visit(session, visit_id)
    if v.state != "planned":
        raise ConflictError("该次下访已登记结果")
    ledger.append(session, actor, "visit.finished", {
        "visit": v.event_id, "state": "cancelled" if cancelled else "done",
        "summary": free_text(summary, "下访小结", max_len=2000, multiline=True, min_len=2),
    }, at=today_of(now))


@ledger.projector("visit.finished")
def _project_finished(session: Session, ev: Event, p: dict[str, Any]) -> None:
    v = session.scalars(select(CircuitVisit).where(CircuitVisit.event_id == p["visit"])).one()
    v.state, v.summary = p["state"], p["summary"]


def visit_tickets(session: Session, visit_id: int) -> list[Ticket]:
    uids = select(VisitTicket.ticket_uid).where(VisitTicket.visit_id == visit_id)
    return list(session.scalars(select(Ticket).where(Ticket.uid.in_(uids)).order_by(Ticket.number)))


def visits(session: Session, since: date, until: date) -> list[CircuitVisit]:
    return list(session.scalars(select(CircuitVisit).where(CircuitVisit.on_day >= since,
                                                           CircuitVisit.on_day <= until)
                                .order_by(CircuitVisit.on_day, CircuitVisit.id)))
