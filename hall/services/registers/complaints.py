"""Complaints (投诉): a register linked to tickets and staff, each with its own answer deadline.

The deadline is ``complaint_workdays`` working days from receipt (a local setting; 15 when not set). The manager
answers; an upheld complaint against a person or window opens an accountability record, and every answered
complaint gets a follow-up call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from hall.models import Event, Staff, Ticket, Window
from hall.models.workflow import Complaint
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_staff, require_supervisor
from hall.services.base.validators import free_text, parse_key, parse_phone
from hall.services.calendar.derived import DateRule
from hall.services.storage import identity, ledger, settings
from hall.services.tickets import numbering
from hall.services.tickets import record as tickets
from hall.services.tickets.rules import add_workdays, derive_date, staff_name, today_of

CHANNELS = ("现场", "电话", "信件", "意见箱", "12345热线", "网络")


@dataclass(frozen=True)
class ComplaintView:
    id: int
    number: str
    received_on: date
    channel: str
    complainant: str
    content: str
    ticket_number: str
    staff_name: str
    window_code: str | None
    due_on: date
    state: str
    overdue: bool
    upheld: bool | None
    answer: str


def complaint_workdays(session: Session) -> int:
    return int(settings.get(session, "complaint_workdays"))


def register(session: Session, actor: Actor, content: str, channel: str, *, complainant: str = "",
             phone: str = "", ticket_number: str | None = None, staff_no: str | None = None,
             window_code: str | None = None, now: datetime | None = None) -> Complaint:
    """Register a complaint (anonymous allowed), linked to a ticket, a staff member and/or a window."""
    require_staff(actor, "登记投诉")
    if actor.role not in ("clerk", "manager", "admin", "system"):
        raise PermissionDenied("当前身份不能登记投诉")
    now = today_of(now)
    if channel not in CHANNELS:
        raise ValidationError("投诉渠道", f"应为{'、'.join(CHANNELS)}之一")
    body = free_text(content, "投诉内容", max_len=4000, multiline=True, min_len=2)
    who = free_text(complainant, "投诉人", max_len=80, required=False)
    clean_phone = parse_phone(phone, "投诉人电话") if (phone or "").strip() else ""
    ticket_uid = None
    if ticket_number:
        t = tickets.get(session, ticket_number)
        ticket_uid, window_code = t.uid, window_code or t.window_code
    staff_uid = None
    if staff_no:
        staff_no = parse_key(staff_no, "被投诉人", max_len=20)
        person = session.scalars(select(Staff).where(Staff.staff_no == staff_no)).first()
        if person is None:
            raise ValidationError("被投诉人", f"工号“{staff_no}”不存在")
        staff_uid, window_code = person.uid, window_code or person.window_code
    if window_code:
        window_code = parse_key(window_code, "被投诉窗口", max_len=8)
        if session.get(Window, window_code) is None:
            raise ValidationError("被投诉窗口", f"窗口“{window_code}”不存在")
    day = now.date()
    key = f"{day:%Y%m%d}"
    # A counter of its own (never a count of the day's rows: a restored older ledger would hand a number out
    # again, and two PCs counting at once would both get the same one), started above the day's complaints a
    # ledger from before the counter holds.
    held = session.scalar(select(func.max(cast(func.substr(Complaint.number, 13), Integer)))
                          .where(Complaint.received_on == day, Complaint.number.like("TS-________-%")))
    if held:
        numbering.raise_serials(session, {(numbering.COMPLAINT_POINT, key): int(held)})
    serial = numbering.claim_in_transaction(session, numbering.COMPLAINT_POINT, key)
    number = f"TS-{key}-{serial:03d}"
    rule = DateRule(complaint_workdays(session), "workday")
    due, provisional = derive_date(session, day, rule)
    ev = ledger.append(session, actor, "complaint.registered", {
        "number": number, "received_on": day, "channel": channel,
        "complainant": who, "phone": clean_phone, "content": body,
        "staff_uid": staff_uid, "window_code": window_code, "due_on": due, "due_provisional": provisional,
        "rule": rule.to_json(), "reason": f"投诉 {number}（{due} 前答复）",
    }, ticket_uid=ticket_uid, at=now)
    return session.scalars(select(Complaint).where(Complaint.event_id == ev.event_id)).one()


@ledger.projector("complaint.registered")
def _project_registered(session: Session, ev: Event, p: dict[str, Any]) -> None:
    session.add(Complaint(
        event_id=ev.event_id, number=p["number"], received_on=date.fromisoformat(p["received_on"]),
        channel=p["channel"], complainant=p["complainant"], phone=p["phone"], content=p["content"],
        ticket_uid=ev.ticket_uid, staff_id=identity.staff_ref(session, p, "staff_uid", "staff_id"),
        window_code=p["window_code"],
        due_on=date.fromisoformat(p["due_on"]), due_provisional=p["due_provisional"], state="open",
    ))
    session.flush()


def answer(session: Session, actor: Actor, number: str, upheld: bool, reply: str, *,
           now: datetime | None = None) -> None:
    """The manager's answer; never by the person complained about."""
    from hall.services.registers import accountability, followups

    require_supervisor(actor, "答复投诉")
    now = today_of(now)
    number = parse_key(number, "投诉编号", max_len=24)
    c = session.scalars(select(Complaint).where(Complaint.number == number)).first()
    if c is None:
        raise NotFound(f"投诉编号“{number}”不存在")
    if c.state != "open":
        raise ConflictError("该投诉已答复")
    if c.staff_id is not None and c.staff_id == actor.staff_id:
        raise PermissionDenied("被投诉人不能答复对自己的投诉")
    body = free_text(reply, "答复内容", max_len=4000, multiline=True, min_len=2)
    ledger.append(session, actor, "complaint.answered", {
        "number": c.number, "upheld": upheld, "answer": body, "on": now.date(),
        "late": now.date() > c.due_on, "reason": ("投诉属实：" if upheld else "投诉不属实：") + body[:200],
    }, ticket_uid=c.ticket_uid, at=now)
    if upheld and (c.staff_id is not None or c.window_code):
        accountability.open_record(session, actor, f"complaint:{c.number}", "complaint", now.date(),
                                   ticket_uid=c.ticket_uid, staff_id=c.staff_id, window_code=c.window_code,
                                   detail=f"投诉 {c.number} 属实：{c.content[:300]}", now=now)
    follow_on, _ = add_workdays(session, now.date(), 3)
    followups.schedule(session, actor, f"complaint:{c.number}", "complaint", follow_on, ticket_uid=c.ticket_uid,
                       window_code=c.window_code, complaint=c.number, now=now)


@ledger.projector("complaint.answered")
def _project_answered(session: Session, ev: Event, p: dict[str, Any]) -> None:
    c = session.scalars(select(Complaint).where(Complaint.number == p["number"])).one()
    c.state, c.upheld, c.answer = "answered", p["upheld"], p["answer"]
    c.answered_on, c.answered_by = date.fromisoformat(p["on"]), ev.actor_name


def register_list(session: Session, today: date, *, open_only: bool = True, limit: int = 500
                  ) -> list[ComplaintView]:
    stmt = select(Complaint, Ticket.number).outerjoin(Ticket, Ticket.uid == Complaint.ticket_uid)
    if open_only:
        stmt = stmt.where(Complaint.state == "open")
    rows = session.execute(stmt.order_by(Complaint.due_on, Complaint.id).limit(limit)).all()
    return [ComplaintView(c.id, c.number, c.received_on, c.channel, c.complainant or "匿名", c.content,
                          number or "", staff_name(session, c.staff_id), c.window_code, c.due_on, c.state,
                          c.state == "open" and today > c.due_on, c.upheld, c.answer) for c, number in rows]
