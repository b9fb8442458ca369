"""Derive every date around the tickets again after the calendar changed, one recorded event per date that moves.

:mod:`hall.services.cases.recalc` re-derives the tickets' own due dates; this module does the same for every
other derived date (:data:`hall.services.calendar.derived.KIND_NAMES`), each by the one date rule from its start
day and its rule:

- co-department answers (pending copies of open cases): copy day + 5 working days (+3 higher review) →
  ``joint.due_changed``;
- proxy department legs (sent, case open): forwarding day + the leg's working days → ``proxy.due_changed``;
- 差评 rectifications (open / verified): opening day + its recorded rule (else ``rectify_workdays``) →
  ``rectification.due_changed``;
- complaint answers (open): receipt day + its recorded rule (else ``complaint_workdays``) →
  ``complaint.due_changed``;
- follow-ups (due): closure day + ``follow_up_days`` 日 / its rectification's date / the complaint's answer day +
  3 working days → ``followup.due_changed``;
- appointments (booked): the booked day + 0 日, i.e. a day no longer worked moves to the next working day →
  ``appointment.moved``;
- 补正 supply deadlines (open request, case open): request day + its recorded rule → ``supplement.due_changed``.

Without this a department could be deemed to consent a working day early — over an objection it still had time
to make — and an accountability record opened against it. Dates that stay as they are get nothing; each event
names the date's old and new value and why, and its projector writes only what the event says.

Open registers are small (hundreds, not the tickets' hundred thousand), so this reads them as ORM rows, in the
caller's transaction, after the calendar change and the tickets' recomputation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

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
from hall.services.base.actor import Actor
from hall.services.base.permissions import require_admin
from hall.services.calendar import clock
from hall.services.calendar.derived import KIND_NAMES, DateRule, derive
from hall.services.calendar.workdays import WorkCalendar
from hall.services.cases import petition_dates
from hall.services.cases.joint import answer_rule
from hall.services.storage import ledger, settings
from hall.services.tickets.record import frozen_uids

EVENTS = {
    "joint_copy": "joint.due_changed",
    "proxy_leg": "proxy.due_changed",
    "rectification": "rectification.due_changed",
    "complaint": "complaint.due_changed",
    "followup": "followup.due_changed",
    "appointment": "appointment.moved",
    "supplement": "supplement.due_changed",
    **dict.fromkeys(petition_dates.KINDS, petition_dates.EVENT),  # 信访: 受理告知, 移交答复, 回访
}
COMPLAINT_FOLLOW_UP = DateRule(3, "workday")  # hall/services/registers/complaints.py answer(): 3 working days


@dataclass(frozen=True)
class Moved:
    """One derived date that moved: its kind, what it belongs to (for the clerk), old and new."""

    kind: str
    what: str
    old: date
    new: date
    old_provisional: bool
    new_provisional: bool
    ticket_uid: str | None
    key: dict[str, Any]

    @property
    def kind_name(self) -> str:
        return KIND_NAMES[self.kind]


def _recorded_rules(session: Session, event_ids: list[str]) -> dict[str, DateRule]:
    """The rules the creating events recorded (an event from before rules were recorded has none)."""
    out: dict[str, DateRule] = {}
    for i in range(0, len(event_ids), 500):
        for ev in session.scalars(select(Event).where(Event.event_id.in_(event_ids[i:i + 500]))):
            rule = DateRule.from_json(ledger.load_payload(ev).get("rule"))
            if rule is not None:
                out[ev.event_id] = rule
    return out


def _tickets(session: Session, uids: set[str]) -> dict[str, tuple[str, bool, date | None, int]]:
    """uid → (number, open, closure day, the item's follow_up_days) in bounded IN lists (one probe per 500)."""
    out: dict[str, tuple[str, bool, date | None, int]] = {}
    ordered = sorted(u for u in uids if u)
    for i in range(0, len(ordered), 500):
        rows = session.execute(select(Ticket.uid, Ticket.number, Ticket.is_open, Ticket.closed_at, Item.follow_up_days)
                               .join(Item, Item.id == Ticket.item_id).where(Ticket.uid.in_(ordered[i:i + 500])))
        for uid, number, is_open, closed_at, days in rows:
            out[uid] = (number, bool(is_open), closed_at.date() if closed_at else None, int(days or 0))
    return out


def _candidates(session: Session, cal: WorkCalendar) -> Iterator[tuple[str, str, str | None, dict[str, Any], date,
                                                                       bool, date, bool]]:
    """(kind, what, ticket uid, key, old, old provisional, new, new provisional) of every open derived date."""
    copies = list(session.scalars(select(JointCopy).where(JointCopy.state == "pending").order_by(JointCopy.id)))
    legs = list(session.scalars(select(ProxyLeg).where(ProxyLeg.state == "sent", ProxyLeg.dept_days > 0)
                                .order_by(ProxyLeg.id)))
    requests = list(session.scalars(select(SupplementRequest).where(SupplementRequest.state == "open")
                                    .order_by(SupplementRequest.id)))
    rects = list(session.scalars(select(Rectification).where(Rectification.state.in_(("open", "verified")))
                                 .order_by(Rectification.id)))
    open_complaints = list(session.scalars(select(Complaint).where(Complaint.state == "open").order_by(Complaint.id)))
    follow = list(session.scalars(select(FollowUp).where(FollowUp.state == "due").order_by(FollowUp.id)))
    facts = _tickets(session, {c.ticket_uid for c in copies} | {leg.ticket_uid for leg in legs}
                     | {r.ticket_uid for r in requests} | {x.ticket_uid for x in rects if x.ticket_uid}
                     | {k.ticket_uid for k in open_complaints if k.ticket_uid}
                     | {f.ticket_uid for f in follow if f.ticket_uid})
    alive = {uid for uid, (_n, is_open, _c, _d) in facts.items() if is_open}
    rules = _recorded_rules(session, [x.event_id for x in rects] + [k.event_id for k in open_complaints])

    def number(uid: str | None) -> str:
        return facts[uid][0] if uid in facts else ""
    for c in copies:
        if c.ticket_uid in alive:
            due, prov = derive(cal, c.copied_on, answer_rule(c.higher_review))
            yield ("joint_copy", f"{number(c.ticket_uid)} {c.department}", c.ticket_uid,
                   {"department": c.department, "round": c.round}, c.due_on, c.due_provisional, due, prov)
    for leg in legs:
        if leg.ticket_uid in alive and leg.dept_due_on is not None:
            due, prov = derive(cal, leg.sent_on, DateRule(leg.dept_days, "workday"))
            yield ("proxy_leg", f"{number(leg.ticket_uid)} {leg.department}", leg.ticket_uid,
                   {"leg": leg.event_id}, leg.dept_due_on, leg.dept_due_provisional, due, prov)
    for r in requests:
        if r.ticket_uid in alive:
            due, prov = derive(cal, r.requested_on, DateRule(r.limit_days, r.limit_unit))  # type: ignore[arg-type]
            yield ("supplement", number(r.ticket_uid), r.ticket_uid, {"request": r.event_id}, r.due_on,
                   r.due_provisional, due, prov)

    rect_days = int(settings.get(session, "rectify_workdays"))
    rect_due: dict[int, date] = {}
    for x in rects:
        rule = rules.get(x.event_id) or DateRule(rect_days, "workday")
        due, prov = derive(cal, x.opened_on, rule)
        rect_due[x.id] = due
        yield ("rectification", number(x.ticket_uid), x.ticket_uid, {"rectification": x.event_id}, x.due_on,
               x.due_provisional, due, prov)

    complaint_days = int(settings.get(session, "complaint_workdays"))
    for k in open_complaints:
        rule = rules.get(k.event_id) or DateRule(complaint_days, "workday")
        due, prov = derive(cal, k.received_on, rule)
        yield ("complaint", k.number, k.ticket_uid, {"number": k.number}, k.due_on, k.due_provisional, due, prov)

    for f in follow:
        new = _follow_up_due(session, cal, f, rect_due, facts)
        if new is not None:
            yield ("followup", number(f.ticket_uid) or f.source_key, f.ticket_uid, {"source_key": f.source_key},
                   f.due_on, f.due_provisional, new, not cal.is_confirmed(new.year))

    for a in session.scalars(select(Appointment).where(Appointment.state == "booked").order_by(Appointment.id)):
        due, prov = derive(cal, a.on_day, DateRule(0, "day"))
        yield ("appointment", f"{a.on_day} {a.slot}".strip(), None, {"appointment": a.event_id}, a.on_day,
               a.on_day_provisional, due, prov)
    yield from petition_dates.candidates(session, cal)


def _follow_up_due(session: Session, cal: WorkCalendar, f: FollowUp, rect_due: dict[int, date],
                   facts: dict[str, tuple[str, bool, date | None, int]]) -> date | None:
    """A follow-up's date by the rule its scheduler used (hall/services/registers/followups.py and friends)."""
    if f.reason == "closure":
        if f.ticket_uid not in facts:
            return None
        _number, _open, closed_on, days = facts[f.ticket_uid]
        return derive(cal, closed_on, DateRule(days, "day"))[0] if closed_on is not None and days else None
    if f.reason == "poor_rating" and f.rectification_id is not None:
        if f.rectification_id in rect_due:
            return rect_due[f.rectification_id]
        return None  # its rectification is done: the follow-up keeps the date it was given
    if f.reason == "complaint" and f.complaint_id is not None:
        k = session.get(Complaint, f.complaint_id)
        if k is not None and k.answered_on is not None:
            return derive(cal, k.answered_on, COMPLAINT_FOLLOW_UP)[0]
    return None


def rederive_all(session: Session, actor: Actor, *, why: str) -> list[Moved]:
    """Every open derived date whose value or 暂定 flag the current calendar changes gets one event (old, new,
    why). The caller owns the transaction (the calendar change's own)."""
    require_admin(actor, "重算办件派生日期")
    session.flush()
    clock.forget_calendar()
    cal = clock.calendar_for(session)
    moved = [Moved(kind, what, old, new, old_p, new_p, uid, key)
             for kind, what, uid, key, old, old_p, new, new_p in _candidates(session, cal)
             if new != old or new_p != old_p]
    frozen = frozen_uids(session)  # a ticket frozen by a sync conflict keeps its dates until it is resolved
    moved = [m for m in moved if m.ticket_uid not in frozen] if frozen else moved
    of = {kind: [m for m in moved if m.kind == kind] for kind in EVENTS}
    # One call per event type, each naming its type (the ledger's type scan reads them from here).
    _record(session, actor, "joint.due_changed", of["joint_copy"], why)
    _record(session, actor, "proxy.due_changed", of["proxy_leg"], why)
    _record(session, actor, "rectification.due_changed", of["rectification"], why)
    _record(session, actor, "complaint.due_changed", of["complaint"], why)
    _record(session, actor, "followup.due_changed", of["followup"], why)
    _record(session, actor, "appointment.moved", of["appointment"], why)
    _record(session, actor, "supplement.due_changed", of["supplement"], why)
    _record(session, actor, "petition.due_changed", [m for k in petition_dates.KINDS for m in of[k]], why)
    session.flush()
    return moved


def _record(session: Session, actor: Actor, event_type: str, moved: list[Moved], why: str) -> None:
    # In bulk (one sequence claim, one executemany; the same rows and hashes as one by one).
    ledger.append_many(session, actor, event_type, [({
        **m.key, "old": m.old, "new": m.new, "old_provisional": m.old_provisional,
        "new_provisional": m.new_provisional, "why": why,
        "reason": f"{m.kind_name} {m.old} → {m.new}{'（暂定）' if m.new_provisional else ''}：{why}",
    }, m.ticket_uid) for m in moved])


# ------------------------------------------------------------------------------------------- projectors
def _new(p: dict[str, Any]) -> tuple[date, bool]:
    return date.fromisoformat(p["new"]), bool(p["new_provisional"])


@ledger.projector("joint.due_changed")
def _project_joint(session: Session, ev: Event, p: dict[str, Any]) -> None:
    c = session.scalars(select(JointCopy).where(JointCopy.ticket_uid == ev.ticket_uid,
                                                JointCopy.department == p["department"],
                                                JointCopy.round == p["round"])).one()
    c.due_on, c.due_provisional = _new(p)


@ledger.projector("proxy.due_changed")
def _project_proxy(session: Session, ev: Event, p: dict[str, Any]) -> None:
    leg = session.scalars(select(ProxyLeg).where(ProxyLeg.event_id == p["leg"])).one()
    leg.dept_due_on, leg.dept_due_provisional = _new(p)


@ledger.projector("rectification.due_changed")
def _project_rectification(session: Session, ev: Event, p: dict[str, Any]) -> None:
    r = session.scalars(select(Rectification).where(Rectification.event_id == p["rectification"])).one()
    r.due_on, r.due_provisional = _new(p)


@ledger.projector("complaint.due_changed")
def _project_complaint(session: Session, ev: Event, p: dict[str, Any]) -> None:
    k = session.scalars(select(Complaint).where(Complaint.number == p["number"])).one()
    k.due_on, k.due_provisional = _new(p)


@ledger.projector("followup.due_changed")
def _project_followup(session: Session, ev: Event, p: dict[str, Any]) -> None:
    f = session.scalars(select(FollowUp).where(FollowUp.source_key == p["source_key"])).one()
    f.due_on, f.due_provisional = _new(p)


@ledger.projector("appointment.moved")
def _project_appointment(session: Session, ev: Event, p: dict[str, Any]) -> None:
    a = session.scalars(select(Appointment).where(Appointment.event_id == p["appointment"])).one()
    a.on_day, a.on_day_provisional = _new(p)


@ledger.projector("supplement.due_changed")
def _project_supplement(session: Session, ev: Event, p: dict[str, Any]) -> None:
    r = session.scalars(select(SupplementRequest).where(SupplementRequest.event_id == p["request"])).one()
    r.due_on, r.due_provisional = _new(p)
