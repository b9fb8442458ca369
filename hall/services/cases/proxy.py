"""Proxy tickets (代办件): forward to the handling department, track its leg, take the result back, deliver.

代办"七步法": 委托、受理、办理、送达、归档、上报、回访. The promised limit covers the whole case; inside it our leg
(acceptance → forwarding, and result back → delivery) and the department's leg (forwarding → result back) are
timed separately, so the manager sees who holds the time. The department's allotment defaults to everything
but one working day for delivery, and can never reach past the promised due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hall.errors import ConflictError, ValidationError
from hall.models import Event, Item, Ticket
from hall.models.workflow import ProxyLeg
from hall.services.base.actor import Actor
from hall.services.base.validators import free_text, shown
from hall.services.calendar.deadlines import working_days_between
from hall.services.storage import ledger
from hall.services.tickets.rules import add_workdays, append_event, by_uid, calendar, load, today_of, touch

SEND_METHODS = ("专人报送", "邮寄", "系统报送", "村代办员带送")
DEPT_OUTCOMES = {"approved": "准予/通过", "rejected": "不予批准", "returned": "退回补充"}


def forward(session: Session, actor: Actor, number: str, department: str, *, how_sent: str = "专人报送",
            what_sent: list[str] | None = None, dept_days: int | None = None, note: str = "",
            now: datetime | None = None, expected_version: int | None = None) -> ProxyLeg:
    """转报: send the case to the handling department named in the catalogue, with the materials sent."""
    now = today_of(now)
    t = load(session, actor, number, "forward", now, expected_version)
    item = session.get_one(Item, t.item_id)
    department = free_text(department, "承办部门", max_len=120)
    if item.departments and department not in item.departments:
        raise ValidationError("承办部门", f"应为事项清单所列的{'、'.join(item.departments)}之一")
    if how_sent not in SEND_METHODS:
        raise ValidationError("报送方式", f"应为{'、'.join(SEND_METHODS)}之一")
    held = {m["name"]: m for m in t.materials if m["status"] != "missing"}
    names = list(held) if what_sent is None else what_sent
    unknown = [shown(n) for n in names if n not in held]
    if unknown:
        raise ValidationError("报送材料", f"“{'、'.join(unknown[:5])}”不在本办件已收材料中")
    if not names:
        raise ValidationError("报送材料", "至少报送一项材料")
    sent_on = now.date()
    cal = calendar(session)
    left = working_days_between(cal, sent_on, t.due_date) if t.due_date else 0
    if dept_days is None:
        dept_days = max(left - 1, 0)  # one working day kept for delivering the result
    if not isinstance(dept_days, int) or dept_days < 0:
        raise ValidationError("部门办理时限", "应为不小于0的工作日数")
    if t.due_date and dept_days > left:
        raise ValidationError("部门办理时限",
                              f"{dept_days} 个工作日超出承诺办结日期 {t.due_date}（余 {left} 个工作日）")
    dept_due, dept_provisional = add_workdays(session, sent_on, dept_days) if dept_days else (sent_on, False)
    seq = (session.scalar(select(func.max(ProxyLeg.seq)).where(ProxyLeg.ticket_uid == t.uid)) or 0) + 1
    ev = append_event(session, actor, t, "proxy.forwarded", {
        "seq": seq, "department": department, "sent_on": sent_on, "how_sent": how_sent,
        "what_sent": [{"name": n, "form": held[n]["form"], "count": held[n]["count"]} for n in names],
        "dept_days": dept_days, "dept_due_on": dept_due, "dept_due_provisional": dept_provisional,
        "note": free_text(note, "报送说明", max_len=500, multiline=True, required=False),
        "reason": f"报{department}（部门时限 {dept_days} 个工作日，至 {dept_due}）",
    }, at=now)
    return session.scalars(select(ProxyLeg).where(ProxyLeg.event_id == ev.event_id)).one()


@ledger.projector("proxy.forwarded")
def _project_forwarded(session: Session, ev: Event, p: dict[str, Any]) -> None:
    t = by_uid(session, ev.ticket_uid)
    session.add(ProxyLeg(
        event_id=ev.event_id, ticket_uid=t.uid, seq=p["seq"], department=p["department"],
        sent_on=date.fromisoformat(p["sent_on"]), sent_by=ev.actor_name, how_sent=p["how_sent"],
        what_sent=p["what_sent"], note=p["note"], dept_days=p["dept_days"],
        dept_due_on=date.fromisoformat(p["dept_due_on"]) if p["dept_due_on"] else None, state="sent",
        dept_due_provisional=bool(p.get("dept_due_provisional", False)),
    ))
    t.state = "forwarded"
    touch(session, t, ev, p)
    session.flush()


def _open_leg(session: Session, t: Ticket) -> ProxyLeg:
    leg = session.scalars(select(ProxyLeg).where(ProxyLeg.ticket_uid == t.uid, ProxyLeg.state == "sent")
                          .order_by(ProxyLeg.seq.desc())).first()
    if leg is None:
        raise ConflictError(f"办件 {t.number} 没有待返回的转报记录")
    return leg


def record_reference(session: Session, actor: Actor, number: str, dept_ref: str, *,
                     now: datetime | None = None) -> ProxyLeg:
    """The department's own reference number (受理编号), often told a day or two after forwarding."""
    now = today_of(now)
    t = load(session, actor, number, "department_returned", now)
    leg = _open_leg(session, t)
    ref = free_text(dept_ref, "部门受理编号", max_len=60)
    ledger.append(session, actor, "proxy.reference", {
        "leg": leg.event_id, "dept_ref": ref, "reason": f"{leg.department}受理编号 {ref}",
    }, ticket_uid=t.uid, at=now)
    return leg


@ledger.projector("proxy.reference")
def _project_reference(session: Session, ev: Event, p: dict[str, Any]) -> None:
    _leg(session, p["leg"]).dept_ref = p["dept_ref"]


def department_returned(session: Session, actor: Actor, number: str, outcome: str, answer: str, *,
                        returned_on: date | None = None, dept_ref: str = "", result_doc_no: str = "",
                        now: datetime | None = None, expected_version: int | None = None) -> ProxyLeg:
    """The department's answer came back: its outcome, text, reference and result document, and the date."""
    now = today_of(now)
    t = load(session, actor, number, "department_returned", now, expected_version)
    leg = _open_leg(session, t)
    if outcome not in DEPT_OUTCOMES:
        raise ValidationError("部门办理结果", f"应为{'、'.join(DEPT_OUTCOMES.values())}之一")
    on = returned_on or now.date()
    if on < leg.sent_on or on > now.date():
        raise ValidationError("结果返回日期", f"应在转报日 {leg.sent_on} 与今天之间")
    ref = free_text(dept_ref, "部门受理编号", max_len=60, required=False) or leg.dept_ref
    said = free_text(answer, "部门答复", max_len=2000, multiline=True)
    append_event(session, actor, t, "proxy.returned", {
        "leg": leg.event_id, "outcome": outcome, "answer": said,
        "returned_on": on, "dept_ref": ref,
        "result_doc_no": free_text(result_doc_no, "结果文书编号", max_len=60, required=False),
        "late": leg.dept_due_on is not None and on > leg.dept_due_on,
        "reason": f"{leg.department}：{DEPT_OUTCOMES[outcome]}（{on}）",
    }, at=now)
    return leg


@ledger.projector("proxy.returned")
def _project_returned(session: Session, ev: Event, p: dict[str, Any]) -> None:
    leg = _leg(session, p["leg"])
    leg.outcome, leg.answer, leg.dept_ref = p["outcome"], p["answer"], p["dept_ref"]
    leg.result_doc_no, leg.returned_on = p["result_doc_no"], date.fromisoformat(p["returned_on"])
    leg.state = "returned"
    t = by_uid(session, ev.ticket_uid)
    t.state = "in_progress"
    touch(session, t, ev, p)


def _leg(session: Session, event_id: str) -> ProxyLeg:
    return session.scalars(select(ProxyLeg).where(ProxyLeg.event_id == event_id)).one()


def legs(session: Session, t: Ticket) -> list[ProxyLeg]:
    return list(session.scalars(select(ProxyLeg).where(ProxyLeg.ticket_uid == t.uid).order_by(ProxyLeg.seq)))


@dataclass(frozen=True)
class ProxyTiming:
    """Working days used by each side, inside the promised total (``limit``)."""

    limit: int
    accepted_on: date
    due_date: date | None
    our_days_before: int  # acceptance → forwarding
    dept_days_allotted: int
    dept_due_on: date | None
    dept_days_used: int  # forwarding → result back (or today)
    dept_overdue: bool
    our_days_after: int  # result back → closure (or today)
    total_used: int
    days_left: int | None  # working days from today to the promised due date (negative: overdue)


def timing(session: Session, t: Ticket, today: date) -> ProxyTiming:
    if t.accepted_on is None:
        raise ConflictError("办件尚未受理，没有计时")
    cal = calendar(session)
    item = session.get_one(Item, t.item_id)
    all_legs = legs(session, t)
    first = all_legs[0] if all_legs else None
    last = all_legs[-1] if all_legs else None
    end = t.closed_at.date() if t.closed_at else today
    before = working_days_between(cal, t.accepted_on, first.sent_on if first else end)
    dept_used = 0
    for leg in all_legs:
        dept_used += max(working_days_between(cal, leg.sent_on, leg.returned_on or end), 0)
    after = 0
    if last is not None and last.returned_on is not None:
        after = max(working_days_between(cal, last.returned_on, end), 0)
    dept_overdue = last is not None and last.dept_due_on is not None and (
        (last.returned_on or today) > last.dept_due_on)
    return ProxyTiming(
        limit=item.promised_limit, accepted_on=t.accepted_on, due_date=t.due_date, our_days_before=before,
        dept_days_allotted=last.dept_days if last else 0, dept_due_on=last.dept_due_on if last else None,
        dept_days_used=dept_used, dept_overdue=dept_overdue, our_days_after=after,
        total_used=before + dept_used + after,
        days_left=working_days_between(cal, today, t.due_date) if t.due_date else None,
    )
