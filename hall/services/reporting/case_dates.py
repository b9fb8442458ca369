"""Every date around one case, each with its day-by-day explanation and its 暂定 mark (期限一览).

The ticket's own due date and every derived date (:data:`hall.services.calendar.derived.KIND_NAMES`): 补正
deadlines, co-department answer deadlines, proxy department legs, 差评 rectifications, complaints, follow-ups and
appointments. Each is explained by the one date rule from its start day (:func:`derived.explain`), so the clerk,
the manager and the 效能监察员 read the same counted, skipped and moved days the papers print. A date is 暂定 when
the rule counted a year whose calendar is not confirmed, as the rule gives it now (the rows keep the same flag,
re-derived with an event when the calendar changes: hall/services/cases/rederive.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from hall.models import Event, Item, Ticket
from hall.models.workflow import (
    Appointment,
    Complaint,
    FollowUp,
    JointCopy,
    ProxyLeg,
    Rectification,
    SupplementRequest,
)
from hall.services.calendar import clock
from hall.services.calendar.derived import KIND_NAMES, DateRule, explain
from hall.services.calendar.workdays import WorkCalendar
from hall.services.cases.joint import COPY_STATE_LABELS, answer_rule
from hall.services.storage import ledger, settings

DUE = "due"
NAMES = {DUE: "承诺办结日期", **KIND_NAMES}
COMPLAINT_FOLLOW_UP = DateRule(3, "workday")  # hall/services/registers/complaints.py answer()
OPEN_WORDS = {"open": "待办", "supplied": "已补正", "sent": "办理中", "returned": "已返回", "due": "待回访",
              "done": "已完成", "unreachable": "未联系上", "answered": "已答复", "verified": "已核实",
              "booked": "已预约", "kept": "已约见", "missed": "未到", "cancelled": "已取消"}


@dataclass(frozen=True)
class CaseDate:
    kind: str  # "due" or a key of KIND_NAMES
    what: str  # which one: the department, the request day …
    start: date
    due: date
    provisional: bool
    state: str  # 待办 / 已答复 / …, as a person reads it
    explanation: tuple[str, ...]

    @property
    def kind_name(self) -> str:
        return NAMES.get(self.kind, self.kind)

    @property
    def due_text(self) -> str:
        return f"{self.due.isoformat()}{'（暂定）' if self.provisional else ''}"


def _rule_of(session: Session, event_id: str) -> DateRule | None:
    ev = session.scalars(select(Event).where(Event.event_id == event_id)).first()
    return DateRule.from_json(ledger.load_payload(ev).get("rule")) if ev is not None else None


def _one(cal: WorkCalendar, kind: str, what: str, start: date, rule: DateRule, stored: date | None,
         state: str) -> CaseDate:
    dl = explain(cal, start, rule, kind)
    # The stored date is what the case runs on (the rule re-derives it, with an event, when the calendar
    # changes); the explanation is the rule's, so they agree unless a release-1 row kept an older rule.
    due = stored if stored is not None else dl.due
    lines = dl.explanation if due == dl.due else (*dl.explanation, f"登记的日期为 {due}（按登记时的规则）。")
    return CaseDate(kind, what, start, due, dl.provisional, state, tuple(lines))


def of_ticket(session: Session, t: Ticket) -> list[CaseDate]:
    """The case's due date first, then every derived date in the order they arose."""
    cal = clock.calendar_for(session)
    out: list[CaseDate] = []
    if t.accepted_on is not None and t.due_date is not None:
        item = session.get_one(Item, t.item_id)
        dl = clock.deadline(cal, item, t.kind, t.accepted_on, t.clock)
        out.append(CaseDate(DUE, "", t.accepted_on, t.due_date, t.due_provisional,
                            "进行中" if t.is_open else "已结束", dl.explanation))
    uid = t.uid
    for r in session.scalars(select(SupplementRequest).where(SupplementRequest.ticket_uid == uid)
                             .order_by(SupplementRequest.id)):
        got = _one(cal, "supplement", "受理时补正" if r.stage == "intake" else "办理中补正", r.requested_on,
                   DateRule(r.limit_days, r.limit_unit), r.due_on, OPEN_WORDS.get(r.state, r.state))  # type: ignore[arg-type]
        out.append(got)
    for c in session.scalars(select(JointCopy).where(JointCopy.ticket_uid == uid, JointCopy.state != "superseded")
                             .order_by(JointCopy.round, JointCopy.id)):
        out.append(_one(cal, "joint_copy", f"{c.department}（第{c.round}轮）", c.copied_on,
                        answer_rule(c.higher_review), c.due_on, COPY_STATE_LABELS.get(c.state, c.state)))
    for leg in session.scalars(select(ProxyLeg).where(ProxyLeg.ticket_uid == uid, ProxyLeg.dept_days > 0)
                               .order_by(ProxyLeg.seq)):
        out.append(_one(cal, "proxy_leg", leg.department, leg.sent_on, DateRule(leg.dept_days, "workday"),
                        leg.dept_due_on, OPEN_WORDS.get(leg.state, leg.state)))
    rect_days = int(settings.get(session, "rectify_workdays"))
    rects = {x.id: x for x in session.scalars(select(Rectification).where(Rectification.ticket_uid == uid)
                                               .order_by(Rectification.id))}
    rect_rules = {x.id: _rule_of(session, x.event_id) or DateRule(rect_days, "workday") for x in rects.values()}
    for x in rects.values():
        out.append(_one(cal, "rectification", "差评整改", x.opened_on, rect_rules[x.id], x.due_on,
                        OPEN_WORDS.get(x.state, x.state)))
    complaint_days = int(settings.get(session, "complaint_workdays"))
    complaints = {k.id: k for k in session.scalars(select(Complaint).where(Complaint.ticket_uid == uid)
                                                   .order_by(Complaint.id))}
    for k in complaints.values():
        rule = _rule_of(session, k.event_id) or DateRule(complaint_days, "workday")
        out.append(_one(cal, "complaint", k.number, k.received_on, rule, k.due_on, OPEN_WORDS.get(k.state, k.state)))
    follow_days = int(session.scalar(select(Item.follow_up_days).where(Item.id == t.item_id)) or 0)
    for f in session.scalars(select(FollowUp).where(FollowUp.ticket_uid == uid).order_by(FollowUp.id)):
        state = OPEN_WORDS.get(f.state, f.state)
        if f.reason == "closure" and t.closed_at is not None and follow_days:
            out.append(_one(cal, "followup", "办结后回访", t.closed_at.date(), DateRule(follow_days, "day"), f.due_on,
                            state))
        elif f.reason == "poor_rating" and f.rectification_id in rects:
            x = rects[f.rectification_id]
            out.append(_one(cal, "followup", "整改后回访", x.opened_on, rect_rules[x.id], f.due_on, state))
        elif f.reason == "complaint" and f.complaint_id in complaints and complaints[f.complaint_id].answered_on:
            out.append(_one(cal, "followup", "投诉答复后回访", complaints[f.complaint_id].answered_on,  # type: ignore[arg-type]
                            COMPLAINT_FOLLOW_UP, f.due_on, state))
        else:
            out.append(_one(cal, "followup", "回访", f.due_on, DateRule(0, "day"), f.due_on, state))
    for a in session.scalars(select(Appointment).where(Appointment.ticket_uid == uid).order_by(Appointment.id)):
        out.append(_one(cal, "appointment", f"点名约访 {a.slot}".strip(), a.on_day, DateRule(0, "day"), a.on_day,
                        OPEN_WORDS.get(a.state, a.state)))
    return out


def of_number(session: Session, number: str) -> list[CaseDate]:
    from hall.services.tickets import record as tickets

    return of_ticket(session, tickets.get(session, number))


@dataclass(frozen=True)
class CaseExtras:
    """What the case detail shows beside the ticket itself: every date explained, the fee, the findings."""

    dates: tuple[CaseDate, ...]
    fee_text: str  # 免费 / the standard still to pay / what was taken
    fee_due: bool  # the item has a fee and none was taken yet (the 收费 action applies)
    findings: tuple[str, ...]  # "2026-03-03 钱监察：…" (效能监察意见), newest first


def extras(session: Session, number: str) -> CaseExtras:
    from hall.services.registers import inspection
    from hall.services.reporting.papers import fee_text_for
    from hall.services.tickets import fees
    from hall.services.tickets import record as tickets

    t = tickets.get(session, number)
    item = session.get_one(Item, t.item_id)
    due = bool(item.fee_cents) and fees.charged(session, t.uid) is None and t.state not in fees.NOT_CHARGEABLE
    found = tuple(f"{f.found_on} {f.inspector}：{f.text}" for f in inspection.findings(session, number))
    return CaseExtras(tuple(of_ticket(session, t)), fee_text_for(session, t, item), due, found)
